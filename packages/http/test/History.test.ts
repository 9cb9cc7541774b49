/**
 * The history API on the real History (in-memory SQLite) and the simulated sensor, on the
 * TestClock: frame `k` is captured at `start + k × 125 ms` (8 Hz), and the hot plate heats past
 * 60 °C some 30 s into each 90 s cycle.
 */
import { assert, describe, it } from "@effect/vitest"
import type { AppConfigShape } from "@ircam/core/AppConfig"
import { History } from "@ircam/core/History"
import { HistoryJson } from "@ircam/core/HistoryBucket"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, Schema } from "effect"
import { advanceTo, type Answer, appLayer, atStart, decodeErrorOf, errorOf, send, start } from "./support/TestApp.js"

/** The ISO form of `start + ms`. */
const iso = (ms: number) => new Date(start + ms).toISOString()

const inApp = (config: Partial<AppConfigShape> = {}) =>
  atStart(appLayer(SimulatedSensor.layer(), { refreshRateHz: 8, ...config }))

const historyOf = (answer: Answer) => {
  assert.strictEqual(answer.status, 200, answer.text)
  return Schema.decodeUnknownSync(Schema.parseJson(HistoryJson))(answer.text)
}

const get = (query: string) => send("GET", `/api/v1/history?${query}`)

/** The plate as zone 1, with a rule on it; then the scene runs until `ms` and its seconds are stored. */
const record = (ms: number) =>
  Effect.gen(function*() {
    yield* advanceTo(1_000)
    const zone = yield* send("POST", "/api/v1/zones", {
      json: { name: "hot plate", x: 24, y: 4, width: 4, height: 3 }
    })
    assert.strictEqual(zone.status, 201, zone.text)
    const rule = yield* send("POST", "/api/v1/alarms/rules", {
      json: {
        name: "plate too hot",
        zoneId: 1,
        metric: "max",
        direction: "above",
        threshold: 60,
        delaySeconds: 2,
        severity: "critical"
      }
    })
    assert.strictEqual(rule.status, 201, rule.text)
    yield* advanceTo(ms)
    yield* (yield* History).flush
  })

describe("GET /api/v1/history", () => {
  it.effect("answers every second of a zone with the alarm periods of its rules", () =>
    Effect.gen(function*() {
      yield* record(70_000)
      const answer = historyOf(yield* get(`zoneId=1&from=${iso(0)}&to=${iso(59_999)}&step=1s`))
      assert.deepStrictEqual([answer.zoneId, answer.step, answer.from, answer.to], [1, "1s", iso(0), iso(59_999)])
      assert.deepStrictEqual(answer.segments, [{
        since: iso(1_125), // the first frame after the zone was created at 1 s
        reason: "started",
        zone: { x: 24, y: 4, width: 4, height: 3 }
      }])
      assert.lengthOf(answer.buckets, 60)
      assert.deepStrictEqual(answer.buckets[0], { t: iso(0), min: null, max: null, mean: null, frames: 0 })
      assert.isTrue(answer.buckets.slice(2).every((b) => b.frames === 8), "every frame of each second")
      assert.isTrue(answer.buckets.slice(1).every((b) => b.min! <= b.mean! && b.mean! <= b.max!))
      const hottest = Math.max(...answer.buckets.map((b) => b.max ?? 0))
      assert.isAbove(hottest, 75, "the plate holds about 80 °C")
      assert.isBelow(answer.buckets[5]!.max!, 30, "and is cold before 20 s")

      assert.lengthOf(answer.alarms, 1)
      const [alarm] = answer.alarms
      assert.deepStrictEqual(
        [alarm!.ruleId, alarm!.severity, alarm!.alarms, alarm!.alarmId, alarm!.eventId],
        [1, "critical", 1, 1, 1]
      )
      const raised = Date.parse(alarm!.from) - start
      assert.isTrue(raised > 25_000 && raised < 40_000, alarm!.from)
      assert.isTrue(Date.parse(alarm!.to!) - start > raised && Date.parse(alarm!.to!) - start < 60_000, alarm!.to!)

      // the whole frame: every second too, with the sensor's ambient temperature
      const frame = historyOf(yield* get(`from=${iso(0)}&to=${iso(59_999)}&step=1s`))
      assert.isNull(frame.zoneId)
      assert.deepStrictEqual(frame.segments.map((s) => [s.reason, s.zone]), [["started", null]])
      assert.isTrue(frame.buckets.every((b) => b.frames === 8 && typeof b.ambient === "number"))
      assert.lengthOf(frame.alarms, 0, "the rule watches the zone, not the frame")
    }).pipe(inApp()))

  it.effect("chooses the finest step within points; format=csv gives the same buckets as rows", () =>
    Effect.gen(function*() {
      yield* record(65_000)
      // the last hour by default: 3,601 seconds do not fit 500 points, 61 minutes do
      const lastHour = historyOf(yield* get("zoneId=1"))
      assert.deepInclude(lastHour, { step: "1m", to: iso(65_000), from: iso(65_000 - 3_600_000) })
      assert.lengthOf(lastHour.buckets, 61)
      const minutes = lastHour.buckets.filter((b) => b.frames > 0)
      assert.deepStrictEqual(minutes.map((b) => [b.t, b.frames]), [[iso(0), 59 * 8 - 1], [iso(60_000), 40]])
      assert.strictEqual(historyOf(yield* get("zoneId=1&points=4000")).step, "1s")
      assert.strictEqual(historyOf(yield* get(`zoneId=1&from=${iso(0)}&to=${iso(7 * 86_400_000)}`)).step, "1h")

      const csv = yield* get(`zoneId=1&from=${iso(0)}&to=${iso(179_999)}&step=1m&format=csv`)
      assert.strictEqual(csv.status, 200)
      assert.match(csv.headers["content-type"] ?? "", /^text\/csv/)
      assert.strictEqual(csv.headers["content-disposition"], "attachment; filename=\"history-zone-1.csv\"")
      const rows = csv.text.split("\r\n")
      assert.strictEqual(rows[0], "t,min,max,mean,frames")
      const json = historyOf(yield* get(`zoneId=1&from=${iso(0)}&to=${iso(179_999)}&step=1m`))
      assert.deepStrictEqual(
        rows.slice(1, -1),
        json.buckets.map((b) => [b.t, b.min ?? "", b.max ?? "", b.mean ?? "", b.frames].join(","))
      )
      assert.strictEqual(rows.at(-2), `${iso(120_000)},,,,0`, "a gap")
      assert.strictEqual(rows.at(-1), "")
      const frameCsv = yield* get(`from=${iso(0)}&to=${iso(59_999)}&format=csv`)
      assert.strictEqual(frameCsv.text.split("\r\n")[0], "t,min,max,mean,frames,ambient")
    }).pipe(inApp()))

  it.effect("refuses what it cannot answer with a 400 naming the parameter; an unknown zone is a 404", () =>
    Effect.gen(function*() {
      yield* record(5_000)
      const decodeError = (query: string) =>
        Effect.map(get(query), (answer) => {
          assert.strictEqual(answer.status, 400, `${query}: ${answer.text}`)
          return decodeErrorOf(answer).issues[0]!.path
        })
      assert.deepStrictEqual(yield* decodeError("zoneId=abc"), ["zoneId"])
      assert.deepStrictEqual(yield* decodeError("zoneId=0"), ["zoneId"])
      assert.deepStrictEqual(yield* decodeError("from=yesterday"), ["from"])
      assert.deepStrictEqual(yield* decodeError(`from=${iso(10_000)}&to=${iso(0)}`), ["from"])
      assert.deepStrictEqual(yield* decodeError("points=0"), ["points"])
      assert.deepStrictEqual(yield* decodeError("points=20001"), ["points"])
      assert.deepStrictEqual(yield* decodeError("step=5m"), ["step"])
      assert.deepStrictEqual(yield* decodeError("format=xml"), ["format"])

      const range = (query: string) =>
        Effect.map(get(query), (answer) => {
          assert.strictEqual(answer.status, 400, answer.text)
          return errorOf(answer)
        })
      const year = yield* range(`from=${iso(-365 * 86_400_000)}&to=${iso(0)}`)
      assert.deepInclude(year, { _tag: "HistoryRangeInvalid", field: "points" })
      assert.include(year.message, "8,761 hours")
      const seconds = yield* range(`from=${iso(-2 * 86_400_000)}&to=${iso(0)}&step=1s`)
      assert.deepInclude(seconds, { _tag: "HistoryRangeInvalid", field: "step" })

      const unknown = yield* get("zoneId=7")
      assert.strictEqual(unknown.status, 404)
      assert.deepInclude(errorOf(unknown), { _tag: "ZoneNotFound", id: 7 })
      // a deleted zone's history stays
      assert.strictEqual((yield* send("DELETE", "/api/v1/zones/1")).status, 204)
      const deleted = historyOf(yield* get(`zoneId=1&from=${iso(0)}&to=${iso(4_999)}&step=1s`))
      assert.deepStrictEqual(deleted.buckets.map((b) => b.frames), [0, 7, 8, 8, 8])
    }).pipe(inApp()))
})
