/**
 * The alarms group of the API: rules, active alarms and their acknowledgement, history,
 * notifications and the stream of transitions.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { AlarmId, AlarmJson, HistoryEntryJson, Rule, RuleId, RuleInput } from "@ircam/core/Alarm"
import { AlarmNotActive, AlarmNotFound, RuleInvalid, RuleNotFound } from "@ircam/core/AlarmEngine"
import { DeliveryJson, DeliveryStatus } from "@ircam/core/Delivery"
import { Channel } from "@ircam/core/NotificationChannel"
import { StorageError } from "@ircam/core/StorageError"
import { Schema } from "effect"
import { TooManyStreams } from "./ApiErrors.js"
import { EventStream, idParam, numberParam, streamMessages } from "./ApiSchemas.js"
import { Authorization } from "./Authorization.js"

/**
 * A rule as a client sends it. Fields it does not know are refused rather than ignored: a
 * misspelt `delaySeconds` or `enabled` would otherwise silently take its default.
 */
export const RuleBody = RuleInput.annotations({
  parseOptions: { onExcessProperty: "error" },
  description: "name, metric, direction, threshold and severity; zoneId (null: the whole frame), hysteresis, " +
    "delaySeconds and enabled are optional. PUT takes the whole rule too: omitted fields take their defaults."
})

const ruleIdParam = HttpApiSchema.param("id", idParam(RuleId))
const alarmIdParam = HttpApiSchema.param("id", idParam(AlarmId))

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
    idParam(Schema.Int.pipe(Schema.positive())).annotations({
      description: `only ${what} with a smaller id: the next page after the last one of a page`
    })
  )

export const HistoryParams = Schema.Struct({
  ruleId: Schema.optional(idParam(RuleId).annotations({ description: "only the entries of this rule" })),
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
