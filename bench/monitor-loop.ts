/**
 * Monitor loop throughput: frames/s through buffer push + statistics of 2 zones + latest snapshot,
 * on one core. Budget (DESIGN.md): ≥ 1,000 frames/s. The scene rendering of the simulated sensor
 * is measured separately, since the real sensor's cost is the calibration math instead.
 */
import { AppConfig } from "@ircam/core/AppConfig"
import * as Core from "@ircam/core/Core"
import { PIXELS } from "@ircam/core/Frame"
import { renderScene } from "@ircam/core/SimulatedSensor"
import { Deferred, Effect, Layer, Logger, LogLevel } from "effect"
import * as LoopFrames from "./LoopFrames.js"

const frameCount = 20_000
const rateHz = 16

export const run = Effect.gen(function*() {
  const renderStart = performance.now()
  const out = new Float32Array(PIXELS)
  for (let n = 0; n < 5_000; n++) renderScene(1, n, rateHz, out)
  const renderPerSecond = 5_000 / ((performance.now() - renderStart) / 1000)

  const go = yield* Deferred.make<void>()
  const elapsed = yield* LoopFrames.time(go, frameCount).pipe(
    Effect.provide(
      Core.layer.pipe(
        Layer.provide(LoopFrames.sensor(go, frameCount, rateHz)),
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
