import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Layer, Ref, Stream, TestClock } from "effect"
import { AppConfig } from "../src/AppConfig.js"
import type { Frame } from "../src/Frame.js"
import { HEIGHT, PIXELS, WIDTH } from "../src/Frame.js"
import { Sensor } from "../src/Sensor.js"
import * as SimulatedSensor from "../src/SimulatedSensor.js"
import { hotCycleSeconds, hotPlate, hotPlateExcess, make, paced, renderScene } from "../src/SimulatedSensor.js"
import { monotonicMs } from "../src/Time.js"
import { stats } from "../src/Zone.js"
import { withSteppedClock } from "./support/SteppedClock.js"
import * as TestFrames from "./support/TestFrames.js"

const render = (seed: number, sequence: number, refreshRateHz = 8) => {
  const out = new Float32Array(PIXELS)
  renderScene(seed, sequence, refreshRateHz, out)
  return out
}

/** The scene at `sequence` as a frame. */
const rendered = (seed: number, sequence: number, refreshRateHz: number) => {
  const temperatures = render(seed, sequence, refreshRateHz)
  return TestFrames.make({ sequence, temperatures: (i) => temperatures[i]! })
}

const onPlate = (col: number, row: number) =>
  col >= hotPlate.x && col < hotPlate.x + hotPlate.width && row >= hotPlate.y && row < hotPlate.y + hotPlate.height
// the plate and the ring of pixels its blurred edge warms
const nearPlate = (col: number, row: number) =>
  col >= hotPlate.x - 1 && col <= hotPlate.x + hotPlate.width && row >= hotPlate.y - 1 &&
  row <= hotPlate.y + hotPlate.height

const plateTemperatures = (temperatures: Float32Array) => {
  const values: Array<number> = []
  for (let row = 0; row < HEIGHT; row++) {
    for (let col = 0; col < WIDTH; col++) if (onPlate(col, row)) values.push(temperatures[row * WIDTH + col]!)
  }
  return values
}

/** Runs `sensor.frames` in the background, collecting the frames; returns the collected frames and the fiber. */
const collect = (sensor: typeof Sensor.Service) =>
  Effect.gen(function*() {
    const frames = yield* Ref.make<ReadonlyArray<Frame>>([])
    const fiber = yield* sensor.frames.pipe(
      Stream.runForEach((frame) => Ref.update(frames, (all) => [...all, frame])),
      Effect.fork
    )
    return { frames: Ref.get(frames), fiber }
  })

describe("hotPlateExcess", () => {
  it("is idle for the first 20 s of each cycle", () => {
    for (const t of [0, 5, 19.99, 90, 109.9, 900]) assert.strictEqual(hotPlateExcess(t), 0, `t = ${t}`)
  })

  it("heats linearly from 20 s to 35 s", () => {
    assert.strictEqual(hotPlateExcess(20), 0)
    assert.closeTo(hotPlateExcess(27.5), 29, 1e-9)
    assert.closeTo(hotPlateExcess(34.999), 58, 0.01)
    assert.isBelow(hotPlateExcess(34.9), 58)
    assert.closeTo(hotPlateExcess(90 + 27.5), 29, 1e-9)
  })

  it("holds the 58 °C peak from 35 s to 50 s", () => {
    for (const t of [35, 40, 49.99, 90 + 42]) assert.strictEqual(hotPlateExcess(t), 58, `t = ${t}`)
  })

  it("cools exponentially from 50 s", () => {
    assert.strictEqual(hotPlateExcess(50), 58)
    assert.closeTo(hotPlateExcess(56), 58 / Math.E, 1e-9)
    assert.closeTo(hotPlateExcess(62), 58 / Math.E ** 2, 1e-9)
    assert.isBelow(hotPlateExcess(89.9), 0.1)
    assert.isAbove(hotPlateExcess(89.9), 0)
  })

  it("repeats every hotCycleSeconds", () => {
    for (const t of [3, 25, 40, 70]) assert.strictEqual(hotPlateExcess(t + 2 * hotCycleSeconds), hotPlateExcess(t))
  })
})

describe("renderScene", () => {
  it("fills all 768 pixels with finite temperatures", () => {
    const out = new Float32Array(PIXELS).fill(Number.NaN)
    renderScene(1, 0, 8, out)
    assert.strictEqual(out.length, 768)
    for (const value of out) assert.isTrue(Number.isFinite(value))
  })

  it("is deterministic: the same seed and sequence give the same frame", () => {
    for (const sequence of [0, 1, 17, 1000]) assert.deepStrictEqual(render(7, sequence), render(7, sequence))
  })

  it("depends on the seed and on the sequence", () => {
    assert.notDeepEqual(render(1, 10), render(2, 10))
    assert.notDeepEqual(render(1, 10), render(1, 11))
  })

  it("keeps the scene plausible away from the hot plate over a whole cycle", () => {
    for (const seed of [0, 1, 42, 2 ** 32 - 1]) {
      let min = Infinity
      let max = -Infinity
      for (let sequence = 0; sequence < hotCycleSeconds * 8; sequence += 3) {
        const frame = render(seed, sequence)
        for (let row = 0; row < HEIGHT; row++) {
          for (let col = 0; col < WIDTH; col++) {
            if (nearPlate(col, row)) continue
            const value = frame[row * WIDTH + col]!
            min = Math.min(min, value)
            max = Math.max(max, value)
          }
        }
      }
      assert.isAtLeast(min, 18, `seed ${seed}`)
      assert.isAtMost(max, 40, `seed ${seed}`)
      assert.isAbove(max, 28, `seed ${seed}: the warm spots show`)
    }
  })

  it("the hot plate exceeds 60 °C in the hot phase and stays below it when idle", () => {
    const rate = 8
    for (const seed of [1, 3, 99]) {
      for (let cycle = 0; cycle < 2; cycle++) {
        for (let t = 35; t < 50; t += 0.5) {
          const sequence = Math.round((cycle * hotCycleSeconds + t) * rate)
          for (const value of plateTemperatures(render(seed, sequence, rate))) {
            assert.isAbove(value, 60, `seed ${seed}, t = ${t}`)
          }
        }
        for (let t = 0; t < 20; t += 0.5) {
          const sequence = Math.round((cycle * hotCycleSeconds + t) * rate)
          for (const value of plateTemperatures(render(seed, sequence, rate))) {
            assert.isBelow(value, 45, `seed ${seed}, t = ${t}`)
          }
        }
      }
    }
  })

  it("scene time is the sequence divided by the refresh rate", () => {
    // 40 s into the scene: frame 320 at 8 Hz and frame 20 at 0.5 Hz are both hot
    const hot8 = stats(rendered(5, 320, 8), hotPlate)
    const hot05 = stats(rendered(5, 20, 0.5), hotPlate)
    assert.isAbove(hot8.min, 60)
    assert.isAbove(hot05.min, 60)
    // while frame 320 at 64 Hz is 5 s in: idle
    const idle = stats(rendered(5, 320, 64), hotPlate)
    assert.isBelow(idle.max, 45)
  })

  it("blurs the plate's edge: the ring around it is warmed, pixels further away are not", () => {
    const seed = 11
    const hot = render(seed, 40 * 8) // t = 40 s
    const idle = render(seed, 15 * 8) // t = 15 s: idle
    // left neighbour of the plate's top-left pixel: warmed by 0.35 × 58 ≈ 20 °C compared with the idle scene
    const edge = hotPlate.y * WIDTH + hotPlate.x - 1
    const far = hotPlate.y * WIDTH + hotPlate.x - 3
    assert.isAbove(hot[edge]! - idle[edge]!, 12)
    assert.isBelow(Math.abs(hot[far]! - idle[far]!), 12)
  })
})

describe("SimulatedSensor.make", () => {
  it.effect("describes itself", () =>
    Effect.gen(function*() {
      const sensor = yield* make({ seed: 9, refreshRateHz: 4 })
      assert.deepStrictEqual(sensor.info, {
        kind: "simulated",
        model: "simulated MLX90640 scene",
        serial: "simulated-9",
        refreshRateHz: 4
      })
      const noted = yield* make({ seed: 9, refreshRateHz: 4, note: "why" })
      assert.strictEqual(noted.info.note, "why")
    }))

  it.effect("delivers the first frame at once, then one frame per period", () =>
    Effect.gen(function*() {
      const sensor = yield* make({ seed: 1, refreshRateHz: 8 })
      const { fiber, frames } = yield* collect(sensor)
      yield* TestClock.adjust(0)
      assert.strictEqual((yield* frames).length, 1)
      yield* TestClock.adjust("124 millis")
      assert.strictEqual((yield* frames).length, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* frames).length, 2)
      yield* TestClock.adjust(`${125 * 8} millis`)
      const all = yield* frames
      assert.strictEqual(all.length, 10)
      assert.deepStrictEqual(all.map((f) => f.sequence), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      assert.deepStrictEqual(all.map((f) => f.capturedAt), all.map((_, i) => i * 125))
      yield* Fiber.interrupt(fiber)
    }))

  for (const refreshRateHz of [0.5, 2, 8, 16, 32, 64]) {
    it.effect(`paces frames at ${refreshRateHz} Hz: N periods later N + 1 frames have arrived`, () =>
      Effect.gen(function*() {
        const sensor = yield* make({ seed: 1, refreshRateHz })
        const { fiber, frames } = yield* collect(sensor)
        const n = 4 * refreshRateHz // 4 s
        yield* TestClock.adjust("4 seconds")
        const all = yield* frames
        assert.strictEqual(all.length, n + 1)
        assert.strictEqual(all[n]!.sequence, n)
        assert.closeTo(all[n]!.capturedAt, 4_000, 1)
        yield* Fiber.interrupt(fiber)
      }))
  }

  it.effect("frames carry the clock time, the scene at their sequence, the ambient and the supply", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const sensor = yield* make({ seed: 3, refreshRateHz: 2 })
      const { fiber, frames } = yield* collect(sensor)
      yield* TestClock.adjust("1 second")
      const all = yield* frames
      assert.strictEqual(all.length, 3)
      all.forEach((frame, i) => {
        assert.strictEqual(frame.sequence, i)
        assert.strictEqual(frame.capturedAt, 1_700_000_000_000 + i * 500)
        assert.strictEqual(frame.monotonicMs, 1_700_000_000_000 + i * 500)
        assert.deepStrictEqual(frame.temperatures, render(3, i, 2))
        assert.strictEqual(frame.vdd, 3.3)
        const mean = frame.temperatures.reduce((sum, t) => sum + t, 0) / PIXELS
        assert.closeTo(frame.ambient, mean + 3, 0.006)
        assert.strictEqual(frame.ambient, Math.round(frame.ambient * 100) / 100)
      })
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("two sensors with the same seed deliver identical frames; another seed differs", () =>
    Effect.gen(function*() {
      const take = (seed: number) =>
        Effect.gen(function*() {
          const sensor = yield* make({ seed, refreshRateHz: 8 })
          const fiber = yield* sensor.frames.pipe(Stream.take(4), Stream.runCollect, Effect.fork)
          yield* TestClock.adjust("1 second")
          return Chunk.toReadonlyArray(yield* Fiber.join(fiber)).map((f) => f.temperatures)
        })
      const a = yield* take(21)
      const b = yield* take(21)
      const c = yield* take(22)
      assert.strictEqual(a.length, 4)
      assert.deepStrictEqual(a, b)
      assert.notDeepEqual(a, c)
    }))
})

describe("SimulatedSensor pace", () => {
  const gaps = (values: ReadonlyArray<number>) => values.slice(1).map((v, i) => v - values[i]!)

  for (
    const [name, stepMs] of [["back 60 s", -60_000], ["forward 60 s", 60_000], [
      "forward 90 days",
      90 * 86_400_000
    ]] as const
  ) {
    it.effect(`stays at REFRESH_RATE_HZ when the wall clock is stepped ${name}`, () =>
      withSteppedClock((clock) =>
        Effect.gen(function*() {
          yield* TestClock.setTime(1_700_000_000_000)
          const sensor = yield* make({ seed: 1, refreshRateHz: 8 })
          const { fiber, frames } = yield* collect(sensor)
          yield* TestClock.adjust("2 seconds")
          yield* clock.step(stepMs)
          yield* TestClock.adjust("3 seconds")
          const all = yield* frames
          // 5 s at 8 Hz: the first frame at once and one every 125 ms, neither fewer nor a burst
          assert.strictEqual(all.length, 41)
          assert.deepStrictEqual(all.map((f) => f.sequence), all.map((_, i) => i))
          // (to the µs: the TestClock's nanoseconds of a 2023 epoch are a float)
          assert.deepStrictEqual(gaps(all.map((f) => f.monotonicMs)).map(Math.round), all.slice(1).map(() => 125))
          // the wall-clock labels are as measured: they jump with the clock
          assert.strictEqual(all[16]!.capturedAt, 1_700_000_002_000)
          assert.strictEqual(all[17]!.capturedAt, 1_700_000_002_125 + stepMs)
          yield* Fiber.interrupt(fiber)
        })
      ))
  }

  it.effect("a consumer that falls behind gets the next frame at once, then the usual pace, and no burst", () =>
    Effect.gen(function*() {
      const sensor = yield* make({ seed: 1, refreshRateHz: 8 })
      const times: Array<number> = []
      const fiber = yield* sensor.frames.pipe(
        // the consumer spends 1 s on frame 2
        Stream.runForEach((frame) =>
          Effect.gen(function*() {
            times.push(frame.monotonicMs)
            if (frame.sequence === 2) yield* Effect.sleep("1 second")
          })
        ),
        Effect.fork
      )
      yield* TestClock.adjust("2 seconds")
      // frames 0, 1, 2 on time; frame 3 when the consumer asks, at 1250 ms; then every 125 ms again
      assert.deepStrictEqual(times.slice(0, 6), [0, 125, 250, 1250, 1375, 1500])
      assert.strictEqual(times.length, 3 + 7)
      yield* Fiber.interrupt(fiber)
    }))

  for (const periods of [1, 1.5, 2, 3, 7]) {
    it.effect(`a consumer ${periods} period(s) late never gets two frames at once`, () =>
      Effect.gen(function*() {
        const times: Array<number> = []
        const fiber = yield* paced(100, monotonicMs).pipe(
          Stream.runForEach((at) =>
            Effect.gen(function*() {
              times.push(at)
              if (times.length === 2) yield* Effect.sleep(periods * 100)
            })
          ),
          Effect.fork
        )
        yield* TestClock.adjust("2 seconds")
        const late = 100 + periods * 100
        // the frame after the delay comes when the consumer asks, the next one at most a period later
        assert.strictEqual(times[2], late)
        assert.isAbove(times[3]!, late)
        assert.isAtMost(times[3]!, late + 100)
        for (let i = 4; i < times.length; i++) assert.strictEqual(times[i]! - times[i - 1]!, 100)
        yield* Fiber.interrupt(fiber)
      }))
  }
})

describe("paced, on a busy event loop", () => {
  for (const lateMs of [60, 110, 140, 160, 260]) {
    it.effect(`a frame that came ${lateMs} ms late is not followed by another at once`, () =>
      Effect.gen(function*() {
        const times: Array<number> = []
        // the second frame takes `lateMs` to come (a timer fired late, or the scene took long to draw)
        const frame = Effect.gen(function*() {
          if (times.length === 1) yield* Effect.sleep(lateMs)
          return yield* monotonicMs
        })
        const fiber = yield* paced(100, frame).pipe(
          Stream.runForEach((at) => Effect.sync(() => times.push(at))),
          Effect.fork
        )
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual(times[1], 100 + lateMs)
        for (let i = 1; i < times.length; i++) assert.isAtLeast(times[i]! - times[i - 1]!, 50, `frame ${i}`)
        yield* Fiber.interrupt(fiber)
      }))
  }
})

describe("SimulatedSensor.layer", () => {
  it.effect("builds the sensor from SIMULATION_SEED and REFRESH_RATE_HZ", () =>
    Effect.gen(function*() {
      const sensor = yield* Sensor
      assert.deepStrictEqual(sensor.info, {
        kind: "simulated",
        model: "simulated MLX90640 scene",
        serial: "simulated-77",
        refreshRateHz: 4
      })
      const fiber = yield* sensor.frames.pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      yield* TestClock.adjust("250 millis")
      const [first, second] = Chunk.toReadonlyArray(yield* Fiber.join(fiber))
      assert.deepStrictEqual(first?.temperatures, render(77, 0, 4))
      assert.strictEqual(second?.capturedAt, 250)
    }).pipe(
      Effect.provide(
        SimulatedSensor.layer().pipe(
          Layer.provide(AppConfig.layerWith({ simulationSeed: 77, refreshRateHz: 4 }))
        )
      )
    ))

  it.effect("passes the note on to the sensor info", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* Sensor).info.note, "chosen for a reason")
    }).pipe(Effect.provide(SimulatedSensor.layer("chosen for a reason").pipe(Layer.provide(AppConfig.layerWith())))))
})
