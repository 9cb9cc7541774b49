/**
 * An instant written as ISO-8601 with its time zone (`2026-11-24T08:00:00Z`,
 * `2026-11-24T09:00:00+01:00`), never a local time: how the API's query strings and the CLI's
 * options give a moment. Decoded to epoch ms.
 */
import { DateTime, Option, Schema } from "effect"

/** The shape `DateTimeUtc` is given: ISO-8601 with its time zone, `Z` or `±hh:mm` (never local time). */
const isoDateTimeWithZone = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i

/** The date and the time of day of an ISO-8601 date-time exist (no 30 February, no 24:00, which `Date` rolls over). */
const isCalendarTime = (text: string) => {
  const local = isoDateTimeWithZone.exec(text)![1]!.toUpperCase()
  return Option.exists(DateTime.make(`${local}Z`), (time) => DateTime.formatIso(time).startsWith(local))
}

const expected = (text: string) =>
  `expected an ISO-8601 date-time with a time zone, like 2026-11-24T08:00:00Z; got ${JSON.stringify(text)}`

/** An ISO-8601 date-time with its time zone, decoded to epoch ms. */
export const IsoDateTime = Schema.String.pipe(
  Schema.filter((text) => isoDateTimeWithZone.test(text) && isCalendarTime(text) || expected(text)),
  Schema.annotations({
    description: "ISO-8601 date-time with a time zone, e.g. 2026-11-24T08:00:00Z or 2026-11-24T09:00:00+01:00",
    jsonSchema: { format: "date-time" }
  }),
  // `DateTime` reads a lower-case `z` as no zone
  Schema.compose(Schema.Uppercase),
  Schema.compose(Schema.DateTimeUtc),
  Schema.compose(Schema.transform(Schema.DateTimeUtcFromSelf, Schema.Number, {
    strict: true,
    decode: DateTime.toEpochMillis,
    encode: DateTime.unsafeMake
  }))
)
