/**
 * EventRepo: the `events` and `event_frames` tables. Rows are decoded with Schema; every read
 * and write fails with `StorageError`. The recording itself (windows, the writer, recovery) is
 * EventStore's; the CLI reads and prunes through this module too.
 *
 * Frames are kept in the order they were stored (rowid), which is the order they were captured:
 * their wall-clock `capturedAt` may go backwards when the clock is stepped.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, ParseResult, Schema } from "effect"
import * as Database from "./Database.js"
import {
  type Event,
  EventId,
  EventKind,
  type EventQuery,
  EventStatus,
  type FrameRef,
  type Peak,
  type StoredFrame
} from "./Event.js"
import type { Frame } from "./Frame.js"
import * as FrameCodec from "./FrameCodec.js"
import * as StorageError from "./StorageError.js"
import { ZoneId } from "./Zone.js"

/** Rows per INSERT: SQLite's limit on bound parameters stays far away. */
const framesPerInsert = 200

const EventRow = Schema.Struct({
  id: EventId,
  kind: EventKind,
  label: Schema.NullOr(Schema.String),
  status: EventStatus,
  triggeredAt: Schema.Number,
  startedAt: Schema.NullOr(Schema.Number),
  endedAt: Schema.NullOr(Schema.Number),
  frameCount: Schema.NonNegativeInt,
  zoneId: Schema.NullOr(ZoneId),
  alarmId: Schema.NullOr(Schema.Int),
  peakTemperature: Schema.NullOr(Schema.Number),
  peakX: Schema.NullOr(Schema.Int),
  peakY: Schema.NullOr(Schema.Int)
})

const toEvent = ({ peakTemperature, peakX, peakY, ...row }: typeof EventRow.Type): Event => ({
  ...row,
  peak: peakTemperature === null || peakX === null || peakY === null
    ? null
    : { temperature: peakTemperature, x: peakX, y: peakY }
})

/** A frame's temperatures as stored (FrameCodec) and as read back. */
const TemperaturesFromBlob = Schema.transformOrFail(
  Schema.Uint8ArrayFromSelf,
  Schema.declare((value): value is Float64Array => value instanceof Float64Array),
  {
    strict: true,
    decode: (bytes, _, ast) =>
      Effect.try({
        try: () => FrameCodec.decode(bytes),
        catch: (error) => new ParseResult.Type(ast, bytes, `unreadable frame: ${(error as Error).message}`)
      }),
    encode: (temperatures) => ParseResult.succeed(FrameCodec.encode(temperatures))
  }
)

const StoredFrameRow = Schema.Struct({
  capturedAt: Schema.Number,
  sequence: Schema.Int,
  ambient: Schema.Number,
  temperatures: TemperaturesFromBlob
})

/** The event's columns a new event is stored with. */
export interface NewEvent {
  readonly kind: Event["kind"]
  readonly label: string | null
  readonly triggeredAt: number
  /** wall-clock label of the end of the post-event window as it was when triggered */
  readonly windowEnd: number
  readonly zoneId: ZoneId | null
  /** the frame that set it off (see `Trigger.frame`) */
  readonly triggerFrame?: FrameRef | null | undefined
}

/** A stored frame and its place among the stored frames (`rowid`), to read on after it. */
export interface StoredFrameAt extends StoredFrame {
  readonly rowid: number
}

export class EventRepo extends Effect.Service<EventRepo>()("@ircam/core/EventRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const findEvent = SqlSchema.findOne({
      Request: EventId,
      Result: EventRow,
      execute: (id) => sql`SELECT * FROM events WHERE id = ${id}`
    })

    const findRecording = SqlSchema.findAll({
      Request: Schema.Void,
      Result: EventRow,
      execute: () => sql`SELECT * FROM events WHERE status = 'recording'`
    })

    const readFrames = SqlSchema.findAll({
      Request: Schema.Struct({ id: EventId, offset: Schema.Int, limit: Schema.Int }),
      Result: StoredFrameRow,
      execute: ({ id, limit, offset }) =>
        sql`SELECT captured_at, sequence, ambient, temperatures FROM event_frames
          WHERE event_id = ${id} ORDER BY rowid LIMIT ${limit} OFFSET ${offset}`
    })

    const readFramesAfter = SqlSchema.findAll({
      Request: Schema.Struct({ id: EventId, rowid: Schema.Int, limit: Schema.Int }),
      Result: Schema.Struct({ rowid: Schema.Int, ...StoredFrameRow.fields }),
      execute: ({ id, limit, rowid }) =>
        sql`SELECT rowid, captured_at, sequence, ambient, temperatures FROM event_frames
          WHERE event_id = ${id} AND rowid > ${rowid} ORDER BY rowid LIMIT ${limit}`
    })

    const findFrameOf = SqlSchema.findOne({
      Request: Schema.Struct({ id: EventId, sequence: Schema.Int, capturedAt: Schema.Number }),
      Result: StoredFrameRow,
      execute: ({ capturedAt, id, sequence }) =>
        sql`SELECT captured_at, sequence, ambient, temperatures FROM event_frames
          WHERE event_id = ${id} AND sequence = ${sequence} ORDER BY abs(captured_at - ${capturedAt}), rowid LIMIT 1`
    })

    const findTriggerFrame = SqlSchema.findOne({
      Request: EventId,
      Result: Schema.Struct({ triggerSequence: Schema.Int, triggerCapturedAt: Schema.Number }),
      execute: (id) =>
        sql`SELECT trigger_sequence, trigger_captured_at FROM events
          WHERE id = ${id} AND trigger_sequence IS NOT NULL AND trigger_captured_at IS NOT NULL`
    })

    const ids = (rows: ReadonlyArray<{ readonly id: number }>) => rows.map((row) => EventId.make(row.id))

    return {
      /** `effect` in one transaction: an event and its frames change together or not at all. */
      transaction: (what: string) => StorageError.transaction(sql, what),

      insert: ({ triggerFrame, ...event }: NewEvent): Effect.Effect<EventId, StorageError.StorageError> =>
        sql<{ id: number }>`INSERT INTO events ${
          sql.insert({
            ...event,
            status: "recording",
            triggerSequence: triggerFrame?.sequence ?? null,
            triggerCapturedAt: triggerFrame?.capturedAt ?? null
          })
        } RETURNING id`.pipe(
          Effect.map(([row]) => EventId.make(row!.id)),
          StorageError.mapError("cannot store the new event")
        ),

      /**
       * Stores `frames` (in capture order) and updates the event's summary to include them: the
       * count, the first and last frame's times, and `peak`, the hottest pixel of all its frames.
       */
      appendFrames: (id: EventId, frames: ReadonlyArray<Frame>, peak: Peak | null) =>
        Effect.gen(function*() {
          if (frames.length === 0) return
          for (let at = 0; at < frames.length; at += framesPerInsert) {
            const rows = frames.slice(at, at + framesPerInsert).map((frame) => ({
              eventId: id,
              capturedAt: frame.capturedAt,
              sequence: frame.sequence,
              ambient: frame.ambient,
              temperatures: FrameCodec.encode(frame.temperatures)
            }))
            yield* sql`INSERT INTO event_frames ${sql.insert(rows)}`
          }
          yield* sql`
            UPDATE events SET
              frame_count = frame_count + ${frames.length},
              started_at = coalesce(started_at, ${frames[0]!.capturedAt}),
              ended_at = ${frames[frames.length - 1]!.capturedAt},
              peak_temperature = ${peak?.temperature ?? null},
              peak_x = ${peak?.x ?? null},
              peak_y = ${peak?.y ?? null}
            WHERE id = ${id}`
        }).pipe(StorageError.mapError(`cannot store the frames of event ${id}`)),

      complete: (id: EventId) =>
        sql`UPDATE events SET status = 'complete' WHERE id = ${id}`.pipe(
          Effect.asVoid,
          StorageError.mapError(`cannot complete event ${id}`)
        ),

      setWindowEnd: (id: EventId, windowEnd: number) =>
        sql`UPDATE events SET window_end = ${windowEnd} WHERE id = ${id}`.pipe(
          Effect.asVoid,
          StorageError.mapError(`cannot extend event ${id}`)
        ),

      /** Names the alarm an event was recorded for; an event keeps the first alarm that named it. */
      linkAlarm: (id: EventId, alarmId: number) =>
        sql`UPDATE events SET alarm_id = ${alarmId} WHERE id = ${id} AND alarm_id IS NULL`.pipe(
          Effect.asVoid,
          StorageError.mapError(`cannot link event ${id} to alarm ${alarmId}`)
        ),

      get: (id: EventId): Effect.Effect<Option.Option<Event>, StorageError.StorageError> =>
        findEvent(id).pipe(Effect.map(Option.map(toEvent)), StorageError.mapError(`cannot read event ${id}`)),

      /** Newest first, filtered as `query` says. */
      list: (query: EventQuery): Effect.Effect<ReadonlyArray<Event>, StorageError.StorageError> =>
        SqlSchema.findAll({
          Request: Schema.Void,
          Result: EventRow,
          execute: () =>
            sql`SELECT * FROM events WHERE ${
              sql.and([
                ...(query.from === undefined ? [] : [sql`triggered_at >= ${query.from}`]),
                ...(query.to === undefined ? [] : [sql`triggered_at <= ${query.to}`]),
                ...(query.zoneId === undefined ? [] : [sql`zone_id = ${query.zoneId}`]),
                ...(query.kind === undefined ? [] : [sql`kind = ${query.kind}`]),
                ...(query.status === undefined ? [] : [sql`status = ${query.status}`]),
                ...(query.before === undefined ? [] : [sql`id < ${query.before}`])
              ])
            } ORDER BY id DESC LIMIT ${query.limit}`
        })(undefined).pipe(Effect.map((rows) => rows.map(toEvent)), StorageError.mapError("cannot list events")),

      /** The events still `recording` (at start-up: those a crash or power cut interrupted). */
      recording: findRecording(undefined).pipe(
        Effect.map((rows) => rows.map(toEvent)),
        StorageError.mapError("cannot read the events being recorded")
      ),

      /** At most `limit` stored frames of an event from the `offset`-th on (0 = the oldest). */
      frames: (id: EventId, offset = 0, limit = Number.MAX_SAFE_INTEGER) =>
        readFrames({ id, offset, limit }).pipe(
          Effect.map((rows): ReadonlyArray<StoredFrame> => rows),
          StorageError.mapError(`cannot read the frames of event ${id}`)
        ),

      /**
       * At most `limit` stored frames of an event after the one at `rowid` (0: from the oldest), with
       * their rowids: read on from the last one, each batch costs the same however far in.
       */
      framesAfter: (id: EventId, rowid: number, limit: number) =>
        readFramesAfter({ id, rowid, limit }).pipe(
          Effect.map((rows): ReadonlyArray<StoredFrameAt> => rows),
          StorageError.mapError(`cannot read the frames of event ${id}`)
        ),

      /**
       * The stored frame of an event that `ref` names: its sequence, and of the frames with that
       * sequence (the sensor restarted during the event) the one captured nearest `ref.capturedAt`.
       */
      frameOf: (id: EventId, ref: FrameRef): Effect.Effect<Option.Option<StoredFrame>, StorageError.StorageError> =>
        findFrameOf({ id, sequence: ref.sequence, capturedAt: ref.capturedAt }).pipe(
          StorageError.mapError(`cannot read the frames of event ${id}`)
        ),

      /** The latest frame when the event was triggered (an alarm's: the frame that raised it), if recorded. */
      triggerFrame: (id: EventId): Effect.Effect<Option.Option<FrameRef>, StorageError.StorageError> =>
        findTriggerFrame(id).pipe(
          Effect.map(Option.map((row) => ({ sequence: row.triggerSequence, capturedAt: row.triggerCapturedAt }))),
          StorageError.mapError(`cannot read event ${id}`)
        ),

      /** Deletes an event and its frames (cascade); answers whether there was one. */
      remove: (id: EventId) =>
        sql<{ id: number }>`DELETE FROM events WHERE id = ${id} RETURNING id`.pipe(
          Effect.map((rows) => rows.length > 0),
          StorageError.mapError(`cannot delete event ${id}`)
        ),

      /** Deletes the complete events triggered before `cutoff` (epoch ms); answers their ids. */
      deleteCompleteBefore: (cutoff: number) =>
        sql<{ id: number }>`DELETE FROM events WHERE status = 'complete' AND triggered_at < ${cutoff} RETURNING id`
          .pipe(
            Effect.map(ids),
            StorageError.mapError("cannot delete old events")
          ),

      /** Deletes the `count` oldest complete events; answers their ids (none when there is none left). */
      deleteOldestComplete: (count: number) =>
        sql<{ id: number }>`
          DELETE FROM events WHERE id IN (
            SELECT id FROM events WHERE status = 'complete' ORDER BY id LIMIT ${count}
          ) RETURNING id`.pipe(Effect.map(ids), StorageError.mapError("cannot delete the oldest events")),

      /** Bytes the database's pages hold, free pages left out. */
      databaseBytes: Effect.provideService(Database.usedBytes, SqlClient.SqlClient, sql),

      /** Gives the free pages back to the file system; answers how many bytes. */
      reclaim: Effect.provideService(Database.reclaim, SqlClient.SqlClient, sql)
    } as const
  })
}) {}
