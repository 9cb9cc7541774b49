/**
 * SimulatedSensor: a deterministic synthetic scene for running ircam without hardware.
 *
 * The scene is a function of the seed and the frame's sequence number only (scene time is
 * `sequence / refreshRateHz`), so the same seed gives the same frames on every machine:
 * - a background near room temperature (21–23 °C, warmer towards the bottom, slow drift,
 *   a fixed per-pixel pattern and a little noise, like a real sensor);
 * - two warm spots (31–34 °C, person- or device-sized) wandering on Lissajous paths;
 * - a scripted hot spot: the plate `hotPlate` heats up once per `hotCycleSeconds`, reaching
 *   about 80 °C, so zones drawn over it cross a 60 °C threshold and alarms can be shown.
 */
import { Clock, Duration, Effect, Layer, Ref, Stream } from "effect"
import { AppConfig } from "./AppConfig.js"
import type { Frame } from "./Frame.js"
import { HEIGHT, PIXELS, WIDTH } from "./Frame.js"
import { unitHash } from "./internal/hash.js"
import { Sensor, type SensorInfo } from "./Sensor.js"
import { monotonicMs } from "./Time.js"
import type { Rect } from "./Zone.js"

/** The pixels of the scripted hot spot. */
export const hotPlate: Rect = { x: 24, y: 4, width: 4, height: 3 }
export const hotCycleSeconds = 90

/**
 * Degrees the hot plate is above the background `t` seconds into the scene:
 * idle 0–20 s, heating 20–35 s, hot 35–50 s, cooling from 50 s on.
 */
export const hotPlateExcess = (t: number): number => {
  const phase = t % hotCycleSeconds
  const peak = 58
  if (phase < 20) return 0
  if (phase < 35) return peak * (phase - 20) / 15
  if (phase < 50) return peak
  return peak * Math.exp(-(phase - 50) / 6)
}

const TAU = 2 * Math.PI

/** Writes the scene at frame `sequence` into `out` (°C, row-major). */
export const renderScene = (seed: number, sequence: number, refreshRateHz: number, out: Float32Array): void => {
  const t = sequence / refreshRateHz
  const drift = 0.4 * Math.sin(TAU * t / 600)
  const phase1 = TAU * unitHash(seed, 1, 0)
  const phase2 = TAU * unitHash(seed, 2, 0)
  const spots = [
    {
      x: 16 + 11 * Math.sin(TAU * t / 47 + phase1),
      y: 12 + 7 * Math.sin(TAU * t / 31 + phase2),
      amp: 12,
      s2: 2 * 2.2 ** 2
    },
    {
      x: 16 + 12 * Math.cos(TAU * t / 71 + phase2),
      y: 12 + 8 * Math.sin(TAU * t / 53 + phase1),
      amp: 9,
      s2: 2 * 1.6 ** 2
    }
  ] as const
  const hot = hotPlateExcess(t)
  for (let row = 0; row < HEIGHT; row++) {
    const background = 21.5 + 1.5 * row / (HEIGHT - 1) + drift
    for (let col = 0; col < WIDTH; col++) {
      const i = row * WIDTH + col
      let value = background + 0.3 * (unitHash(seed, i, 0x5eed) - 0.5) + 0.16 * (unitHash(seed, sequence, i) - 0.5)
      // where the spots overlap the nearer one hides the other: take the warmer, do not add them up
      let warm = 0
      for (const spot of spots) {
        const dx = col - spot.x
        const dy = row - spot.y
        warm = Math.max(warm, spot.amp * Math.exp(-(dx * dx + dy * dy) / spot.s2))
      }
      value += warm
      if (hot > 0) value += hot * plateCoverage(col, row)
      out[i] = value
    }
  }
}

// 1 on the plate, 0.35 on the pixels touching it (optics blur the edge), 0 elsewhere
const plateCoverage = (col: number, row: number): number => {
  const dx = Math.max(hotPlate.x - col, 0, col - (hotPlate.x + hotPlate.width - 1))
  const dy = Math.max(hotPlate.y - row, 0, row - (hotPlate.y + hotPlate.height - 1))
  const d = Math.max(dx, dy)
  return d === 0 ? 1 : d === 1 ? 0.35 : 0
}

/** The sensor die sits a few degrees above the scene; the supply is a steady 3.3 V. */
const ambientOf = (temperatures: Float32Array): number => {
  let sum = 0
  for (let i = 0; i < PIXELS; i++) sum += temperatures[i]!
  return Math.round((sum / PIXELS + 3) * 100) / 100
}

/**
 * `effect` once every `period` ms on the monotonic clock (the first at once), as a sensor delivers
 * frames: a step of the wall clock does not change the pace. A frame late by less than half a
 * period keeps the pace (timers fire a little late); one later than that (the consumer was held
 * up) comes at once and the pace starts again from it. Like a real sensor, it never delivers two
 * frames within half a period to catch up, even when the previous one came late itself (its timer
 * fired late, or `effect` took long: a busy event loop).
 */
export const paced = <A>(period: number, effect: Effect.Effect<A>): Stream.Stream<A> =>
  Stream.suspend(() => {
    let due: number | undefined
    let delivered = -Infinity
    return Stream.repeatEffect(Effect.gen(function*() {
      const now = yield* monotonicMs
      const next = due === undefined ? now : due + period
      due = Math.max(next < now - period / 2 ? now : next, delivered + period / 2)
      if (due > now) yield* Effect.sleep(Duration.millis(due - now))
      const value = yield* effect
      delivered = yield* monotonicMs
      return value
    }))
  })

export const make = (options: {
  readonly seed: number
  readonly refreshRateHz: number
  readonly note?: string | undefined
}): Effect.Effect<typeof Sensor.Service> =>
  Effect.gen(function*() {
    const sequence = yield* Ref.make(0)
    const period = 1000 / options.refreshRateHz // not rounded: 64 Hz is 15.625 ms, not 16 ms
    const info: SensorInfo = {
      kind: "simulated",
      model: "simulated MLX90640 scene",
      serial: `simulated-${options.seed}`,
      refreshRateHz: options.refreshRateHz,
      ...(options.note === undefined ? {} : { note: options.note })
    }
    const nextFrame = Effect.gen(function*() {
      const n = yield* Ref.getAndUpdate(sequence, (s) => s + 1)
      const temperatures = new Float32Array(PIXELS)
      renderScene(options.seed, n, options.refreshRateHz, temperatures)
      return {
        temperatures,
        capturedAt: yield* Clock.currentTimeMillis,
        monotonicMs: yield* monotonicMs,
        sequence: n,
        ambient: ambientOf(temperatures),
        vdd: 3.3
      } satisfies Frame
    })
    return Sensor.of({ info, frames: paced(period, nextFrame) })
  })

/** The simulated sensor at `REFRESH_RATE_HZ`, seeded by `SIMULATION_SEED`. */
export const layer = (note?: string): Layer.Layer<Sensor, never, AppConfig> =>
  Layer.effect(
    Sensor,
    Effect.flatMap(AppConfig, (config) =>
      make({ seed: config.simulationSeed, refreshRateHz: config.refreshRateHz, note }))
  )
