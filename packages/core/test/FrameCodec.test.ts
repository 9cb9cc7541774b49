import { assert, describe, it } from "@effect/vitest"
import { PIXELS } from "../src/Frame.js"
import { decode, encode, ENCODED_BYTES, FrameCodecError, peakOf, VERSION } from "../src/FrameCodec.js"

/** A deterministic spread of temperatures over the sensor's range, at odd fractions of a degree. */
const sample = () => Float32Array.from({ length: PIXELS }, (_, i) => -40 + ((i * 7919) % 34000) / 100 + 0.004)

describe("FrameCodec", () => {
  it("version 1 is 1 + 768 × 2 bytes: the version, then little-endian int16 centi-degrees", () => {
    const temperatures = new Float32Array(PIXELS).fill(0)
    temperatures[0] = 21.37
    temperatures[1] = -12.5
    temperatures[767] = 300
    const bytes = encode(temperatures)
    // the documented size, measured on a real encoding rather than read off the constant
    assert.strictEqual(bytes.length, 1537)
    assert.strictEqual(ENCODED_BYTES, bytes.length)
    assert.strictEqual(bytes[0], VERSION)
    const view = new DataView(bytes.buffer)
    assert.strictEqual(view.getInt16(1, true), 2137)
    assert.strictEqual(view.getInt16(3, true), -1250)
    assert.strictEqual(view.getInt16(1 + 2 * 767, true), 30000)
  })

  it("round-trips every temperature to 0.01 °C", () => {
    const temperatures = sample()
    const decoded = decode(encode(temperatures))
    for (let i = 0; i < PIXELS; i++) {
      assert.strictEqual(decoded[i], Math.round(temperatures[i]! * 100) / 100, `pixel ${i}`)
    }
    // and what was decoded encodes to the same bytes
    assert.deepStrictEqual(encode(decoded), encode(temperatures))
  })

  it("keeps a missing value (NaN) and clamps what the int16 cannot hold", () => {
    const temperatures = new Float32Array(PIXELS).fill(20)
    temperatures[5] = Number.NaN
    temperatures[6] = 500
    temperatures[7] = -500
    const decoded = decode(encode(temperatures))
    assert.isNaN(decoded[5])
    assert.strictEqual(decoded[6], 327.67)
    assert.strictEqual(decoded[7], -327.67)
  })

  it("reads from a view into a larger buffer (as SQLite drivers hand out blobs)", () => {
    const bytes = encode(sample())
    const larger = new Uint8Array(ENCODED_BYTES + 10)
    larger.set(bytes, 10)
    assert.deepStrictEqual(decode(larger.subarray(10)), decode(bytes))
  })

  it("refuses unknown versions and wrong lengths with a FrameCodecError", () => {
    const bytes = encode(sample())
    const other = bytes.slice()
    other[0] = 2
    for (
      const [input, message] of [
        [other, "unknown frame encoding version 2"],
        [new Uint8Array(0), "unknown frame encoding version (empty)"],
        [bytes.subarray(0, 100), "a version 1 frame is 1537 bytes, got 100"]
      ] as const
    ) {
      assert.throws(() => decode(input), FrameCodecError, message)
    }
    assert.throws(() => encode(new Float32Array(10)), RangeError)
  })

  it("finds the hottest pixel and where it is", () => {
    const temperatures = new Float32Array(PIXELS).fill(20)
    temperatures[5 * 32 + 7] = 88.456
    assert.deepStrictEqual(peakOf(temperatures), { temperature: 88.46, x: 7, y: 5 })
    assert.isNull(peakOf([]))
  })
})
