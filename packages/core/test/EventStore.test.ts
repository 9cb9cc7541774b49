/**
 * EventStore on an in-memory database and the frame buffer, on the TestClock: the pre/post
 * windows, overlapping triggers, queries, deletion, retention, recovery after a crash, a full
 * disk, shutdown, and steps of the wall clock (SteppedClock) during a recording, while idle and
 * against retention.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { AppConfigShape } from "../src/AppConfig.js"
import { ClockWatch } from "../src/ClockWatch.js"
import { EventId, EventNotFound } from "../src/Event.js"
import { EventStore, maxEventDuration } from "../src/EventStore.js"
import { PIXELS } from "../src/Frame.js"
import { FrameBuffer } from "../src/FrameBuffer.js"
import { StorageError } from "../src/StorageError.js"
import { monotonicMs } from "../src/Time.js"
import type { ZoneId } from "../src/Zone.js"
import { withSteppedClock } from "./support/SteppedClock.js"
import * as TestCore from "./support/TestCore.js"
import * as TestFrames from "./support/TestFrames.js"

const RATE = 8
const PERIOD = 1000 / RATE
const DAY = 86_400_000

const baseConfig: Partial<AppConfigShape> = {
  refreshRateHz: RATE,
  frameBufferSeconds: 30,
  preEventSeconds: 2,
  postEventSeconds: 3
}

/** The store on its database, the frame buffer and the clock watch. */
const store = (
  config: Partial<AppConfigShape> = {},
  before: Layer.Layer<never, never, SqlClient.SqlClient> = Layer.empty
) =>
  EventStore.Default.pipe(
    Layer.provideMerge(Layer.mergeAll(FrameBuffer.Default, ClockWatch.Default, before)),
    Layer.provideMerge(TestCore.storage({ ...baseConfig, ...config }))
  )

/** The hot pixel of frame `sequence`: its place and temperature follow the sequence. */
const hot = (sequence: number) => (i: number) => i === sequence % PIXELS ? 30 + (sequence % 50) / 10 : 20.004

/** The sequence number of the frame captured at monotonic time `ms`: one per period since 0. */
const sequenceAt = (ms: number) => Math.round(ms / PERIOD)

/**
 * Frames at the refresh rate for `ms` of test time, pushed as the monitor would; `temperatures`
 * says what a frame of a given sequence holds.
 */
const run = (ms: number, temperatures: (sequence: number) => (i: number) => number = hot) =>
  Effect.gen(function*() {
    const buffer = yield* FrameBuffer
    for (let t = 0; t < ms; t += PERIOD) {
      yield* TestClock.adjust(PERIOD)
      const sequence = sequenceAt(yield* monotonicMs)
      yield* buffer.push(yield* TestFrames.now({ sequence, temperatures: temperatures(sequence) }))
    }
  })

const storedFrames = (id: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ n: number }>`SELECT count(*) AS n FROM event_frames WHERE event_id = ${id}`,
      (rows) => rows[0]!.n
    ))

const eventsCheck = Effect.flatMap(EventStore, (store) => store.health)

/** `first`, `first + 1` … `last`. */
const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i)

describe("EventStore", () => {
  it.effect("stores the pre-event frames at once and the post-event ones as they come, then completes", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
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
      assert.deepStrictEqual(
        Option.map(yield* store.frameAt(started.id, 1), (f) => f.sequence),
        Option.some(frames[1]!.sequence)
      )
      assert.isTrue(Option.isNone(yield* store.frameAt(started.id, done.frameCount)))
    }).pipe(Effect.provide(store())))

  it.effect("a trigger during a recording extends it instead of storing frames twice", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      yield* run(3000)
      const first = yield* store.trigger({ kind: "manual" })
      yield* run(2000)
      const second = yield* store.trigger({ kind: "alarm", zoneId: 2 as ZoneId })
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
    }).pipe(Effect.provide(store())))

  it.effect(
    "an event extended again and again still ends 15 minutes after its first trigger",
    () =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const first = yield* store.trigger({ kind: "manual" })
        yield* TestClock.adjust("9 minutes")
        const extended = yield* store.trigger({ kind: "manual" })
        assert.strictEqual(extended.id, first.id)
        // it would run to 19 minutes; it stops at 15 (and is completed at the next flush)
        yield* TestClock.adjust(Duration.subtract(Duration.subtract(maxEventDuration, "9 minutes"), "1 second"))
        assert.strictEqual((yield* store.get(first.id)).status, "recording")
        yield* TestClock.adjust("2 seconds")
        assert.strictEqual((yield* store.get(first.id)).status, "complete")
      }).pipe(Effect.provide(store({ postEventSeconds: 600 }))),
    // 15 minutes of flushes on the TestClock take about 10 s of a busy 2-core machine
    90_000
  )

  it.effect("after an event is complete, the next trigger starts a new one; an alarm names itself on it", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      yield* run(1000)
      const a = yield* store.trigger({ kind: "manual", label: "a" })
      yield* run(4000)
      const b = yield* store.trigger({ kind: "alarm", zoneId: 1 as ZoneId })
      assert.notStrictEqual(b.id, a.id)
      assert.strictEqual(b.kind, "alarm")
      assert.strictEqual(b.zoneId, 1)
      assert.strictEqual(b.frameCount, 2 * RATE + 1, "its pre-event frames overlap the first event's: stored again")
      assert.isNull(b.alarmId)
      yield* store.linkAlarm(b.id, 7)
      yield* store.linkAlarm(b.id, 8)
      assert.strictEqual((yield* store.get(b.id)).alarmId, 7, "the first alarm that named it")
      assert.isNull((yield* store.get(a.id)).alarmId)
    }).pipe(Effect.provide(store())))

  it.effect("lists newest first, with filters and pages", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      const ids: Array<EventId> = []
      const times: Array<number> = []
      for (let i = 0; i < 5; i++) {
        yield* run(1000)
        times.push(yield* TestClock.currentTimeMillis)
        const event = yield* store.trigger(
          i % 2 === 0 ? { kind: "manual" } : { kind: "alarm", zoneId: (i === 1 ? 1 : 2) as ZoneId }
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
    }).pipe(Effect.provide(store({ postEventSeconds: 1 }))))

  it.effect("deleting an event deletes its frames; unknown ids are EventNotFound", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      yield* run(3000)
      const event = yield* store.trigger({ kind: "manual" })
      yield* run(4000)
      assert.isAbove(yield* storedFrames(event.id), 0)
      yield* store.remove(event.id)
      assert.strictEqual(yield* storedFrames(event.id), 0)
      const unknown = EventId.make(999)
      for (
        const failure of [
          store.get(event.id),
          store.remove(event.id),
          store.frames(event.id),
          store.frameAt(event.id, 0),
          store.get(unknown)
        ]
      ) {
        const error = yield* Effect.flip(failure)
        assert.instanceOf(error, EventNotFound)
      }
      assert.strictEqual((yield* Effect.flip(store.get(unknown))).message, "there is no event 999")
    }).pipe(Effect.provide(store())))

  it.effect("deleting the event being recorded stops the recording", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      yield* run(3000)
      const event = yield* store.trigger({ kind: "manual" })
      yield* store.remove(event.id)
      yield* run(4000)
      assert.strictEqual(yield* storedFrames(event.id), 0)
      const next = yield* store.trigger({ kind: "manual" })
      assert.notStrictEqual(next.id, event.id)
    }).pipe(Effect.provide(store())))

  // EVENT_RETENTION_DAYS = 0.01, the smallest allowed: 14.4 minutes (ClockWatch wakes every second,
  // so every test hour costs the TestClock seconds of real time)
  it.effect("retention deletes events older than EVENT_RETENTION_DAYS", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      yield* run(3000)
      const old = yield* store.trigger({ kind: "manual" })
      yield* run(4000)
      // the periodic job at 10 minutes keeps both (the old one is not yet 14.4 minutes old)
      yield* TestClock.adjust("10 minutes")
      yield* run(3000)
      const recent = yield* store.trigger({ kind: "manual" })
      yield* run(4000)
      assert.lengthOf(yield* store.list({ limit: 10 }), 2)
      // the one at 20 minutes removes the old one
      yield* TestClock.adjust("10 minutes")
      assert.deepStrictEqual((yield* store.list({ limit: 10 })).map((e) => e.id), [recent.id])
      assert.instanceOf(yield* Effect.flip(store.get(old.id)), EventNotFound)
      assert.strictEqual(yield* store.prune, 0)
      assert.strictEqual((yield* eventsCheck).details["eventsPruned"], 1)
    }).pipe(Effect.provide(store({ eventRetentionDays: 0.01 }))))

  it.effect("MAX_DB_MB: the oldest events go first until the database fits, and the space is reclaimed", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      const sql = yield* SqlClient.SqlClient
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
    }).pipe(Effect.provide(store({ maxDbMb: 0.5, postEventSeconds: 10, preEventSeconds: 10 }))))

  it.effect("a full disk: writes fail and are retried, health is degraded, and recording resumes", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      const sql = yield* SqlClient.SqlClient
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
    }).pipe(Effect.provide(store({ postEventSeconds: 10 }))))

  it.effect("frames that leave the buffer while the disk fails are counted as missed", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      const sql = yield* SqlClient.SqlClient
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
    }).pipe(Effect.provide(store({ postEventSeconds: 60, frameBufferSeconds: 30 }))))

  it.effect("a trigger whose event cannot be read back answers a StorageError (not a defect)", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      const sql = yield* SqlClient.SqlClient
      yield* run(1000)
      const event = yield* store.trigger({ kind: "manual" })
      yield* sql`UPDATE events SET frame_count = -1 WHERE id = ${event.id}`
      const error = yield* Effect.flip(store.trigger({ kind: "manual" }))
      assert.instanceOf(error, StorageError)
      assert.include(error.message, `cannot read event ${event.id}`)
    }).pipe(Effect.provide(store())))

  it.effect("an event interrupted by a crash is completed with its stored frames; one without frames is deleted", () => {
    const crashed = Layer.effectDiscard(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO events (kind, status, triggered_at, window_end, started_at, ended_at, frame_count)
                 VALUES ('manual', 'recording', 1000, 99000, 0, 500, 5)`
        yield* sql`INSERT INTO events (kind, status, triggered_at, window_end, frame_count)
                 VALUES ('alarm', 'recording', 2000, 99000, 0)`
      }).pipe(Effect.orDie)
    )
    return Effect.gen(function*() {
      const events = yield* (yield* EventStore).list({ limit: 10 })
      assert.deepStrictEqual(events.map((e) => [e.id, e.status, e.frameCount]), [[1, "complete", 5]])
    }).pipe(Effect.provide(store({}, crashed)))
  })

  it.effect("on shutdown the recording is completed with what arrived", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-events-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const databasePath = join(dir, "ircam.db")
      const event = yield* Effect.gen(function*() {
        yield* run(3000)
        const event = yield* (yield* EventStore).trigger({ kind: "manual" })
        // 2 s more, the last frames pushed after the last flush tick: the finalizer stores them
        yield* run(2000)
        return event
      }).pipe(Effect.provide(store({ postEventSeconds: 60, databasePath })))

      yield* Effect.gen(function*() {
        const stored = yield* (yield* EventStore).get(event.id)
        assert.strictEqual(stored.status, "complete")
        assert.strictEqual(stored.frameCount, 4 * RATE + 1)
        assert.strictEqual(yield* storedFrames(event.id), stored.frameCount)
      }).pipe(Effect.provide(store({ databasePath })))
    }).pipe(Effect.scoped))
})

describe("EventStore, with the wall clock stepped", () => {
  const MONTHS = 90 * DAY

  /** Every frame outside the event's real windows is at 99 °C: one stored by mistake would be its peak. */
  const outside = (first: number, last: number) => (sequence: number) =>
    sequence < first || sequence > last ? () => 99 : hot(sequence)

  /**
   * Triggers at 5 s (pre-event 2 s, post-event 10 s) with the wall clock stepped by `stepMs`
   * `stepAt` ms after the trigger (negative: before it), and checks the event holds exactly the
   * frames captured from 3 s to 15 s on the monotonic clock, with their wall-clock labels as
   * measured, and completes on time.
   */
  const recordAcross = (stepMs: number, stepAt: number) =>
    withSteppedClock((clock) =>
      Effect.gen(function*() {
        const store = yield* EventStore
        const trigger = 5000 + (stepAt < 0 ? -stepAt : 0)
        const first = sequenceAt(trigger - 2000)
        const last = sequenceAt(trigger + 10_000)
        const scene = outside(first, last)
        const stepped = trigger + stepAt
        yield* run(stepped < trigger ? stepped : trigger, scene)
        if (stepped < trigger) {
          yield* clock.step(stepMs)
          yield* run(trigger - stepped, scene)
        }
        const triggeredAt = yield* Effect.clockWith((c) => c.currentTimeMillis)
        const event = yield* store.trigger({ kind: "manual" })
        assert.strictEqual(event.triggeredAt, triggeredAt, "a wall-clock label")
        if (stepped >= trigger) {
          yield* run(stepped - trigger, scene)
          yield* clock.step(stepMs)
        }
        // the window ends 10 s after the trigger on the monotonic clock, and the flush after it completes the event
        yield* run(trigger + 10_500 - PERIOD - (yield* monotonicMs), scene)
        assert.strictEqual((yield* store.get(event.id)).status, "recording")
        yield* run(PERIOD, scene)
        const done = yield* store.get(event.id)
        assert.strictEqual(done.status, "complete", "completed on time")

        const frames = yield* store.frames(event.id)
        const sequences = range(first, last)
        assert.deepStrictEqual(frames.map((f) => f.sequence), sequences, "none lost, none repeated, none from outside")
        // labels as measured: frames after the step carry the stepped wall clock
        const label = (sequence: number) => sequence * PERIOD + (sequence * PERIOD > stepped ? stepMs : 0)
        assert.deepStrictEqual(frames.map((f) => f.capturedAt), sequences.map(label))
        assert.strictEqual(done.frameCount, 12 * RATE + 1)
        assert.strictEqual(done.startedAt, label(first))
        assert.strictEqual(done.endedAt, label(last))
        // the hottest of these frames: 34.9 °C at the first frame whose sequence ends in 49
        const hottest = sequences.find((s) => s % 50 === 49)!
        assert.deepStrictEqual(done.peak, { temperature: 34.9, x: hottest % 32, y: Math.floor(hottest / 32) })
        const health = yield* store.health
        assert.strictEqual(health.details["framesMissed"], 0)
        assert.strictEqual(health.details["framesStored"], done.frameCount)
        assert.isNull(health.details["recording"])
      })
    ).pipe(Effect.provide(store({ postEventSeconds: 10 })))

  it.effect("stepped back 60 s two seconds into a recording: exactly the frames of its real windows, on time", () =>
    recordAcross(-60_000, 2000))

  it.effect("stepped forward by months during a recording: the same", () => recordAcross(MONTHS, 2000))

  it.effect("stepped back 60 s while idle, then a trigger: the pre-event frames are the last 2 s", () =>
    recordAcross(-60_000, -3000))

  it.effect("stepped forward by months while idle, then a trigger: the same", () => recordAcross(MONTHS, -3000))

  it.effect("retention: a clock stepped forward by a year deletes nothing; age on the monotonic clock does", () =>
    withSteppedClock((clock) =>
      Effect.gen(function*() {
        const store = yield* EventStore
        yield* run(3000)
        const event = yield* store.trigger({ kind: "manual" })
        yield* run(4000)
        assert.strictEqual((yield* store.get(event.id)).status, "complete")
        yield* clock.step(365 * DAY)
        assert.strictEqual(yield* store.prune, 0)
        assert.strictEqual((yield* store.get(event.id)).id, event.id, "a year on the wall clock: kept")
        // EVENT_RETENTION_DAYS = 0.01: 14.4 minutes on the monotonic clock later it is past retention
        yield* TestClock.adjust("14 minutes")
        assert.strictEqual(yield* store.prune, 0)
        yield* TestClock.adjust("1 minute")
        assert.strictEqual(yield* store.prune, 1)
        assert.instanceOf(yield* Effect.flip(store.get(event.id)), EventNotFound)
        assert.strictEqual((yield* store.health).details["eventsPruned"], 1)
      })
    ).pipe(Effect.provide(store({ eventRetentionDays: 0.01 }))))
})
