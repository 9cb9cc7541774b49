/**
 * The events group of the API: recordings, their frames (JSON, CSV) and manual triggers. Their
 * frames as PNGs are in the images group.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { EventId, EventJson, EventKind, EventNotFound, EventStatus } from "@ircam/core/Event"
import { IsoTime, PIXELS, WIDTH } from "@ircam/core/Frame"
import { IsoDateTime } from "@ircam/core/IsoDateTime"
import { StorageError } from "@ircam/core/StorageError"
import { ZoneId } from "@ircam/core/Zone"
import { Schema } from "effect"
import { FrameNotFound } from "./ApiErrors.js"
import { csvAlternative, Gif, idParam, ImageParams, numberParam } from "./ApiSchemas.js"
import { Authorization } from "./Authorization.js"

export const eventIdParam = HttpApiSchema.param("id", idParam(EventId))

/** An ISO-8601 date-time with its time zone in a query string, decoded to epoch ms (shared with the CLI). */
export const IsoDateTimeParam = IsoDateTime

export const EventListParams = Schema.Struct({
  from: Schema.optional(IsoDateTimeParam.annotations({ description: "only events triggered at or after this time" })),
  to: Schema.optional(IsoDateTimeParam.annotations({ description: "only events triggered at or before this time" })),
  zoneId: Schema.optional(idParam(ZoneId).annotations({ description: "only the events of this zone" })),
  kind: Schema.optional(EventKind),
  status: Schema.optional(EventStatus),
  limit: Schema.optionalWith(
    // the inner description is the one the OpenAPI document shows
    numberParam(
      Schema.Int.pipe(Schema.between(1, 1000)).annotations({
        description: "at most this many events (1–1000, default 100)"
      })
    ),
    { default: () => 100 }
  ),
  before: Schema.optional(
    idParam(EventId).annotations({
      description: "only events with a smaller id: the next page after the last event of a page"
    })
  )
}).pipe(
  Schema.filter(({ from, to }) =>
    from === undefined || to === undefined || from <= to ||
    { path: ["from"], message: "from must not be after to" }
  )
)

/**
 * The body of `POST /events`: a label, or nothing at all (no body, `null` or `{}`). Other fields
 * are refused rather than ignored, so that a misspelt `label`, or JSON sent without its content
 * type (read as a form), is a 400 and not an event without its label.
 */
export const TriggerEventInput = Schema.Struct({
  label: Schema.optional(
    Schema.Trim.pipe(
      Schema.minLength(1, { message: () => "label must not be empty (leave it out for no label)" }),
      Schema.maxLength(200, { message: () => "label must be at most 200 characters long" })
    ).annotations({
      jsonSchema: { type: "string", description: "what the event is about: 1–200 characters once trimmed" }
    })
  )
}).annotations({ identifier: "TriggerEventInput", parseOptions: { onExcessProperty: "error" } })

const TriggerEventBody = Schema.transform(
  Schema.NullOr(TriggerEventInput),
  Schema.typeSchema(TriggerEventInput),
  { strict: true, decode: (input) => input ?? {}, encode: (input) => input }
)

const Celsius = Schema.Number.annotations({ description: "°C, rounded to 0.01" })

/** A stored frame of an event, as `GET /events/{id}/frames` answers it. */
export const EventFrameJson = Schema.Struct({
  capturedAt: IsoTime,
  sequence: Schema.NonNegativeInt,
  temperatures: Schema.Array(Schema.NullOr(Celsius)).annotations({
    description:
      `${PIXELS} temperatures, row-major, row 0 = top row, ${WIDTH} columns; null for a pixel without a value`
  })
}).annotations({ identifier: "EventFrame" })
export type EventFrameJson = typeof EventFrameJson.Type

export const EventFramesParams = Schema.Struct({
  format: Schema.optional(
    Schema.Literal("json", "csv").annotations({
      description: "`json` (default) or `csv`: a header row `capturedAt,sequence,r0c0,…,r23c31`, then one row a frame"
    })
  )
})

/** How an event's animated GIF is drawn: as a heat-map PNG, and at which pace. */
export const AnimationParams = Schema.extend(
  ImageParams,
  Schema.Struct({
    speed: Schema.optionalWith(
      numberParam(
        Schema.Number.pipe(Schema.between(0.25, 16)).annotations({
          description: "how many times the recorded pace: 0.25–16, default 1 (frames too close for browsers are " +
            "left out)"
        })
      ),
      { default: () => 1 }
    )
  })
)
export type AnimationParams = typeof AnimationParams.Type

export class EventsApi extends HttpApiGroup.make("events")
  .add(
    HttpApiEndpoint.post("trigger", "/events")
      .setPayload(TriggerEventBody)
      .addSuccess(EventJson, { status: 202 })
      .middleware(Authorization)
      .annotate(
        OpenApi.Description,
        "Triggers a manual event: the frames from PRE_EVENT_SECONDS before now to POST_EVENT_SECONDS after are " +
          "recorded. During a recording it extends that event instead (and answers it). The body is optional."
      )
      .annotate(OpenApi.Transform, (operation) => ({
        ...operation,
        requestBody: { ...(operation["requestBody"] as object), required: false }
      }))
  )
  .add(
    HttpApiEndpoint.get("list", "/events")
      .setUrlParams(EventListParams)
      .addSuccess(Schema.Array(EventJson))
      .annotate(OpenApi.Description, "Recorded events, newest first")
  )
  .add(
    HttpApiEndpoint.get("get")`/events/${eventIdParam}`.addSuccess(EventJson).addError(EventNotFound, { status: 404 })
  )
  .add(
    HttpApiEndpoint.get("frames")`/events/${eventIdParam}/frames`
      .setUrlParams(EventFramesParams)
      .addSuccess(Schema.Array(EventFrameJson))
      .addError(EventNotFound, { status: 404 })
      .annotate(OpenApi.Description, "The stored frames of an event, oldest first, as JSON or (format=csv) as CSV")
      .annotate(
        OpenApi.Transform,
        csvAlternative(
          "with format=csv: a header row `capturedAt,sequence,r0c0,r0c1,…,r23c31`, then one row a frame: its " +
            "ISO-8601 time, its sequence and 768 temperatures (°C, at most 2 decimals; empty for a pixel without a value)"
        )
      )
  )
  .add(
    HttpApiEndpoint.get("animation")`/events/${eventIdParam}/animation.gif`
      .setUrlParams(AnimationParams)
      .addSuccess(Gif)
      .addError(EventNotFound, { status: 404 })
      .addError(FrameNotFound)
      .annotate(
        OpenApi.Description,
        "The stored frames of an event as an animated GIF at their recorded pace (or `speed` times it), one colour " +
          "scale for the whole event (unless min and max are given), each frame's time written on it and the " +
          "frames that triggered it marked; streamed as it is encoded. Once the event is complete and without " +
          "zones, it may be cached (ETag)."
      )
  )
  .add(
    HttpApiEndpoint.del("remove")`/events/${eventIdParam}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(EventNotFound, { status: 404 })
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Deletes an event and its frames (a recording one too: it stops)")
  )
  .addError(StorageError, { status: 503 })
  .annotate(OpenApi.Title, "Events")
{}
