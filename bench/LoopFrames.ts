/**
 * What the benchmarks of the monitor loop share: a sensor delivering the frames of the simulated
 * scene as fast as the loop takes them (64 frames rendered once, so that rendering is not what is
 * measured), held back until the run starts; and the timed run itself, with two zones.
 */
import { type Frame, PIXELS } from "@ircam/core/Frame"
import { Monitor } from "@ircam/core/Monitor"
import { Sensor } from "@ircam/core/Sensor"
import { renderScene } from "@ircam/core/SimulatedSensor"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Deferred, Effect, Fiber, Layer, Stream } from "effect"

const scenes = new Map<number, ReadonlyArray<Float32Array>>()
const sceneAt = (rateHz: number) => {
  const scene = scenes.get(rateHz) ?? Array.from({ length: 64 }, (_, n) => {
    const temperatures = new Float32Array(PIXELS)
    renderScene(1, n, rateHz, temperatures)
    return temperatures
  })
  scenes.set(rateHz, scene)
  return scene
}

/** A sensor that delivers `count` frames once `go` is done. */
export const sensor = (go: Deferred.Deferred<void>, count: number, rateHz: number): Layer.Layer<Sensor> => {
  const scene = sceneAt(rateHz)
  const frames = Stream.fromEffect(Deferred.await(go)).pipe(Stream.flatMap(() =>
    Stream.range(0, count - 1).pipe(
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
  return Layer.succeed(
    Sensor,
    Sensor.of({ info: { kind: "test", model: "bench", serial: "bench", refreshRateHz: rateHz }, frames })
  )
}

/**
 * Creates two zones, so that every measured frame pays for them, then lets the frames go: the
 * milliseconds until the monitor has the last of `count`.
 */
export const time = (go: Deferred.Deferred<void>, count: number) =>
  Effect.gen(function*() {
    const zones = yield* ZoneRepo
    yield* zones.create({ id: undefined, name: "a", color: undefined, x: 2, y: 2, width: 10, height: 8 })
    yield* zones.create({ id: undefined, name: "b", color: undefined, x: 20, y: 10, width: 12, height: 14 })
    const monitor = yield* Monitor
    const done = yield* Stream.unwrapScoped(monitor.changes).pipe(
      Stream.filter((s) => s.frame.sequence === count - 1),
      Stream.runHead,
      Effect.fork
    )
    const start = performance.now()
    yield* Deferred.succeed(go, undefined)
    yield* Fiber.join(done)
    return performance.now() - start
  })
