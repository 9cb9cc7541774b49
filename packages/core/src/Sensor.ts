/**
 * Sensor: where frames come from. Implementations: `SimulatedSensor` (here), the MLX90640
 * driver (@ircam/hw), and the test layers below.
 */
import type { Effect, Stream } from "effect"
import { Context, Layer, Schema } from "effect"
import type { Frame } from "./Frame.js"

export class SensorError extends Schema.TaggedError<SensorError>()("SensorError", {
  reason: Schema.Literal("Unavailable", "Bus", "Timeout", "Calibration", "CorruptFrame"),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

export interface SensorInfo {
  /** which implementation delivers the frames */
  readonly kind: "simulated" | "mlx90640" | "emulated" | "test"
  readonly model: string
  readonly serial: string
  /** frames per second */
  readonly refreshRateHz: number
  /** anything the operator should know about how this sensor was chosen */
  readonly note?: string
}

export interface SensorShape {
  readonly info: SensorInfo
  /**
   * Frames as the sensor delivers them, paced by the sensor. The stream is meant to run
   * for ever; when it fails the consumer retries it.
   */
  readonly frames: Stream.Stream<Frame, SensorError>
  /**
   * What the driver knows beyond the frames (transfer errors, retries, re-initialisations …);
   * shown under `driver` in the `sensor` health check. Errors the driver recovers from itself
   * never reach `frames`, so this is where they become visible.
   */
  readonly diagnostics?: Effect.Effect<SensorDiagnostics>
}

export interface SensorDiagnostics {
  /** the last failure the driver recovered from, if any */
  readonly lastError: { readonly at: number; readonly message: string } | null
  readonly counters: Readonly<Record<string, number>>
}

export class Sensor extends Context.Tag("@ircam/core/Sensor")<Sensor, SensorShape>() {
  /** A test sensor that delivers the frames of `frames` (which may fail, end or be paced by the test). */
  static readonly layerTest = (
    frames: Stream.Stream<Frame, SensorError>,
    info: Partial<SensorInfo> = {},
    diagnostics?: Effect.Effect<SensorDiagnostics>
  ): Layer.Layer<Sensor> =>
    Layer.succeed(
      Sensor,
      Sensor.of({
        info: { kind: "test", model: "test frames", serial: "test", refreshRateHz: 8, ...info },
        frames,
        ...(diagnostics === undefined ? {} : { diagnostics })
      })
    )
}
