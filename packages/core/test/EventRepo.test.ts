/**
 * EventRepo on an in-memory database: events and their frames as stored and read back (in the
 * order stored, whatever their labels), the queries retention uses, and every failure (a row that
 * no longer decodes, a table that cannot be written) as a StorageError.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as Event from "../src/Event.js"
import { EventId } from "../src/Event.js"
import { EventRepo, type NewEvent } from "../src/EventRepo.js"
import * as FrameCodec from "../src/FrameCodec.js"
import { StorageError } from "../src/StorageError.js"
import type { ZoneId } from "../src/Zone.js"
import * as TestCore from "./support/TestCore.js"
import * as TestFrames from "./support/TestFrames.js"

const manual: NewEvent = { kind: "manual", label: null, triggeredAt: 1000, windowEnd: 11_000, zoneId: null }

/** 20 °C but pixel `i` at `hot` °C. */
const hotPixel = (i: number, hot: number) => (p: number) => p === i ? hot : 20

const sql = SqlClient.SqlClient

describe("EventRepo", () => {
  it.effect("stores an event with its frames; the summary describes exactly the frames stored", () =>
    Effect.gen(function*() {
      const repo = yield* EventRepo
      const id = yield* repo.insert({ ...manual, label: "door", zoneId: 2 as ZoneId })
      const fresh = yield* repo.get(id)
      assert.deepStrictEqual(Option.getOrThrow(fresh), {
        id,
        kind: "manual",
        label: "door",
        status: "recording",
        triggeredAt: 1000,
        startedAt: null,
        endedAt: null,
        frameCount: 0,
        zoneId: 2 as ZoneId,
        alarmId: null,
        peak: null
      })
      yield* repo.appendFrames(id, [], null)
      yield* repo.appendFrames(id, [
        TestFrames.make({ sequence: 1, at: 900 }),
        TestFrames.make({ sequence: 2, at: 1025, temperatures: hotPixel(40, 41.5) })
      ], { temperature: 41.5, x: 8, y: 1 })
      yield* repo.appendFrames(id, [TestFrames.make({ sequence: 3, at: 1150 })], { temperature: 41.5, x: 8, y: 1 })
      yield* repo.complete(id)
      const event = Option.getOrThrow(yield* repo.get(id))
      assert.deepInclude(event, {
        status: "complete",
        startedAt: 900,
        endedAt: 1150,
        frameCount: 3,
        peak: { temperature: 41.5, x: 8, y: 1 }
      })
      const [, second] = yield* repo.frames(id)
      assert.deepInclude(second, { capturedAt: 1025, sequence: 2, ambient: 25 })
      assert.strictEqual(second!.temperatures[40], 41.5)
      assert.strictEqual(second!.temperatures[0], 20)
      assert.deepStrictEqual(Event.toJson(event), {
        ...event,
        triggeredAt: "1970-01-01T00:00:01.000Z",
        startedAt: "1970-01-01T00:00:00.900Z",
        endedAt: "1970-01-01T00:00:01.150Z"
      })
      assert.deepInclude(Event.toJson(Option.getOrThrow(fresh)), { startedAt: null, endedAt: null })
      assert.isTrue(Option.isNone(yield* repo.get(EventId.make(99))))
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("frames are read back in the order stored, even when their wall-clock labels go backwards", () =>
    Effect.gen(function*() {
      const repo = yield* EventRepo
      const id = yield* repo.insert(manual)
      // the clock stepped back 60 s between the second and third frame; 450 frames take several INSERTs
      const frames = Array.from(
        { length: 450 },
        (_, i) => TestFrames.make({ sequence: i, at: i < 2 ? 5000 + i * 125 : -55_000 + i * 125 })
      )
      yield* repo.appendFrames(id, frames, null)
      const stored = yield* repo.frames(id)
      assert.deepStrictEqual(stored.map((f) => f.sequence), frames.map((f) => f.sequence))
      assert.deepStrictEqual(stored.map((f) => f.capturedAt), frames.map((f) => f.capturedAt))
      const event = Option.getOrThrow(yield* repo.get(id))
      assert.deepInclude(event, { frameCount: 450, startedAt: 5000, endedAt: -55_000 + 449 * 125 })
      assert.deepStrictEqual((yield* repo.frames(id, 1, 2)).map((f) => f.sequence), [1, 2])
      assert.deepStrictEqual(yield* repo.frames(id, 450, 1), [])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("lists newest first with filters; the events still recording", () =>
    Effect.gen(function*() {
      const repo = yield* EventRepo
      const a = yield* repo.insert(manual)
      const b = yield* repo.insert({ ...manual, kind: "alarm", triggeredAt: 2000, zoneId: 1 as ZoneId })
      const c = yield* repo.insert({ ...manual, triggeredAt: 3000 })
      yield* repo.complete(a)
      yield* repo.complete(b)
      const ids = (events: ReadonlyArray<{ readonly id: EventId }>) => events.map((e) => e.id)
      assert.deepStrictEqual(ids(yield* repo.list({ limit: 10 })), [c, b, a])
      assert.deepStrictEqual(ids(yield* repo.list({ limit: 1, before: c })), [b])
      assert.deepStrictEqual(ids(yield* repo.list({ limit: 10, from: 2000 })), [c, b])
      assert.deepStrictEqual(ids(yield* repo.list({ limit: 10, to: 2000 })), [b, a])
      assert.deepStrictEqual(ids(yield* repo.list({ limit: 10, kind: "alarm" })), [b])
      assert.deepStrictEqual(ids(yield* repo.list({ limit: 10, zoneId: 1 as ZoneId })), [b])
      assert.deepStrictEqual(ids(yield* repo.list({ limit: 10, status: "complete" })), [b, a])
      assert.deepStrictEqual(ids(yield* repo.recording), [c])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("an event keeps the first alarm that named it; removing answers whether there was one", () =>
    Effect.gen(function*() {
      const repo = yield* EventRepo
      const id = yield* repo.insert(manual)
      yield* repo.linkAlarm(id, 4)
      yield* repo.linkAlarm(id, 5)
      yield* repo.setWindowEnd(id, 20_000)
      assert.strictEqual(Option.getOrThrow(yield* repo.get(id)).alarmId, 4)
      const sqlClient = yield* sql
      const [row] = yield* sqlClient<{ windowEnd: number }>`SELECT window_end FROM events WHERE id = ${id}`
      assert.strictEqual(row!.windowEnd, 20_000)
      yield* repo.appendFrames(id, [TestFrames.make({ sequence: 1, at: 1000 })], null)
      assert.isTrue(yield* repo.remove(id))
      assert.isFalse(yield* repo.remove(id))
      const [frames] = yield* sqlClient<{ n: number }>`SELECT count(*) AS n FROM event_frames`
      assert.strictEqual(frames!.n, 0, "its frames went with it")
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("retention: complete events before a time, the oldest complete ones, and the space given back", () =>
    Effect.gen(function*() {
      const repo = yield* EventRepo
      const ids: Array<EventId> = []
      for (let i = 0; i < 5; i++) {
        const id = yield* repo.insert({ ...manual, triggeredAt: i * 1000 })
        yield* repo.appendFrames(
          id,
          Array.from({ length: 50 }, (_, n) => TestFrames.make({ sequence: n, at: i * 1000 + n })),
          null
        )
        if (i !== 1) yield* repo.complete(id)
        ids.push(id)
      }
      // event 1 (triggered at 1000) is still recording: never deleted
      assert.deepStrictEqual(yield* repo.deleteCompleteBefore(2000), [ids[0]])
      const before = yield* repo.databaseBytes
      assert.deepStrictEqual(yield* repo.deleteOldestComplete(2), [ids[2], ids[3]])
      assert.isAbove(yield* repo.reclaim, 0)
      assert.isBelow(yield* repo.databaseBytes, before)
      assert.strictEqual(yield* repo.reclaim, 0, "nothing left to give back")
      assert.deepStrictEqual(yield* repo.deleteOldestComplete(10), [ids[4]])
      assert.deepStrictEqual(yield* repo.deleteOldestComplete(10), [])
      assert.deepStrictEqual((yield* repo.list({ limit: 10 })).map((e) => e.id), [ids[1]])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a transaction stores an event and its frames together or not at all", () =>
    Effect.gen(function*() {
      const repo = yield* EventRepo
      const failed = yield* Effect.flip(
        repo.transaction("cannot store the new event")(Effect.gen(function*() {
          const id = yield* repo.insert(manual)
          yield* repo.appendFrames(id, [TestFrames.make({ sequence: 1, at: 1000 })], null)
          return yield* new StorageError({ message: "disk full" })
        }))
      )
      assert.strictEqual(failed.message, "disk full")
      assert.deepStrictEqual(yield* repo.list({ limit: 10 }), [])
      const [row] = yield* (yield* sql)<{ n: number }>`SELECT count(*) AS n FROM event_frames`
      assert.strictEqual(row!.n, 0)
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a row that no longer decodes is a StorageError naming what could not be read", () =>
    Effect.gen(function*() {
      const repo = yield* EventRepo
      const sqlClient = yield* sql
      const id = yield* repo.insert(manual)
      const bad = FrameCodec.encode(new Float32Array(768))
      bad[0] = 2
      yield* sqlClient`INSERT INTO event_frames ${
        sqlClient.insert({ eventId: id, capturedAt: 0, sequence: 0, ambient: 25, temperatures: bad })
      }`
      const frames = yield* Effect.flip(repo.frames(id))
      assert.instanceOf(frames, StorageError)
      assert.include(frames.message, `cannot read the frames of event ${id}`)
      assert.include(frames.message, "unreadable frame: unknown frame encoding version 2")

      yield* sqlClient`UPDATE events SET frame_count = -1 WHERE id = ${id}`
      for (
        const [failure, what] of [
          [Effect.asVoid(repo.get(id)), `cannot read event ${id}`],
          [Effect.asVoid(repo.list({ limit: 10 })), "cannot list events"],
          [Effect.asVoid(repo.recording), "cannot read the events being recorded"]
        ] as const
      ) {
        const error = yield* Effect.flip(failure)
        assert.instanceOf(error, StorageError)
        assert.include(error.message, what)
        assert.include(error.message, "frameCount")
      }
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a table that cannot be written is a StorageError with the driver's reason", () =>
    Effect.gen(function*() {
      const repo = yield* EventRepo
      const id = yield* repo.insert(manual)
      yield* (yield* sql)`DROP TABLE event_frames`
      const error = yield* Effect.flip(repo.appendFrames(id, [TestFrames.make({ sequence: 1, at: 1000 })], null))
      assert.instanceOf(error, StorageError)
      assert.include(error.message, `cannot store the frames of event ${id}`)
      assert.include(error.message, "no such table: event_frames")
      yield* (yield* sql)`DROP TABLE events`
      for (const failure of [repo.insert(manual), repo.complete(id), repo.remove(id), repo.deleteCompleteBefore(0)]) {
        assert.instanceOf(yield* Effect.flip(failure), StorageError)
      }
    }).pipe(Effect.provide(TestCore.storage())))
})
