import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { Sensor, SensorError } from "../src/Sensor.js"
import * as TestFrames from "./support/TestFrames.js"

const frame = TestFrames.make({ at: 1 })

describe("Sensor.layerTest", () => {
  it.effect("serves the given frames with test info", () =>
    Effect.gen(function*() {
      const sensor = yield* Sensor
      assert.deepStrictEqual(sensor.info, { kind: "test", model: "test frames", serial: "test", refreshRateHz: 8 })
      const frames = yield* Stream.runCollect(sensor.frames)
      assert.deepStrictEqual(Chunk.toReadonlyArray(frames), [frame, frame])
    }).pipe(Effect.provide(Sensor.layerTest(Stream.make(frame, frame)))))

  it.effect("takes info overrides", () =>
    Effect.gen(function*() {
      const sensor = yield* Sensor
      assert.deepStrictEqual(sensor.info, {
        kind: "test",
        model: "test frames",
        serial: "abc",
        refreshRateHz: 2,
        note: "n"
      })
    }).pipe(Effect.provide(Sensor.layerTest(Stream.empty, { serial: "abc", refreshRateHz: 2, note: "n" }))))

  it.effect("passes a failing stream through", () =>
    Effect.gen(function*() {
      const sensor = yield* Sensor
      const error = yield* Effect.flip(Stream.runDrain(sensor.frames))
      assert.strictEqual(error._tag, "SensorError")
      assert.strictEqual(error.reason, "Bus")
      assert.strictEqual(error.message, "i2c read failed")
    }).pipe(
      Effect.provide(Sensor.layerTest(Stream.fail(new SensorError({ reason: "Bus", message: "i2c read failed" }))))
    ))
})
