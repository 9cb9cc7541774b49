/**
 * The JSON ircam publishes on MQTT (besides Home Assistant's configs): the state, each rule's
 * alarm state, and the events (alarm transitions from the outbox, recordings). Temperatures in
 * °C to 0.01 as everywhere in the API; times ISO-8601 in UTC.
 */
import type { AlarmJson, Rule } from "./Alarm.js"
import type { Event } from "./Event.js"
import { toJson as eventJson } from "./Event.js"
import { round2 } from "./Frame.js"
import type { Status } from "./Health.js"
import type { Snapshot } from "./Monitor.js"
import { iso } from "./Time.js"
import type { Zone } from "./Zone.js"

/** What the `sensor` health check says, as the state carries it. */
export interface SensorState {
  readonly status: Status
  /** frames per second achieved; null until there are two frames */
  readonly frameRate: number | null
  /** sensor failures since start */
  readonly errors: number
}

/** `<prefix>/state`: the latest frame's statistics and each zone's. */
export const state = (snapshot: Snapshot, zones: ReadonlyArray<Zone>, sensor: SensorState) => ({
  capturedAt: iso(snapshot.frame.capturedAt),
  sequence: snapshot.frame.sequence,
  min: round2(snapshot.summary.min),
  max: round2(snapshot.summary.max),
  mean: round2(snapshot.summary.mean),
  ambient: round2(snapshot.frame.ambient),
  zones: Object.fromEntries(snapshot.zones.map((stats) => [stats.zoneId, {
    name: zones.find((zone) => zone.id === stats.zoneId)?.name ?? null,
    average: round2(stats.average),
    min: round2(stats.min),
    max: round2(stats.max)
  }])),
  sensor
})

/** Where a rule stands: `ok`, `pending` (its condition holds, waiting for the delay) or `active` (an alarm). */
export interface RuleState {
  readonly state: "ok" | "pending" | "active"
  readonly acknowledged: boolean
  /** what made the latest transition: the value that raised the alarm, or that started the delay; null when ok */
  readonly value: number | null
  readonly alarmId: number | null
  /** when the rule entered this state, when known */
  readonly since: string | null
}

export const ok: RuleState = { state: "ok", acknowledged: false, value: null, alarmId: null, since: null }

/** The state of a rule with an active alarm. */
export const active = (alarm: AlarmJson): RuleState => ({
  state: "active",
  acknowledged: alarm.acknowledgedAt !== null,
  value: alarm.value,
  alarmId: alarm.id,
  since: alarm.raisedAt
})

/** `<prefix>/alarm/<ruleId>`: a rule and where it stands. */
export const alarmState = (rule: Rule, state: RuleState) => ({
  ruleId: rule.id,
  name: rule.name,
  severity: rule.severity,
  ...state
})

/**
 * `<prefix>/events`: an alarm transition as the outbox stored it (`alarm.raised`,
 * `alarm.acknowledged`, `alarm.cleared`), with its delivery's id first; the id stays the same
 * when it is delivered again.
 */
export const alarmEvent = (messageId: string, payload: string): string =>
  JSON.stringify({ id: messageId, ...JSON.parse(payload) })

/** `<prefix>/events`: a recording started or completed; its id is the same for every copy. */
export const recordingEvent = (transition: "started" | "completed", event: Event, at: number) => ({
  id: `rec_${event.id}_${transition}`,
  type: `recording.${transition}`,
  timestamp: iso(at),
  data: { event: eventJson(event) }
})
