import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import type { Frame } from "../src/Frame.js"
import { FrameBuffer, make } from "../src/FrameBuffer.js"
import * as TestCore from "./support/TestCore.js"
import * as TestFrames from "./support/TestFrames.js"

const frame = (sequence: number, at = sequence * 100): Frame =>
  TestFrames.make({ sequence, at, temperatures: 20 + sequence })

const sequences = (frames: ReadonlyArray<Frame>) => frames.map((f) => f.sequence)

describe("FrameBuffer.make", () => {
  it.effect("starts empty", () =>
    Effect.gen(function*() {
      const buffer = make(3)
      assert.strictEqual(buffer.capacity, 3)
      assert.strictEqual(yield* buffer.size, 0)
      assert.isTrue(Option.isNone(yield* buffer.latest))
      assert.deepStrictEqual(yield* buffer.snapshot(0), [])
    }))

  it.effect("push, latest and size", () =>
    Effect.gen(function*() {
      const buffer = make(3)
      const first = frame(0)
      yield* buffer.push(first)
      assert.strictEqual(yield* buffer.size, 1)
      assert.strictEqual(Option.getOrThrow(yield* buffer.latest), first)
      yield* buffer.push(frame(1))
      assert.strictEqual(yield* buffer.size, 2)
      assert.strictEqual(Option.getOrThrow(yield* buffer.latest).sequence, 1)
    }))

  it.effect("overwrites the oldest frame when full", () =>
    Effect.gen(function*() {
      const buffer = make(3)
      for (let i = 0; i < 3; i++) yield* buffer.push(frame(i))
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(0)), [0, 1, 2])
      yield* buffer.push(frame(3))
      assert.strictEqual(yield* buffer.size, 3)
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(0)), [1, 2, 3])
      assert.strictEqual(Option.getOrThrow(yield* buffer.latest).sequence, 3)
      // wrap several times round the ring
      for (let i = 4; i < 11; i++) yield* buffer.push(frame(i))
      assert.strictEqual(yield* buffer.size, 3)
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(0)), [8, 9, 10])
      assert.strictEqual(Option.getOrThrow(yield* buffer.latest).sequence, 10)
    }))

  it.effect("a ring of one keeps only the newest frame", () =>
    Effect.gen(function*() {
      const buffer = make(1)
      yield* buffer.push(frame(0))
      yield* buffer.push(frame(1))
      assert.strictEqual(yield* buffer.size, 1)
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(0)), [1])
    }))

  it.effect("snapshot(since) returns the frames captured at or after since, oldest first", () =>
    Effect.gen(function*() {
      const buffer = make(5)
      for (let i = 0; i < 7; i++) yield* buffer.push(frame(i)) // ring holds 2..6 captured at 200..600
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(0)), [2, 3, 4, 5, 6])
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(400)), [4, 5, 6])
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(401)), [5, 6])
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(600)), [6])
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(601)), [])
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(-Infinity)), [2, 3, 4, 5, 6])
    }))

  it.effect("snapshot(since) goes by the monotonic clock, not by the wall-clock labels", () =>
    Effect.gen(function*() {
      const buffer = make(4)
      // the wall clock is stepped back 60 s after the second frame: the labels go backwards
      const at = [100_000, 100_125, 40_250, 40_375]
      for (let i = 0; i < 4; i++) {
        yield* buffer.push(TestFrames.make({ sequence: i, at: at[i]!, monotonicMs: 7_000 + i * 125 }))
      }
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(7_125)), [1, 2, 3])
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(7_250)), [2, 3])
      assert.deepStrictEqual(sequences(yield* buffer.snapshot(40_000)), [])
    }))

  it.effect("snapshot is a copy: later pushes do not change it", () =>
    Effect.gen(function*() {
      const buffer = make(2)
      yield* buffer.push(frame(0))
      yield* buffer.push(frame(1))
      const before = yield* buffer.snapshot(0)
      yield* buffer.push(frame(2))
      assert.deepStrictEqual(sequences(before), [0, 1])
    }))

  it("rejects a capacity that is not a positive integer", () => {
    for (const capacity of [0, -1, 1.5, Number.NaN, Infinity]) {
      assert.throws(() => make(capacity), RangeError, "capacity must be a positive integer")
    }
  })
})

describe("FrameBuffer.Default", () => {
  const layerWith = (overrides: Parameters<typeof TestCore.config>[0]) =>
    FrameBuffer.Default.pipe(Layer.provide(TestCore.config(overrides)))

  it.effect("sizes the ring from FRAME_BUFFER_SECONDS × REFRESH_RATE_HZ", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* FrameBuffer).capacity, 80)
    }).pipe(Effect.provide(layerWith({ frameBufferSeconds: 10, refreshRateHz: 8 }))))

  it.effect("rounds the capacity up", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* FrameBuffer).capacity, 2)
    }).pipe(Effect.provide(layerWith({ frameBufferSeconds: 3, refreshRateHz: 0.5 }))))

  it.effect("uses the default configuration: 30 s at 8 Hz", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* FrameBuffer).capacity, 240)
    }).pipe(Effect.provide(layerWith({}))))

  it.effect("its health check shows frames, capacity and the time span", () =>
    Effect.gen(function*() {
      const buffer = yield* FrameBuffer

      assert.deepStrictEqual(yield* buffer.health, { status: "ok", details: { frames: 0, capacity: 4, seconds: 0 } })

      yield* buffer.push(frame(0, 1_000))
      assert.deepStrictEqual((yield* buffer.health).details, { frames: 1, capacity: 4, seconds: 0 })

      for (let i = 1; i < 6; i++) yield* buffer.push(frame(i, 1_000 + i * 500))
      // the ring keeps frames 2..5, captured at 2000..3500
      assert.deepStrictEqual(yield* buffer.health, {
        status: "ok",
        details: { frames: 4, capacity: 4, seconds: 1.5 }
      })
    }).pipe(Effect.provide(layerWith({ frameBufferSeconds: 1, refreshRateHz: 4 }))))

  it.effect("measures the time span on the monotonic clock, whatever the wall-clock labels say", () =>
    Effect.gen(function*() {
      const buffer = yield* FrameBuffer
      // the wall clock was stepped back a minute between the two frames
      yield* buffer.push(TestFrames.make({ sequence: 0, at: 100_000, monotonicMs: 5_000 }))
      yield* buffer.push(TestFrames.make({ sequence: 1, at: 40_500, monotonicMs: 5_500 }))
      assert.deepStrictEqual((yield* buffer.health).details, { frames: 2, capacity: 4, seconds: 0.5 })
    }).pipe(Effect.provide(layerWith({ frameBufferSeconds: 1, refreshRateHz: 4 }))))
})
