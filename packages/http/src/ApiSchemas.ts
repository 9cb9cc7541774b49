/**
 * Schemas that several groups of the API share: ids, numbers and booleans in paths and query
 * strings, the encodings of streams and images, and how a heat-map PNG is asked for.
 */
import { HttpApiSchema } from "@effect/platform"
import { PaletteName } from "@ircam/core/Palette"
import { Schema } from "effect"
import { quoted } from "./Excerpt.js"

/** A number in a path or a query string. */
export const numberParam = <A>(schema: Schema.Schema<A, number>) => Schema.NumberFromString.pipe(Schema.compose(schema))

const decimalDigits = /^(?:0|[1-9][0-9]{0,15})$/

/**
 * An id (or, `from` 0, an index) in a path or a query string: decimal digits only, from `from` to
 * 2^53 − 1. One number has one spelling, so `0x18`, `+24`, `024`, `24.0` or `2.4e1` are refused
 * rather than read as 24.
 */
export const idParam = <A>(schema: Schema.Schema<A, number>, from: 0 | 1 = 1) =>
  Schema.String.pipe(
    Schema.filter((text) =>
      (decimalDigits.test(text) && Number(text) >= from && Number(text) <= Number.MAX_SAFE_INTEGER) ||
      `must be a whole number from ${from} to ${Number.MAX_SAFE_INTEGER} in decimal digits, without a sign, ` +
        `leading zeros, decimals or exponent; got ${quoted(text)}`, {
      jsonSchema: { pattern: from === 0 ? "^(0|[1-9][0-9]*)$" : "^[1-9][0-9]*$" }
    }),
    Schema.compose(Schema.NumberFromString),
    Schema.compose(schema)
  )

/** `true`/`false` (or `1`/`0`) in a query string. */
export const BooleanParam = Schema.transform(Schema.Literal("true", "false", "1", "0"), Schema.Boolean, {
  strict: true,
  decode: (text) => text === "true" || text === "1",
  encode: (value) => (value ? "true" : "false")
})

/** An `text/event-stream` answer (Server-Sent Events). */
export const EventStream = Schema.String.pipe(
  HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })
)

export const Png = Schema.Uint8ArrayFromSelf.pipe(
  HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "image/png" })
)

export const Gif = Schema.Uint8ArrayFromSelf.pipe(
  HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "image/gif" })
)

/** How a heat-map PNG is drawn. */
export const ImageParams = Schema.Struct({
  palette: Schema.optionalWith(PaletteName, { default: () => "iron" as const }),
  scale: Schema.optionalWith(
    numberParam(
      Schema.Int.pipe(Schema.between(1, 20)).annotations({
        description: "the image is 32·scale × 24·scale pixels, upsampled bilinearly (1–20, default 10)"
      })
    ),
    { default: () => 10 }
  ),
  zones: Schema.optionalWith(
    BooleanParam.annotations({ description: "draw the zones' rectangles and names (default false)" }),
    { default: () => false }
  ),
  legend: Schema.optionalWith(
    BooleanParam.annotations({
      description: "add a strip under the image with the colour scale and its min and max in °C (default false)"
    }),
    { default: () => false }
  ),
  min: Schema.optional(
    numberParam(Schema.Finite).annotations({
      description: "°C at the bottom of the colour scale (default: the frame's min)"
    })
  ),
  max: Schema.optional(
    numberParam(Schema.Finite).annotations({
      description: "°C at the top of the colour scale (default: the frame's max)"
    })
  )
}).pipe(
  Schema.filter(({ max, min }) =>
    min === undefined || max === undefined || min < max || { path: ["min"], message: "min must be below max" }
  )
)
export type ImageParams = typeof ImageParams.Type

/** What the live streams send, for their OpenAPI descriptions. */
export const streamMessages = "Messages: `event: frame` with the same JSON as GET /thermal/real-time; `event: alarm` " +
  "with `{transition: raised|acknowledged|cleared, alarm}`; `event: recording` with `{transition: started|" +
  "extended|completed|deleted, event}`. A slow client misses frames instead of delaying them; a comment line " +
  "every 15 s keeps idle connections open."

/**
 * For `OpenApi.Transform`: documents that the operation's 200 answer may also be CSV (`format=csv`),
 * as `description` says.
 */
export const csvAlternative = (description: string) => (operation: Record<string, unknown>) => {
  const responses = operation["responses"] as Record<string, { content?: Record<string, unknown> }>
  const ok = responses["200"]!
  return {
    ...operation,
    responses: {
      ...responses,
      200: { ...ok, content: { ...ok.content, "text/csv": { schema: { type: "string", description } } } }
    }
  }
}
