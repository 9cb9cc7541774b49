/**
 * SensorLive: the `Sensor` that `SENSOR` asks for.
 *
 * - `simulated` (or `MOCK_SENSOR=1`): the simulated scene.
 * - `auto`: the MLX90640 when one answers; this version has no MLX90640 driver yet, so it
 *   serves the simulated scene and says so in the log and in health.
 * - `mlx90640`: refuses to start, since the driver is not part of this version yet.
 */
import { AppConfig } from "@ircam/core/AppConfig"
import type { Sensor } from "@ircam/core/Sensor"
import { SensorError } from "@ircam/core/Sensor"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, Layer } from "effect"

export const autoFallbackNote = "SENSOR=auto: no MLX90640 driver in this version, serving the simulated scene"

export const layer: Layer.Layer<Sensor, SensorError, AppConfig> = Layer.unwrapEffect(
  Effect.gen(function*() {
    const { sensor } = yield* AppConfig
    switch (sensor) {
      case "simulated":
        yield* Effect.logInfo("sensor: simulated scene")
        return SimulatedSensor.layer()
      case "auto":
        yield* Effect.logWarning(autoFallbackNote)
        return SimulatedSensor.layer(autoFallbackNote)
      case "mlx90640":
        return Layer.fail(
          new SensorError({
            reason: "Unavailable",
            message: "SENSOR=mlx90640: the MLX90640 driver is not part of this version yet; " +
              "use SENSOR=auto or SENSOR=simulated"
          })
        )
    }
  })
)
