/**
 * The temperature history's vocabulary: resolutions, buckets, segments, and the answer to a query
 * with its JSON. `History` records the min, max and mean of the whole frame and of every zone for
 * each wall-clock second and rolls them up to minutes and hours; `HistoryRepo` stores them;
 * `HistoryQuery` answers a range at one resolution.
 *
 * A target (the frame, or a zone by id) is recorded in segments: one series of buckets each. A
 * new segment starts when a zone's rectangle changes (the statistics of another rectangle are
 * another curve) and when the wall clock goes back to seconds a segment already recorded (a
 * second is never recorded twice in one segment, nor are two recordings of it merged).
 */
import { Schema } from "effect"
import { AlarmId, RuleId, Severity } from "./Alarm.js"
import { EventId } from "./Event.js"
import { IsoTime } from "./Frame.js"
import { iso, isoOrNull } from "./Time.js"
import { type Rect, ZoneId } from "./Zone.js"

export const Resolution = Schema.Literal("1s", "1m", "1h").annotations({
  description: "the width of a bucket: one second, one minute or one hour"
})
export type Resolution = typeof Resolution.Type

/** Finest first. */
export const resolutions: ReadonlyArray<Resolution> = ["1s", "1m", "1h"]

export const resolutionSeconds: Readonly<Record<Resolution, number>> = { "1s": 1, "1m": 60, "1h": 3600 }

/** An answer of the API holds at most this many buckets (a week at 1 minute is 10,080). */
export const maxPoints = 20_000

export const SegmentReason = Schema.Literal("started", "zoneChanged", "clockSteppedBack").annotations({
  description: "why the segment began: `started` (the first recording of the frame or of the zone), " +
    "`zoneChanged` (its rectangle changed), `clockSteppedBack` (the wall clock went back to seconds already " +
    "recorded: both recordings are kept)"
})
export type SegmentReason = typeof SegmentReason.Type

/** One stretch of a target's history, recorded on one rectangle (the frame's has none). */
export interface Segment {
  readonly id: number
  readonly zoneId: ZoneId | null
  readonly rect: Rect | null
  readonly reason: SegmentReason
  /** wall-clock label (epoch ms) of its first frame */
  readonly startedAt: number
}

/** A stored bucket: °C at 0.01, `t` its start in epoch seconds (wall clock). */
export interface Bucket {
  readonly seriesId: number
  readonly t: number
  /** how many frames it aggregates */
  readonly frames: number
  readonly min: number
  readonly max: number
  /** the mean of its frames' means */
  readonly mean: number
  /** the sensor's ambient temperature (Ta), the frame's series only */
  readonly ambient: number | null
}

/** A bucket of an answer: one recorded in the slot, or a gap (no frame: `frames` 0 and no values). */
export interface Slot {
  readonly t: number
  readonly frames: number
  readonly min: number | null
  readonly max: number | null
  readonly mean: number | null
  readonly ambient: number | null
}

/** The alarms of one rule raised within one bucket of the answer, as one period to shade. */
export interface AlarmPeriod {
  readonly ruleId: RuleId
  readonly severity: Severity
  /** epoch ms: raised */
  readonly from: number
  /** epoch ms: cleared; null while active */
  readonly to: number | null
  /** how many alarms the period covers */
  readonly alarms: number
  /** the first of them, and the event recorded for it */
  readonly alarmId: AlarmId
  readonly eventId: EventId | null
}

export interface HistoryAnswer {
  readonly zoneId: ZoneId | null
  readonly step: Resolution
  /** epoch ms, as asked */
  readonly from: number
  readonly to: number
  /** the segments that have buckets in the range, oldest first */
  readonly segments: ReadonlyArray<Segment>
  /** every slot of the range, oldest first: what was recorded in it (one bucket a segment), or a gap */
  readonly buckets: ReadonlyArray<Slot>
  readonly alarms: ReadonlyArray<AlarmPeriod>
}

/** How many buckets of `step` the range `from`..`to` (epoch ms, both included) touches. */
export const slotCount = (from: number, to: number, step: Resolution): number => {
  const size = resolutionSeconds[step] * 1000
  return Math.floor(to / size) - Math.floor(from / size) + 1
}

/** The finest resolution at which the range holds at most `points` buckets; none if even hours are too many. */
export const chooseStep = (from: number, to: number, points: number): Resolution | undefined =>
  resolutions.find((step) => slotCount(from, to, step) <= points)

/** The start (epoch seconds) of the bucket of `step` that holds the instant `ms`. */
export const slotOf = (ms: number, step: Resolution): number => {
  const size = resolutionSeconds[step]
  return Math.floor(ms / 1000 / size) * size
}

const gap = (t: number): Slot => ({ t, frames: 0, min: null, max: null, mean: null, ambient: null })

/**
 * Every slot of the range: the stored buckets (sorted by `t`, then by segment) where there are
 * some, gaps elsewhere. Gaps are explicit, never interpolated: the server or the sensor was down.
 */
export const fill = (
  rows: ReadonlyArray<Bucket>,
  from: number,
  to: number,
  step: Resolution
): ReadonlyArray<Slot> => {
  const size = resolutionSeconds[step]
  const last = slotOf(to, step)
  const slots: Array<Slot> = []
  let i = 0
  for (let t = slotOf(from, step); t <= last; t += size) {
    while (i < rows.length && rows[i]!.t < t) i++
    if (i < rows.length && rows[i]!.t === t) {
      for (; i < rows.length && rows[i]!.t === t; i++) slots.push(rows[i]!)
    } else {
      slots.push(gap(t))
    }
  }
  return slots
}

const Celsius = Schema.Number.annotations({ description: "°C, at 0.01" })

const RectJson = Schema.Struct({
  x: Schema.Int,
  y: Schema.Int,
  width: Schema.Int,
  height: Schema.Int
}).annotations({ identifier: "HistoryZoneRect" })

export const SegmentJson = Schema.Struct({
  since: IsoTime.annotations({ description: "the wall-clock time of its first frame" }),
  reason: SegmentReason,
  zone: Schema.NullOr(RectJson).annotations({ description: "the zone's rectangle; null for the whole frame" })
}).annotations({ identifier: "HistorySegment" })

export const BucketJson = Schema.Struct({
  t: IsoTime.annotations({ description: "the start of the bucket" }),
  min: Schema.NullOr(Celsius),
  max: Schema.NullOr(Celsius),
  mean: Schema.NullOr(Celsius).annotations({ description: "the mean of the frames' means, °C" }),
  frames: Schema.NonNegativeInt.annotations({ description: "frames aggregated; 0 for a gap (no values)" }),
  ambient: Schema.optionalWith(Schema.NullOr(Celsius), { exact: true }).annotations({
    description: "the whole frame's buckets only: the sensor's ambient temperature (Ta), mean, °C"
  })
}).annotations({ identifier: "HistoryBucket" })
export type BucketJson = typeof BucketJson.Type

export const AlarmPeriodJson = Schema.Struct({
  ruleId: RuleId,
  severity: Severity,
  from: IsoTime.annotations({ description: "when the first of its alarms was raised" }),
  to: Schema.NullOr(IsoTime).annotations({ description: "when the last was cleared; null while active" }),
  alarms: Schema.Int.annotations({ description: "alarms of the rule raised within one bucket, shown as one period" }),
  alarmId: AlarmId.annotations({ description: "the first of them" }),
  eventId: Schema.NullOr(EventId).annotations({ description: "the event recorded for the first" })
}).annotations({ identifier: "HistoryAlarmPeriod" })

export const HistoryJson = Schema.Struct({
  zoneId: Schema.NullOr(ZoneId).annotations({ description: "the zone; null for the whole frame" }),
  step: Resolution,
  from: IsoTime,
  to: IsoTime,
  segments: Schema.Array(SegmentJson),
  buckets: Schema.Array(BucketJson).annotations({
    description: "every bucket of the range, oldest first; a gap has `frames` 0 and null values. Two buckets " +
      "share a `t` only where two segments recorded it (a zone changed, the clock went back)"
  }),
  alarms: Schema.Array(AlarmPeriodJson).annotations({ description: "alarm periods of the rules on the target" })
}).annotations({ identifier: "History" })
export type HistoryJson = typeof HistoryJson.Type

export const segmentJson = (segment: Segment): typeof SegmentJson.Type => ({
  since: iso(segment.startedAt),
  reason: segment.reason,
  zone: segment.rect === null
    ? null
    : { x: segment.rect.x, y: segment.rect.y, width: segment.rect.width, height: segment.rect.height }
})

export const bucketJson = (slot: Slot, withAmbient: boolean): BucketJson => ({
  t: iso(slot.t * 1000),
  min: slot.min,
  max: slot.max,
  mean: slot.mean,
  frames: slot.frames,
  ...(withAmbient ? { ambient: slot.ambient } : {})
})

/** Its keys in the order the API has always written them (the order of the repository's columns). */
export const alarmPeriodJson = (period: AlarmPeriod): typeof AlarmPeriodJson.Type => ({
  ruleId: period.ruleId,
  severity: period.severity,
  alarms: period.alarms,
  alarmId: period.alarmId,
  eventId: period.eventId,
  from: iso(period.from),
  to: isoOrNull(period.to)
})

/**
 * The answer as the documented JSON. The API and the CLI write the same text bucket by bucket
 * (`HistoryExport.toJsonBytes`); this is the shape it must equal.
 */
export const toJson = (answer: HistoryAnswer): HistoryJson => ({
  zoneId: answer.zoneId,
  step: answer.step,
  from: iso(answer.from),
  to: iso(answer.to),
  segments: answer.segments.map(segmentJson),
  buckets: answer.buckets.map((slot) => bucketJson(slot, answer.zoneId === null)),
  alarms: answer.alarms.map(alarmPeriodJson)
})
