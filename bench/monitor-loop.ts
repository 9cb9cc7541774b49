/**
 * Monitor loop throughput: frames/s through buffer push + statistics of 2 zones + latest snapshot,
 * on one core. Budget (DESIGN.md): ≥ 1,000 frames/s. The scene rendering of the simulated sensor
 * is measured separately, since the real sensor's cost is the calibration math instead.
 */
import { AppConfig } from "@ircam/core/AppConfig"
import * as Core from "@ircam/core/Core"
import { type Frame, PIXELS } from "@ircam/core/Frame"
import { Monitor } from "@ircam/core/Monitor"
import { Sensor } from "@ircam/core/Sensor"
import { renderScene } from "@ircam/core/SimulatedSensor"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Deferred, Effect, Fiber, Layer, Logger, LogLevel, Stream } from "effect"

const frameCount = 20_000
const rateHz = 16

const scene: ReadonlyArray<Float32Array> = Array.from({ length: 64 }, (_, n) => {
  const temperatures = new Float32Array(PIXELS)
  renderScene(1, n, rateHz, temperatures)
  return temperatures
})

const go = Effect.runSync(Deferred.make<void>())

// held back until the zones exist, so every measured frame pays for two zones
const frames = Stream.fromEffect(Deferred.await(go)).pipe(Stream.flatMap(() =>
  Stream.range(0, frameCount - 1).pipe(
    Stream.map((n): Frame => ({
      temperatures: scene[n % scene.length]!,
      capturedAt: n * (1000 / rateHz),
      monotonicMs: n * (1000 / rateHz),
      sequence: n,
      ambient: 25,
      vdd: 3.3
    }))
  )
))

export const run = Effect.gen(function*() {
  const renderStart = performance.now()
  const out = new Float32Array(PIXELS)
  for (let n = 0; n < 5_000; n++) renderScene(1, n, rateHz, out)
  const renderPerSecond = 5_000 / ((performance.now() - renderStart) / 1000)

  const elapsed = yield* Effect.gen(function*() {
    const zones = yield* ZoneRepo
    yield* zones.create({ id: undefined, name: "a", color: undefined, x: 2, y: 2, width: 10, height: 8 })
    yield* zones.create({ id: undefined, name: "b", color: undefined, x: 20, y: 10, width: 12, height: 14 })
    const monitor = yield* Monitor
    const done = yield* Stream.unwrapScoped(monitor.changes).pipe(
      Stream.filter((s) => s.frame.sequence === frameCount - 1),
      Stream.runHead,
      Effect.fork
    )
    const start = performance.now()
    yield* Deferred.succeed(go, undefined)
    yield* Fiber.join(done)
    return performance.now() - start
  }).pipe(
    Effect.provide(
      Core.layer.pipe(
        Layer.provide(
          Layer.succeed(
            Sensor,
            Sensor.of({ info: { kind: "test", model: "bench", serial: "bench", refreshRateHz: rateHz }, frames })
          )
        ),
        Layer.provide(AppConfig.layerWith({ databasePath: ":memory:", refreshRateHz: rateHz }))
      )
    ),
    Effect.orDie
  )
  const perSecond = frameCount / (elapsed / 1000)
  console.log(
    `monitor loop: ${frameCount} frames, 2 zones: ${Math.round(perSecond).toLocaleString("en")} frames/s ` +
      `(budget ≥ 1,000; ${perSecond >= 1000 ? "ok" : "OVER BUDGET"})`
  )
  console.log(`simulated scene rendering: ${Math.round(renderPerSecond).toLocaleString("en")} frames/s`)
}).pipe(Logger.withMinimumLogLevel(LogLevel.Error))
