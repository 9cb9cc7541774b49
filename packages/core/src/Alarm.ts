/**
 * Alarms: rules that watch a zone (or the whole frame), the alarms they raise, the history of
 * their transitions, and the notification sent when an alarm is raised or cleared.
 */
import { Option, Schema } from "effect"
import { EventId, type FrameRef, FrameRefJson, frameRefJson } from "./Event.js"
import * as Links from "./EvidenceLinks.js"
import { IsoTime } from "./Frame.js"
import { iso, isoOrNull } from "./Time.js"
import { ZoneId } from "./Zone.js"

export const RuleId = Schema.Int.pipe(
  Schema.positive(),
  Schema.brand("RuleId"),
  Schema.annotations({ description: "alarm rule id, a positive integer" })
)
export type RuleId = typeof RuleId.Type

export const AlarmId = Schema.Int.pipe(
  Schema.positive(),
  Schema.brand("AlarmId"),
  Schema.annotations({ description: "alarm id, a positive integer" })
)
export type AlarmId = typeof AlarmId.Type

export const Metric = Schema.Literal("average", "max", "min", "rate").annotations({
  description:
    "what is compared: the zone's average, max or min (°C), or `rate`, the change of its max in °C per minute"
})
export type Metric = typeof Metric.Type

export const Direction = Schema.Literal("above", "below")
export type Direction = typeof Direction.Type

export const Severity = Schema.Literal("warning", "critical")
export type Severity = typeof Severity.Type

export const AlarmState = Schema.Literal("active", "cleared").annotations({
  description: "`active` from when it is raised until its condition clears; acknowledging sets `acknowledgedAt`"
})
export type AlarmState = typeof AlarmState.Type

const Finite = Schema.Number.pipe(Schema.finite())

/** The fields of a rule that a client sets. */
export const RuleInput = Schema.Struct({
  name: Schema.Trim.pipe(Schema.minLength(1), Schema.maxLength(100)),
  zoneId: Schema.optionalWith(Schema.NullOr(ZoneId), { default: () => null }).annotations({
    description: "the zone watched; null (the default) for the whole frame"
  }),
  metric: Metric,
  direction: Direction,
  threshold: Finite.pipe(Schema.between(-100, 1000)).annotations({ description: "°C (°C per minute for `rate`)" }),
  hysteresis: Schema.optionalWith(Finite.pipe(Schema.between(0, 100)), { default: () => 1 }).annotations({
    description: "the alarm clears only once the value is past threshold ∓ hysteresis (default 1)"
  }),
  delaySeconds: Schema.optionalWith(Finite.pipe(Schema.between(0, 86_400)), { default: () => 0 }).annotations({
    description: "the condition must hold this long before the alarm is raised (default 0)"
  }),
  severity: Severity,
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true })
}).annotations({ identifier: "AlarmRuleInput" })
export type RuleInput = typeof RuleInput.Type

export class Rule extends Schema.Class<Rule>("AlarmRule")({
  id: RuleId,
  name: Schema.String,
  zoneId: Schema.NullOr(ZoneId),
  metric: Metric,
  direction: Direction,
  threshold: Schema.Number,
  hysteresis: Schema.Number,
  delaySeconds: Schema.Number,
  severity: Severity,
  enabled: Schema.Boolean
}) {}

/** An alarm as stored; times are epoch-ms wall-clock labels. */
export interface Alarm {
  readonly id: AlarmId
  readonly ruleId: RuleId
  readonly zoneId: ZoneId | null
  readonly severity: Severity
  readonly state: AlarmState
  /** the value that raised it */
  readonly value: number
  readonly raisedAt: number
  readonly acknowledgedAt: number | null
  readonly clearedAt: number | null
  readonly eventId: EventId | null
  /** the frame whose value raised it; null for alarms raised before ircam recorded it */
  readonly triggerFrame: FrameRef | null
}

/** An alarm as the API serves it. */
export const AlarmJson = Schema.Struct({
  id: AlarmId,
  ruleId: RuleId,
  zoneId: Schema.NullOr(ZoneId),
  severity: Severity,
  state: AlarmState,
  value: Schema.Number.annotations({ description: "the value that raised it" }),
  raisedAt: IsoTime,
  acknowledgedAt: Schema.NullOr(IsoTime),
  clearedAt: Schema.NullOr(IsoTime),
  eventId: Schema.NullOr(EventId).annotations({ description: "the event recorded when it was raised" }),
  // optional when read: notifications queued by an earlier version have none
  triggerFrame: Schema.optionalWith(
    Schema.NullOr(FrameRefJson).annotations({
      description: "the frame whose value raised it (GET /alarms/{id}/frame.png draws it); null for alarms " +
        "raised before this was recorded"
    }),
    { default: () => null }
  )
}).annotations({ identifier: "Alarm" })
export type AlarmJson = typeof AlarmJson.Type

export const toJson = (alarm: Alarm): AlarmJson => ({
  ...alarm,
  raisedAt: iso(alarm.raisedAt),
  acknowledgedAt: isoOrNull(alarm.acknowledgedAt),
  clearedAt: isoOrNull(alarm.clearedAt),
  triggerFrame: alarm.triggerFrame === null ? null : frameRefJson(alarm.triggerFrame)
})

/** What a transition of a rule's state machine was. */
export const Transition = Schema.Literal("pending", "ok", "raised", "acknowledged", "cleared").annotations({
  description: "`pending`: the condition holds, waiting for the delay; `ok`: it stopped before the delay; " +
    "`raised`: the alarm is active; `acknowledged`; `cleared`: past the hysteresis, the alarm ended"
})
export type Transition = typeof Transition.Type

/** One transition of a rule, as stored (`at` is an epoch-ms label). */
export interface HistoryEntry {
  readonly id: number
  readonly ruleId: RuleId
  readonly alarmId: AlarmId | null
  readonly transition: Transition
  readonly value: number | null
  readonly at: number
}

export const HistoryEntryJson = Schema.Struct({
  id: Schema.Int,
  ruleId: RuleId,
  alarmId: Schema.NullOr(AlarmId),
  transition: Transition,
  value: Schema.NullOr(Schema.Number),
  at: IsoTime
}).annotations({ identifier: "AlarmHistoryEntry" })
export type HistoryEntryJson = typeof HistoryEntryJson.Type

export const historyEntryJson = (entry: HistoryEntry): HistoryEntryJson => ({ ...entry, at: iso(entry.at) })

/**
 * What the notifier delivers when an alarm is raised or cleared (and acknowledged, on the channels
 * that carry it: MQTT). The envelope follows the Standard Webhooks recommendation: `type`,
 * `timestamp`, `data`.
 */
export const Notification = Schema.Struct({
  type: Schema.Literal("alarm.raised", "alarm.acknowledged", "alarm.cleared"),
  timestamp: IsoTime,
  data: Schema.Struct({
    alarm: AlarmJson,
    rule: Schema.Struct({
      id: RuleId,
      name: Schema.String,
      zoneId: Schema.NullOr(ZoneId),
      zoneName: Schema.NullOr(Schema.String),
      metric: Metric,
      direction: Direction,
      threshold: Schema.Number,
      severity: Severity
    }),
    // optional when read: notifications queued by an earlier version have none
    links: Schema.optionalWith(Schema.NullOr(Links.EvidenceLinks), { default: () => null }).annotations({
      description: "absolute URLs of the alarm, its frame's heat map, its event and the event's GIF, under PUBLIC_URL"
    }),
    linksReason: Schema.optional(Schema.String).annotations({ description: "why `links` is null" })
  })
}).annotations({ identifier: "AlarmNotification" })
export type Notification = typeof Notification.Type

/**
 * The notification of an alarm's `type` transition at `at` (epoch ms), with its rule, its zone's
 * name and links under `publicUrl`.
 */
export const notificationOf = (
  type: Notification["type"],
  rule: Rule,
  alarm: Alarm,
  zoneName: string | null,
  at: number,
  publicUrl: Option.Option<URL> = Option.none()
): Notification => ({
  type,
  timestamp: iso(at),
  data: {
    alarm: toJson(alarm),
    rule: {
      id: rule.id,
      name: rule.name,
      zoneId: rule.zoneId,
      zoneName,
      metric: rule.metric,
      direction: rule.direction,
      threshold: rule.threshold,
      severity: rule.severity
    },
    ...Links.of(publicUrl, alarm.id, alarm.eventId)
  }
})
