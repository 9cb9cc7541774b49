/**
 * A failing disk never stalls the monitor loop. The whole application (core layers, simulated
 * sensor at 8 Hz, HTTP API on a test server) on a database file, on the TestClock: an event is
 * triggered, then the database is made full (`max_page_count`, on the application's own
 * connection), then read-only (`query_only`, as a file system remounted read-only would be).
 * Meanwhile every 125 ms brings a new frame to GET /thermal/real-time, the sensor stays `ok` and
 * the `events` check is `degraded` with the error; once the disk works again the frames that
 * waited in the buffer are stored and the event completes with every frame of its window.
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { EventJson } from "@ircam/core/Event"
import { FrameJson, PIXELS } from "@ircam/core/Frame"
import { Report } from "@ircam/core/Health"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Clock, Duration, Effect, Layer, Schema, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { appLayer } from "../packages/http/test/support/TestApp.js"

/** The clock when the application starts: the sensor's frames are captured at `start + k × 125 ms`. */
const start = Date.UTC(2026, 10, 24, 8, 0, 0)
const periodMs = 125 // 8 Hz
const preMs = 2000
const postMs = 4000
/** when the event is triggered, the disk fills up, becomes read-only, and works again (ms after `start`) */
const triggerAt = 5000
const fullAt = 6000
const readOnlyAt = 9000
const repairedAt = 12_000

const EventFrames = Schema.Array(Schema.Struct({
  capturedAt: Schema.String,
  sequence: Schema.Number,
  temperatures: Schema.Array(Schema.NullOr(Schema.Number))
}))

const getJson = <A, I>(path: string, schema: Schema.Schema<A, I>) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => client.get(path)).pipe(
    Effect.flatMap(HttpClientResponse.filterStatusOk),
    Effect.flatMap(HttpClientResponse.schemaBodyJson(schema)),
    Effect.orDie
  )

const realTime = getJson("/api/v1/thermal/real-time", FrameJson)
const health = getJson("/api/v1/health", Report)
const eventsCheck = Effect.map(health, (report) => report.checks["events"]!)

/** Sets the TestClock to `start + ms`, running every sleep due until then (the sensor, the event writer …). */
const advanceTo = (ms: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => TestClock.adjust(Duration.millis(start + ms - now)))

/**
 * Advances the clock frame by frame up to `until`, checking after each period that the frame the
 * API serves is the one just captured: the monitor loop kept up.
 */
const framesKeepComing = (until: number) =>
  Effect.gen(function*() {
    let now = (yield* Clock.currentTimeMillis) - start
    while (now < until) {
      now += periodMs
      yield* advanceTo(now)
      const frame = yield* realTime
      assert.strictEqual(frame.capturedAt, new Date(start + now).toISOString(), `the frame of ${now} ms is served`)
      assert.strictEqual(frame.sequence, now / periodMs, `frame ${now / periodMs}`)
    }
  })

/** The application as the HTTP tests compose it, on a database file. */
const AppTest = (databasePath: string) =>
  appLayer(SimulatedSensor.layer(), {
    databasePath,
    refreshRateHz: 1000 / periodMs,
    frameBufferSeconds: 30,
    preEventSeconds: preMs / 1000,
    postEventSeconds: postMs / 1000
  })

describe("a failing disk", () => {
  it.scoped("never stalls the monitor loop; the event is completed once the disk works again", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-disk-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      yield* TestClock.setTime(start)
      const context = yield* Layer.build(AppTest(join(dir, "ircam.db")))
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const client = yield* HttpClient.HttpClient

        yield* advanceTo(triggerAt)
        const event = yield* client.post("/api/v1/events").pipe(
          Effect.flatMap((response) => {
            assert.strictEqual(response.status, 202)
            return HttpClientResponse.schemaBodyJson(EventJson)(response)
          }),
          Effect.orDie
        )
        assert.strictEqual(event.status, "recording")
        assert.strictEqual(event.frameCount, preMs / periodMs + 1)
        yield* framesKeepComing(fullAt)
        const before = yield* eventsCheck
        assert.strictEqual(before.status, "ok")
        assert.isAbove(before.details["framesStored"] as number, event.frameCount, "post-event frames were stored")

        // the disk is full: the database may not grow by a single page (per connection: the application's own)
        const [{ pages }] = (yield* sql<{ pages: number }>`SELECT page_count AS pages FROM pragma_page_count()`) as [
          { pages: number }
        ]
        yield* sql.unsafe(`PRAGMA max_page_count = ${pages}`)
        yield* framesKeepComing(readOnlyAt)
        const full = yield* health
        assert.strictEqual(full.status, "degraded")
        assert.strictEqual(full.checks["sensor"]!.status, "ok", "the loop is not held up")
        const fullCheck = full.checks["events"]!
        assert.strictEqual(fullCheck.status, "degraded")
        assert.include(fullCheck.message, `cannot store the frames of event ${event.id}`)
        assert.include(fullCheck.message, "full")
        const errorsWhenFull = fullCheck.details["writeErrors"] as number
        assert.isAbove(errorsWhenFull, 0)
        // the event's window ended while the disk was full: it is still recording, nothing was lost
        const waiting = yield* getJson(`/api/v1/events/${event.id}`, EventJson)
        assert.strictEqual(waiting.status, "recording")

        // then read-only, as a file system remounted read-only after an I/O error
        yield* sql.unsafe("PRAGMA max_page_count = 1073741823")
        yield* sql.unsafe("PRAGMA query_only = ON")
        yield* framesKeepComing(repairedAt)
        const readOnly = yield* eventsCheck
        assert.strictEqual(readOnly.status, "degraded")
        assert.include(readOnly.message, "readonly")
        assert.isAbove(readOnly.details["writeErrors"] as number, errorsWhenFull, "retried, and failing again")
        assert.strictEqual((yield* health).checks["sensor"]!.status, "ok")

        // the disk works again: the next retry (at most 16 s later by now) stores what waited in the buffer
        yield* sql.unsafe("PRAGMA query_only = OFF")
        let check = yield* eventsCheck
        for (let step = 0; step < 60 && check.status !== "ok"; step++) {
          yield* framesKeepComing(repairedAt + (step + 1) * 500)
          check = yield* eventsCheck
        }
        assert.strictEqual(check.status, "ok", "writes work again")
        assert.strictEqual(check.details["framesMissed"], 0, "frames waited in the buffer")
        const done = yield* getJson(`/api/v1/events/${event.id}`, EventJson)
        assert.strictEqual(done.status, "complete")
        // every frame from PRE_EVENT_SECONDS before the trigger to POST_EVENT_SECONDS after it
        assert.strictEqual(done.frameCount, (preMs + postMs) / periodMs + 1)
        assert.strictEqual(done.startedAt, new Date(start + triggerAt - preMs).toISOString())
        assert.strictEqual(done.endedAt, new Date(start + triggerAt + postMs).toISOString())
        const frames = yield* getJson(`/api/v1/events/${event.id}/frames`, EventFrames)
        assert.deepStrictEqual(
          frames.map((frame) => frame.sequence),
          Array.from({ length: done.frameCount }, (_, i) => (triggerAt - preMs) / periodMs + i)
        )
        const [stored] = yield* sql<{ n: number }>`SELECT count(*) AS n FROM event_frames WHERE event_id = ${event.id}`
        assert.strictEqual(stored!.n, done.frameCount)
        for (const frame of frames) assert.lengthOf(frame.temperatures, PIXELS)
      }).pipe(Effect.provide(context))
    }))
})
