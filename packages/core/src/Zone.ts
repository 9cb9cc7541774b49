/**
 * Zones: user-drawn rectangles of pixels watched by the monitor loop.
 *
 * A zone is stored and answered in the canonical form `{x, y, width, height}`
 * (pixel column/row of the top-left pixel and the size in pixels). Input may also
 * use the corner form `{x1, y1, x2, y2}`, where (x1, y1) is the top-left pixel and
 * (x2, y2) the bottom-right pixel, both INCLUSIVE: `{x1: 0, y1: 0, x2: 31, y2: 23}`
 * is the whole frame.
 */
import { Either, ParseResult, Schema, SchemaAST as AST } from "effect"
import type { Frame } from "./Frame.js"
import { HEIGHT, WIDTH } from "./Frame.js"

export const ZoneId = Schema.Int.pipe(
  Schema.positive(),
  Schema.brand("ZoneId"),
  Schema.annotations({ description: "positive integer zone id" })
)
export type ZoneId = typeof ZoneId.Type

export const ZoneName = Schema.Trim.pipe(
  Schema.compose(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(64))),
  Schema.annotations({ description: "1 to 64 characters" })
)

export const Color = Schema.String.pipe(
  Schema.pattern(/^#[0-9a-fA-F]{6}$/),
  Schema.annotations({ description: "CSS hex colour #rrggbb", examples: ["#ff0000"] })
)

const Column = Schema.Int.pipe(Schema.between(0, WIDTH - 1)).annotations({
  description: `pixel column 0..${WIDTH - 1}`
})
const Row = Schema.Int.pipe(Schema.between(0, HEIGHT - 1)).annotations({ description: `pixel row 0..${HEIGHT - 1}` })
const Width = Schema.Int.pipe(Schema.between(1, WIDTH)).annotations({ description: `pixels, 1..${WIDTH}` })
const Height = Schema.Int.pipe(Schema.between(1, HEIGHT)).annotations({ description: `pixels, 1..${HEIGHT}` })

/** The rectangle of a zone, canonical form. */
export interface Rect {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

export class Zone extends Schema.Class<Zone>("Zone")({
  id: ZoneId,
  name: Schema.String,
  color: Color,
  x: Column,
  y: Row,
  width: Width,
  height: Height
}) {}

/** A zone as given by a client, after normalising the corner form. Bounds are checked by `ZoneRepo`. */
export const ZoneSpec = Schema.Struct({
  id: Schema.optional(ZoneId),
  name: Schema.optional(Schema.String),
  color: Schema.optional(Color),
  x: Column,
  y: Row,
  width: Width,
  height: Height
})
export type ZoneSpec = typeof ZoneSpec.Type

const InputFields = Schema.Struct({
  id: Schema.optionalWith(ZoneId, { exact: true }),
  name: Schema.optionalWith(ZoneName, { exact: true }),
  color: Schema.optionalWith(Color, { exact: true }),
  x: Schema.optionalWith(Column, { exact: true }),
  y: Schema.optionalWith(Row, { exact: true }),
  width: Schema.optionalWith(Width, { exact: true }),
  height: Schema.optionalWith(Height, { exact: true }),
  x1: Schema.optionalWith(Column.annotations({ description: "left pixel column, inclusive" }), { exact: true }),
  y1: Schema.optionalWith(Row.annotations({ description: "top pixel row, inclusive" }), { exact: true }),
  x2: Schema.optionalWith(Column.annotations({ description: "right pixel column, inclusive" }), { exact: true }),
  y2: Schema.optionalWith(Row.annotations({ description: "bottom pixel row, inclusive" }), { exact: true })
}).annotations({
  // a misspelt field (`colour`) is refused rather than silently ignored
  parseOptions: { onExcessProperty: "error" }
})
type InputFields = typeof InputFields.Type

const canonicalKeys = ["x", "y", "width", "height"] as const
const cornerKeys = ["x1", "y1", "x2", "y2"] as const

const missing = (input: InputFields, key: string, message: string) =>
  new ParseResult.Pointer(key, input, new ParseResult.Missing(new AST.Type(AST.numberKeyword), message))

const invalid = (input: InputFields, key: keyof InputFields, message: string) =>
  new ParseResult.Pointer(key, input, new ParseResult.Type(Schema.Number.ast, input[key], message))

const normalize = (input: InputFields): Either.Either<ZoneSpec, ParseResult.ParseIssue> => {
  const usesCorners = cornerKeys.some((key) => input[key] !== undefined)
  const usesCanonical = canonicalKeys.some((key) => input[key] !== undefined)
  const meta = { id: input.id, name: input.name, color: input.color }
  if (usesCorners && usesCanonical) {
    const key = canonicalKeys.find((key) => input[key] !== undefined)!
    return Either.left(invalid(input, key, "give either x/y/width/height or x1/y1/x2/y2, not both"))
  }
  if (usesCorners) {
    const { x1, x2, y1, y2 } = input
    if (x1 === undefined || y1 === undefined || x2 === undefined || y2 === undefined) {
      const absent = cornerKeys.find((key) => input[key] === undefined)!
      return Either.left(missing(input, absent, `${absent} is required with the corner form x1/y1/x2/y2`))
    }
    if (x2 < x1) return Either.left(invalid(input, "x2", `x2 (${x2}) must not be left of x1 (${x1})`))
    if (y2 < y1) return Either.left(invalid(input, "y2", `y2 (${y2}) must not be above y1 (${y1})`))
    return Either.right({ ...meta, x: x1, y: y1, width: x2 - x1 + 1, height: y2 - y1 + 1 })
  }
  const { height, width, x, y } = input
  if (x === undefined || y === undefined || width === undefined || height === undefined) {
    const absent = canonicalKeys.find((key) => input[key] === undefined)!
    return Either.left(missing(input, absent, `${absent} is required (or use the corner form x1/y1/x2/y2)`))
  }
  return Either.right({ ...meta, x, y, width, height })
}

/**
 * Zone input: canonical `{x, y, width, height}` or corner `{x1, y1, x2, y2}` (inclusive),
 * each with optional `id`, `name`, `color`. Decodes to a canonical `ZoneSpec`.
 */
export const ZoneInput = Schema.transformOrFail(InputFields, ZoneSpec, {
  strict: true,
  decode: normalize,
  encode: (spec) =>
    ParseResult.succeed({
      ...(spec.id === undefined ? {} : { id: ZoneId.make(spec.id) }),
      ...(spec.name === undefined ? {} : { name: spec.name }),
      ...(spec.color === undefined ? {} : { color: spec.color }),
      x: spec.x,
      y: spec.y,
      width: spec.width,
      height: spec.height
    })
}).annotations({ identifier: "ZoneInput" })

/** Why a rectangle does not fit in the frame, naming the field at fault; `undefined` when it fits. */
export const outOfBounds = (rect: Rect): { readonly field: string; readonly message: string } | undefined => {
  if (rect.x + rect.width > WIDTH) {
    return {
      field: "width",
      message: `zone must lie inside the ${WIDTH}×${HEIGHT} frame: x + width = ${rect.x + rect.width} > ${WIDTH}`
    }
  }
  if (rect.y + rect.height > HEIGHT) {
    return {
      field: "height",
      message: `zone must lie inside the ${WIDTH}×${HEIGHT} frame: y + height = ${rect.y + rect.height} > ${HEIGHT}`
    }
  }
  return undefined
}

export interface Stats {
  readonly average: number
  readonly min: number
  readonly max: number
}

/** Average, min and max of the pixels of `rect` in `frame`. */
export const stats = (frame: Frame, rect: Rect): Stats => {
  const t = frame.temperatures
  let min = Infinity
  let max = -Infinity
  let sum = 0
  for (let row = rect.y; row < rect.y + rect.height; row++) {
    const start = row * WIDTH + rect.x
    for (let i = start; i < start + rect.width; i++) {
      const v = t[i]!
      if (v < min) min = v
      if (v > max) max = v
      sum += v
    }
  }
  return { average: sum / (rect.width * rect.height), min, max }
}

/** Colours given to zones created without one, in order. */
export const defaultColors = ["#ff4136", "#0074d9", "#2ecc40", "#ffdc00", "#b10dc9", "#ff851b"] as const
