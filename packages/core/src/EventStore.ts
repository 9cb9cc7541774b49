/**
 * EventStore: records events (the frames around a trigger) in SQLite, answers queries about
 * them, and keeps the database within `EVENT_RETENTION_DAYS` and `MAX_DB_MB`.
 *
 * Recording never touches the monitor loop: the frames come from the `FrameBuffer`, which the
 * loop fills anyway and which holds `FRAME_BUFFER_SECONDS` of them. A trigger stores the
 * event with its pre-event frames (from the buffer); then a writer fiber of its own stores the
 * frames that arrived since, every half second, until the post-event window ends. A trigger
 * during a recording extends it (up to `maxEventDuration`) instead of starting a second one.
 *
 * Consistency: the event's row and its frames change in one transaction each time, so an
 * event's `frameCount`, `startedAt`, `endedAt` and `peak` always describe exactly the frames
 * stored, and `complete` is written with the last frames. After a crash or a power cut an event
 * found `recording` at start-up is completed with the frames it had stored (logged), or deleted if
 * it had none: never half an event.
 *
 * A failing disk: the writer retries with a capped exponential backoff, counts the failures and
 * shows them in the `events` health check (`degraded`); frames wait in the buffer meanwhile, and
 * those that fall out of it before the disk recovers are counted as missed.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Clock, Duration, Effect, Option, PubSub, Queue, Schedule, Schema, Stream } from "effect"
import { AppConfig } from "./AppConfig.js"
import type { Event, EventId, EventQuery, StoredFrame, Trigger } from "./Event.js"
import type { Frame } from "./Frame.js"
import { FrameBuffer } from "./FrameBuffer.js"
import * as FrameCodec from "./FrameCodec.js"
import * as Health from "./Health.js"
import type { ZoneId } from "./Zone.js"

export class EventNotFound extends Schema.TaggedError<EventNotFound>()("EventNotFound", {
  id: Schema.Number,
  message: Schema.String
}) {}

export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  message: Schema.String
}) {}

/** How often the writer stores the frames that arrived. */
export const flushInterval = Duration.millis(500)
/** An event extended by trigger after trigger still ends this long after its first trigger. */
export const maxEventDuration = Duration.minutes(15)
/** How often retention runs (also once at start-up). */
export const retentionInterval = Duration.minutes(10)
/** Writes per statement: SQLite's limit on bound parameters stays far away. */
const framesPerInsert = 200

/** After a failed write: 1 s, 2 s … capped at 30 s. */
const backoff = (failures: number) => Duration.millis(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)))

/** An `events` row as SQL gives it (columns in camelCase). */
export interface EventRow {
  readonly id: number
  readonly kind: "manual" | "alarm"
  readonly label: string | null
  readonly status: "recording" | "complete"
  readonly triggeredAt: number
  readonly windowEnd: number
  readonly startedAt: number | null
  readonly endedAt: number | null
  readonly frameCount: number
  readonly zoneId: number | null
  readonly alarmId: number | null
  readonly peakTemperature: number | null
  readonly peakX: number | null
  readonly peakY: number | null
}

export const toEvent = (row: EventRow): Event => ({
  id: row.id as EventId,
  kind: row.kind,
  label: row.label,
  status: row.status,
  triggeredAt: row.triggeredAt,
  startedAt: row.startedAt,
  endedAt: row.endedAt,
  frameCount: row.frameCount,
  zoneId: row.zoneId as ZoneId | null,
  alarmId: row.alarmId,
  peak: row.peakTemperature === null ? null : { temperature: row.peakTemperature, x: row.peakX!, y: row.peakY! }
})

/** The recording in progress. */
interface Recording {
  readonly id: EventId
  readonly triggeredAt: number
  windowEnd: number
  /** capturedAt of the last frame stored; frames after it are still to be stored */
  cursor: number
  /** whether `cursor` is a stored frame's (rather than the start of the pre-event window) */
  stored: boolean
  peak: Event["peak"]
}

const storageError = (what: string) => (error: SqlError.SqlError) =>
  new StorageError({
    message: `${what}: ${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}`
  })

/** The hotter of two peaks. */
const hotter = (a: Event["peak"], b: Event["peak"]) =>
  a === null ? b : b === null || a.temperature >= b.temperature ? a : b

/** What happened to an event, as `EventStore.changes` tells it. */
export type RecordingChange =
  | { readonly transition: "started" | "extended" | "completed"; readonly event: Event }
  | { readonly transition: "deleted"; readonly id: number }

export class EventStore extends Effect.Service<EventStore>()("@ircam/core/EventStore", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const buffer = yield* FrameBuffer
    const config = yield* AppConfig
    const lock = yield* Effect.makeSemaphore(1)
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
    // sliding: a subscriber that does not keep up loses the oldest changes, never blocks a recording
    const changes = yield* PubSub.sliding<RecordingChange>(64)

    const selectEvent = (id: number) =>
      Effect.map(sql<EventRow>`SELECT * FROM events WHERE id = ${id}`, (rows) => Option.fromNullable(rows[0]))

    const getEvent = (id: number): Effect.Effect<Event, EventNotFound | StorageError> =>
      selectEvent(id).pipe(
        Effect.mapError(storageError(`cannot read event ${id}`)),
        Effect.flatMap(Option.match({
          onNone: () => new EventNotFound({ id, message: `there is no event ${id}` }),
          onSome: (row) => Effect.succeed(toEvent(row))
        }))
      )

    /** Stores `frames` of `event` and updates its summary, in the caller's transaction. */
    const storeFrames = (id: number, frames: ReadonlyArray<Frame>, peak: Event["peak"]) =>
      Effect.gen(function*() {
        for (let at = 0; at < frames.length; at += framesPerInsert) {
          const rows = frames.slice(at, at + framesPerInsert).map((frame) => {
            const bytes = FrameCodec.encode(frame.temperatures)
            return {
              eventId: id,
              capturedAt: frame.capturedAt,
              sequence: frame.sequence,
              ambient: frame.ambient,
              temperatures: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
            }
          })
          yield* sql`INSERT INTO event_frames ${sql.insert(rows)}`
        }
        if (frames.length > 0) {
          yield* sql`
            UPDATE events SET
              frame_count = frame_count + ${frames.length},
              started_at = coalesce(started_at, ${frames[0]!.capturedAt}),
              ended_at = ${frames[frames.length - 1]!.capturedAt},
              peak_temperature = ${peak?.temperature ?? null},
              peak_x = ${peak?.x ?? null},
              peak_y = ${peak?.y ?? null}
            WHERE id = ${id}`
        }
      })

    const peakOfFrames = (frames: ReadonlyArray<Frame>, start: Event["peak"]) =>
      frames.reduce((peak, frame) => hotter(peak, FrameCodec.peakOf(frame.temperatures)), start)

    const startRecording = (trigger: Trigger, now: number) =>
      Effect.gen(function*() {
        const pre = yield* buffer.snapshot(now - preMs)
        const peak = peakOfFrames(pre, null)
        const id = yield* sql.withTransaction(Effect.gen(function*() {
          const [row] = yield* sql<{ id: number }>`
            INSERT INTO events ${
            sql.insert({
              kind: trigger.kind,
              label: trigger.label ?? null,
              status: "recording",
              triggeredAt: now,
              windowEnd: now + postMs,
              zoneId: trigger.zoneId ?? null,
              alarmId: trigger.alarmId ?? null
            })
          } RETURNING id`
          yield* storeFrames(row!.id, pre, peak)
          return row!.id as EventId
        })).pipe(Effect.mapError(storageError("cannot store the new event")))
        recording = {
          id,
          triggeredAt: now,
          windowEnd: now + postMs,
          cursor: pre.length > 0 ? pre[pre.length - 1]!.capturedAt : now - preMs - 1,
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
        const now = yield* Clock.currentTimeMillis
        if (recording !== undefined) {
          const current = recording
          const windowEnd = Math.min(Math.max(current.windowEnd, now + postMs), current.triggeredAt + maxMs)
          yield* sql`UPDATE events SET window_end = ${windowEnd} WHERE id = ${current.id}`.pipe(
            Effect.mapError(storageError(`cannot extend event ${current.id}`))
          )
          current.windowEnd = windowEnd
          yield* Effect.logInfo(`event ${current.id} extended by a new trigger (${trigger.kind})`)
          const event = yield* Effect.orDie(getEvent(current.id))
          yield* changes.publish({ transition: "extended", event })
          return event
        }
        const id = yield* startRecording(trigger, now)
        const event = yield* Effect.orDie(getEvent(id))
        yield* changes.publish({ transition: "started", event })
        return event
      }))

    /** Stores what arrived for the recording; completes it once its window has passed. */
    const flush = lock.withPermits(1)(Effect.gen(function*() {
      const current = recording
      if (current === undefined) return
      const now = yield* Clock.currentTimeMillis
      const frames = (yield* buffer.snapshot(current.cursor + 1)).filter((frame) =>
        frame.capturedAt > current.cursor && frame.capturedAt <= current.windowEnd
      )
      // a flush interval of grace, so the frame captured at the very end of the window is in the buffer
      const done = now >= current.windowEnd + Duration.toMillis(flushInterval)
      const peak = peakOfFrames(frames, current.peak)
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* storeFrames(current.id, frames, peak)
        if (done) yield* sql`UPDATE events SET status = 'complete' WHERE id = ${current.id}`
      })).pipe(Effect.mapError(storageError(`cannot store the frames of event ${current.id}`)))
      stats.framesStored += frames.length
      // a gap after the last stored frame: frames that left the buffer before they could be stored
      const gap = frames.length > 0 && current.stored ? frames[0]!.capturedAt - current.cursor : 0
      if (gap > 1.5 * period) stats.framesMissed += Math.round(gap / period) - 1
      if (frames.length > 0) {
        current.stored = true
        current.cursor = frames[frames.length - 1]!.capturedAt
        current.peak = peak
      }
      if (done) {
        recording = undefined
        yield* Effect.logInfo(`event ${current.id} complete`)
        const event = yield* Effect.option(getEvent(current.id))
        if (Option.isSome(event)) yield* changes.publish({ transition: "completed", event: event.value })
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
    const recover = Effect.gen(function*() {
      const interrupted = yield* sql<EventRow>`SELECT * FROM events WHERE status = 'recording'`
      for (const row of interrupted) {
        if (row.frameCount > 0) {
          yield* sql`UPDATE events SET status = 'complete' WHERE id = ${row.id}`
          yield* Effect.logWarning(
            `event ${row.id} was interrupted (ircam stopped while recording); completed with its ${row.frameCount} stored frames`
          )
        } else {
          yield* sql`DELETE FROM events WHERE id = ${row.id}`
          yield* Effect.logWarning(`event ${row.id} was interrupted before any frame was stored; deleted`)
        }
      }
    }).pipe(sql.withTransaction, Effect.mapError(storageError("cannot recover interrupted events")))

    const databaseBytes = Effect.map(
      sql<{ bytes: number }>`
        SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size())
          - (SELECT freelist_count FROM pragma_freelist_count()) * (SELECT page_size FROM pragma_page_size()) AS bytes`,
      (rows) => rows[0]?.bytes ?? 0
    )

    /**
     * Gives the free pages back to the file system. The pragma frees one page each time the
     * driver steps it, and the driver steps a statement that returns no rows once: so once a page.
     */
    const reclaim = Effect.gen(function*() {
      const [row] = yield* sql<{ freelistCount: number }>`PRAGMA freelist_count`
      for (let i = 0; i < (row?.freelistCount ?? 0); i++) yield* sql`PRAGMA incremental_vacuum`
    })

    /** Deletes events past retention, then the oldest until the database fits `MAX_DB_MB`; frees the space. */
    const prune = lock.withPermits(1)(Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const cutoff = now - config.eventRetentionDays * 86_400_000
      const old = yield* sql<{ id: number }>`
        DELETE FROM events WHERE status = 'complete' AND triggered_at < ${cutoff} RETURNING id`
      let deleted = old.length
      const limit = config.maxDbMb * 1024 * 1024
      while ((yield* databaseBytes) > limit) {
        const oldest = yield* sql<{ id: number }>`
          DELETE FROM events WHERE id IN (
            SELECT id FROM events WHERE status = 'complete' ORDER BY id LIMIT 10
          ) RETURNING id`
        if (oldest.length === 0) break
        for (const { id } of oldest) yield* changes.publish({ transition: "deleted", id })
        deleted += oldest.length
      }
      for (const { id } of old) yield* changes.publish({ transition: "deleted", id })
      if (deleted > 0) {
        yield* reclaim
        stats.eventsPruned += deleted
        yield* Effect.logInfo(`retention: deleted ${deleted} event(s)`)
      }
      return deleted
    })).pipe(Effect.mapError(storageError("cannot apply the retention")))

    const remove = (id: number): Effect.Effect<void, EventNotFound | StorageError> =>
      lock.withPermits(1)(Effect.gen(function*() {
        yield* getEvent(id)
        yield* sql`DELETE FROM events WHERE id = ${id}`.pipe(Effect.mapError(storageError(`cannot delete event ${id}`)))
        if (recording?.id === id) recording = undefined
        yield* changes.publish({ transition: "deleted", id })
        yield* reclaim.pipe(Effect.mapError(storageError(`cannot free the space of event ${id}`)))
      }))

    const list = (query: EventQuery): Effect.Effect<ReadonlyArray<Event>, StorageError> => {
      const clauses = [
        sql`1 = 1`,
        ...(query.from === undefined ? [] : [sql`triggered_at >= ${query.from}`]),
        ...(query.to === undefined ? [] : [sql`triggered_at <= ${query.to}`]),
        ...(query.zoneId === undefined ? [] : [sql`zone_id = ${query.zoneId}`]),
        ...(query.kind === undefined ? [] : [sql`kind = ${query.kind}`]),
        ...(query.status === undefined ? [] : [sql`status = ${query.status}`]),
        ...(query.before === undefined ? [] : [sql`id < ${query.before}`])
      ]
      return sql<EventRow>`SELECT * FROM events WHERE ${sql.and(clauses)} ORDER BY id DESC LIMIT ${query.limit}`.pipe(
        Effect.map((rows) => rows.map(toEvent)),
        Effect.mapError(storageError("cannot list events"))
      )
    }

    type FrameRow = { capturedAt: number; sequence: number; ambient: number; temperatures: Uint8Array }
    const decodeRows = (id: number, rows: ReadonlyArray<FrameRow>) =>
      Effect.try({
        try: (): ReadonlyArray<StoredFrame> =>
          rows.map((row) => ({ ...row, temperatures: FrameCodec.decode(row.temperatures) })),
        catch: (cause) => new StorageError({ message: `event ${id} holds an unreadable frame: ${String(cause)}` })
      })

    const frames = (id: number): Effect.Effect<ReadonlyArray<StoredFrame>, EventNotFound | StorageError> =>
      Effect.gen(function*() {
        yield* getEvent(id)
        const rows = yield* sql<FrameRow>`
          SELECT captured_at, sequence, ambient, temperatures FROM event_frames
          WHERE event_id = ${id} ORDER BY captured_at`.pipe(Effect.mapError(storageError(`cannot read event ${id}`)))
        return yield* decodeRows(id, rows)
      })

    /** Frame `index` (0 = the oldest) of an event; none past its last stored frame. */
    const frameAt = (
      id: number,
      index: number
    ): Effect.Effect<Option.Option<StoredFrame>, EventNotFound | StorageError> =>
      Effect.gen(function*() {
        yield* getEvent(id)
        const rows = yield* sql<FrameRow>`
          SELECT captured_at, sequence, ambient, temperatures FROM event_frames
          WHERE event_id = ${id} ORDER BY captured_at LIMIT 1 OFFSET ${index}`.pipe(
          Effect.mapError(storageError(`cannot read event ${id}`))
        )
        return Option.fromNullable((yield* decodeRows(id, rows))[0])
      })

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

    yield* Health.register(
      "events",
      Effect.gen(function*() {
        const bytes = yield* databaseBytes.pipe(Effect.orElseSucceed(() => null))
        const failing = stats.consecutiveFailures > 0
        return {
          status: failing ? "degraded" : "ok",
          ...(failing ? { message: `cannot store event frames: ${lastError?.message}` } : {}),
          details: {
            recording: recording?.id ?? null,
            ...stats,
            lastError: lastError === undefined
              ? null
              : { at: new Date(lastError.at).toISOString(), message: lastError.message },
            databaseMb: bytes === null ? null : Math.round(bytes / 10_485.76) / 100,
            maxDatabaseMb: config.maxDbMb,
            retentionDays: config.eventRetentionDays
          }
        }
      })
    )

    const annotated = Effect.annotateLogs({ service: "EventStore" })

    return {
      /** Starts an event, or extends the one being recorded; answers the event. */
      trigger: (t: Trigger) => annotated(trigger(t)),
      list,
      get: getEvent,
      /** The stored frames of an event, oldest first. */
      frames,
      frameAt,
      remove,
      /** Retention now (it also runs every `retentionInterval`); answers how many events were deleted. */
      prune,
      /** Stores what arrived now instead of at the next tick. */
      flush,
      /** Subscribes now (for the scope): the stream gives every event started, extended, completed or deleted from then on. */
      subscribe: Stream.fromPubSub(changes, { scoped: true })
    } as const
  }).pipe(Effect.annotateLogs({ service: "EventStore" }))
}) {}
