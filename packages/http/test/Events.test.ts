/**
 * The events API on the real EventStore (in-memory SQLite) and the simulated sensor, on the
 * TestClock: each test builds its own application with the clock at `start`, so the sensor's
 * frames are captured at `start + k × 125 ms` (8 Hz) and the pre/post windows are exact.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import type { AppConfigShape } from "@ircam/core/AppConfig"
import { EventId, EventJson } from "@ircam/core/Event"
import { EventStore } from "@ircam/core/EventStore"
import { PIXELS } from "@ircam/core/Frame"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { ZoneId } from "@ircam/core/Zone"
import { Effect, Option, Redacted, Schema, TestClock } from "effect"
import { IrcamApi } from "../src/Api.js"
import { EventFrameJson, EventListParams, IsoDateTimeParam } from "../src/EventsApi.js"
import {
  advanceTo,
  type Answer,
  appLayer,
  atStart,
  decodeErrorOf,
  ErrorBody,
  errorOf,
  jsonOf,
  send,
  start
} from "./support/TestApp.js"

const preMs = 2000
const postMs = 3000
const periodMs = 125 // 8 Hz

/** The ISO form of `start + ms`. */
const iso = (ms: number) => new Date(start + ms).toISOString()

/** Runs a test in a fresh application on the simulated sensor. */
const inApp = (config: Partial<AppConfigShape> = {}) =>
  atStart(
    appLayer(SimulatedSensor.layer(), {
      preEventSeconds: preMs / 1000,
      postEventSeconds: postMs / 1000,
      refreshRateHz: 1000 / periodMs,
      ...config
    })
  )

const EventBody = Schema.parseJson(EventJson)
const EventsBody = Schema.parseJson(Schema.Array(EventJson))
const FramesBody = Schema.parseJson(Schema.Array(EventFrameJson))

const eventOf = (answer: Answer) => Schema.decodeUnknownSync(EventBody)(answer.text)
const idsOf = (answer: Answer) => Schema.decodeUnknownSync(EventsBody)(answer.text).map((event) => event.id)

const isCentiDegrees = (t: number) => Math.round(t * 100) / 100 === t

/** Triggers an event at 10.05 s (so no frame falls on a window's edge) and waits until it is complete. */
const recordEvent = (label?: string) =>
  Effect.gen(function*() {
    yield* advanceTo(10_050)
    const created = yield* send("POST", "/api/v1/events", label === undefined ? {} : { json: { label } })
    assert.strictEqual(created.status, 202, created.text)
    yield* advanceTo(10_050 + postMs + 550)
    return eventOf(created).id
  })

describe("POST /api/v1/events", () => {
  it.effect("answers 202 with the recording event; it completes with the frames of both windows", () =>
    Effect.gen(function*() {
      yield* advanceTo(10_050)
      const created = yield* send("POST", "/api/v1/events", { json: { label: "  door opened  " } })
      assert.strictEqual(created.status, 202, created.text)
      assert.match(created.headers["content-type"] ?? "", /application\/json/)
      const recording = eventOf(created)
      assert.sameMembers(Object.keys(jsonOf(created) as object), [
        "id",
        "kind",
        "label",
        "status",
        "triggeredAt",
        "startedAt",
        "endedAt",
        "frameCount",
        "zoneId",
        "alarmId",
        "peak"
      ])
      // the pre-event frames (from 8.05 s) are stored with the event right away
      assert.deepStrictEqual({ ...recording, peak: null }, {
        id: EventId.make(1),
        kind: "manual",
        label: "door opened",
        status: "recording",
        triggeredAt: iso(10_050),
        startedAt: iso(8_125),
        endedAt: iso(10_000),
        frameCount: 16,
        zoneId: null,
        alarmId: null,
        peak: null
      })
      assert.isNotNull(recording.peak)

      // the post-event frames arrive while it records
      yield* advanceTo(11_550)
      const during = eventOf(yield* send("GET", "/api/v1/events/1"))
      assert.strictEqual(during.status, "recording")
      assert.isAbove(during.frameCount, 16)
      assert.isAtMost(during.frameCount, 16 + 12)

      // complete once the window (until 13.05 s) has passed: frames from 8.125 s to 13 s, every 125 ms
      yield* advanceTo(13_600)
      const done = yield* send("GET", "/api/v1/events/1")
      assert.strictEqual(done.status, 200)
      const complete = eventOf(done)
      assert.deepStrictEqual({ ...complete, peak: null }, {
        ...recording,
        status: "complete",
        startedAt: iso(8_125),
        endedAt: iso(13_000),
        frameCount: (13_000 - 8_125) / periodMs + 1,
        peak: null
      })

      const answer = yield* send("GET", "/api/v1/events/1/frames")
      assert.strictEqual(answer.status, 200)
      assert.match(answer.headers["content-type"] ?? "", /application\/json/)
      assert.sameMembers(Object.keys((jsonOf(answer) as Array<object>)[0]!), ["capturedAt", "sequence", "temperatures"])
      const frames = Schema.decodeUnknownSync(FramesBody)(answer.text)
      assert.lengthOf(frames, complete.frameCount)
      frames.forEach((frame, i) => {
        assert.strictEqual(frame.capturedAt, iso(8_125 + i * periodMs))
        assert.strictEqual(frame.sequence, frames[0]!.sequence + i)
        assert.lengthOf(frame.temperatures, PIXELS)
        assert.isTrue(frame.temperatures.every((t) => t !== null && t > 10 && t < 100 && isCentiDegrees(t)))
      })
      assert.isAtLeast(Date.parse(frames[0]!.capturedAt), start + 10_050 - preMs)
      assert.isAtMost(Date.parse(frames[frames.length - 1]!.capturedAt), start + 10_050 + postMs)

      // the peak is the hottest pixel of those frames
      const temperatures = frames.flatMap((frame) => frame.temperatures as ReadonlyArray<number>)
      const peak = complete.peak!
      assert.strictEqual(peak.temperature, Math.max(...temperatures))
      assert.isTrue(frames.some((frame) => frame.temperatures[peak.y * 32 + peak.x] === peak.temperature))

      assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/events")), [jsonOf(done)])

      // the typed client decodes every answer
      const client = yield* HttpApiClient.make(IrcamApi)
      const typed = yield* client.events.get({ path: { id: complete.id } })
      assert.strictEqual(typed.status, "complete")
      assert.lengthOf(yield* client.events.frames({ path: { id: complete.id }, urlParams: {} }), complete.frameCount)
      const listed = yield* client.events.list({ urlParams: { kind: "manual", limit: 10 } })
      assert.deepStrictEqual(listed.map((event) => event.id), [complete.id])
      const next = yield* client.events.trigger({ payload: { label: "typed" } })
      assert.deepStrictEqual([next.id, next.label, next.status], [2, "typed", "recording"])
      yield* client.events.remove({ path: { id: next.id } })
    }).pipe(inApp()))

  it.effect("a trigger during a recording extends it and answers it; the next one starts a new event", () =>
    Effect.gen(function*() {
      yield* advanceTo(10_050)
      const first = eventOf(yield* send("POST", "/api/v1/events", { json: { label: "first" } }))

      yield* advanceTo(12_050)
      const again = yield* send("POST", "/api/v1/events", { json: { label: "second" } })
      assert.strictEqual(again.status, 202)
      const extended = eventOf(again)
      assert.strictEqual(extended.id, first.id)
      assert.strictEqual(extended.label, "first")
      assert.strictEqual(extended.status, "recording")

      // the window now ends at 15.05 s instead of 13.05 s
      yield* advanceTo(14_600)
      assert.strictEqual(eventOf(yield* send("GET", `/api/v1/events/${first.id}`)).status, "recording")
      yield* advanceTo(15_600)
      const complete = eventOf(yield* send("GET", `/api/v1/events/${first.id}`))
      assert.strictEqual(complete.status, "complete")
      assert.strictEqual(complete.startedAt, iso(8_125))
      assert.strictEqual(complete.endedAt, iso(15_000))
      assert.strictEqual(complete.frameCount, (15_000 - 8_125) / periodMs + 1)

      yield* advanceTo(20_050)
      const second = eventOf(yield* send("POST", "/api/v1/events"))
      assert.deepStrictEqual([second.id, second.label, second.status], [2, null, "recording"])
      assert.strictEqual(second.startedAt, iso(18_125))
      assert.deepStrictEqual(idsOf(yield* send("GET", "/api/v1/events")), [2, 1])
    }).pipe(inApp()))

  it.effect("the body is optional; a label is trimmed and 1–200 characters long (400 naming label)", () =>
    Effect.gen(function*() {
      yield* advanceTo(10_050)
      const long = ` ${"é".repeat(200)} `
      const created = yield* send("POST", "/api/v1/events", { json: { label: long } })
      assert.strictEqual(created.status, 202, created.text)
      assert.strictEqual(eventOf(created).label, "é".repeat(200))

      // no body, an empty one, null and {} are all accepted (and extend event 1)
      const accepted: ReadonlyArray<Parameters<typeof send>[2]> = [
        {},
        { body: "" },
        { body: "null" },
        { body: "{}" },
        { body: "", headers: { "content-type": "application/json; charset=utf-8" } }
      ]
      for (const options of accepted) {
        const answer = yield* send("POST", "/api/v1/events", options)
        assert.strictEqual(answer.status, 202, JSON.stringify(options))
        assert.strictEqual(eventOf(answer).id, 1)
      }

      const refused: ReadonlyArray<readonly [body: string, path: ReadonlyArray<string>]> = [
        [JSON.stringify({ label: "x".repeat(201) }), ["label"]],
        [JSON.stringify({ label: ` ${"x".repeat(201)} ` }), ["label"]],
        [JSON.stringify({ label: "" }), ["label"]],
        [JSON.stringify({ label: " \t\n " }), ["label"]],
        [JSON.stringify({ label: 42 }), ["label"]],
        [JSON.stringify({ label: null }), ["label"]],
        // other fields are refused, not ignored: a misspelt label would otherwise go unnoticed
        [JSON.stringify({ label: "x", zoneId: 1 }), ["zoneId"]],
        [JSON.stringify({ lable: "x" }), ["lable"]],
        ["[]", []],
        ["\"door\"", []],
        ["7", []]
      ]
      for (const [body, path] of refused) {
        const answer = yield* send("POST", "/api/v1/events", { body })
        assert.strictEqual(answer.status, 400, body)
        const error = decodeErrorOf(answer)
        assert.deepStrictEqual(error.issues[0].path, path, body)
      }
      const tooLong = decodeErrorOf(yield* send("POST", "/api/v1/events", { json: { label: "x".repeat(201) } }))
      assert.strictEqual(tooLong.issues[0].message, "label must be at most 200 characters long")
      const empty = decodeErrorOf(yield* send("POST", "/api/v1/events", { json: { label: "  " } }))
      assert.include(empty.issues[0].message, "must not be empty")

      const malformed = yield* send("POST", "/api/v1/events", { body: "{\"label\":" })
      assert.strictEqual(malformed.status, 400)
      assert.strictEqual(errorOf(malformed)._tag, "MalformedBody")

      // none of them made an event, and the label is the first trigger's
      yield* advanceTo(20_000)
      const events = Schema.decodeUnknownSync(EventsBody)((yield* send("GET", "/api/v1/events")).text)
      assert.deepStrictEqual(events.map((event) => [event.id as number, event.label, event.status]), [
        [1, "é".repeat(200), "complete"]
      ])
    }).pipe(inApp()))
})

describe("with API_TOKEN", () => {
  it.effect("POST and DELETE need the token (401 otherwise); reads do not", () =>
    Effect.gen(function*() {
      yield* advanceTo(10_050)
      for (const token of [undefined, "wrong"]) {
        const options = token === undefined ? {} : { token }
        const denied = yield* send("POST", "/api/v1/events", options)
        assert.strictEqual(denied.status, 401)
        assert.strictEqual(errorOf(denied)._tag, "Unauthorized")
        assert.strictEqual(denied.headers["www-authenticate"], "Bearer realm=\"ircam\"")
      }
      const created = yield* send("POST", "/api/v1/events", { token: "s3cret", json: { label: "guarded" } })
      assert.strictEqual(created.status, 202)
      const { id } = eventOf(created)

      yield* advanceTo(14_000)
      for (const path of ["/api/v1/events", `/api/v1/events/${id}`, `/api/v1/events/${id}/frames?format=csv`]) {
        assert.strictEqual((yield* send("GET", path)).status, 200, path)
      }
      const denied = yield* send("DELETE", `/api/v1/events/${id}`)
      assert.strictEqual(denied.status, 401)
      assert.strictEqual(errorOf(denied)._tag, "Unauthorized")
      assert.strictEqual((yield* send("DELETE", `/api/v1/events/${id}`, { token: "wrong" })).status, 401)
      assert.strictEqual((yield* send("GET", `/api/v1/events/${id}`)).status, 200, "still there")
      assert.strictEqual((yield* send("DELETE", `/api/v1/events/${id}`, { token: "s3cret" })).status, 204)

      const client = yield* HttpApiClient.make(IrcamApi, {
        transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken("s3cret"))
      })
      const typed = yield* client.events.trigger({ payload: {} })
      assert.strictEqual(typed.label, null)
      const error = yield* Effect.flip((yield* HttpApiClient.make(IrcamApi)).events.remove({ path: { id: typed.id } }))
      assert.strictEqual(error._tag, "Unauthorized")
    }).pipe(inApp({ apiToken: Option.some(Redacted.make("s3cret")) })))
})

describe("GET /api/v1/events", () => {
  it.effect("answers newest first, filtered by from, to, zoneId, kind and status, in pages", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      // 1: manual, 2: alarm in zone 1, 3: manual, all complete; 4: alarm in zone 2, recording
      yield* advanceTo(10_050)
      yield* send("POST", "/api/v1/events", { json: { label: "one" } })
      yield* advanceTo(20_050)
      yield* Effect.flatMap(store.trigger({ kind: "alarm", zoneId: ZoneId.make(1) }), (e) => store.linkAlarm(e.id, 7))
      yield* advanceTo(30_050)
      yield* send("POST", "/api/v1/events", { json: { label: "three" } })
      yield* advanceTo(40_050)
      yield* Effect.flatMap(store.trigger({ kind: "alarm", zoneId: ZoneId.make(2) }), (e) => store.linkAlarm(e.id, 8))
      yield* advanceTo(41_000)

      const all = Schema.decodeUnknownSync(EventsBody)((yield* send("GET", "/api/v1/events")).text)
      assert.deepStrictEqual(all.map((event) => [event.id, event.kind, event.status, event.zoneId, event.alarmId]), [
        [4, "alarm", "recording", 2, 8],
        [3, "manual", "complete", null, null],
        [2, "alarm", "complete", 1, 7],
        [1, "manual", "complete", null, null]
      ])

      const cases: ReadonlyArray<readonly [query: string, ids: ReadonlyArray<number>]> = [
        ["", [4, 3, 2, 1]],
        ["kind=manual", [3, 1]],
        ["kind=alarm", [4, 2]],
        ["status=complete", [3, 2, 1]],
        ["status=recording", [4]],
        ["zoneId=1", [2]],
        ["zoneId=2", [4]],
        ["zoneId=3", []],
        ["kind=alarm&status=complete", [2]],
        ["kind=manual&zoneId=1", []],
        // from and to are inclusive
        [`from=${iso(20_050)}`, [4, 3, 2]],
        [`from=${iso(20_051)}`, [4, 3]],
        [`to=${iso(20_050)}`, [2, 1]],
        [`to=${iso(20_049)}`, [1]],
        [`from=${iso(20_000)}&to=${iso(35_000)}`, [3, 2]],
        [`from=${iso(20_050)}&to=${iso(20_050)}`, [2]],
        // other forms of the same instants
        ["from=2026-11-24T09:00:20.050%2B01:00", [4, 3, 2]],
        ["from=2026-11-24T02:30:20.050-05:30", [4, 3, 2]],
        ["from=2026-11-24T08:00:20.0509Z", [4, 3, 2]],
        ["from=2026-11-24t08:00:20.05z", [4, 3, 2]],
        ["to=2026-11-24T08:00Z", []],
        ["to=2026-11-24T08:00:11Z", [1]],
        // pages: limit, then before the last id seen
        ["limit=1", [4]],
        ["limit=2", [4, 3]],
        ["limit=2&before=3", [2, 1]],
        ["before=2", [1]],
        ["before=1", []],
        ["before=99", [4, 3, 2, 1]],
        ["limit=1000", [4, 3, 2, 1]],
        ["status=complete&limit=1&before=3", [2]]
      ]
      for (const [query, ids] of cases) {
        const answer = yield* send("GET", `/api/v1/events?${query}`)
        assert.strictEqual(answer.status, 200, `${query}: ${answer.text}`)
        assert.deepStrictEqual(idsOf(answer), ids, query)
      }

      // walking the pages
      const seen: Array<number> = []
      let before = ""
      for (;;) {
        const page = idsOf(yield* send("GET", `/api/v1/events?limit=3${before}`))
        if (page.length === 0) break
        seen.push(...page)
        before = `&before=${page[page.length - 1]}`
      }
      assert.deepStrictEqual(seen, [4, 3, 2, 1])

      const client = yield* HttpApiClient.make(IrcamApi)
      const typed = yield* client.events.list({
        urlParams: { from: start + 20_000, to: start + 35_000, kind: "manual", limit: 5 }
      })
      assert.deepStrictEqual(typed.map((event) => event.id), [3])
    }).pipe(inApp()))

  it.effect("at most 100 events unless limit says otherwise", () =>
    Effect.gen(function*() {
      const store = yield* EventStore
      for (let i = 0; i < 101; i++) {
        yield* store.trigger({ kind: "manual", label: `${i}` })
        yield* TestClock.adjust("1500 millis") // past POST_EVENT_SECONDS, so the next trigger starts an event
      }
      const page = idsOf(yield* send("GET", "/api/v1/events"))
      assert.lengthOf(page, 100)
      assert.strictEqual(page[0], 101)
      assert.strictEqual(page[99], 2)
      assert.lengthOf(idsOf(yield* send("GET", "/api/v1/events?limit=1000")), 101)
      assert.deepStrictEqual(Schema.decodeUnknownSync(EventListParams)({}), { limit: 100 })
    }).pipe(inApp({ preEventSeconds: 0, postEventSeconds: 1, refreshRateHz: 1 })))

  it.effect("invalid filters are a 400 naming the field", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [query: string, field: string]> = [
        ["from=yesterday", "from"],
        ["from=", "from"],
        ["from=2026-11-24", "from"],
        ["from=2026-11-24T08:00:00", "from"], // no time zone
        ["from=1795514400000", "from"],
        ["to=2026-02-30T00:00:00Z", "to"],
        ["to=2026-13-01T00:00:00Z", "to"],
        ["to=2026-11-24T24:00:00Z", "to"],
        ["to=2026-11-24T23:60:00Z", "to"],
        ["to=2026-11-24T23:00:60Z", "to"],
        ["to=2026-11-24T23:00:00%2B24:00", "to"],
        ["to=2026-11-24T23:00:00-01:60", "to"],
        [`from=${iso(1)}&to=${iso(0)}`, "from"],
        ["zoneId=0", "zoneId"],
        ["zoneId=abc", "zoneId"],
        ["zoneId=1.5", "zoneId"],
        ["kind=fire", "kind"],
        ["kind=manual&kind=alarm", "kind"],
        ["status=done", "status"],
        ["limit=0", "limit"],
        ["limit=1001", "limit"],
        ["limit=2.5", "limit"],
        ["limit=ten", "limit"],
        ["before=0", "before"],
        ["before=-3", "before"],
        ["before=x", "before"]
      ]
      for (const [query, field] of cases) {
        const answer = yield* send("GET", `/api/v1/events?${query}`)
        assert.strictEqual(answer.status, 400, `${query}: ${answer.text}`)
        assert.deepStrictEqual(decodeErrorOf(answer).issues[0].path, [field], query)
      }
      const bad = decodeErrorOf(yield* send("GET", "/api/v1/events?from=yesterday"))
      assert.include(bad.issues[0].message, "ISO-8601")
      assert.include(bad.issues[0].message, "\"yesterday\"")
      const reversed = decodeErrorOf(yield* send("GET", `/api/v1/events?from=${iso(1)}&to=${iso(0)}`))
      assert.strictEqual(reversed.issues[0].message, "from must not be after to")
    }).pipe(inApp()))
})

describe("GET /api/v1/events/{id}/frames", () => {
  it.effect("?format=csv answers a header row and one row a frame, 770 columns", () =>
    Effect.gen(function*() {
      const id = yield* recordEvent("csv")
      const json = Schema.decodeUnknownSync(FramesBody)((yield* send("GET", `/api/v1/events/${id}/frames`)).text)
      const explicit = yield* send("GET", `/api/v1/events/${id}/frames?format=json`)
      assert.deepStrictEqual(Schema.decodeUnknownSync(FramesBody)(explicit.text), json)

      const answer = yield* send("GET", `/api/v1/events/${id}/frames?format=csv`)
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(answer.headers["content-type"], "text/csv; charset=utf-8")
      assert.strictEqual(answer.headers["content-disposition"], `attachment; filename="event-${id}.csv"`)
      const lines = answer.text.split("\r\n")
      assert.strictEqual(lines.pop(), "", "the last row ends with CRLF too")
      const [header, ...rows] = lines
      const columns = header!.split(",")
      assert.lengthOf(columns, 2 + PIXELS)
      assert.deepStrictEqual(columns.slice(0, 5), ["capturedAt", "sequence", "r0c0", "r0c1", "r0c2"])
      assert.strictEqual(columns[2 + 31], "r0c31")
      assert.strictEqual(columns[2 + 32], "r1c0")
      assert.strictEqual(columns[2 + PIXELS - 1], "r23c31")
      assert.strictEqual(new Set(columns).size, columns.length)

      assert.lengthOf(rows, json.length)
      assert.strictEqual(rows.length, 40)
      rows.forEach((row, i) => {
        const fields = row.split(",")
        assert.lengthOf(fields, 2 + PIXELS)
        assert.strictEqual(fields[0], json[i]!.capturedAt)
        assert.strictEqual(fields[1], String(json[i]!.sequence))
        for (const field of fields.slice(2)) assert.match(field, /^-?\d+(\.\d{1,2})?$/)
        assert.deepStrictEqual(fields.slice(2).map(Number), json[i]!.temperatures)
      })
    }).pipe(inApp()))

  it.effect("an unknown format is a 400 naming format", () =>
    Effect.gen(function*() {
      const id = yield* recordEvent()
      for (const format of ["xml", "CSV", ""]) {
        const answer = yield* send("GET", `/api/v1/events/${id}/frames?format=${format}`)
        assert.strictEqual(answer.status, 400, format)
        assert.deepStrictEqual(decodeErrorOf(answer).issues[0].path, ["format"], format)
      }
    }).pipe(inApp()))
})

describe("GET and DELETE /api/v1/events/{id}", () => {
  it.effect("DELETE answers 204; then the event and its frames are gone (404)", () =>
    Effect.gen(function*() {
      const id = yield* recordEvent("to delete")
      const deleted = yield* send("DELETE", `/api/v1/events/${id}`)
      assert.strictEqual(deleted.status, 204)
      assert.strictEqual(deleted.text, "")
      for (const [method, path] of [["GET", ""], ["GET", "/frames"], ["DELETE", ""]] as const) {
        const gone = yield* send(method, `/api/v1/events/${id}${path}`)
        assert.strictEqual(gone.status, 404, `${method} ${path}`)
        const error = errorOf(gone)
        assert.strictEqual(error._tag, "EventNotFound")
        assert.strictEqual(error.id, id)
        assert.include(error.message, String(id))
      }
      assert.deepStrictEqual(idsOf(yield* send("GET", "/api/v1/events")), [])

      // deleting the recording event stops it: the next trigger starts a new one
      yield* advanceTo(20_050)
      const recording = eventOf(yield* send("POST", "/api/v1/events"))
      assert.strictEqual((yield* send("DELETE", `/api/v1/events/${recording.id}`)).status, 204)
      yield* advanceTo(21_050)
      const next = eventOf(yield* send("POST", "/api/v1/events"))
      assert.notStrictEqual(next.id, recording.id)
      assert.strictEqual(next.triggeredAt, iso(21_050))
      yield* advanceTo(25_000)
      assert.deepStrictEqual(idsOf(yield* send("GET", "/api/v1/events")), [next.id])

      const client = yield* HttpApiClient.make(IrcamApi)
      const error = yield* Effect.flip(client.events.get({ path: { id: EventId.make(999) } }))
      assert.strictEqual(error._tag, "EventNotFound")
    }).pipe(inApp()))

  it.effect("ids that are not positive integers are a 400 naming id", () =>
    Effect.gen(function*() {
      for (const id of ["abc", "0", "-1", "1.5", "NaN", "%20", "99999999999999999999"]) {
        for (const [method, path] of [["GET", ""], ["GET", "/frames"], ["DELETE", ""]] as const) {
          const answer = yield* send(method, `/api/v1/events/${id}${path}`)
          assert.strictEqual(answer.status, 400, `${method} ${id}${path}`)
          assert.deepStrictEqual(decodeErrorOf(answer).issues[0].path, ["id"], `${method} ${id}${path}`)
        }
      }
      const unknown = yield* send("GET", "/api/v1/events/4242")
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(errorOf(unknown)._tag, "EventNotFound")
      assert.strictEqual(errorOf(unknown).id, 4242)
    }).pipe(inApp()))
})

describe("when the database fails", () => {
  it.effect("every events endpoint answers 503 StorageError with a message", () =>
    Effect.gen(function*() {
      const id = yield* recordEvent()
      const sql = yield* SqlClient.SqlClient
      yield* sql`DROP TABLE event_frames`
      yield* sql`DROP TABLE events`
      const requests = [
        ["POST", "/api/v1/events"],
        ["GET", "/api/v1/events"],
        ["GET", "/api/v1/events?kind=manual"],
        ["GET", `/api/v1/events/${id}`],
        ["GET", `/api/v1/events/${id}/frames`],
        ["GET", `/api/v1/events/${id}/frames?format=csv`],
        ["DELETE", `/api/v1/events/${id}`]
      ] as const
      for (const [method, path] of requests) {
        const answer = yield* send(method, path)
        assert.strictEqual(answer.status, 503, `${method} ${path}: ${answer.text}`)
        const error = errorOf(answer)
        assert.strictEqual(error._tag, "StorageError")
        assert.include(error.message, "no such table")
      }
      const client = yield* HttpApiClient.make(IrcamApi)
      const error = yield* Effect.flip(client.events.list({ urlParams: { limit: 10 } }))
      assert.strictEqual(error._tag, "StorageError")

      // the rest of the API goes on
      assert.strictEqual((yield* send("GET", "/api/v1/zones")).status, 200)
    }).pipe(inApp()))
})

describe("the OpenAPI document", () => {
  it.effect("documents the events endpoints, their parameters, the CSV answer and the optional body", () =>
    Effect.gen(function*() {
      const document = jsonOf(yield* send("GET", "/api/v1/openapi.json")) as {
        paths: Record<string, Record<string, Operation>>
      }
      interface Operation {
        parameters: ReadonlyArray<{ name: string; in: string; required: boolean }>
        requestBody?: { required: boolean; content: Record<string, unknown> }
        responses: Record<string, { content?: Record<string, unknown> }>
        security: ReadonlyArray<Record<string, unknown>>
      }
      const events = document.paths["/api/v1/events"]!
      const event = document.paths["/api/v1/events/{id}"]!
      const frames = document.paths["/api/v1/events/{id}/frames"]!
      assert.sameMembers(Object.keys(events), ["get", "post"])
      assert.sameMembers(Object.keys(event), ["get", "delete"])
      assert.sameMembers(Object.keys(frames), ["get"])

      const trigger = events["post"]!
      assert.strictEqual(trigger.requestBody?.required, false)
      assert.property(trigger.requestBody?.content, "application/json")
      assert.includeMembers(Object.keys(trigger.responses), ["202", "400", "401", "503"])
      assert.isNotEmpty(trigger.security)
      assert.isNotEmpty(event["delete"]!.security)
      assert.isEmpty(event["get"]!.security)

      const list = events["get"]!
      assert.sameMembers(list.parameters.map((p) => p.name), [
        "from",
        "to",
        "zoneId",
        "kind",
        "status",
        "limit",
        "before"
      ])
      assert.isTrue(list.parameters.every((p) => p.in === "query" && !p.required))
      assert.includeMembers(Object.keys(list.responses), ["200", "400", "503"])

      const get = frames["get"]!
      assert.sameMembers(get.parameters.map((p) => `${p.in}:${p.name}`), ["path:id", "query:format"])
      assert.sameMembers(Object.keys(get.responses["200"]!.content ?? {}), ["application/json", "text/csv"])
      assert.includeMembers(Object.keys(get.responses), ["200", "400", "404", "503"])
      assert.includeMembers(Object.keys(event["delete"]!.responses), ["204", "401", "404", "503"])
    }).pipe(inApp()))
})

describe("nothing a client sends to the events API is answered with a 5xx", () => {
  it.effect("bodies, queries and paths", () =>
    Effect.gen(function*() {
      yield* advanceTo(10_050)
      const bodies = [
        "{\"label\":\"\\u0000\"}",
        "{\"label\":[\"a\"]}",
        "{\"label\":{\"toString\":1}}",
        "{\"__proto__\":{\"label\":\"x\"}}",
        "{\"constructor\":{\"prototype\":{}}}",
        "[".repeat(5000) + "]".repeat(5000),
        "\u00ff\u00fe"
      ]
      for (const body of bodies) {
        const answer = yield* send("POST", "/api/v1/events", { body })
        assert.isBelow(answer.status, 500, body.slice(0, 60))
        if (answer.status !== 202) {
          assert.strictEqual(answer.status, 400, body.slice(0, 60))
          assert.isString(Schema.decodeUnknownSync(Schema.parseJson(ErrorBody))(answer.text)._tag)
        }
      }
      // a form (curl -d 'label=x'), JSON sent as a form, or plain text: not JSON
      for (const contentType of ["application/x-www-form-urlencoded", "text/plain"]) {
        for (const body of ["label=x", "{\"label\":\"x\"}"]) {
          const answer = yield* send("POST", "/api/v1/events", { body, contentType })
          assert.strictEqual(answer.status, 415, `${contentType}: ${body}`)
        }
      }
      const paths = [
        "/api/v1/events?limit=1e4",
        "/api/v1/events?from=%ZZ",
        "/api/v1/events?zoneId=99999999999999999999",
        "/api/v1/events?before=1&before=2",
        "/api/v1/events/1/frames?format=csv&format=json",
        "/api/v1/events/1/frames/x",
        "/api/v1/events/1%2F2"
      ]
      for (const path of paths) {
        const answer = yield* send("GET", path)
        assert.isBelow(answer.status, 500, path)
        assert.isString(errorOf(answer)._tag, path)
      }
    }).pipe(inApp()))
})

describe("IsoDateTimeParam", () => {
  it("reads ISO-8601 date-times with a time zone, and nothing else", () => {
    const cases: ReadonlyArray<readonly [text: string, ms: number | undefined]> = [
      ["2026-11-24T08:00:00Z", Date.UTC(2026, 10, 24, 8)],
      ["2026-11-24T08:00:00.5Z", Date.UTC(2026, 10, 24, 8, 0, 0, 500)],
      ["2026-11-24t08:00:00.5z", Date.UTC(2026, 10, 24, 8, 0, 0, 500)],
      ["2026-11-24T08:00:00.123456Z", Date.UTC(2026, 10, 24, 8, 0, 0, 123)],
      ["2026-11-24T08:00Z", Date.UTC(2026, 10, 24, 8)],
      ["2026-11-24T09:30:00+01:30", Date.UTC(2026, 10, 24, 8)],
      ["2026-11-24T00:00:00-08:00", Date.UTC(2026, 10, 24, 8)],
      ["2024-02-29T00:00:00Z", Date.UTC(2024, 1, 29)],
      ["2025-02-29T00:00:00Z", undefined],
      ["2026-04-31T00:00:00Z", undefined],
      ["0050-01-01T00:00:00Z", -60_589_296_000_000], // year 50, not 1950
      ["2026-11-24T24:00:00Z", undefined],
      ["2026-11-24T08:00:60Z", undefined],
      ["2026-11-24T08:00:00", undefined],
      ["2026-11-24 08:00:00Z", undefined],
      ["2026-11-24T08:00:00+0100", undefined],
      ["2026-11-24", undefined],
      ["", undefined]
    ]
    const decode = Schema.decodeUnknownOption(IsoDateTimeParam)
    for (const [text, ms] of cases) assert.deepStrictEqual(decode(text), Option.fromNullable(ms), text)
  })
})
