import { assert, describe, it } from "@effect/vitest"
import { Either, ParseResult, Schema } from "effect"
import { type Frame, WIDTH } from "../src/Frame.js"
import { defaultColors, outOfBounds, stats, Zone, ZoneId, ZoneInput, type ZoneSpec } from "../src/Zone.js"
import * as TestFrames from "./support/TestFrames.js"

const decode = Schema.decodeUnknownEither(ZoneInput)

const decodeOk = (input: unknown): ZoneSpec => {
  const result = decode(input)
  if (Either.isLeft(result)) assert.fail(`expected ${JSON.stringify(input)} to decode: ${result.left.message}`)
  return result.right
}

/** The issues of a failed decode, as `{ path, message }`. */
const issues = (input: unknown) => {
  const result = decode(input)
  if (Either.isRight(result)) return assert.fail(`expected ${JSON.stringify(input)} to be rejected`)
  return ParseResult.ArrayFormatter.formatErrorSync(result.left)
}

const firstIssue = (input: unknown) => {
  const [issue] = issues(input)
  assert.isDefined(issue)
  return issue!
}

const frameOf = (value: (col: number, row: number) => number): Frame =>
  TestFrames.make({ temperatures: (i) => value(i % WIDTH, Math.floor(i / WIDTH)) })

describe("ZoneInput", () => {
  it("decodes the canonical form with its optional fields", () => {
    assert.deepStrictEqual(decodeOk({ x: 1, y: 2, width: 3, height: 4 }), {
      id: undefined,
      name: undefined,
      color: undefined,
      x: 1,
      y: 2,
      width: 3,
      height: 4
    })
    assert.deepStrictEqual(
      decodeOk({ id: 7, name: "  oven  ", color: "#A0b1C2", x: 0, y: 0, width: 32, height: 24 }),
      { id: ZoneId.make(7), name: "oven", color: "#A0b1C2", x: 0, y: 0, width: 32, height: 24 }
    )
  })

  it("decodes the corner form with inclusive x2/y2", () => {
    const whole = decodeOk({ x1: 0, y1: 0, x2: 31, y2: 23 })
    assert.deepStrictEqual([whole.x, whole.y, whole.width, whole.height], [0, 0, 32, 24])
    const pixel = decodeOk({ x1: 5, y1: 6, x2: 5, y2: 6, name: "dot" })
    assert.deepStrictEqual([pixel.x, pixel.y, pixel.width, pixel.height, pixel.name], [5, 6, 1, 1, "dot"])
    const box = decodeOk({ x1: 2, y1: 3, x2: 10, y2: 4 })
    assert.deepStrictEqual([box.x, box.y, box.width, box.height], [2, 3, 9, 2])
  })

  it("encodes back to the canonical form", () => {
    const spec = decodeOk({ id: 3, name: "a", color: "#000000", x1: 1, y1: 1, x2: 2, y2: 2 })
    assert.deepStrictEqual(Schema.encodeSync(ZoneInput)(spec), {
      id: ZoneId.make(3),
      name: "a",
      color: "#000000",
      x: 1,
      y: 1,
      width: 2,
      height: 2
    })
    assert.deepStrictEqual(Schema.encodeSync(ZoneInput)(decodeOk({ x: 0, y: 0, width: 1, height: 1 })), {
      x: 0,
      y: 0,
      width: 1,
      height: 1
    })
  })

  it("rejects mixing the canonical and the corner form", () => {
    const issue = firstIssue({ x: 0, y: 0, width: 2, height: 2, x1: 0, y1: 0, x2: 1, y2: 1 })
    assert.deepStrictEqual(issue.path, ["x"])
    assert.include(issue.message, "not both")
    assert.deepStrictEqual(firstIssue({ width: 2, x2: 1 }).path, ["width"])
  })

  it("names the missing field of the canonical form", () => {
    for (const field of ["x", "y", "width", "height"] as const) {
      const input: Record<string, number> = { x: 0, y: 0, width: 2, height: 2 }
      delete input[field]
      const issue = firstIssue(input)
      assert.deepStrictEqual(issue.path, [field])
      assert.strictEqual(issue._tag, "Missing")
      assert.include(issue.message, `${field} is required`)
    }
    assert.deepStrictEqual(firstIssue({}).path, ["x"])
    assert.deepStrictEqual(firstIssue({ name: "no rectangle" }).path, ["x"])
  })

  it("names the missing field of the corner form", () => {
    for (const field of ["x1", "y1", "x2", "y2"] as const) {
      const input: Record<string, number> = { x1: 0, y1: 0, x2: 2, y2: 2 }
      delete input[field]
      const issue = firstIssue(input)
      assert.deepStrictEqual(issue.path, [field])
      assert.include(issue.message, `${field} is required with the corner form`)
    }
  })

  it("rejects x2 < x1 and y2 < y1", () => {
    const left = firstIssue({ x1: 5, y1: 0, x2: 4, y2: 1 })
    assert.deepStrictEqual(left.path, ["x2"])
    assert.include(left.message, "x2 (4) must not be left of x1 (5)")
    const above = firstIssue({ x1: 0, y1: 5, x2: 1, y2: 4 })
    assert.deepStrictEqual(above.path, ["y2"])
    assert.include(above.message, "y2 (4) must not be above y1 (5)")
  })

  it("rejects non-integers, out-of-range values and wrong types, naming the field", () => {
    const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
      [{ x: 1.5, y: 0, width: 1, height: 1 }, "x"],
      [{ x: 0, y: 0.5, width: 1, height: 1 }, "y"],
      [{ x: 0, y: 0, width: 2.5, height: 1 }, "width"],
      [{ x: -1, y: 0, width: 1, height: 1 }, "x"],
      [{ x: 32, y: 0, width: 1, height: 1 }, "x"],
      [{ x: 0, y: 24, width: 1, height: 1 }, "y"],
      [{ x: 0, y: 0, width: 0, height: 1 }, "width"],
      [{ x: 0, y: 0, width: 33, height: 1 }, "width"],
      [{ x: 0, y: 0, width: 1, height: 0 }, "height"],
      [{ x: 0, y: 0, width: 1, height: 25 }, "height"],
      [{ x: "0", y: 0, width: 1, height: 1 }, "x"],
      [{ x1: 0, y1: 0, x2: 32, y2: 1 }, "x2"],
      [{ x1: 0, y1: 0, x2: 1, y2: 24 }, "y2"],
      [{ x1: 0.5, y1: 0, x2: 1, y2: 1 }, "x1"],
      [{ x1: 0, y1: -1, x2: 1, y2: 1 }, "y1"],
      [{ id: 0, x: 0, y: 0, width: 1, height: 1 }, "id"],
      [{ id: 1.5, x: 0, y: 0, width: 1, height: 1 }, "id"]
    ]
    for (const [input, field] of cases) {
      assert.deepStrictEqual(firstIssue(input).path, [field], JSON.stringify(input))
    }
  })

  it("rejects a bad colour and an empty or over-long name", () => {
    const rect = { x: 0, y: 0, width: 1, height: 1 }
    for (const color of ["red", "#fff", "#gggggg", "ff0000", "#ff00000"]) {
      assert.deepStrictEqual(firstIssue({ ...rect, color }).path, ["color"], color)
    }
    assert.deepStrictEqual(firstIssue({ ...rect, name: "" }).path, ["name"])
    assert.deepStrictEqual(firstIssue({ ...rect, name: "   " }).path, ["name"])
    assert.deepStrictEqual(firstIssue({ ...rect, name: "n".repeat(65) }).path, ["name"])
    assert.strictEqual(decodeOk({ ...rect, name: "n".repeat(64) }).name, "n".repeat(64))
    assert.deepStrictEqual(firstIssue({ ...rect, name: 5 }).path, ["name"])
  })

  it("refuses a field it does not know, naming it", () => {
    assert.deepStrictEqual(firstIssue({ x: 0, y: 0, width: 1, height: 1, colour: "#ff0000" }).path, ["colour"])
  })

  it("rejects input that is not an object", () => {
    assert.isTrue(Either.isLeft(decode(null)))
    assert.isTrue(Either.isLeft(decode([1, 2, 3, 4])))
  })
})

describe("Zone", () => {
  it("validates a stored zone", () => {
    const zone = Schema.decodeUnknownSync(Zone)({
      id: 1,
      name: "z",
      color: "#ff4136",
      x: 0,
      y: 0,
      width: 32,
      height: 24
    })
    assert.strictEqual(zone.width, 32)
    assert.throws(() =>
      Schema.decodeUnknownSync(Zone)({ id: 1, name: "z", color: "#ff4136", x: 0, y: 0, width: 33, height: 1 })
    )
  })

  it("has six distinct default colours that are valid colours", () => {
    assert.strictEqual(new Set(defaultColors).size, defaultColors.length)
    for (const color of defaultColors) assert.match(color, /^#[0-9a-f]{6}$/)
  })
})

describe("outOfBounds", () => {
  it("accepts rectangles inside the frame, including the whole frame", () => {
    assert.isUndefined(outOfBounds({ x: 0, y: 0, width: 32, height: 24 }))
    assert.isUndefined(outOfBounds({ x: 31, y: 23, width: 1, height: 1 }))
    assert.isUndefined(outOfBounds({ x: 10, y: 10, width: 22, height: 14 }))
  })

  it("names width when the zone sticks out on the right", () => {
    const problem = outOfBounds({ x: 30, y: 0, width: 3, height: 1 })
    assert.strictEqual(problem?.field, "width")
    assert.include(problem?.message, "x + width = 33 > 32")
  })

  it("names height when the zone sticks out at the bottom", () => {
    const problem = outOfBounds({ x: 0, y: 20, width: 1, height: 5 })
    assert.strictEqual(problem?.field, "height")
    assert.include(problem?.message, "y + height = 25 > 24")
  })
})

describe("stats", () => {
  it("computes average, min and max over exactly the rectangle's pixels", () => {
    // every pixel holds a distinct value: 100 * row + col
    const frame = frameOf((col, row) => 100 * row + col)
    const rect = { x: 3, y: 2, width: 4, height: 3 }
    let sum = 0
    for (let row = 2; row < 5; row++) for (let col = 3; col < 7; col++) sum += 100 * row + col
    const result = stats(frame, rect)
    assert.strictEqual(result.min, 203)
    assert.strictEqual(result.max, 406)
    assert.closeTo(result.average, sum / 12, 1e-9)
  })

  it("ignores hot pixels just outside the rectangle", () => {
    const rect = { x: 10, y: 10, width: 2, height: 2 }
    const inside = (col: number, row: number) => col >= 10 && col < 12 && row >= 10 && row < 12
    const frame = frameOf((col, row) => (inside(col, row) ? 20 + col - 10 + 2 * (row - 10) : 1000))
    assert.deepStrictEqual(stats(frame, rect), { average: 21.5, min: 20, max: 23 })
  })

  it("handles a single pixel and the whole frame", () => {
    const frame = frameOf((col, row) => col + row)
    assert.deepStrictEqual(stats(frame, { x: 31, y: 23, width: 1, height: 1 }), { average: 54, min: 54, max: 54 })
    const whole = stats(frame, { x: 0, y: 0, width: 32, height: 24 })
    assert.deepStrictEqual([whole.min, whole.max], [0, 54])
    assert.closeTo(whole.average, (31 / 2) + (23 / 2), 1e-9)
  })
})
