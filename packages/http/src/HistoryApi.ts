/**
 * The history group of the API: the min, max and mean of a zone (or the whole frame) over a
 * range, bucket by bucket, as JSON or CSV, with the alarm periods of the rules on it.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { HistoryJson, maxPoints, Resolution } from "@ircam/core/HistoryBucket"
import { defaultPoints, HistoryRangeInvalid } from "@ircam/core/HistoryQuery"
import { StorageError } from "@ircam/core/StorageError"
import { ZoneId } from "@ircam/core/Zone"
import { ZoneNotFound } from "@ircam/core/ZoneRepo"
import { Schema } from "effect"
import { csvAlternative, idParam, numberParam } from "./ApiSchemas.js"
import { IsoDateTimeParam } from "./EventsApi.js"

export const HistoryParams = Schema.Struct({
  zoneId: Schema.optional(
    idParam(ZoneId).annotations({
      description: "the zone (a deleted one's history stays until it ages out); the whole frame when left out"
    })
  ),
  from: Schema.optional(
    IsoDateTimeParam.annotations({ description: "start of the range (default: an hour before to)" })
  ),
  to: Schema.optional(IsoDateTimeParam.annotations({ description: "end of the range (default: now)" })),
  points: Schema.optionalWith(
    numberParam(
      Schema.Int.pipe(Schema.between(1, maxPoints)).annotations({
        description: `at most this many buckets: the finest step that fits is chosen (1–${maxPoints}, ` +
          `default ${defaultPoints})`
      })
    ),
    { default: () => defaultPoints }
  ),
  step: Schema.optional(Resolution.annotations({ description: "the resolution itself: 1s, 1m or 1h" })),
  format: Schema.optional(
    Schema.Literal("json", "csv").annotations({
      description: "`json` (default) or `csv`: a header row `t,min,max,mean,frames` (and `ambient` for the whole " +
        "frame), then one row a bucket"
    })
  )
}).pipe(
  Schema.filter(({ from, to }) =>
    from === undefined || to === undefined || from <= to ||
    { path: ["from"], message: "from must not be after to" }
  )
)

export class HistoryApi extends HttpApiGroup.make("history")
  .add(
    HttpApiEndpoint.get("read", "/history")
      .setUrlParams(HistoryParams)
      .addSuccess(HistoryJson)
      .addError(ZoneNotFound, { status: 404 })
      .addError(HistoryRangeInvalid, { status: 400 })
      .annotate(
        OpenApi.Description,
        "The min, max and mean of a zone (or of the whole frame) bucket by bucket over a range: every bucket is " +
          "there, a gap (server or sensor down) with frames 0 and null values. The step is the finest of 1s, 1m " +
          "and 1h that gives at most `points` buckets, or `step`. With the segments the range crosses (a zone's new " +
          "rectangle, the clock stepped back) and the alarm periods of the rules on it."
      )
      .annotate(
        OpenApi.Transform,
        csvAlternative(
          "with format=csv: a header row `t,min,max,mean,frames` (`,ambient` for the whole frame), then one row a " +
            "bucket: its ISO-8601 start, °C (empty in a gap) and how many frames it holds"
        )
      )
  )
  .addError(StorageError, { status: 503 })
  .annotate(OpenApi.Title, "History")
{}
