/**
 * Parameter extraction against the reference vectors of the Melexis C library
 * (./fixtures/mlx90640, copied from the shared reference vectors): every field bit for bit, the status, and the deviating-pixel
 * cases; then the status codes and edge cases the vectors do not reach.
 */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { EEPROM_WORDS, extractParameters, type Mlx90640Parameters } from "../src/Mlx90640Parameters.js"

interface DeviatingPixelCase {
  readonly description: string
  readonly pixelWordPatches: Readonly<Record<string, number>>
  readonly extractStatus: number
  readonly brokenPixels: ReadonlyArray<number>
  readonly outlierPixels: ReadonlyArray<number>
}

interface Fixture {
  readonly eeprom: ReadonlyArray<number>
  readonly expected: {
    readonly extractStatus: number
    readonly params: Readonly<Record<string, number | ReadonlyArray<number>>>
  }
  readonly deviatingPixelCases?: ReadonlyArray<DeviatingPixelCase>
}

const fixtureNames = ["datasheet-example", "melexis-example", "synthetic-interleaved"] as const

const load = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`./fixtures/mlx90640/${name}.json`, import.meta.url), "utf8"))

/** Fields whose value differs from the float32 of the expected value (printed with %.9g). */
const mismatches = (params: Mlx90640Parameters, expected: Fixture["expected"]["params"]): Array<string> => {
  const out: Array<string> = []
  const actual = params as unknown as Readonly<Record<string, number | ArrayLike<number>>>
  for (const [key, want] of Object.entries(expected)) {
    const got = actual[key]
    if (typeof want === "number") {
      if (got !== Math.fround(want)) out.push(`${key}: ${String(got)} !== ${want}`)
    } else if (typeof got !== "object" || got.length !== want.length) {
      out.push(`${key}: length ${typeof got === "object" ? got.length : "-"} !== ${want.length}`)
    } else {
      want.forEach((w, i) => {
        if (got[i] !== Math.fround(w)) out.push(`${key}[${i}]: ${got[i]} !== ${w}`)
      })
    }
  }
  return out
}

const melexis = load("melexis-example")

/** The Melexis example EEPROM with some pixel words (index = pixel number) replaced. */
const patched = (patches: Readonly<Record<number, number>>): Array<number> => {
  const eeprom = [...melexis.eeprom]
  for (const [pixel, word] of Object.entries(patches)) eeprom[64 + Number(pixel)] = word
  return eeprom
}

describe("extractParameters against the reference vectors", () => {
  for (const name of fixtureNames) {
    const fixture = load(name)
    it(`${name}: every field and the status, bit for bit`, () => {
      const { params, status } = extractParameters(fixture.eeprom)
      expect(status).toBe(fixture.expected.extractStatus)
      expect(Object.keys(params).sort()).toEqual(Object.keys(fixture.expected.params).sort())
      expect(mismatches(params, fixture.expected.params)).toEqual([])
      expect(params.alpha).toBeInstanceOf(Uint16Array)
      expect(params.offset).toBeInstanceOf(Int16Array)
      expect(params.kta).toBeInstanceOf(Int8Array)
      expect(params.kv).toBeInstanceOf(Int8Array)
    })
  }

  const synthetic = load("synthetic-interleaved")
  for (const c of synthetic.deviatingPixelCases ?? []) {
    it(`deviating pixels: ${c.description}`, () => {
      // The cases patch the Melexis example EEPROM (the synthetic one has its own bad pixels).
      const { params, status } = extractParameters(patched(c.pixelWordPatches))
      expect(status).toBe(c.extractStatus)
      expect(params.brokenPixels).toEqual(c.brokenPixels)
      expect(params.outlierPixels).toEqual(c.outlierPixels)
    })
  }
})

describe("extractParameters: status codes and edge cases", () => {
  const broken = (pixel: number) => ({ [pixel]: 0 })
  const outlier = (pixel: number) => ({ [pixel]: melexis.eeprom[64 + pixel]! | 1 })

  it.each([
    ["five outliers", { ...outlier(10), ...outlier(200), ...outlier(300), ...outlier(500), ...outlier(700) }, -4],
    ["three broken and two outliers", {
      ...broken(10),
      ...broken(200),
      ...broken(300),
      ...outlier(500),
      ...outlier(700)
    }, -5],
    ["two outliers side by side", { ...outlier(100), ...outlier(101) }, -6],
    ["a broken pixel below an outlier", { ...outlier(100), ...broken(132) }, -6],
    ["two broken pixels two rows apart", { ...broken(100), ...broken(164) }, 0],
    ["a broken pixel and an outlier two columns apart", { ...broken(100), ...outlier(102) }, 0]
  ])("%s gives status %i", (_, patches, status) => {
    expect(extractParameters(patched(patches)).status).toBe(status)
  })

  it("lists at most 5 of each kind: the scan stops when a list is full", () => {
    const patches = { ...broken(1), ...broken(3), ...broken(5), ...broken(7), ...broken(9), ...broken(11) }
    expect(extractParameters(patched(patches)).params.brokenPixels).toEqual([1, 3, 5, 7, 9])
  })

  it("throws a RangeError for a dump that is not 832 words", () => {
    for (const length of [0, 831, 833, 834]) {
      expect(() => extractParameters(new Uint16Array(length))).toThrow(RangeError)
    }
    expect(() => extractParameters([1, 2, 3])).toThrow(/832 words, got 3/)
    expect(EEPROM_WORDS).toBe(832)
  })

  it("takes words modulo 2^16: signed 16-bit values give the same parameters", () => {
    const signed = melexis.eeprom.map((word) => (word << 16) >> 16)
    expect(signed.some((word) => word < 0)).toBe(true)
    const a = extractParameters(Int16Array.from(signed))
    const b = extractParameters(Uint16Array.from(melexis.eeprom))
    expect(a).toEqual(b)
  })

  it("returns fresh arrays: a later extraction does not change an earlier result", () => {
    const first = extractParameters(melexis.eeprom).params
    const alpha = Uint16Array.from(first.alpha)
    extractParameters(new Uint16Array(EEPROM_WORDS))
    expect(first.alpha).toEqual(alpha)
  })

  it("quantises negative kta half away from zero", () => {
    const eeprom = [...melexis.eeprom]
    eeprom[54] = 0xc0f0 // KtaRC: −64 (rows odd/cols odd), −16
    eeprom[55] = 0x2008 // 32, 8
    const { params } = extractParameters(eeprom)
    // Independent derivation in float64 (every step is exact here): coefficient per pixel,
    // largest magnitude scaled up to at least 63.4, rounded half away from zero.
    const rc = [-64, 32, -16, 8]
    const scale2 = eeprom[56]! & 15
    const scale1 = ((eeprom[56]! >> 4) & 15) + 8
    const coefficient = Array.from({ length: 768 }, (_, p) => {
      const bits = (eeprom[64 + p]! >> 1) & 7
      return (rc[2 * ((p >> 5) & 1) + (p & 1)]! + (bits > 3 ? bits - 8 : bits) * 2 ** scale2) / 2 ** scale1
    })
    const largest = Math.max(...coefficient.map(Math.abs))
    let scale = 0
    while (largest * 2 ** scale < 63.4) scale++
    expect(params.ktaScale).toBe(scale)
    const expected = coefficient.map((k) => Math.sign(k) * Math.floor(Math.abs(k * 2 ** scale) + 0.5))
    expect(Array.from(params.kta)).toEqual(expected)
    expect(expected.some((k) => k < 0)).toBe(true)
  })

  it("terminates on an all-zero EEPROM, where the reference's scale search never ends", () => {
    // Every kta and kv is 0 (the reference doubles 0 forever); we stop at scale 0.
    const { params, status } = extractParameters(new Uint16Array(EEPROM_WORDS))
    expect(status).toBe(-3)
    expect(params.ktaScale).toBe(0)
    expect(params.kvScale).toBe(0)
    expect(params.kta.every((k) => k === 0)).toBe(true)
    expect(params.kv.every((k) => k === 0)).toBe(true)
    expect(params.brokenPixels).toEqual([0, 1, 2, 3, 4])
  })
})
