import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { type Frame, FrameJson, HEIGHT, PIXELS, round2, summarize, toJson, WIDTH } from "../src/Frame.js"
import * as TestFrames from "./support/TestFrames.js"

const frame = (temperatures: (i: number) => number): Frame =>
  TestFrames.make({
    temperatures,
    at: Date.UTC(2026, 10, 24, 12, 30, 0, 250),
    monotonicMs: 5_000,
    sequence: 42,
    ambient: 27.456
  })

/** `toJson` with the summary the monitor would compute. */
const jsonOf = (f: Frame) => toJson(f, summarize(f.temperatures))

describe("Frame", () => {
  it("is 32 × 24 = 768 pixels", () => {
    assert.deepStrictEqual([WIDTH, HEIGHT, PIXELS], [32, 24, 768])
  })

  it("summarize gives min, max and mean", () => {
    assert.deepStrictEqual(summarize(Float32Array.of(3, -1, 4, 2)), { min: -1, max: 4, mean: 2 })
    assert.deepStrictEqual(summarize(Float32Array.of(5)), { min: 5, max: 5, mean: 5 })
    const whole = summarize(frame((i) => i).temperatures)
    assert.deepStrictEqual(whole, { min: 0, max: 767, mean: 383.5 })
  })

  it("round2 rounds to hundredths", () => {
    assert.strictEqual(round2(21.456), 21.46)
    assert.strictEqual(round2(21.454), 21.45)
    assert.strictEqual(round2(-3.333), -3.33)
    assert.strictEqual(round2(80), 80)
  })

  it("toJson gives rounded temperatures, the summary, the ISO time and the sequence", () => {
    const json = jsonOf(frame((i) => 20 + i / 1000))
    assert.strictEqual(json.temperatures.length, PIXELS)
    assert.strictEqual(json.temperatures[0], 20)
    assert.strictEqual(json.temperatures[767], 20.77)
    assert.strictEqual(json.temperatures[6], 20.01)
    assert.deepStrictEqual([json.width, json.height], [32, 24])
    assert.deepStrictEqual([json.min, json.max, json.mean], [20, 20.77, 20.38])
    assert.strictEqual(json.ambient, 27.46)
    assert.strictEqual(json.capturedAt, "2026-11-24T12:30:00.250Z")
    assert.strictEqual(json.sequence, 42)
    assert.isArray(json.temperatures, "a plain array, serialisable as JSON")
    assert.notProperty(json, "monotonicMs", "the monotonic clock measures, it is not shown")
  })

  it("toJson takes min, max and mean from the summary it is given, rounded", () => {
    const json = toJson(frame(() => 20), { min: 1.234, max: 99.876, mean: 50.005 })
    assert.deepStrictEqual([json.min, json.max, json.mean], [1.23, 99.88, 50.01])
  })

  it("toJson output satisfies the FrameJson schema", () => {
    const json = jsonOf(frame((i) => 22 + Math.sin(i)))
    assert.deepStrictEqual(Schema.decodeUnknownSync(FrameJson)(JSON.parse(JSON.stringify(json))), json)
    assert.throws(() => Schema.decodeUnknownSync(FrameJson)({ ...json, width: 16 }))
    assert.throws(() => Schema.decodeUnknownSync(FrameJson)({ ...json, sequence: -1 }))
  })
})
