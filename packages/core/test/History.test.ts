/**
 * History on the monitor fed by the test, an in-memory (or file) database and the TestClock: the
 * seconds and their rollups (weighted means), a restart in the middle of a minute, a zone changed
 * and deleted, gaps, retention of each resolution, a failing disk, the wall clock stepped back
 * (SteppedClock), and the share of MAX_DB_MB.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { RuleId } from "../src/Alarm.js"
import { AlarmRepo } from "../src/AlarmRepo.js"
import type { AppConfigShape } from "../src/AppConfig.js"
import { ClockWatch } from "../src/ClockWatch.js"
import type { EventId } from "../src/Event.js"
import { summarize } from "../src/Frame.js"
import { FrameBuffer } from "../src/FrameBuffer.js"
import { History } from "../src/History.js"
import type { Resolution, Slot } from "../src/HistoryBucket.js"
import { HistoryRangeInvalid } from "../src/HistoryQuery.js"
import { HistoryRepo } from "../src/HistoryRepo.js"
import { Monitor } from "../src/Monitor.js"
import { type Rect, stats, type ZoneId } from "../src/Zone.js"
import { ZoneNotFound, ZoneRepo } from "../src/ZoneRepo.js"
import { withSteppedClock } from "./support/SteppedClock.js"
import * as TestCore from "./support/TestCore.js"
import * as TestFrames from "./support/TestFrames.js"
import { capture } from "./support/TestLogs.js"

/** 2026-11-24T08:00:00Z: on a minute and an hour. */
const T0 = Date.UTC(2026, 10, 24, 8, 0, 0)
const DAY = 86_400_000

const plate: Rect = { x: 24, y: 4, width: 4, height: 3 }
/** The zone: two columns of background beside the plate. */
const zoneRect: Rect = { x: 22, y: 4, width: 6, height: 3 }

/** History on the monitor, the clock watch and a sensor the test feeds, on its database. */
const historyLayer = (config: Partial<AppConfigShape> = {}) =>
  History.Default.pipe(
    Layer.provideMerge(Layer.mergeAll(Monitor.Default, ClockWatch.Default)),
    Layer.provideMerge(Layer.mergeAll(FrameBuffer.Default, TestCore.fedSensor())),
    Layer.provideMerge(TestCore.storage({ refreshRateHz: 8, ...config }))
  )

/**
 * Runs `test` with History built at `T0` on the TestClock (set before the layers start: moving
 * the TestClock over decades would run every one-second tick of the clock watch in between).
 */
const atT0 = (config: Partial<AppConfigShape> = {}) => <A, E, R>(test: Effect.Effect<A, E, R>) =>
  TestClock.setTime(T0).pipe(Effect.zipRight(Effect.provide(test, historyLayer(config))))

/** The TestClock to `T0 + ms` (never back). */
const atTime = (ms: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => TestClock.adjust(Math.max(0, T0 + ms - now)))

/** A feeder: frames with increasing sequence numbers, the plate at `hot` °C, captured at `T0 + ms`. */
const feeder = () => {
  let sequence = 0
  return (ms: number, hot: number) =>
    Effect.gen(function*() {
      yield* atTime(ms)
      yield* TestCore.push(
        yield* TestFrames.now({ sequence: sequence++, temperatures: TestFrames.withRect(plate, hot) })
      )
    })
}

/** Frames at 4 Hz from `fromMs` to before `toMs`, the plate at `hot(ms)`. */
const steady = (feed: ReturnType<typeof feeder>, fromMs: number, toMs: number, hot: (ms: number) => number) =>
  Effect.gen(function*() {
    for (let ms = fromMs; ms < toMs; ms += 250) yield* feed(ms, hot(ms))
  })

/** Frames stop: past `idleAfter` the open second closes, and the writer stores everything. */
const settle = (ms: number) =>
  Effect.gen(function*() {
    yield* atTime(ms)
    yield* (yield* History).flush
  })

const read = (zoneId: ZoneId | null, fromMs: number, toMs: number, step?: Resolution) =>
  Effect.flatMap(History, (history) => history.read({ zoneId, from: T0 + fromMs, to: T0 + toMs, step }))

const recorded = (slots: ReadonlyArray<Slot>) => slots.filter((slot) => slot.frames > 0)

const createZone = (rect: Rect = zoneRect) => Effect.orDie(Effect.flatMap(ZoneRepo, (zones) => zones.create(rect)))

describe("History", () => {
  it.effect("records every frame's statistics by second and rolls them up: min of mins, max of maxes, weighted mean", () =>
    Effect.gen(function*() {
      const zone = yield* createZone()
      const feed = feeder()
      // 150 s with 1 to 4 frames a second, so that seconds weigh differently in their minute
      const sent: Array<{ readonly ms: number; readonly hot: number }> = []
      for (let s = 0; s < 150; s++) {
        for (let j = 0; j <= s % 4; j++) sent.push({ ms: s * 1000 + j * 250, hot: 30 + (s % 7) * 5 + j })
      }
      for (const { hot, ms } of sent) yield* feed(ms, hot)
      yield* settle(155_000)

      const zoneOf = (hot: number) =>
        stats(TestFrames.make({ temperatures: TestFrames.withRect(plate, hot) }), zoneRect)
      const expected = (from: number, to: number) => {
        const frames = sent.filter((f) => f.ms >= from && f.ms < to)
        return {
          frames: frames.length,
          min: 20,
          max: Math.max(...frames.map((f) => f.hot)),
          mean: frames.reduce((sum, f) => sum + zoneOf(f.hot).average, 0) / frames.length
        }
      }
      const assertBucket = (slot: Slot | undefined, from: number, to: number) => {
        const want = expected(from, to)
        assert.strictEqual(slot?.t, (T0 + from) / 1000)
        assert.deepInclude(slot, { frames: want.frames, min: want.min, max: want.max })
        assert.closeTo(slot!.mean!, want.mean, 0.006, `the mean of ${from}..${to}`)
      }

      const seconds = yield* read(zone.id, 0, 149_999, "1s")
      assert.strictEqual(seconds.step, "1s")
      assert.lengthOf(seconds.buckets, 150)
      for (let s = 0; s < 150; s++) assertBucket(seconds.buckets[s], s * 1000, s * 1000 + 1000)

      const minutes = yield* read(zone.id, 0, 149_999, "1m")
      assert.lengthOf(minutes.buckets, 3)
      assertBucket(minutes.buckets[0], 0, 60_000)
      assertBucket(minutes.buckets[1], 60_000, 120_000)
      assertBucket(minutes.buckets[2], 120_000, 150_000)
      const hours = yield* read(zone.id, 0, 149_999, "1h")
      assert.lengthOf(hours.buckets, 1)
      assertBucket(hours.buckets[0], 0, 3_600_000)

      // the whole frame, with the sensor's ambient
      const frame = (yield* read(null, 0, 59_999, "1m")).buckets[0]!
      const frameMean = (hot: number) =>
        summarize(TestFrames.make({ temperatures: TestFrames.withRect(plate, hot) }).temperatures).mean
      const first = sent.filter((f) => f.ms < 60_000)
      assert.deepInclude(frame, {
        frames: first.length,
        min: 20,
        max: Math.max(...first.map((f) => f.hot)),
        ambient: 25
      })
      assert.closeTo(frame.mean!, first.reduce((sum, f) => sum + frameMean(f.hot), 0) / first.length, 0.006)

      const check = yield* (yield* History).health
      assert.strictEqual(check.status, "ok")
      assert.include(check.details, { secondsWritten: 300, pendingSeconds: 0, framesMissed: 0, writeErrors: 0 })
    }).pipe(atT0()))

  it.effect("chooses the finest step within `points`, and every bucket of the range is there, gaps explicit", () =>
    Effect.gen(function*() {
      const feed = feeder()
      yield* steady(feed, 0, 10_000, () => 40)
      // the sensor is silent from 10 s to 20 s; its last second is stored all the same
      yield* settle(13_000)
      const early = yield* read(null, 0, 12_999, "1s")
      assert.strictEqual(early.buckets[9]!.frames, 4)
      yield* steady(feed, 20_000, 30_000, () => 50)
      yield* settle(35_000)

      const answer = yield* read(null, 0, 29_999, "1s")
      assert.deepStrictEqual(answer.buckets.map((b) => b.frames), [
        ...Array(10).fill(4),
        ...Array(10).fill(0),
        ...Array(10).fill(4)
      ])
      assert.deepStrictEqual(answer.buckets[12], {
        t: T0 / 1000 + 12,
        frames: 0,
        min: null,
        max: null,
        mean: null,
        ambient: null
      })
      assert.lengthOf(answer.segments, 1)

      const history = yield* History
      // 30 s: 30 seconds fit 500 points; an hour is 3,600 seconds, so minutes; a year, hours
      assert.strictEqual((yield* history.read({ zoneId: null, from: T0, to: T0 + 29_999 })).step, "1s")
      assert.strictEqual((yield* history.read({ zoneId: null, from: T0, to: T0 + 3_599_999 })).step, "1m")
      assert.strictEqual((yield* history.read({ zoneId: null, from: T0, to: T0 + 3_599_999, points: 3600 })).step, "1s")
      assert.strictEqual((yield* history.read({ zoneId: null, from: T0 - 365 * DAY, to: T0, points: 9000 })).step, "1h")
      const tooLong = yield* Effect.flip(history.read({ zoneId: null, from: T0 - 365 * DAY, to: T0 }))
      assert.instanceOf(tooLong, HistoryRangeInvalid)
      assert.strictEqual(tooLong._tag === "HistoryRangeInvalid" && tooLong.field, "points")
      const tooFine = yield* Effect.flip(history.read({ zoneId: null, from: T0 - DAY, to: T0, step: "1s" }))
      assert.strictEqual(tooFine._tag === "HistoryRangeInvalid" && tooFine.field, "step")
      const backwards = yield* Effect.flip(history.read({ zoneId: null, from: T0, to: T0 - 1 }))
      assert.strictEqual(backwards._tag === "HistoryRangeInvalid" && backwards.field, "from")
      // the last hour up to now, by default
      const latest = yield* history.read({ zoneId: null })
      assert.strictEqual(latest.to, T0 + 35_000)
      assert.strictEqual(latest.from, T0 + 35_000 - 3_600_000)
      assert.strictEqual(recorded(latest.buckets)[0]!.frames, 80)
    }).pipe(atT0()))

  it.effect("a restart in the middle of a minute: the minute holds the frames of both runs, in one segment", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-history-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const layer = historyLayer({ databasePath: join(dir, "ircam.db") })
      yield* TestClock.setTime(T0)
      // run 1, stopped at 20 s (its last seconds are stored on the way out)
      yield* Effect.scoped(Effect.provide(
        Effect.gen(function*() {
          yield* createZone()
          yield* steady(feeder(), 0, 20_000, () => 40)
          yield* atTime(20_100)
        }),
        layer
      ))
      // run 2, from 40 s
      yield* atTime(40_000)
      yield* Effect.scoped(Effect.provide(
        Effect.gen(function*() {
          yield* steady(feeder(), 40_000, 70_000, (ms) => (ms < 60_000 ? 60 : 80))
          yield* settle(75_000)
          const [zone] = yield* (yield* ZoneRepo).list
          const minutes = yield* read(zone!.id, 0, 69_999, "1m")
          assert.deepStrictEqual(minutes.buckets.map((b) => [b.frames, b.max]), [[80 + 80, 60], [40, 80]])
          assert.lengthOf(minutes.segments, 1, "the same zone, the same rectangle: one segment")
          const seconds = yield* read(zone!.id, 0, 69_999, "1s")
          assert.deepStrictEqual(
            seconds.buckets.map((b) => b.frames),
            [...Array(20).fill(4), ...Array(20).fill(0), ...Array(30).fill(4)]
          )
          const hour = (yield* read(zone!.id, 0, 69_999, "1h")).buckets[0]!
          assert.strictEqual(hour.frames, 200)
        }),
        layer
      ))
    }).pipe(Effect.scoped))

  it.effect("a zone's new rectangle starts a segment; a deleted zone's history stays; an unknown zone is refused", () =>
    Effect.gen(function*() {
      const zones = yield* ZoneRepo
      const zone = yield* createZone()
      const feed = feeder()
      yield* steady(feed, 0, 30_500, () => 40)
      // mid-second (once the monitor has had the frames so far): second 30 has frames on both rectangles
      yield* atTime(30_400)
      yield* Effect.orDie(zones.update(zone.id, { x: 0, y: 0, width: 2, height: 2 }))
      yield* steady(feed, 30_500, 45_000, () => 40)
      yield* atTime(44_900)
      yield* Effect.orDie(zones.remove(zone.id))
      yield* steady(feed, 45_000, 60_000, () => 40)
      yield* settle(65_000)

      const seconds = yield* read(zone.id, 0, 59_999, "1s")
      assert.deepStrictEqual(
        seconds.segments.map((s) => [s.reason, s.rect, s.startedAt - T0]),
        [["started", zoneRect, 0], ["zoneChanged", { x: 0, y: 0, width: 2, height: 2 }, 30_500]]
      )
      const second30 = seconds.buckets.filter((b) => b.t === T0 / 1000 + 30)
      assert.deepStrictEqual(second30.map((b) => [b.frames, b.max]), [[2, 40], [2, 20]], "one bucket a segment")
      assert.deepStrictEqual(recorded(seconds.buckets).length, 46)
      assert.strictEqual(seconds.buckets.at(-1)!.frames, 0, "deleted at 45 s")
      const minute = (yield* read(zone.id, 0, 59_999, "1m")).buckets
      assert.deepStrictEqual(minute.map((b) => [b.frames, b.max]), [[122, 40], [58, 20]])

      const unknown = yield* Effect.flip(read(99 as ZoneId, 0, 59_999))
      assert.instanceOf(unknown, ZoneNotFound)
      assert.include(unknown.message, "no history")
      // a zone that exists but has recorded nothing yet answers gaps
      const fresh = yield* createZone()
      assert.lengthOf(recorded((yield* read(fresh.id, 0, 59_999)).buckets), 0)
    }).pipe(atT0()))

  it.effect("the wall clock stepped back: a new segment; the seconds recorded before stay as they were", () =>
    withSteppedClock((clock) =>
      Effect.gen(function*() {
        const history = yield* History
        // frames every 250 ms on the monotonic clock; their labels are the (stepped) wall clock's
        let sequence = 0
        const run = (count: number, hot: number) =>
          Effect.gen(function*() {
            for (let i = 0; i < count; i++) {
              yield* TestClock.adjust(250)
              yield* TestCore.push(
                yield* TestFrames.now({ sequence: sequence++, temperatures: TestFrames.withRect(plate, hot) })
              )
            }
          })
        yield* run(80, 40) // wall 0.25 s .. 20 s
        yield* clock.step(-10_000)
        yield* run(80, 70) // wall 10.25 s .. 30 s
        yield* TestClock.adjust(3000)
        yield* history.flush

        const seconds = yield* history.read({ zoneId: null, from: T0, to: T0 + 29_999, step: "1s" })
        assert.deepStrictEqual(seconds.segments.map((s) => s.reason), ["started", "clockSteppedBack"])
        const at = (s: number) => seconds.buckets.filter((b) => b.t === T0 / 1000 + s).map((b) => [b.frames, b.max])
        assert.deepStrictEqual(at(5), [[4, 40]])
        assert.deepStrictEqual(at(15), [[4, 40], [4, 70]], "both recordings of second 15, oldest first")
        assert.deepStrictEqual(at(25), [[4, 70]])
        const minutes = yield* history.read({ zoneId: null, from: T0, to: T0 + 29_999, step: "1m" })
        assert.deepStrictEqual(minutes.buckets.map((b) => [b.frames, b.max]), [[80, 40], [80, 70]])
      }).pipe(atT0())
    ))

  it.effect("a failing disk: writes are retried, health is degraded, nothing is lost once it recovers", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const history = yield* History
      const feed = feeder()
      yield* steady(feed, 0, 10_000, () => 40)
      yield* sql`PRAGMA query_only = ON`
      yield* steady(feed, 10_000, 30_000, () => 50)
      const failing = yield* history.health
      assert.strictEqual(failing.status, "degraded")
      assert.include(failing.message, "cannot store the history")
      assert.isAbove(failing.details["writeErrors"] as number, 0)
      assert.isAbove(failing.details["pendingSeconds"] as number, 20, "the seconds wait in memory")

      yield* sql`PRAGMA query_only = OFF`
      yield* steady(feed, 30_000, 60_000, () => 60)
      yield* settle(65_000)
      const healthy = yield* history.health
      assert.strictEqual(healthy.status, "ok")
      assert.include(healthy.details, { pendingSeconds: 0, secondsDropped: 0 })
      const seconds = yield* read(null, 0, 59_999, "1s")
      assert.isTrue(seconds.buckets.every((b) => b.frames === 4), "every second stored")
    }).pipe(atT0()))

  it.effect("retention: each resolution for its own days, by age against retentionNow", () =>
    withSteppedClock((clock) =>
      Effect.gen(function*() {
        const history = yield* History
        const repo = yield* HistoryRepo
        const store = (ages: ReadonlyArray<number>) =>
          Effect.gen(function*() {
            const id = yield* repo.insertSeries({ zoneId: null, rect: null, reason: "started", startedAt: T0 })
            for (const age of ages) {
              const t = Math.floor((T0 - age) / 1000)
              yield* repo.writeSeconds([{ seriesId: id, t, frames: 8, min: 20, max: 30, mean: 25, ambient: 25 }])
              yield* repo.rollUp(id, t, t)
            }
            return id
          }).pipe(Effect.orDie)
        const kept = yield* store([0.5 * DAY, 1.5 * DAY, 2.5 * DAY, 3.5 * DAY])
        const gone = yield* store([3.5 * DAY])
        const count = (step: Resolution) =>
          Effect.map(
            repo.buckets(step, [kept, gone], 0, T0 / 1000),
            (rows) => rows.map((row) => [row.seriesId, Math.round((T0 / 1000 - row.t) / 86_400 * 2) / 2])
          )
        // with the clock stepped forward by a year: what is past retention now, nothing that would be a year on
        yield* clock.step(365 * DAY)
        assert.strictEqual(yield* history.prune, 9)
        yield* clock.step(-365 * DAY)
        assert.strictEqual(yield* history.prune, 0)
        assert.deepStrictEqual(yield* Effect.orDie(count("1s")), [[kept, 0.5]])
        assert.deepStrictEqual(yield* Effect.orDie(count("1m")), [[kept, 1.5], [kept, 0.5]])
        assert.deepStrictEqual(yield* Effect.orDie(count("1h")), [[kept, 2.5], [kept, 1.5], [kept, 0.5]])
        assert.deepStrictEqual(
          (yield* Effect.orDie(repo.series(null))).map((s) => s.id),
          [kept],
          "an emptied series goes"
        )
      }).pipe(atT0({ historySecondDays: 1, historyMinuteDays: 2, historyHourDays: 3 }))
    ))

  it.effect("keeps to half of MAX_DB_MB: its oldest seconds go first", () =>
    capture((logs) =>
      Effect.gen(function*() {
        const history = yield* History
        const repo = yield* HistoryRepo
        const id = yield* Effect.orDie(
          repo.insertSeries({ zoneId: null, rect: null, reason: "started", startedAt: T0 })
        )
        // twelve hours of seconds, about 1.1 MB
        const first = T0 / 1000 - 12 * 3600
        for (let at = first; at < T0 / 1000; at += 3600) {
          const rows = Array.from({ length: 3600 }, (_, i) => ({
            seriesId: id,
            t: at + i,
            frames: 8,
            min: 20 + (i % 50),
            max: 60 + (i % 70),
            mean: 30 + (i % 30),
            ambient: 25
          }))
          yield* Effect.orDie(repo.writeSeconds(rows))
          yield* Effect.orDie(repo.rollUp(id, at, at + 3599))
        }
        yield* history.prune
        const health = yield* history.health
        assert.isAtMost(health.details["historyMb"] as number, 0.75)
        const seconds = yield* Effect.orDie(repo.buckets("1s", [id], 0, T0 / 1000))
        assert.strictEqual(seconds[0]!.t, first + 6 * 3600, "the oldest 6 hours of seconds went")
        assert.strictEqual(seconds.at(-1)!.t, T0 / 1000 - 1)
        assert.lengthOf(yield* Effect.orDie(repo.buckets("1m", [id], 0, T0 / 1000)), 720, "the minutes stay")
        assert.isTrue(logs.some((entry) => entry.level === "WARN" && entry.message.includes("half of MAX_DB_MB")))
      }).pipe(atT0({ maxDbMb: 1.5 }))
    ))

  it.effect("answers the alarm periods of the target's rules in the range, each alarm its own when they are few", () =>
    Effect.gen(function*() {
      const alarms = yield* AlarmRepo
      const zone = yield* createZone()
      const other = yield* createZone({ x: 0, y: 0, width: 1, height: 1 })
      const alarm = (ruleId: number, zoneId: ZoneId | null, raised: number, cleared: number | null) =>
        Effect.gen(function*() {
          const { id } = yield* alarms.insertAlarm({
            ruleId: ruleId as RuleId,
            zoneId,
            severity: ruleId === 2 ? "warning" : "critical",
            value: 61,
            raisedAt: T0 + raised,
            eventId: (1000 + raised / 1000) as EventId
          })
          if (cleared !== null) yield* alarms.clearAlarm(id, T0 + cleared)
          return id
        }).pipe(Effect.orDie)
      const early = yield* alarm(2, zone.id, -100_000, 5_000) // raised before the range, cleared in it
      const a = yield* alarm(1, zone.id, 10_000, 20_000)
      yield* alarm(1, zone.id, 30_000, 40_000)
      const active = yield* alarm(1, zone.id, 70_000, null)
      yield* alarm(2, zone.id, -300_000, -250_000) // over before the range
      yield* alarm(3, other.id, 12_000, 13_000)
      const whole = yield* alarm(4, null, 15_000, 16_000)
      const periods = (zoneId: ZoneId | null, step: Resolution, from = 0, to = 119_999) =>
        Effect.map(
          read(zoneId, from, to, step),
          (answer) =>
            answer.alarms.map((p) => [p.ruleId, p.from - T0, p.to === null ? null : p.to - T0, p.alarms, p.alarmId])
        )

      const exact = [
        [2, -100_000, 5_000, 1, early],
        [1, 10_000, 20_000, 1, a],
        [1, 30_000, 40_000, 1, a + 1],
        [1, 70_000, null, 1, active]
      ]
      assert.deepStrictEqual(yield* periods(zone.id, "1s"), exact)
      assert.deepStrictEqual(yield* periods(zone.id, "1m"), exact, "few alarms: each its own period")
      const first = (yield* read(zone.id, 0, 119_999, "1m")).alarms[1]!
      assert.deepStrictEqual([first.severity, first.eventId], ["critical", 1010])
      assert.deepStrictEqual(yield* periods(null, "1m"), [[4, 15_000, 16_000, 1, whole]])
      assert.deepStrictEqual(
        yield* periods(zone.id, "1h", 200_000, 300_000),
        [[1, 70_000, null, 1, active]],
        "still active"
      )
    }).pipe(atT0()))

  it.effect("many alarms: each rule's gathered in at most 1,000 windows, those closer than a window joined", () =>
    Effect.gen(function*() {
      const alarms = yield* AlarmRepo
      const zone = yield* createZone()
      // an alarm every 90 s lasting 24 s: 700 of them, three hours without, 800 more
      const raise = (raised: number) =>
        Effect.flatMap(
          alarms.insertAlarm({
            ruleId: 1 as RuleId,
            zoneId: zone.id,
            severity: "critical",
            value: 61,
            raisedAt: T0 + raised,
            eventId: null
          }),
          ({ id }) => Effect.as(alarms.clearAlarm(id, T0 + raised + 24_000), id)
        ).pipe(Effect.orDie)
      const first = yield* raise(0)
      for (let i = 1; i < 700; i++) yield* raise(i * 90_000)
      const resumed = 700 * 90_000 + 3 * 3_600_000
      const second = yield* raise(resumed)
      for (let i = 1; i < 800; i++) yield* raise(resumed + i * 90_000)
      const end = resumed + 800 * 90_000
      const answer = yield* read(zone.id, 0, end, "1h")
      assert.deepStrictEqual(
        answer.alarms.map((p) => [p.from - T0, p.to! - T0, p.alarms, p.alarmId]),
        [[0, 699 * 90_000 + 24_000, 700, first], [resumed, resumed + 799 * 90_000 + 24_000, 800, second]]
      )
      // a range with few of them: each its own again
      assert.lengthOf((yield* read(zone.id, 0, 3_599_999, "1s")).alarms, 40)
    }).pipe(atT0()))
})
