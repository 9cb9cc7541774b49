/**
 * An event: the frames from `PRE_EVENT_SECONDS` before a trigger (an alarm, or a person via
 * the API) to `POST_EVENT_SECONDS` after the last trigger, stored together with a summary.
 */
import { Schema } from "effect"
import { IsoTime } from "./Frame.js"
import { iso, isoOrNull } from "./Time.js"
import { ZoneId } from "./Zone.js"

export const EventId = Schema.Int.pipe(
  Schema.positive(),
  Schema.brand("EventId"),
  Schema.annotations({ description: "event id, a positive integer" })
)
export type EventId = typeof EventId.Type

export class EventNotFound extends Schema.TaggedError<EventNotFound>()("EventNotFound", {
  id: Schema.Number,
  message: Schema.String
}) {}

export const EventKind = Schema.Literal("manual", "alarm")
export type EventKind = typeof EventKind.Type

export const EventStatus = Schema.Literal("recording", "complete").annotations({
  description: "`recording` until the post-event window ends, then `complete`"
})
export type EventStatus = typeof EventStatus.Type

export interface Peak {
  /** °C, rounded to 0.01 */
  readonly temperature: number
  readonly x: number
  readonly y: number
}

export interface Event {
  readonly id: EventId
  readonly kind: EventKind
  readonly label: string | null
  readonly status: EventStatus
  /** epoch ms of the (first) trigger */
  readonly triggeredAt: number
  /** epoch ms of the first stored frame; null while there is none */
  readonly startedAt: number | null
  /** epoch ms of the last stored frame; null while there is none */
  readonly endedAt: number | null
  /** frames stored, exactly the frames `frames` gives */
  readonly frameCount: number
  readonly zoneId: ZoneId | null
  readonly alarmId: number | null
  /** the hottest pixel of all stored frames */
  readonly peak: Peak | null
}

/**
 * Which frame something happened on: its sequence (which restarts with the sensor) and its
 * wall-clock label; within one event the pair names one stored frame.
 */
export interface FrameRef {
  readonly sequence: number
  /** epoch ms */
  readonly capturedAt: number
}

export const FrameRefJson = Schema.Struct({
  sequence: Schema.NonNegativeInt,
  capturedAt: IsoTime
}).annotations({ identifier: "FrameRef" })
export type FrameRefJson = typeof FrameRefJson.Type

export const frameRefJson = (ref: FrameRef): FrameRefJson => ({
  sequence: ref.sequence,
  capturedAt: iso(ref.capturedAt)
})

/** What makes an event (an alarm names itself on the event with `EventStore.linkAlarm` once it is stored). */
export interface Trigger {
  readonly kind: EventKind
  readonly label?: string | undefined
  readonly zoneId?: ZoneId | undefined
  /**
   * The frame that set it off (an alarm's): the event stores it, however short the pre-event
   * window. Without it, the latest frame at the trigger is the event's.
   */
  readonly frame?: FrameRef & { readonly monotonicMs: number } | undefined
}

/** A stored frame, as `EventStore.frames` gives it back. */
export interface StoredFrame {
  readonly capturedAt: number
  readonly sequence: number
  readonly ambient: number
  /** °C, rounded to 0.01 as stored */
  readonly temperatures: Float64Array
}

export interface EventQuery {
  /** events triggered at or after (epoch ms) */
  readonly from?: number | undefined
  /** events triggered at or before (epoch ms) */
  readonly to?: number | undefined
  readonly zoneId?: ZoneId | undefined
  readonly kind?: EventKind | undefined
  readonly status?: EventStatus | undefined
  /** only events with a smaller id (the next page after the last event of a page) */
  readonly before?: EventId | undefined
  /** at most this many, newest first */
  readonly limit: number
}

const Celsius = Schema.Number.annotations({ description: "°C, rounded to 0.01" })

export const PeakJson = Schema.Struct({
  temperature: Celsius,
  x: Schema.Int.annotations({ description: "column, 0–31" }),
  y: Schema.Int.annotations({ description: "row, 0–23" })
}).annotations({ identifier: "Peak", description: "the hottest pixel of the event's frames" })

/** The JSON form of an event served by the API. */
export const EventJson = Schema.Struct({
  id: EventId,
  kind: EventKind,
  label: Schema.NullOr(Schema.String),
  status: EventStatus,
  triggeredAt: IsoTime,
  startedAt: Schema.NullOr(IsoTime).annotations({ description: "time of the first stored frame" }),
  endedAt: Schema.NullOr(IsoTime).annotations({ description: "time of the last stored frame" }),
  frameCount: Schema.NonNegativeInt,
  zoneId: Schema.NullOr(ZoneId),
  alarmId: Schema.NullOr(Schema.Int),
  peak: Schema.NullOr(PeakJson)
}).annotations({ identifier: "Event" })
export type EventJson = typeof EventJson.Type

export const toJson = (event: Event): EventJson => ({
  id: event.id,
  kind: event.kind,
  label: event.label,
  status: event.status,
  triggeredAt: iso(event.triggeredAt),
  startedAt: isoOrNull(event.startedAt),
  endedAt: isoOrNull(event.endedAt),
  frameCount: event.frameCount,
  zoneId: event.zoneId,
  alarmId: event.alarmId,
  peak: event.peak
})
