/**
 * Frame math against the reference vectors of the Melexis C library
 * (./fixtures/mlx90640, copied from the shared reference vectors): Vdd, Ta, To per setting (the other sub-page left untouched),
 * GetImage, the two-sub-page image and its bad-pixel correction, all bit for bit (expected
 * values are float32 printed with %.9g, so Math.fround gives back the exact value). Then the
 * branches of the bad-pixel correction and the error cases, which the vectors do not reach.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { correctBadPixels, FRAME_WORDS, makeDecoder, subPageOf } from "../src/Mlx90640Frame.js"
import { extractParameters, type Mlx90640Parameters } from "../src/Mlx90640Parameters.js"

type Pixels = ReadonlyArray<number | null>

interface Fixture {
  readonly eeprom: ReadonlyArray<number>
  readonly frames: ReadonlyArray<ReadonlyArray<number>>
  readonly settings: ReadonlyArray<{ readonly emissivity: number; readonly trOffset: number }>
  readonly expected: {
    readonly perFrame: ReadonlyArray<{
      readonly subpage: number
      readonly vdd: number
      readonly ta: number
      readonly image: Pixels
      readonly results: ReadonlyArray<{
        readonly emissivity: number
        readonly trOffset: number
        readonly tr: number
        readonly to: Pixels
      }>
    }>
    readonly combined: ReadonlyArray<{
      readonly emissivity: number
      readonly trOffset: number
      readonly to: Pixels
      readonly badPixelMode: number
      readonly toBadPixelsCorrected: Pixels
    }>
  }
}

const fixtureNames = ["datasheet-example", "melexis-example", "synthetic-interleaved"] as const

const load = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`./fixtures/mlx90640/${name}.json`, import.meta.url), "utf8"))

const nanBuffer = () => new Float32Array(768).fill(Number.NaN)

/**
 * Pixels that differ from the expected float32 (null: must still be NaN, i.e. not written).
 * Strict equality of float32 values: bit-exact.
 */
const mismatches = (actual: Float32Array, expected: Pixels): Array<string> => {
  const out: Array<string> = []
  expected.forEach((want, p) => {
    const got = actual[p]!
    const ok = want === null ? Number.isNaN(got) : got === Math.fround(want)
    if (!ok) out.push(`[${p}] ${got} !== ${want}`)
  })
  return out.slice(0, 10)
}

/** Bitwise equality of two buffers (NaN equals NaN). */
const sameBits = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

describe.each(fixtureNames)("%s", (name) => {
  const fixture = load(name)
  const { params } = extractParameters(fixture.eeprom)
  const frames = fixture.frames.map((frame) => Uint16Array.from(frame))
  const decoder = makeDecoder(params)

  fixture.expected.perFrame.forEach((expected, i) => {
    const frame = frames[i]!

    it(`frame ${i}: sub-page, Vdd and Ta`, () => {
      expect(subPageOf(frame)).toBe(expected.subpage)
      expect(decoder.vdd(frame)).toBe(Math.fround(expected.vdd))
      expect(decoder.ta(frame)).toBe(Math.fround(expected.ta))
    })

    it(`frame ${i}: image (GetImage), this sub-page only`, () => {
      const result = nanBuffer()
      decoder.image(frame, result)
      expect(mismatches(result, expected.image)).toEqual([])
    })

    expected.results.forEach((setting, j) => {
      it(`frame ${i}, setting ${j} (emissivity ${setting.emissivity}): To, other sub-page untouched`, () => {
        const tr = Math.fround(decoder.ta(frame) + setting.trOffset)
        expect(tr).toBe(Math.fround(setting.tr))
        const fromDecoder = nanBuffer()
        decoder.calculateTo(frame, setting.emissivity, tr, fromDecoder)
        expect(mismatches(fromDecoder, setting.to)).toEqual([])
        // a fresh decoder (fresh scratch buffers) gives the same bits
        const fromFresh = nanBuffer()
        makeDecoder(params).calculateTo(frame, setting.emissivity, tr, fromFresh)
        expect(sameBits(fromFresh, fromDecoder)).toBe(true)
      })
    })
  })

  fixture.expected.combined.forEach((expected, j) => {
    it(`setting ${j}: all frames into one buffer, then bad-pixel correction`, () => {
      const result = nanBuffer()
      for (const frame of frames) {
        decoder.calculateTo(frame, expected.emissivity, Math.fround(decoder.ta(frame) + expected.trOffset), result)
      }
      expect(mismatches(result, expected.to)).toEqual([])
      const mode = (frames[frames.length - 1]![FRAME_WORDS - 2]! >> 12) & 1
      expect(mode).toBe(expected.badPixelMode)
      correctBadPixels(params.brokenPixels, result, mode, params)
      correctBadPixels(params.outlierPixels, result, mode, params)
      expect(mismatches(result, expected.toBadPixelsCorrected)).toEqual([])
    })
  })

  it("a lower emissivity moves To away from the reflected temperature", () => {
    const frame = frames[0]!
    const tr = Math.fround(decoder.ta(frame) - 8)
    const blackBody = nanBuffer()
    const grey = nanBuffer()
    decoder.calculateTo(frame, 1, tr, blackBody)
    decoder.calculateTo(frame, 0.95, tr, grey)
    let written = 0
    for (let p = 0; p < 768; p++) {
      if (Number.isNaN(blackBody[p]!)) continue
      written++
      expect(Math.sign(grey[p]! - blackBody[p]!)).toBe(Math.sign(blackBody[p]! - tr))
    }
    expect(written).toBe(384)
  })
})

describe("frame input checks", () => {
  const fixture = load("melexis-example")
  const { params } = extractParameters(fixture.eeprom)
  const frame = Uint16Array.from(fixture.frames[0]!)

  it("throws a RangeError for a frame that is not 834 words or a result under 768 pixels", () => {
    const decoder = makeDecoder(params)
    const short = frame.subarray(0, 833)
    expect(() => decoder.calculateTo(short, 1, 25, new Float32Array(768))).toThrow(/834 words, got 833/)
    expect(() => decoder.image(short, new Float32Array(768))).toThrow(RangeError)
    expect(() => decoder.vdd(short)).toThrow(RangeError)
    expect(() => decoder.ta(short)).toThrow(RangeError)
    expect(() => decoder.calculateTo(frame, 1, 25, new Float32Array(767))).toThrow(/768 pixels, got 767/)
    expect(() => decoder.image(frame, new Float32Array(10))).toThrow(RangeError)
    expect(() => correctBadPixels([0xffff], new Float32Array(10), 1, params)).toThrow(RangeError)
  })

  it("accepts plain arrays of words as well as typed arrays", () => {
    const fromArray = nanBuffer()
    const fromTyped = nanBuffer()
    makeDecoder(params).calculateTo(fixture.frames[0]!, 0.95, 25, fromArray)
    makeDecoder(params).calculateTo(frame, 0.95, 25, fromTyped)
    expect(sameBits(fromArray, fromTyped)).toBe(true)
  })

  it("reads the sub-page from bit 0 of the last word", () => {
    const copy = Uint16Array.from(frame)
    copy[833] = 1
    expect(subPageOf(copy)).toBe(1)
    copy[833] = 2
    expect(subPageOf(copy)).toBe(0)
  })
})

describe("correctBadPixels", () => {
  const none: Pick<Mlx90640Parameters, "brokenPixels" | "outlierPixels"> = {
    brokenPixels: [0xffff, 0xffff, 0xffff, 0xffff, 0xffff],
    outlierPixels: [0xffff, 0xffff, 0xffff, 0xffff, 0xffff]
  }
  /** An uneven pattern of exactly representable values (a linear ramp would be repaired unchanged). */
  const ramp = () => Float32Array.from({ length: 768 }, (_, p) => 20 + ((p * 37) % 101) / 4)
  const fixed = (pixels: ReadonlyArray<number>, mode: number, params = none) => {
    const to = ramp()
    correctBadPixels(pixels, to, mode, params)
    return to
  }
  const mean = (a: number, b: number) => Math.fround(Math.fround(a + b) / 2)

  it("chess mode: corners copy the diagonal neighbour, edges average two diagonals", () => {
    // (none of these pixels is a neighbour of another, so the order of the list does not matter)
    const t = ramp()
    const to = fixed([0, 31, 736, 767, 5, 740, 64, 95, 0xffff], 1)
    expect(to[0]).toBe(t[33])
    expect(to[31]).toBe(t[62])
    expect(to[736]).toBe(t[705])
    expect(to[767]).toBe(t[734])
    expect(to[5]).toBe(mean(t[36]!, t[38]!))
    expect(to[740]).toBe(mean(t[707]!, t[709]!))
    expect(to[64]).toBe(mean(t[33]!, t[97]!))
    expect(to[95]).toBe(mean(t[62]!, t[126]!))
  })

  it("chess mode: inside, the median of the four diagonal neighbours", () => {
    const to = ramp()
    const p = 5 * 32 + 10
    to[p - 33] = 7
    to[p - 31] = 1
    to[p + 31] = 5
    to[p + 33] = 3
    correctBadPixels([p, 0xffff], to, 1, none)
    expect(to[p]).toBe(4)
  })

  it("interleaved mode: edge columns copy or average their row neighbours", () => {
    const t = ramp()
    expect(fixed([64, 0xffff], 0)[64]).toBe(t[65])
    expect(fixed([65, 0xffff], 0)[65]).toBe(mean(t[64]!, t[66]!))
    expect(fixed([94, 0xffff], 0)[94]).toBe(mean(t[93]!, t[95]!))
    expect(fixed([95, 0xffff], 0)[95]).toBe(t[94])
  })

  it("interleaved mode: inside, extrapolates from the flatter side", () => {
    const p = 3 * 32 + 10
    const to = ramp()
    // left side flat (10, 10), right side steep (30, 50): extrapolate from the left
    to.set([10, 10, 0, 30, 50], p - 2)
    correctBadPixels([p, 0xffff], to, 0, none)
    expect(to[p]).toBe(10)
    // right side flatter: extrapolate from the right
    to.set([0, 20, 0, 30, 31], p - 2)
    correctBadPixels([p, 0xffff], to, 0, none)
    expect(to[p]).toBe(29)
  })

  it("interleaved mode: averages when a pixel two columns away is itself bad", () => {
    const p = 3 * 32 + 10
    const params = { ...none, outlierPixels: [p + 2, 0xffff, 0xffff, 0xffff, 0xffff] }
    const t = ramp()
    expect(fixed([p, 0xffff], 0, params)[p]).toBe(mean(t[p - 1]!, t[p + 1]!))
    const brokenLeft = { ...none, brokenPixels: [p - 2, 0xffff, 0xffff, 0xffff, 0xffff] }
    expect(fixed([p, 0xffff], 0, brokenLeft)[p]).toBe(mean(t[p - 1]!, t[p + 1]!))
  })

  it("stops at 0xFFFF or at the end of the list, skips indices outside the image", () => {
    /** Corrects `list` in a ramp where `marked` pixels are NaN; answers which are still NaN. */
    const stillNaN = (list: ReadonlyArray<number>, marked: ReadonlyArray<number>) => {
      const to = ramp()
      for (const p of marked) to[p] = Number.NaN
      correctBadPixels(list, to, 0, none)
      return marked.filter((p) => Number.isNaN(to[p]!))
    }
    expect(stillNaN([800, 40, 0xffff, 50], [40, 50])).toEqual([50])
    // a full list of 5 without terminator: all corrected, nothing read past the end
    expect(stillNaN([40, 45, 100, 150, 200], [40, 45, 100, 150, 200])).toEqual([])
  })
})
