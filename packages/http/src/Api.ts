/**
 * The ircam HTTP API under /api/v1: endpoints, payloads, answers and errors. Handlers live
 * in the *Handlers modules; the OpenAPI document is generated from this definition.
 */
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
  OpenApi
} from "@effect/platform"
import { AlarmId, AlarmJson, HistoryEntryJson, Rule, RuleId, RuleInput } from "@ircam/core/Alarm"
import { AlarmNotActive, AlarmNotFound, RuleInvalid, RuleNotFound } from "@ircam/core/AlarmEngine"
import { EventId, EventJson, EventKind, EventStatus } from "@ircam/core/Event"
import { EventNotFound, StorageError } from "@ircam/core/EventStore"
import { FrameJson, IsoTime, PIXELS, WIDTH } from "@ircam/core/Frame"
import { Report } from "@ircam/core/Health"
import { Channel, DeliveryJson, DeliveryStatus } from "@ircam/core/Notifier"
import { Zone, ZoneId, ZoneInput } from "@ircam/core/Zone"
import { ZoneIdTaken, ZoneLimitReached, ZoneNotFound, ZoneOutOfBounds } from "@ircam/core/ZoneRepo"
import { Option, ParseResult, Schema } from "effect"
import { FrameNotFound, NoFrameYet, TooManyStreams, Unauthorized } from "./ApiErrors.js"
import { PaletteName } from "./Palette.js"

/** Guards the endpoints that change state: with `API_TOKEN` set they need `Authorization: Bearer <token>`. */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@ircam/http/Authorization", {
  failure: Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const idParam = HttpApiSchema.param("id", Schema.NumberFromString.pipe(Schema.compose(ZoneId)))

export const ZoneAverage = Schema.Struct({
  zoneId: ZoneId,
  average: Schema.Number,
  min: Schema.Number,
  max: Schema.Number,
  capturedAt: IsoTime
}).annotations({ identifier: "ZoneAverage", description: "statistics of a zone on the latest frame, °C" })

/** A number in a path or a query string. */
const numberParam = <A>(schema: Schema.Schema<A, number>) => Schema.NumberFromString.pipe(Schema.compose(schema))

/** `true`/`false` (or `1`/`0`) in a query string. */
const BooleanParam = Schema.transform(Schema.Literal("true", "false", "1", "0"), Schema.Boolean, {
  strict: true,
  decode: (text) => text === "true" || text === "1",
  encode: (value) => (value ? "true" : "false")
})

/** An `text/event-stream` answer (Server-Sent Events). */
const EventStream = Schema.String.pipe(
  HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })
)

const Png = Schema.Uint8ArrayFromSelf.pipe(HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: "image/png" }))

export const StreamParams = Schema.Struct({
  every: Schema.optionalWith(
    numberParam(
      Schema.Int.pipe(Schema.between(1, 1000)).annotations({
        description: "one frame message every this many sensor frames (1–1000, default 1: every frame)"
      })
    ),
    { default: () => 1 }
  )
})

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

export const PaletteJson = Schema.Struct({
  name: PaletteName,
  colors: Schema.Array(Schema.String).annotations({
    description: "256 colours #rrggbb, from the coldest to the hottest"
  })
}).annotations({ identifier: "Palette" })

const streamMessages = "Messages: `event: frame` with the same JSON as GET /thermal/real-time; `event: alarm` " +
  "with `{transition: raised|acknowledged|cleared, alarm}`; `event: recording` with `{transition: started|" +
  "extended|completed|deleted, event}`. A slow client misses frames instead of delaying them; a comment line " +
  "every 15 s keeps idle connections open."

export class ThermalApi extends HttpApiGroup.make("thermal")
  .add(
    HttpApiEndpoint.get("realTime", "/thermal/real-time")
      .addSuccess(FrameJson)
      .addError(NoFrameYet)
      .annotate(
        OpenApi.Description,
        "The latest frame: 768 temperatures (°C, row-major, row 0 at the top) and its summary"
      )
  )
  .add(
    HttpApiEndpoint.get("realTimePng", "/thermal/real-time.png")
      .setUrlParams(ImageParams)
      .addSuccess(Png)
      .addError(NoFrameYet)
      .annotate(OpenApi.Description, "The latest frame as a heat-map PNG")
  )
  .add(
    HttpApiEndpoint.get("palettes", "/thermal/palettes")
      .addSuccess(Schema.Array(PaletteJson))
      .annotate(OpenApi.Description, "The colour palettes of the heat-map images, for drawing the same colours")
  )
  .add(
    HttpApiEndpoint.get("stream", "/thermal/stream")
      .setUrlParams(StreamParams)
      .addSuccess(EventStream)
      .addError(TooManyStreams)
      .annotate(
        OpenApi.Description,
        "Server-Sent Events: every frame (or every `every`-th), alarm transitions and recordings as they happen. " +
          streamMessages
      )
  )
  .annotate(OpenApi.Title, "Thermal")
{}

const ZoneInputDoc = ZoneInput.annotations({
  description: "{x, y, width, height} or the corner form {x1, y1, x2, y2} with x2/y2 inclusive; " +
    "optional name, color and (on create) id"
})

export class ZonesApi extends HttpApiGroup.make("zones")
  .add(HttpApiEndpoint.get("list", "/zones").addSuccess(Schema.Array(Zone)))
  .add(
    HttpApiEndpoint.post("create", "/zones")
      .setPayload(ZoneInputDoc)
      .addSuccess(Zone, { status: 201 })
      .addError(ZoneLimitReached, { status: 409 })
      .addError(ZoneIdTaken, { status: 409 })
      .addError(ZoneOutOfBounds, { status: 422 })
      .middleware(Authorization)
  )
  .add(HttpApiEndpoint.get("get")`/zones/${idParam}`.addSuccess(Zone).addError(ZoneNotFound, { status: 404 }))
  .add(
    HttpApiEndpoint.put("update")`/zones/${idParam}`
      .setPayload(ZoneInputDoc)
      .addSuccess(Zone)
      .addError(ZoneNotFound, { status: 404 })
      .addError(ZoneOutOfBounds, { status: 422 })
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Replaces the zone's rectangle; name and color are kept when omitted")
  )
  .add(
    HttpApiEndpoint.del("remove")`/zones/${idParam}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(ZoneNotFound, { status: 404 })
      .middleware(Authorization)
  )
  .add(
    HttpApiEndpoint.get("average")`/zones/${idParam}/average`
      .addSuccess(ZoneAverage)
      .addError(ZoneNotFound, { status: 404 })
      .addError(NoFrameYet)
  )
  .annotate(OpenApi.Title, "Zones")
{}

export class HealthApi extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(Report)
      .addError(Report.annotations({ identifier: "HealthReportDown" }), { status: 503 })
      .annotate(OpenApi.Description, "Status of every subsystem; 503 when one is down")
  )
  .annotate(OpenApi.Title, "Health")
{}

const eventIdParam = HttpApiSchema.param("id", numberParam(EventId))

const isoDateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|([+-])(\d{2}):(\d{2}))$/i

/** Epoch ms of an ISO-8601 date-time with a time zone (`Z` or `±hh:mm`), or none if there is no such instant. */
export const parseIsoDateTime = (text: string): Option.Option<number> => {
  const match = isoDateTimePattern.exec(text)
  if (match === null) return Option.none()
  const [year, month, day, hour, minute, second = 0] = match.slice(1, 7).map((part) => Number(part ?? 0))
  const millis = Number((match[7] ?? "").padEnd(3, "0").slice(0, 3))
  const local = Date.UTC(year!, month! - 1, day!, hour!, minute!, second, millis)
  const date = new Date(local)
  // Date.UTC rolls 30 February over into March (and years 0–99 into the 1900s): refuse what moved
  const valid = date.getUTCFullYear() === year && date.getUTCMonth() === month! - 1 &&
    date.getUTCDate() === day && hour! < 24 && minute! < 60 && second < 60
  const offsetHours = Number(match[10] ?? 0)
  const offsetMinutes = Number(match[11] ?? 0)
  if (!valid || offsetHours > 23 || offsetMinutes > 59) return Option.none()
  const offset = (match[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return Option.some(local - offset)
}

/** An ISO-8601 date-time in a query string, decoded to epoch ms. */
export const IsoDateTimeParam = Schema.transformOrFail(
  Schema.String.annotations({
    description: "ISO-8601 date-time with a time zone, e.g. 2026-11-24T08:00:00Z or 2026-11-24T09:00:00+01:00",
    jsonSchema: { format: "date-time" }
  }),
  Schema.Number,
  {
    strict: true,
    decode: (text, _, ast) =>
      Option.match(parseIsoDateTime(text), {
        onNone: () =>
          ParseResult.fail(
            new ParseResult.Type(
              ast,
              text,
              `expected an ISO-8601 date-time with a time zone, like 2026-11-24T08:00:00Z; got ${JSON.stringify(text)}`
            )
          ),
        onSome: ParseResult.succeed
      }),
    encode: (ms) => ParseResult.succeed(new Date(ms).toISOString())
  }
)

export const EventListParams = Schema.Struct({
  from: Schema.optional(IsoDateTimeParam.annotations({ description: "only events triggered at or after this time" })),
  to: Schema.optional(IsoDateTimeParam.annotations({ description: "only events triggered at or before this time" })),
  zoneId: Schema.optional(numberParam(ZoneId).annotations({ description: "only the events of this zone" })),
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
    numberParam(EventId).annotations({
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
      .annotate(OpenApi.Transform, (operation) => {
        const responses = operation["responses"] as Record<string, { content?: Record<string, unknown> }>
        const ok = responses["200"]!
        return {
          ...operation,
          responses: {
            ...responses,
            200: {
              ...ok,
              content: {
                ...ok.content,
                "text/csv": {
                  schema: {
                    type: "string",
                    description: "with format=csv: a header row `capturedAt,sequence,r0c0,r0c1,…,r23c31`, then one " +
                      "row a frame: its ISO-8601 time, its sequence and 768 temperatures (°C, at most 2 decimals; " +
                      "empty for a pixel without a value)"
                  }
                }
              }
            }
          }
        }
      })
  )
  .add(
    HttpApiEndpoint.get("framePng")`/events/${eventIdParam}/frames/${
      HttpApiSchema.param("n", numberParam(Schema.NonNegativeInt))
    }.png`
      .setUrlParams(ImageParams)
      .addSuccess(Png)
      .addError(EventNotFound, { status: 404 })
      .addError(FrameNotFound)
      .annotate(OpenApi.Description, "Frame n (0 = the oldest) of an event as a heat-map PNG")
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

/**
 * A rule as a client sends it. Fields it does not know are refused rather than ignored: a
 * misspelt `delaySeconds` or `enabled` would otherwise silently take its default.
 */
export const RuleBody = RuleInput.annotations({
  parseOptions: { onExcessProperty: "error" },
  description: "name, metric, direction, threshold and severity; zoneId (null: the whole frame), hysteresis, " +
    "delaySeconds and enabled are optional. PUT takes the whole rule too: omitted fields take their defaults."
})

const ruleIdParam = HttpApiSchema.param("id", numberParam(RuleId))
const alarmIdParam = HttpApiSchema.param("id", numberParam(AlarmId))

/** `limit` of a paged list: 1–1000, default 100. */
const limitParam = (what: string) =>
  Schema.optionalWith(
    numberParam(
      Schema.Int.pipe(Schema.between(1, 1000)).annotations({
        description: `at most this many ${what} (1–1000, default 100)`
      })
    ),
    { default: () => 100 }
  )

/** `before` of a paged list: the id of the last item of the previous page. */
const beforeParam = (what: string) =>
  Schema.optional(
    numberParam(Schema.Int.pipe(Schema.positive())).annotations({
      description: `only ${what} with a smaller id: the next page after the last one of a page`
    })
  )

export const HistoryParams = Schema.Struct({
  ruleId: Schema.optional(numberParam(RuleId).annotations({ description: "only the entries of this rule" })),
  limit: limitParam("entries"),
  before: beforeParam("entries")
})

export const NotificationParams = Schema.Struct({
  status: Schema.optional(DeliveryStatus),
  channel: Schema.optional(Channel),
  limit: limitParam("deliveries"),
  before: beforeParam("deliveries")
})

export class AlarmsApi extends HttpApiGroup.make("alarms")
  .add(
    HttpApiEndpoint.get("listRules", "/alarms/rules")
      .addSuccess(Schema.Array(Rule))
      .annotate(OpenApi.Description, "Every alarm rule, in the order of their ids")
  )
  .add(
    HttpApiEndpoint.post("createRule", "/alarms/rules")
      .setPayload(RuleBody)
      .addSuccess(Rule, { status: 201 })
      .addError(RuleInvalid, { status: 422 })
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Creates a rule; it is evaluated from the next frame on")
  )
  .add(
    HttpApiEndpoint.get("getRule")`/alarms/rules/${ruleIdParam}`
      .addSuccess(Rule)
      .addError(RuleNotFound, { status: 404 })
  )
  .add(
    HttpApiEndpoint.put("updateRule")`/alarms/rules/${ruleIdParam}`
      .setPayload(RuleBody)
      .addSuccess(Rule)
      .addError(RuleNotFound, { status: 404 })
      .addError(RuleInvalid, { status: 422 })
      .middleware(Authorization)
      .annotate(
        OpenApi.Description,
        "Replaces the rule; its state starts again under the new limits (an active alarm clears if it no longer holds)"
      )
  )
  .add(
    HttpApiEndpoint.del("deleteRule")`/alarms/rules/${ruleIdParam}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(RuleNotFound, { status: 404 })
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Deletes the rule (its active alarm is cleared; its alarms and history stay)")
  )
  .add(
    HttpApiEndpoint.get("active", "/alarms/active")
      .addSuccess(Schema.Array(AlarmJson))
      .annotate(OpenApi.Description, "The active alarms, newest first")
  )
  .add(
    HttpApiEndpoint.get("stream", "/alarms/stream")
      .addSuccess(EventStream)
      .addError(TooManyStreams)
      .annotate(
        OpenApi.Description,
        "Server-Sent Events: alarm transitions and recordings as they happen, without frames. " + streamMessages
      )
  )
  .add(
    HttpApiEndpoint.get("history", "/alarms/history")
      .setUrlParams(HistoryParams)
      .addSuccess(Schema.Array(HistoryEntryJson))
      .annotate(
        OpenApi.Description,
        "The transitions of the rules (pending, ok, raised, acknowledged, cleared), newest first, in pages"
      )
  )
  .add(
    HttpApiEndpoint.get("notifications", "/alarms/notifications")
      .setUrlParams(NotificationParams)
      .addSuccess(Schema.Array(DeliveryJson))
      .annotate(
        OpenApi.Description,
        "The notifications of raised and cleared alarms, one per channel (webhook, email), newest first, with " +
          "their delivery status: pending (with the time of the next attempt), delivered, or given_up (with the " +
          "last error)"
      )
  )
  .add(
    HttpApiEndpoint.get("get")`/alarms/${alarmIdParam}`
      .addSuccess(AlarmJson)
      .addError(AlarmNotFound, { status: 404 })
  )
  .add(
    HttpApiEndpoint.post("acknowledge")`/alarms/${alarmIdParam}/ack`
      .addSuccess(AlarmJson)
      .addError(AlarmNotFound, { status: 404 })
      .addError(AlarmNotActive, { status: 409 })
      .middleware(Authorization)
      .annotate(
        OpenApi.Description,
        "Acknowledges an active alarm (again: no change); a cleared alarm is a 409. The body is ignored."
      )
  )
  .addError(StorageError, { status: 503 })
  .annotate(OpenApi.Title, "Alarms")
{}

export class IrcamApi extends HttpApi.make("ircam")
  .add(ThermalApi)
  .add(ZonesApi)
  .add(EventsApi)
  .add(AlarmsApi)
  .add(HealthApi)
  .prefix("/api/v1")
  .annotate(OpenApi.Title, "ircam")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Description, "Real-time IR thermal monitoring (MLX90640, 32×24 pixels)")
{}
