/**
 * The history's exports write numbers and times themselves: they must come out exactly as
 * `String` and `toISOString` write them.
 */
import { assert, describe, it } from "@effect/vitest"
import { AsciiWriter } from "../src/internal/AsciiWriter.js"

const written = (write: (out: AsciiWriter) => void) => {
  const out = new AsciiWriter(1)
  write(out)
  return new TextDecoder().decode(out.result())
}

describe("AsciiWriter", () => {
  it("writes every hundredth from -2,000 to 2,000 °C as String does", () => {
    const numbers: Array<number> = []
    for (let hundredths = -200_000; hundredths <= 200_000; hundredths++) numbers.push(hundredths / 100)
    const text = written((out) => numbers.forEach((n) => out.number(n).text(" ")))
    assert.strictEqual(text, numbers.map((n) => `${String(n)} `).join(""))
  })

  it("writes what is not a whole number of hundredths, or is too big, through String", () => {
    const numbers = [0, -0, 0.1 + 0.2, 1e-7, -1e-7, 123.456, 9_999_999.99, 1e7, -1e7, 1e21, 5e-324, 0.005, 1.005]
      .concat([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE, 2 ** 53])
    for (let i = 1; i < 2000; i++) numbers.push(Math.sin(i) * 10 ** ((i % 24) - 8), Math.round(Math.cos(i) * 1e9) / 100)
    for (const n of numbers) assert.strictEqual(written((out) => out.number(n)), String(n), `${n}`)
  })

  it("writes seconds as toISOString does, across days, before 1970 and outside years 0 to 9999", () => {
    const seconds = [0, -1, 59, 86_399, 86_400, 1_795_507_199, 951_782_400, -62_198_755_200, 253_402_300_800]
    for (let t = 1_700_000_000; t < 1_700_000_000 + 3 * 86_400; t += 3599) seconds.push(t)
    const text = written((out) => seconds.forEach((t) => out.isoSeconds(t).text(" ")))
    assert.strictEqual(text, seconds.map((t) => `${new Date(t * 1000).toISOString()} `).join(""))
    assert.strictEqual(written((out) => out.isoSeconds(1.5)), new Date(1500).toISOString())
    assert.throws(() => written((out) => out.isoSeconds(8.64e12 + 1)), RangeError)
  })

  it("refuses what is not ASCII", () => {
    assert.throws(() => written((out) => out.text("20 °C")), RangeError)
  })
})
