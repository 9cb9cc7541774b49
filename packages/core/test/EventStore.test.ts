/**
 * EventStore on an in-memory database and a test frame buffer, on the TestClock: the pre/post
 * windows, overlapping triggers, queries, deletion, retention, recovery after a crash, a full
 * disk, and shutdown.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Layer, Scope, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AppConfig, type AppConfigShape } from "../src/AppConfig.js"
import * as Database from "../src/Database.js"
import type { EventId } from "../src/Event.js"
import { EventNotFound, EventStore, maxEventDuration } from "../src/EventStore.js"
import { type Frame, PIXELS } from "../src/Frame.js"
import { FrameBuffer } from "../src/FrameBuffer.js"
import * as Health from "../src/Health.js"
import type { ZoneId } from "../src/Zone.js"

const RATE = 8
const PERIOD = 1000 / RATE

/** A frame at `capturedAt`: 20 °C plus a hot pixel whose place and temperature follow the sequence. */
const frameAt = (sequence: number, capturedAt: number): Frame => {
  const temperatures = new Float32Array(PIXELS).fill(20.004)
  temperatures[sequence % PIXELS] = 30 + (sequence % 50) / 10
  return { temperatures, capturedAt, sequence, ambient: 25, vdd: 3.3 }
}

const baseConfig: Partial<AppConfigShape> = {
  databasePath: Database.memory,
  refreshRateHz: RATE,
  frameBufferSeconds: 30,
  preEventSeconds: 2,
  postEventSeconds: 3
}

/** The store with its database, a 30 s buffer and health, built in a scope the test controls. */
const setup = (config: Partial<AppConfigShape> = {}, before?: Effect.Effect<void, unknown, SqlClient.SqlClient>) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const base = Layer.mergeAll(FrameBuffer.layerTest(30 * RATE), Health.Health.layer).pipe(
      Layer.provideMerge(AppConfig.layerWith({ ...baseConfig, ...config }))
    )
    const databaseContext = yield* Layer.buildWithScope(
      Database.layer.pipe(Layer.provideMerge(base)),
      scope
    )
    if (before !== undefined) yield* Effect.orDie(Effect.provide(before, databaseContext))
    const context = yield* Layer.buildWithScope(
      EventStore.Default.pipe(Layer.provide(Layer.succeedContext(databaseContext))),
      scope
    )
    const store = Context.get(context, EventStore)
    const buffer = Context.get(databaseContext, FrameBuffer)
    const sql = Context.get(databaseContext, SqlClient.SqlClient)
    const health = Context.get(databaseContext, Health.Health)
    let sequence = 0
    /** Frames at the refresh rate for `ms` of test time, pushed as the monitor would. */
    const run = (ms: number) =>
      Effect.gen(function*() {
        for (let t = 0; t < ms; t += PERIOD) {
          yield* TestClock.adjust(PERIOD)
          const now = yield* TestClock.currentTimeMillis
          yield* buffer.push(frameAt(sequence++, now))
        }
      })
    const storedFrames = (id: number) =>
      Effect.map(
        sql<{ n: number }>`SELECT count(*) AS n FROM event_frames WHERE event_id = ${id}`,
        (rows) => rows[0]!.n
      )
    const eventsCheck = Effect.map(health.report, (report) => report.checks["events"]!)
    return { store, buffer, sql, run, storedFrames, eventsCheck, scope }
  })

describe("EventStore", () => {
  it.effect("stores the pre-event frames at once and the post-event ones as they come, then completes", () =>
    Effect.gen(function*() {
      const { run, store } = yield* setup()
      yield* run(5000)
      const triggeredAt = yield* TestClock.currentTimeMillis
      const started = yield* store.trigger({ kind: "manual", label: "door opened" })
      assert.strictEqual(started.status, "recording")
      assert.strictEqual(started.kind, "manual")
      assert.strictEqual(started.label, "door opened")
      assert.strictEqual(started.triggeredAt, triggeredAt)
      // PRE_EVENT_SECONDS = 2: the frames of the last 2 s, both ends included
      assert.strictEqual(started.frameCount, 2 * RATE + 1)
      assert.strictEqual(started.startedAt, triggeredAt - 2000)
      assert.strictEqual(started.endedAt, triggeredAt)

      yield* run(4000)
      const done = yield* store.get(started.id)
      assert.strictEqual(done.status, "complete")
      // POST_EVENT_SECONDS = 3 after the trigger
      assert.strictEqual(done.frameCount, 5 * RATE + 1)
      assert.strictEqual(done.endedAt, triggeredAt + 3000)

      const frames = yield* store.frames(started.id)
      assert.strictEqual(frames.length, done.frameCount)
      assert.deepStrictEqual(
        frames.map((f) => f.capturedAt),
        Array.from({ length: done.frameCount }, (_, i) => triggeredAt - 2000 + i * PERIOD)
      )
      const first = frames[0]!
      assert.strictEqual(first.temperatures[1], 20, "stored at 0.01 °C")
      assert.strictEqual(first.temperatures[first.sequence % PIXELS], 30 + (first.sequence % 50) / 10)
      assert.strictEqual(first.ambient, 25)

      // the peak of all frames, and where
      const hottest = frames.reduce((a, f) => (f.sequence % 50 > a.sequence % 50 ? f : a))
      assert.deepStrictEqual(done.peak, {
        temperature: 30 + (hottest.sequence % 50) / 10,
        x: hottest.sequence % 32,
        y: Math.floor((hottest.sequence % PIXELS) / 32)
      })
    }))

  it.effect("a trigger during a recording extends it instead of storing frames twice", () =>
    Effect.gen(function*() {
      const { run, storedFrames, store } = yield* setup()
      yield* run(3000)
      const first = yield* store.trigger({ kind: "manual" })
      yield* run(2000)
      const second = yield* store.trigger({ kind: "alarm", alarmId: 4, zoneId: 2 as ZoneId })
      assert.strictEqual(second.id, first.id)
      assert.strictEqual(second.kind, "manual", "the event keeps what started it")
      yield* run(2500)
      assert.strictEqual((yield* store.get(first.id)).status, "recording", "5 s after the first trigger")
      yield* run(1000)
      const done = yield* store.get(first.id)
      assert.strictEqual(done.status, "complete")
      // 2 s before the first trigger to 3 s after the second: 7 s of frames, each once
      assert.strictEqual(done.frameCount, 7 * RATE + 1)
      assert.strictEqual(yield* storedFrames(first.id), done.frameCount)
      assert.strictEqual(done.endedAt! - done.startedAt!, 7000)
      assert.lengthOf(yield* store.list({ limit: 10 }), 1)
    }))

  it.effect("an event extended again and again still ends 15 minutes after its first trigger", () =>
    Effect.gen(function*() {
      const { store } = yield* setup({ postEventSeconds: 600 })
      const first = yield* store.trigger({ kind: "manual" })
      yield* TestClock.adjust("9 minutes")
      const extended = yield* store.trigger({ kind: "manual" })
      assert.strictEqual(extended.id, first.id)
      // it would run to 19 minutes; it stops at 15 (and is completed at the next flush)
      yield* TestClock.adjust(Duration.subtract(Duration.subtract(maxEventDuration, "9 minutes"), "1 second"))
      assert.strictEqual((yield* store.get(first.id)).status, "recording")
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* store.get(first.id)).status, "complete")
    }))

  it.effect("after an event is complete, the next trigger starts a new one", () =>
    Effect.gen(function*() {
      const { run, store } = yield* setup()
      yield* run(1000)
      const a = yield* store.trigger({ kind: "manual", label: "a" })
      yield* run(4000)
      const b = yield* store.trigger({ kind: "alarm", alarmId: 7, zoneId: 1 as ZoneId })
      assert.notStrictEqual(b.id, a.id)
      assert.strictEqual(b.kind, "alarm")
      assert.strictEqual(b.alarmId, 7)
      assert.strictEqual(b.zoneId, 1)
      assert.strictEqual(b.frameCount, 2 * RATE + 1, "its pre-event frames overlap the first event's: stored again")
    }))

  it.effect("lists newest first, with filters and pages", () =>
    Effect.gen(function*() {
      const { run, store } = yield* setup({ postEventSeconds: 1 })
      const ids: Array<EventId> = []
      const times: Array<number> = []
      for (let i = 0; i < 5; i++) {
        yield* run(1000)
        times.push(yield* TestClock.currentTimeMillis)
        const event = yield* store.trigger(
          i % 2 === 0 ? { kind: "manual" } : { kind: "alarm", alarmId: i, zoneId: (i === 1 ? 1 : 2) as ZoneId }
        )
        ids.push(event.id)
        yield* run(1500)
      }
      const idsOf = (events: ReadonlyArray<{ readonly id: EventId }>) => events.map((e) => e.id)
      assert.deepStrictEqual(idsOf(yield* store.list({ limit: 100 })), [...ids].reverse())
      assert.deepStrictEqual(idsOf(yield* store.list({ limit: 2 })), [ids[4], ids[3]])
      assert.deepStrictEqual(idsOf(yield* store.list({ limit: 2, before: ids[3] })), [ids[2], ids[1]])
      assert.deepStrictEqual(idsOf(yield* store.list({ limit: 100, kind: "alarm" })), [ids[3], ids[1]])
      assert.deepStrictEqual(idsOf(yield* store.list({ limit: 100, zoneId: 1 as ZoneId })), [ids[1]])
      assert.deepStrictEqual(idsOf(yield* store.list({ limit: 100, from: times[1], to: times[3] })), [
        ids[3],
        ids[2],
        ids[1]
      ])
      assert.deepStrictEqual(idsOf(yield* store.list({ limit: 100, status: "recording" })), [])
      yield* store.trigger({ kind: "manual" })
      assert.lengthOf(yield* store.list({ limit: 100, status: "recording" }), 1)
      assert.lengthOf(yield* store.list({ limit: 100, status: "complete" }), 5)
    }))

  it.effect("deleting an event deletes its frames; unknown ids are EventNotFound", () =>
    Effect.gen(function*() {
      const { run, storedFrames, store } = yield* setup()
      yield* run(3000)
      const event = yield* store.trigger({ kind: "manual" })
      yield* run(4000)
      assert.isAbove(yield* storedFrames(event.id), 0)
      yield* store.remove(event.id)
      assert.strictEqual(yield* storedFrames(event.id), 0)
      for (
        const failure of [
          store.get(event.id),
          store.remove(event.id),
          store.frames(event.id),
          store.get(999)
        ]
      ) {
        const error = yield* Effect.flip(failure)
        assert.instanceOf(error, EventNotFound)
      }
      assert.strictEqual((yield* Effect.flip(store.get(999))).message, "there is no event 999")
    }))

  it.effect("deleting the event being recorded stops the recording", () =>
    Effect.gen(function*() {
      const { run, storedFrames, store } = yield* setup()
      yield* run(3000)
      const event = yield* store.trigger({ kind: "manual" })
      yield* store.remove(event.id)
      yield* run(4000)
      assert.strictEqual(yield* storedFrames(event.id), 0)
      const next = yield* store.trigger({ kind: "manual" })
      assert.notStrictEqual(next.id, event.id)
    }))

  it.effect("retention deletes events older than EVENT_RETENTION_DAYS", () =>
    Effect.gen(function*() {
      const { run, store } = yield* setup({ eventRetentionDays: 2 })
      yield* run(3000)
      const old = yield* store.trigger({ kind: "manual" })
      yield* run(4000)
      yield* TestClock.adjust("1 day")
      yield* run(3000)
      const recent = yield* store.trigger({ kind: "manual" })
      yield* run(4000)
      // the periodic job (every 10 min) removes the old one once it is 2 days old
      yield* TestClock.adjust("1 day")
      yield* TestClock.adjust("10 minutes")
      assert.deepStrictEqual((yield* store.list({ limit: 10 })).map((e) => e.id), [recent.id])
      assert.instanceOf(yield* Effect.flip(store.get(old.id)), EventNotFound)
      assert.strictEqual(yield* store.prune, 0)
    }))

  it.effect("MAX_DB_MB: the oldest events go first until the database fits, and the space is reclaimed", () =>
    Effect.gen(function*() {
      const { run, sql, store } = yield* setup({ maxDbMb: 0.5, postEventSeconds: 10, preEventSeconds: 10 })
      const ids: Array<EventId> = []
      for (let i = 0; i < 4; i++) {
        yield* run(10_000)
        ids.push((yield* store.trigger({ kind: "manual" })).id)
        yield* run(11_000)
      }
      // 4 events × 161 frames × ~1.5 KB ≈ 1 MB
      const deleted = yield* store.prune
      assert.isAtLeast(deleted, 2)
      const left = (yield* store.list({ limit: 10 })).map((e) => e.id)
      assert.deepStrictEqual(left, ids.slice(deleted).reverse(), "the newest are kept")
      const [size] = yield* sql<{ pages: number; free: number; pageSize: number }>`
        SELECT (SELECT page_count FROM pragma_page_count()) AS pages,
               (SELECT freelist_count FROM pragma_freelist_count()) AS free,
               (SELECT page_size FROM pragma_page_size()) AS page_size`
      assert.isAtMost(size!.pages * size!.pageSize, 0.5 * 1024 * 1024, "the file itself shrank")
      assert.strictEqual(size!.free, 0)
    }))

  it.effect("a full disk: writes fail and are retried, health is degraded, and recording resumes", () =>
    Effect.gen(function*() {
      const { eventsCheck, run, sql, store } = yield* setup({ postEventSeconds: 10 })
      yield* run(3000)
      const event = yield* store.trigger({ kind: "manual" })
      const [{ pages }] = (yield* sql<{ pages: number }>`SELECT page_count AS pages FROM pragma_page_count()`) as [
        { pages: number }
      ]
      yield* sql.unsafe(`PRAGMA max_page_count = ${pages}`)
      yield* run(3000)
      const failing = yield* eventsCheck
      assert.strictEqual(failing.status, "degraded")
      assert.include(failing.message, "cannot store the frames of event")
      assert.isAbove(failing.details["writeErrors"] as number, 0)

      yield* sql.unsafe(`PRAGMA max_page_count = 1000000`)
      yield* run(40_000)
      const healthy = yield* eventsCheck
      assert.strictEqual(healthy.status, "ok")
      const done = yield* store.get(event.id)
      assert.strictEqual(done.status, "complete")
      assert.strictEqual(done.frameCount, 12 * RATE + 1, "frames waited in the buffer: none missed")
      assert.strictEqual(healthy.details["framesMissed"], 0)
    }))

  it.effect("frames that leave the buffer while the disk fails are counted as missed", () =>
    Effect.gen(function*() {
      const { eventsCheck, run, sql, store } = yield* setup({ postEventSeconds: 60, frameBufferSeconds: 30 })
      yield* run(3000)
      const event = yield* store.trigger({ kind: "manual" })
      const [row] = yield* sql<{ pages: number }>`SELECT page_count AS pages FROM pragma_page_count()`
      yield* sql.unsafe(`PRAGMA max_page_count = ${row!.pages}`)
      yield* run(45_000)
      yield* sql.unsafe(`PRAGMA max_page_count = 1000000`)
      yield* run(40_000)
      const done = yield* store.get(event.id)
      assert.strictEqual(done.status, "complete")
      const missed = (yield* eventsCheck).details["framesMissed"] as number
      assert.isAbove(missed, 0)
      assert.strictEqual(done.frameCount + missed, 62 * RATE + 1)
    }))

  it.effect("an event interrupted by a crash is completed with its stored frames; one without frames is deleted", () =>
    Effect.gen(function*() {
      const crashed = Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO events (kind, status, triggered_at, window_end, started_at, ended_at, frame_count)
                   VALUES ('manual', 'recording', 1000, 99000, 0, 500, 5)`
        yield* sql`INSERT INTO events (kind, status, triggered_at, window_end, frame_count)
                   VALUES ('alarm', 'recording', 2000, 99000, 0)`
      })
      const { store } = yield* setup({}, crashed)
      const events = yield* store.list({ limit: 10 })
      assert.deepStrictEqual(events.map((e) => [e.id, e.status, e.frameCount]), [[1, "complete", 5]])
    }))

  it.effect("on shutdown the recording is completed with what arrived", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-events-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const databasePath = join(dir, "ircam.db")
      const first = yield* setup({ postEventSeconds: 60, databasePath })
      yield* first.run(3000)
      const event = yield* first.store.trigger({ kind: "manual" })
      // 2 s more, the last frames pushed after the last flush tick: the finalizer stores them
      yield* first.run(2000)
      yield* Scope.close(first.scope, Exit.void)

      const second = yield* setup({ databasePath })
      const stored = yield* second.store.get(event.id)
      assert.strictEqual(stored.status, "complete")
      assert.strictEqual(stored.frameCount, 4 * RATE + 1)
      assert.strictEqual(yield* second.storedFrames(event.id), stored.frameCount)
    }).pipe(Effect.scoped))
})
