import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { decode, DumpError, explainStatus, parse, shortestFloat32 } from "../src/Mlx90640Dump.js"

const text = readFileSync(new URL("./fixtures/mlx90640/melexis-example.json", import.meta.url), "utf8")

describe("Mlx90640Dump", () => {
  it.effect("parses the fixtures' layout, ignoring other fields", () =>
    Effect.gen(function*() {
      const dump = yield* parse(text, "melexis-example.json")
      assert.lengthOf(dump.eeprom, 832)
      assert.lengthOf(dump.frames, 2)
    }))

  it.effect("names what is wrong with a malformed dump", () =>
    Effect.gen(function*() {
      const problems = [
        ["not json", "x.json is not an MLX90640 dump"],
        ["{\"eeprom\":[1,2],\"frames\":[]}", "at eeprom"],
        [JSON.stringify({ eeprom: Array(832).fill(0), frames: [] }), "at frames"],
        [JSON.stringify({ eeprom: Array(832).fill(70000), frames: [Array(834).fill(0)] }), "16-bit word"]
      ] as const
      for (const [content, expected] of problems) {
        const error = yield* Effect.flip(parse(content, "x.json"))
        assert.instanceOf(error, DumpError)
        assert.include(error.message, expected)
        assert.notInclude(error.message, "\n")
      }
    }))

  it.effect("stops at a failed extraction with its status and no numbers", () =>
    Effect.gen(function*() {
      const dump = yield* parse(text, "x")
      const eeprom = [...dump.eeprom]
      for (const pixel of [10, 200, 300, 500, 700]) eeprom[64 + pixel] = 0
      const decoded = decode({ eeprom, frames: dump.frames })
      assert.strictEqual(decoded.status, -3)
      assert.deepStrictEqual([decoded.frames, decoded.temperatures], [[], []])
    }))

  it("explains every extraction status", () => {
    assert.include(explainStatus(-3), "broken")
    assert.include(explainStatus(-4), "outlier")
    assert.include(explainStatus(-5), "broken and outlier")
    assert.include(explainStatus(-6), "neighbours")
    assert.include(explainStatus(-99), "unknown")
  })

  it("writes float32 values in their shortest exact form", () => {
    assert.strictEqual(shortestFloat32(Math.fround(0.1)), 0.1)
    assert.strictEqual(shortestFloat32(Math.fround(28.857235)), 28.857235)
    assert.strictEqual(shortestFloat32(0), 0)
    assert.isNaN(shortestFloat32(Number.NaN))
    const awkward = Math.fround(1 / 3)
    assert.strictEqual(Math.fround(shortestFloat32(awkward)), awkward)
    assert.strictEqual(String(shortestFloat32(awkward)), "0.33333334")
  })

  it.effect("one frame alone leaves the other sub-page's pixels empty", () =>
    Effect.gen(function*() {
      const dump = yield* parse(text, "x")
      const decoded = decode({ eeprom: dump.eeprom, frames: [dump.frames[0]!] })
      assert.strictEqual(decoded.frames[0]!.to.filter((t) => t === null).length, 384)
    }))
})
