/**
 * EventStore: records events (the frames around a trigger), answers queries about them, and
 * keeps the database within `EVENT_RETENTION_DAYS` and `MAX_DB_MB`. Its tables are EventRepo's.
 *
 * Recording never touches the monitor loop: the frames come from the `FrameBuffer`, which the
 * loop fills anyway and which holds `FRAME_BUFFER_SECONDS` of them. A trigger stores the
 * event with its pre-event frames (from the buffer); then a writer fiber of its own stores the
 * frames that arrived since, every half second, until the post-event window ends. A trigger
 * during a recording extends it (up to `maxEventDuration`) instead of starting a second one.
 * Windows are measured on the monotonic clock (`Frame.monotonicMs`), so a step of the wall
 * clock neither loses, repeats nor misplaces a frame; wall-clock times are only labels.
 *
 * Consistency: the event's row and its frames change in one transaction each time, so an
 * event's `frameCount`, `startedAt`, `endedAt` and `peak` always describe exactly the frames
 * stored, and `complete` is written with the last frames. After a crash or a power cut an event
 * found `recording` at start-up is completed with the frames it had stored (logged), or deleted if
 * it had none: never half an event.
 *
 * A failing disk: the writer retries with a capped exponential backoff, counts the failures and
 * shows them in its health check (`degraded`); frames wait in the buffer meanwhile, and those
 * that fall out of it before the disk recovers are counted as missed.
 */
import { Clock, Duration, Effect, Option, Queue, Schedule } from "effect"
import { AppConfig } from "./AppConfig.js"
import * as ChangeFeed from "./ChangeFeed.js"
import { ClockWatch } from "./ClockWatch.js"
import {
  type Event,
  type EventId,
  EventNotFound,
  type EventQuery,
  type Peak,
  type StoredFrame,
  type Trigger
} from "./Event.js"
import { EventRepo } from "./EventRepo.js"
import type { Frame } from "./Frame.js"
import { FrameBuffer } from "./FrameBuffer.js"
import * as FrameCodec from "./FrameCodec.js"
import type { CheckResult } from "./Health.js"
import type { StorageError } from "./StorageError.js"
import { iso, monotonicMs } from "./Time.js"

/** How often the writer stores the frames that arrived. */
export const flushInterval = Duration.millis(500)
/** An event extended by trigger after trigger still ends this long after its first trigger. */
export const maxEventDuration = Duration.minutes(15)
/** How often retention runs (also once at start-up). */
export const retentionInterval = Duration.minutes(10)

/** After a failed write: 1 s, 2 s … capped at 30 s. */
const backoff = (failures: number) => Duration.millis(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)))

/** The recording in progress; its times are on the monotonic clock. */
interface Recording {
  readonly id: EventId
  readonly triggeredAt: number
  windowEnd: number
  /** monotonic time of the last frame stored; frames after it are still to be stored */
  cursor: number
  /** whether `cursor` is a stored frame's (rather than the start of the pre-event window) */
  stored: boolean
  peak: Peak | null
}

/** The hotter of two peaks. */
const hotter = (a: Peak | null, b: Peak | null) => a === null ? b : b === null || a.temperature >= b.temperature ? a : b

const peakOfFrames = (frames: ReadonlyArray<Frame>, start: Peak | null) =>
  frames.reduce((peak, frame) => hotter(peak, FrameCodec.peakOf(frame.temperatures)), start)

/** What happened to an event, as `EventStore.changes` tells it. */
export type RecordingChange =
  | { readonly transition: "started" | "extended" | "completed"; readonly event: Event }
  | { readonly transition: "deleted"; readonly id: EventId }

export class EventStore extends Effect.Service<EventStore>()("@ircam/core/EventStore", {
  scoped: Effect.gen(function*() {
    const repo = yield* EventRepo
    const buffer = yield* FrameBuffer
    const config = yield* AppConfig
    const clock = yield* ClockWatch
    const lock = yield* Effect.makeSemaphore(1)
    const feed = yield* ChangeFeed.make<RecordingChange>()
    const preMs = config.preEventSeconds * 1000
    const postMs = config.postEventSeconds * 1000
    const maxMs = Duration.toMillis(maxEventDuration)
    const period = 1000 / config.refreshRateHz

    let recording: Recording | undefined
    // wakes the writer when a recording starts; it sleeps on it while there is none
    const wake = yield* Queue.sliding<void>(1)
    const stats = {
      eventsRecorded: 0,
      framesStored: 0,
      framesMissed: 0,
      writeErrors: 0,
      consecutiveFailures: 0,
      eventsPruned: 0
    }
    let lastError: { readonly at: number; readonly message: string } | undefined

    const get = (id: EventId): Effect.Effect<Event, EventNotFound | StorageError> =>
      repo.get(id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => new EventNotFound({ id, message: `there is no event ${id}` }),
          onSome: Effect.succeed
        }))
      )

    /** An event the caller holds the lock on: it cannot be missing, but reading it back may still fail. */
    const held = (id: EventId): Effect.Effect<Event, StorageError> =>
      Effect.catchTag(get(id), "EventNotFound", (error) => Effect.die(error))

    const startRecording = (trigger: Trigger, now: number) =>
      Effect.gen(function*() {
        const wall = yield* Clock.currentTimeMillis
        // the frame that set it off is stored, however short the pre-event window
        const since = Math.min(now - preMs, trigger.frame?.monotonicMs ?? Infinity)
        const pre = yield* buffer.snapshot(since)
        const peak = peakOfFrames(pre, null)
        // a manual trigger's: the latest frame before it, when the pre-event window keeps one
        const triggerFrame = trigger.frame ?? pre[pre.length - 1]
        const id = yield* repo.transaction("cannot store the new event")(Effect.gen(function*() {
          const id = yield* repo.insert({
            kind: trigger.kind,
            label: trigger.label ?? null,
            triggeredAt: wall,
            windowEnd: wall + postMs,
            zoneId: trigger.zoneId ?? null,
            triggerFrame: triggerFrame === undefined
              ? null
              : { sequence: triggerFrame.sequence, capturedAt: triggerFrame.capturedAt }
          })
          yield* repo.appendFrames(id, pre, peak)
          return id
        }))
        recording = {
          id,
          triggeredAt: now,
          windowEnd: now + postMs,
          cursor: pre.length > 0 ? pre[pre.length - 1]!.monotonicMs : since - 1,
          stored: pre.length > 0,
          peak
        }
        stats.eventsRecorded++
        stats.framesStored += pre.length
        yield* Queue.offer(wake, undefined)
        yield* Effect.logInfo(`event ${id} triggered (${trigger.kind}); recording until the window ends`)
        return id
      })

    const trigger = (trigger: Trigger): Effect.Effect<Event, StorageError> =>
      lock.withPermits(1)(Effect.gen(function*() {
        const now = yield* monotonicMs
        if (recording !== undefined) {
          const current = recording
          const windowEnd = Math.min(Math.max(current.windowEnd, now + postMs), current.triggeredAt + maxMs)
          yield* repo.setWindowEnd(current.id, (yield* Clock.currentTimeMillis) + (windowEnd - now))
          current.windowEnd = windowEnd
          yield* Effect.logInfo(`event ${current.id} extended by a new trigger (${trigger.kind})`)
          const event = yield* held(current.id)
          yield* feed.publish({ transition: "extended", event })
          return event
        }
        const id = yield* startRecording(trigger, now)
        const event = yield* held(id)
        yield* feed.publish({ transition: "started", event })
        return event
      }))

    /** Stores what arrived for the recording; completes it once its window has passed. */
    const flush = lock.withPermits(1)(Effect.gen(function*() {
      const current = recording
      if (current === undefined) return
      const now = yield* monotonicMs
      const frames = (yield* buffer.snapshot(current.cursor)).filter((frame) =>
        frame.monotonicMs > current.cursor && frame.monotonicMs <= current.windowEnd
      )
      // a flush interval of grace, so the frame captured at the very end of the window is in the buffer
      const done = now >= current.windowEnd + Duration.toMillis(flushInterval)
      const peak = peakOfFrames(frames, current.peak)
      yield* repo.transaction(`cannot store the frames of event ${current.id}`)(Effect.gen(function*() {
        yield* repo.appendFrames(current.id, frames, peak)
        if (done) yield* repo.complete(current.id)
      }))
      stats.framesStored += frames.length
      // a gap after the last stored frame: frames that left the buffer before they could be stored
      const gap = frames.length > 0 && current.stored ? frames[0]!.monotonicMs - current.cursor : 0
      if (gap > 1.5 * period) stats.framesMissed += Math.round(gap / period) - 1
      if (frames.length > 0) {
        current.stored = true
        current.cursor = frames[frames.length - 1]!.monotonicMs
        current.peak = peak
      }
      if (done) {
        recording = undefined
        yield* Effect.logInfo(`event ${current.id} complete`)
        const event = yield* Effect.option(get(current.id))
        if (Option.isSome(event)) yield* feed.publish({ transition: "completed", event: event.value })
      }
    }))

    const writer = Effect.gen(function*() {
      const result = yield* Effect.either(flush)
      if (result._tag === "Left") {
        stats.writeErrors++
        stats.consecutiveFailures++
        lastError = { at: yield* Clock.currentTimeMillis, message: result.left.message }
        yield* Effect.logWarning("cannot store event frames; retrying", result.left.message)
        yield* Effect.sleep(backoff(stats.consecutiveFailures))
      } else {
        if (stats.consecutiveFailures > 0) yield* Effect.logInfo("event storage works again")
        stats.consecutiveFailures = 0
        yield* recording === undefined ? Queue.take(wake) : Effect.sleep(flushInterval)
      }
    }).pipe(Effect.forever)

    /** Events found `recording` at start-up were interrupted: complete them with what they stored. */
    const recover = repo.transaction("cannot recover interrupted events")(Effect.gen(function*() {
      for (const event of yield* repo.recording) {
        if (event.frameCount > 0) {
          yield* repo.complete(event.id)
          yield* Effect.logWarning(
            `event ${event.id} was interrupted (ircam stopped while recording); completed with its ${event.frameCount} stored frames`
          )
        } else {
          yield* repo.remove(event.id)
          yield* Effect.logWarning(`event ${event.id} was interrupted before any frame was stored; deleted`)
        }
      }
    }))

    /**
     * Deletes events past retention, then the oldest until the database fits `MAX_DB_MB`; frees the
     * space. Ages are measured against `ClockWatch.retentionNow`, so a clock stepped forward deletes
     * nothing early.
     */
    const prune = lock.withPermits(1)(Effect.gen(function*() {
      const cutoff = (yield* clock.retentionNow) - config.eventRetentionDays * 86_400_000
      const deleted = [...yield* repo.deleteCompleteBefore(cutoff)]
      const limit = config.maxDbMb * 1024 * 1024
      while ((yield* repo.databaseBytes) > limit) {
        const oldest = yield* repo.deleteOldestComplete(10)
        if (oldest.length === 0) break
        deleted.push(...oldest)
      }
      for (const id of deleted) yield* feed.publish({ transition: "deleted", id })
      if (deleted.length > 0) {
        yield* repo.reclaim
        stats.eventsPruned += deleted.length
        yield* Effect.logInfo(`retention: deleted ${deleted.length} event(s)`)
      }
      return deleted.length
    }))

    const remove = (id: EventId): Effect.Effect<void, EventNotFound | StorageError> =>
      lock.withPermits(1)(Effect.gen(function*() {
        if (!(yield* repo.remove(id))) return yield* new EventNotFound({ id, message: `there is no event ${id}` })
        if (recording?.id === id) recording = undefined
        yield* feed.publish({ transition: "deleted", id })
        yield* repo.reclaim
      }))

    const frames = (id: EventId): Effect.Effect<ReadonlyArray<StoredFrame>, EventNotFound | StorageError> =>
      Effect.zipRight(get(id), repo.frames(id))

    /** Frame `index` (0 = the oldest) of an event; none past its last stored frame. */
    const frameAt = (
      id: EventId,
      index: number
    ): Effect.Effect<Option.Option<StoredFrame>, EventNotFound | StorageError> =>
      Effect.zipRight(get(id), Effect.map(repo.frames(id, index, 1), (rows) => Option.fromNullable(rows[0])))

    yield* recover
    yield* Effect.forkScoped(writer)
    // On shutdown: store what arrived and complete the recording with it (as after a crash, but now).
    yield* Effect.addFinalizer(() =>
      flush.pipe(
        Effect.zipRight(recover),
        Effect.catchAll((error) => Effect.logWarning("could not finish the recording on shutdown", error.message))
      )
    )
    yield* prune.pipe(
      Effect.catchAll((error) => Effect.logWarning("retention failed; trying again later", error.message)),
      Effect.repeat(Schedule.spaced(retentionInterval)),
      Effect.forkScoped
    )

    const health: Effect.Effect<CheckResult> = Effect.gen(function*() {
      const bytes = yield* repo.databaseBytes.pipe(Effect.orElseSucceed(() => null))
      const failing = stats.consecutiveFailures > 0
      return {
        status: failing ? "degraded" : "ok",
        ...(failing ? { message: `cannot store event frames: ${lastError?.message}` } : {}),
        details: {
          recording: recording?.id ?? null,
          ...stats,
          lastError: lastError === undefined ? null : { at: iso(lastError.at), message: lastError.message },
          databaseMb: bytes === null ? null : Math.round(bytes / 10_485.76) / 100,
          maxDatabaseMb: config.maxDbMb,
          retentionDays: config.eventRetentionDays
        }
      }
    })

    return {
      /** Starts an event, or extends the one being recorded; answers the event. */
      trigger,
      list: (query: EventQuery) => repo.list(query),
      get,
      /** The stored frames of an event, oldest first. */
      frames,
      frameAt,
      remove,
      /** Names the alarm an event was recorded for. */
      linkAlarm: repo.linkAlarm,
      /** Retention now (it also runs every `retentionInterval`); answers how many events were deleted. */
      prune,
      /** Stores what arrived now instead of at the next tick. */
      flush,
      /** Subscribes now (for the scope): every event started, extended, completed or deleted from then on. */
      changes: feed.changes,
      health,
      /** What the `events` check counts, as numbers, for metrics (the database's size is `databaseBytes`). */
      stats: Effect.sync(() => ({ ...stats, recording: recording !== undefined })),
      /** The bytes the database's pages hold, which retention keeps below `MAX_DB_MB`. */
      databaseBytes: repo.databaseBytes
    } as const
  }).pipe(Effect.annotateLogs({ service: "EventStore" }))
}) {}
