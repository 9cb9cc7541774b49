/**
 * History: records the min, max and mean of the whole frame and of every zone for each
 * wall-clock second, rolls them up to minutes and hours (HistoryRepo's tables), keeps each
 * resolution `HISTORY_SECOND_DAYS`, `HISTORY_MINUTE_DAYS` and `HISTORY_HOUR_DAYS`, and answers
 * ranges of it (HistoryQuery).
 *
 * It never touches the monitor loop: it follows the monitor's snapshots in a fiber of its own
 * (a sliding feed: frames it misses, were it ever slow, are counted by their sequence numbers)
 * and folds them in memory (HistoryAggregator). A writer of its own stores the closed seconds
 * every `flushInterval`, each batch in one transaction with the minutes and hours it touches. A
 * failing disk is retried with a capped backoff and shown in the `history` check; meanwhile at
 * most an hour of seconds waits in memory, and older ones are dropped and counted.
 *
 * Time: a bucket is labelled by the wall-clock second of its frames (a label, as everywhere);
 * whether frames stopped, retries and retention ages are measured as elsewhere (monotonic clock,
 * `ClockWatch.retentionNow`). Size: history is pruned by age, and keeps to half of `MAX_DB_MB`
 * (its oldest seconds go first); events keep the whole database within `MAX_DB_MB`.
 */
import { Clock, Duration, Effect, Schedule, Stream } from "effect"
import type { AlarmRepo } from "./AlarmRepo.js"
import { AppConfig } from "./AppConfig.js"
import { ClockWatch } from "./ClockWatch.js"
import type { CheckResult } from "./Health.js"
import * as HistoryAggregator from "./HistoryAggregator.js"
import type { Resolution } from "./HistoryBucket.js"
import * as HistoryQuery from "./HistoryQuery.js"
import { HistoryRepo, type SecondRow } from "./HistoryRepo.js"
import { Monitor } from "./Monitor.js"
import { iso, monotonicMs } from "./Time.js"
import type { ZoneRepo } from "./ZoneRepo.js"

/** How often the writer stores the closed seconds. */
export const flushInterval = Duration.seconds(5)
/** Frames stopped (the sensor is down) this long ago: the open second is over. */
export const idleAfter = Duration.seconds(2)
/** How often retention runs (also once at start-up). */
export const retentionInterval = Duration.minutes(10)
/** Seconds of every target kept in memory while the disk fails. */
export const maxPendingSeconds = 3600
/** Closed seconds stored in one transaction; more wait for the next, at once. */
export const maxBatch = 2000

/** After a failed write: 1 s, 2 s … capped at 30 s. */
const backoff = (failures: number) => Duration.millis(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)))

const dayMs = 86_400_000

export class History extends Effect.Service<History>()("@ircam/core/History", {
  scoped: Effect.gen(function*() {
    const repo = yield* HistoryRepo
    const monitor = yield* Monitor
    const config = yield* AppConfig
    const clock = yield* ClockWatch
    const repositories = yield* Effect.context<HistoryRepo | AlarmRepo | ZoneRepo>()
    const lock = yield* Effect.makeSemaphore(1)
    const retentionDays: Readonly<Record<Resolution, number>> = {
      "1s": config.historySecondDays,
      "1m": config.historyMinuteDays,
      "1h": config.historyHourDays
    }

    // recording goes on in the segments stored last, where they still fit
    const stored = yield* repo.latest.pipe(
      Effect.catchAll((error) =>
        Effect.as(Effect.logWarning("cannot read the history's segments; starting new ones", error.message), [])
      )
    )
    const aggregator = HistoryAggregator.make(stored, maxPendingSeconds * (1 + config.maxZones))
    let lastFrameAt: number | undefined

    const stats = { secondsWritten: 0, writeErrors: 0, consecutiveFailures: 0, rowsPruned: 0 }
    let lastError: { readonly at: number; readonly message: string } | undefined
    let lastWriteAt: number | undefined
    let historyBytes: number | undefined

    /** Stores the closed seconds (closing the open one if frames stopped); answers how many. */
    const flush = lock.withPermits(1)(Effect.gen(function*() {
      if (lastFrameAt !== undefined && (yield* monotonicMs) - lastFrameAt >= Duration.toMillis(idleAfter)) {
        aggregator.closeOpen()
      }
      const batch = aggregator.pending().slice(0, maxBatch)
      if (batch.length === 0) return 0
      // a segment's id is kept only once its series is committed
      const created = new Map<HistoryAggregator.OpenSegment, number>()
      yield* repo.transaction("cannot store the history")(Effect.gen(function*() {
        for (const { segment } of batch) {
          if (segment.id === undefined && !created.has(segment)) created.set(segment, yield* repo.insertSeries(segment))
        }
        const rows = batch.map(({ segment, ...second }): SecondRow => ({
          ...second,
          seriesId: segment.id ?? created.get(segment)!
        }))
        yield* repo.writeSeconds(rows)
        const touched = new Map<number, { from: number; to: number }>()
        for (const { seriesId, t } of rows) {
          const range = touched.get(seriesId)
          if (range === undefined) touched.set(seriesId, { from: t, to: t })
          else if (t < range.from) range.from = t
          else if (t > range.to) range.to = t
        }
        for (const [seriesId, { from, to }] of touched) yield* repo.rollUp(seriesId, from, to)
      }))
      for (const [segment, id] of created) segment.id = id
      aggregator.written(batch)
      stats.secondsWritten += batch.length
      lastWriteAt = yield* Clock.currentTimeMillis
      return batch.length
    }))

    /** One round of the writer; answers how long to wait before the next. */
    const write = Effect.gen(function*() {
      const result = yield* Effect.either(flush)
      if (result._tag === "Left") {
        stats.writeErrors++
        stats.consecutiveFailures++
        lastError = { at: yield* Clock.currentTimeMillis, message: result.left.message }
        yield* Effect.logWarning("cannot store the history; retrying", result.left.message)
        return backoff(stats.consecutiveFailures)
      }
      if (stats.consecutiveFailures > 0) yield* Effect.logInfo("history storage works again")
      stats.consecutiveFailures = 0
      return result.right >= maxBatch ? Duration.zero : flushInterval
    })

    /**
     * Deletes what is past each resolution's retention (ages against `ClockWatch.retentionNow`, so
     * a clock stepped forward deletes nothing early), then the oldest history while it takes more
     * than half of `MAX_DB_MB`; frees the space. Answers how many rows went.
     */
    const prune = lock.withPermits(1)(Effect.gen(function*() {
      const now = yield* clock.retentionNow
      let deleted = 0
      for (const [step, days] of Object.entries(retentionDays) as ReadonlyArray<[Resolution, number]>) {
        deleted += yield* repo.deleteBefore(step, Math.floor((now - days * dayMs) / 1000))
      }
      const recording = aggregator.segments().flatMap((segment) => segment.id === undefined ? [] : [segment.id])
      yield* repo.deleteEmptySeries(recording)
      const share = config.maxDbMb * 1024 * 1024 / 2
      historyBytes = yield* repo.bytes
      let trimmed = false
      while (historyBytes > share && (yield* repo.dropOldest)) {
        trimmed = true
        historyBytes = yield* repo.bytes
      }
      if (trimmed) {
        yield* Effect.logWarning(`the history outgrew half of MAX_DB_MB (${config.maxDbMb}); its oldest part went`)
      }
      if (deleted > 0 || trimmed) yield* repo.reclaim
      stats.rowsPruned += deleted
      return deleted
    }))

    // closed seconds still in memory are stored on shutdown (after the fibers below have stopped)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => aggregator.closeOpen()).pipe(
        Effect.zipRight(flush.pipe(Effect.repeat({ until: (written) => written < maxBatch }))),
        Effect.catchAll((error) => Effect.logWarning("could not store the last seconds of history", error.message))
      )
    )
    const snapshots = yield* monitor.changes
    yield* Stream.runForEach(snapshots, (snapshot) =>
      Effect.sync(() => {
        lastFrameAt = snapshot.frame.monotonicMs
        aggregator.add(snapshot)
      })).pipe(Effect.forkScoped)
    yield* Effect.flatMap(write, Effect.sleep).pipe(
      Effect.forever,
      Effect.delay(flushInterval),
      Effect.forkScoped
    )
    yield* prune.pipe(
      Effect.catchAll((error) => Effect.logWarning("history retention failed; trying again later", error.message)),
      Effect.repeat(Schedule.spaced(retentionInterval)),
      Effect.forkScoped
    )

    const health: Effect.Effect<CheckResult> = Effect.sync(() => {
      const failing = stats.consecutiveFailures > 0
      return {
        status: failing ? "degraded" : "ok",
        ...(failing ? { message: `cannot store the history: ${lastError?.message}` } : {}),
        details: {
          recording: aggregator.segments().length,
          secondsWritten: stats.secondsWritten,
          pendingSeconds: aggregator.pending().length,
          secondsDropped: aggregator.counters.bucketsDropped,
          framesMissed: aggregator.counters.framesMissed,
          writeErrors: stats.writeErrors,
          lastError: lastError === undefined ? null : { at: iso(lastError.at), message: lastError.message },
          lastWriteAt: lastWriteAt === undefined ? null : iso(lastWriteAt),
          rowsPruned: stats.rowsPruned,
          historyMb: historyBytes === undefined ? null : Math.round(historyBytes / 10_485.76) / 100,
          retentionDays: { seconds: retentionDays["1s"], minutes: retentionDays["1m"], hours: retentionDays["1h"] }
        }
      }
    })

    return {
      /** A range of a target's history at one resolution, with its gaps, segments and alarm periods. */
      read: (request: HistoryQuery.HistoryRequest) => Effect.provide(HistoryQuery.read(request), repositories),
      /** Stores the closed seconds now instead of at the next tick; answers how many. */
      flush,
      /** Retention now (it also runs every `retentionInterval`); answers how many rows were deleted. */
      prune,
      /** The writer's totals since start, from memory (for the metrics). */
      stats: Effect.sync(() => ({
        secondsWritten: stats.secondsWritten,
        writeErrors: stats.writeErrors,
        rowsPruned: stats.rowsPruned,
        pendingSeconds: aggregator.pending().length,
        secondsDropped: aggregator.counters.bucketsDropped,
        framesMissed: aggregator.counters.framesMissed,
        /** the history's share of the database, as retention last measured it (none before) */
        bytes: historyBytes
      })),
      health
    } as const
  }).pipe(Effect.annotateLogs({ service: "History" }))
}) {}
