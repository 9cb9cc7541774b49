/**
 * HistoryQuery: a range of one target's history (a zone, or the whole frame) at one resolution,
 * with every gap explicit, the segments it crosses and the alarm periods of the rules on that
 * target: what `GET /history` answers and `ircam history export` writes. It only reads the
 * repositories, so the CLI runs it without the server.
 */
import { Clock, Effect, Schema } from "effect"
import { AlarmRepo } from "./AlarmRepo.js"
import {
  chooseStep,
  fill,
  type HistoryAnswer,
  maxPoints,
  type Resolution,
  resolutionSeconds,
  slotCount,
  slotOf
} from "./HistoryBucket.js"
import { HistoryRepo } from "./HistoryRepo.js"
import type { StorageError } from "./StorageError.js"
import { iso } from "./Time.js"
import type { ZoneId } from "./Zone.js"
import { ZoneNotFound, ZoneRepo } from "./ZoneRepo.js"

/** The range or the resolution asked for cannot be answered; `field` names the parameter at fault. */
export class HistoryRangeInvalid extends Schema.TaggedError<HistoryRangeInvalid>()("HistoryRangeInvalid", {
  field: Schema.String,
  message: Schema.String
}) {}

/** Buckets asked for when neither `points` nor `step` is given. */
export const defaultPoints = 500

/** The range when `from` is not given: the hour before `to`. */
export const defaultSpanMs = 3_600_000

export interface HistoryRequest {
  /** the zone; null for the whole frame */
  readonly zoneId: ZoneId | null
  /** epoch ms; an hour before `to` when not given */
  readonly from?: number | undefined
  /** epoch ms; now when not given */
  readonly to?: number | undefined
  /** the resolution; when not given, the finest one at which the range holds at most `points` buckets */
  readonly step?: Resolution | undefined
  readonly points?: number | undefined
  /** what an explicit `step` may give at most (the API's `maxPoints` unless given) */
  readonly maxBuckets?: number | undefined
}

const pointsMessage = (from: number, to: number, points: number) =>
  `from ${iso(from)} to ${iso(to)} is ${slotCount(from, to, "1h").toLocaleString("en")} hours, more buckets ` +
  `than points=${points} even at the coarsest step (1h): ask for more points or a shorter range`

/** The answer to `request`, on the repositories. */
export const read = (
  request: HistoryRequest
): Effect.Effect<
  HistoryAnswer,
  HistoryRangeInvalid | ZoneNotFound | StorageError,
  HistoryRepo | AlarmRepo | ZoneRepo
> =>
  Effect.gen(function*() {
    const to = request.to ?? (yield* Clock.currentTimeMillis)
    const from = request.from ?? to - defaultSpanMs
    if (from > to) {
      return yield* new HistoryRangeInvalid({
        field: "from",
        message: `from (${iso(from)}) must not be after to (${iso(to)})`
      })
    }
    const points = request.points ?? defaultPoints
    const step = request.step ?? chooseStep(from, to, points)
    if (step === undefined) {
      return yield* new HistoryRangeInvalid({ field: "points", message: pointsMessage(from, to, points) })
    }
    const maxBuckets = request.maxBuckets ?? maxPoints
    if (slotCount(from, to, step) > maxBuckets) {
      return yield* new HistoryRangeInvalid({
        field: "step",
        message: `step=${step} from ${iso(from)} to ${iso(to)} is ${
          slotCount(from, to, step).toLocaleString("en")
        } buckets, more than the ${
          maxBuckets.toLocaleString("en")
        } an answer may hold: choose a coarser step or a shorter range`
      })
    }

    const repo = yield* HistoryRepo
    const series = yield* repo.series(request.zoneId)
    // a deleted zone's history stays queryable; an id that never had any is unknown
    if (request.zoneId !== null && series.length === 0) {
      const zoneId = request.zoneId
      yield* Effect.flatMap(ZoneRepo, (zones) => zones.get(zoneId)).pipe(
        Effect.catchTag("ZoneNotFound", () =>
          new ZoneNotFound({ id: zoneId, message: `there is no zone ${zoneId}, and no history of one` }))
      )
    }
    const rows = yield* repo.buckets(
      step,
      series.map((s) =>
        s.id
      ),
      slotOf(from, step),
      slotOf(to, step)
    )
    const recorded = new Set<number>()
    for (const row of rows) recorded.add(row.seriesId)
    const alarms = yield* Effect.flatMap(
      AlarmRepo,
      (alarms) => alarms.periods({ zoneId: request.zoneId, from, to, resolutionMs: resolutionSeconds[step] * 1000 })
    )
    return {
      zoneId: request.zoneId,
      step,
      from,
      to,
      segments: series.filter((segment) => recorded.has(segment.id)),
      buckets: fill(rows, from, to, step),
      alarms
    }
  })
