/**
 * The alarms API on the real AlarmEngine and Notifier (in-memory SQLite) and the simulated
 * sensor, on the TestClock: each test builds its own application with the clock at `start`, so
 * frame `k` is captured at `start + k × 125 ms` (8 Hz) and is the scene at `k / 8` seconds. The
 * times at which the hot plate crosses a threshold are computed from the same scene.
 *
 * Webhook notifications go over HTTP to a receiver on loopback answering the status the test
 * chooses.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { AlarmId, AlarmJson, HistoryEntryJson, Rule, RuleId } from "@ircam/core/Alarm"
import type { AppConfigShape } from "@ircam/core/AppConfig"
import { DeliveryJson } from "@ircam/core/Delivery"
import { EventId, EventJson } from "@ircam/core/Event"
import { PIXELS } from "@ircam/core/Frame"
import { NotifierSettings } from "@ircam/core/NotifierSettings"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { type Rect, stats, ZoneId } from "@ircam/core/Zone"
import { Duration, Effect, Layer, Option, Redacted, Schema } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as TestFrames from "../../core/test/support/TestFrames.js"
import { HistoryParams, NotificationParams } from "../src/AlarmsApi.js"
import { IrcamApi } from "../src/Api.js"
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

const periodMs = 125 // 8 Hz
const seed = 1

/** The ISO form of `start + ms`. */
const iso = (ms: number) => new Date(start + ms).toISOString()

/**
 * Short retries, so that giving up happens within a test; no attempt times out (an attempt is
 * real I/O, which the TestClock does not wait for).
 */
const settings: typeof NotifierSettings.Service = {
  webhookTimeout: Duration.hours(1),
  emailTimeout: Duration.hours(1),
  retryBase: Duration.seconds(1),
  retryCap: Duration.seconds(4),
  giveUpAfter: Duration.seconds(20)
}

/** Runs a test in a fresh application on the simulated sensor, with short notifier retries. */
const inApp = (config: Partial<AppConfigShape> = {}) =>
  atStart(
    appLayer(SimulatedSensor.layer(), { refreshRateHz: 1000 / periodMs, simulationSeed: seed, ...config }).pipe(
      Layer.provide(Layer.succeed(NotifierSettings, settings))
    )
  )

/** A webhook receiver on loopback: it answers `status` and keeps the bodies it received. */
interface Receiver {
  readonly url: URL
  status: number
  readonly received: Array<string>
}

const receiver = Effect.acquireRelease(
  Effect.async<{ readonly receiver: Receiver; readonly close: () => Promise<void> }>((resume) => {
    const server = createServer((request, response) => {
      let body = ""
      request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => {
        state.received.push(body)
        response.statusCode = state.status
        response.end(state.status < 300 ? "" : "receiver down")
      })
    })
    const state: Receiver = { url: new URL("http://127.0.0.1/"), status: 200, received: [] }
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      Object.assign(state, { url: new URL(`http://127.0.0.1:${port}/hook`) })
      resume(Effect.succeed({
        receiver: state,
        close: () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections()
            server.close(() => resolve())
          })
      }))
    })
  }),
  ({ close }) => Effect.promise(close)
).pipe(Effect.map(({ receiver }) => receiver))

/** Waits (in real time, up to 5 s) until `check` answers something; for what real I/O does. */
const eventually = <A, E, R>(check: Effect.Effect<Option.Option<A>, E, R>) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 500; attempt++) {
      const result = yield* check
      if (Option.isSome(result)) return result.value
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
    }
    return assert.fail("gave up waiting")
  })

// ---------------------------------------------------------------------------------------------
// the scene

/** The hot plate's pixels: x 24–27, y 4–6. */
const plate: Rect = SimulatedSensor.hotPlate

/** The statistics of `rect` on frame `sequence` of the scene, as the monitor computes them. */
const sceneStats = (sequence: number, rect: Rect = plate) => {
  const temperatures = new Float32Array(PIXELS)
  SimulatedSensor.renderScene(seed, sequence, 1000 / periodMs, temperatures)
  return stats(
    TestFrames.make({ sequence, at: start + sequence * periodMs, temperatures: (i) => temperatures[i]! }),
    rect
  )
}

/** A value as answered: the scene's, to 0.01 °C. */
const assertValue = (answered: number | null | undefined, expected: number) => {
  assert.isNumber(answered)
  assert.closeTo(answered!, expected, 0.005)
}

/** The first frame from `from` on whose max over `rect` satisfies `predicate`. */
const firstFrame = (from: number, predicate: (max: number) => boolean, rect: Rect = plate) => {
  for (let sequence = from; sequence < from + 10_000; sequence++) {
    if (predicate(sceneStats(sequence, rect).max)) return sequence
  }
  throw new Error("no such frame")
}

/** The time of frame `sequence`, ms after `start`. */
const at = (sequence: number) => sequence * periodMs

// ---------------------------------------------------------------------------------------------
// answers

const RuleBody = Schema.parseJson(Rule)
const AlarmBody = Schema.parseJson(AlarmJson)
const AlarmsBody = Schema.parseJson(Schema.Array(AlarmJson))
const HistoryBody = Schema.parseJson(Schema.Array(HistoryEntryJson))
const DeliveriesBody = Schema.parseJson(Schema.Array(DeliveryJson))

/** Decodes an answer after checking its status. */
const decode = <A, I>(schema: Schema.Schema<A, I>, answer: Answer, status = 200) => {
  assert.strictEqual(answer.status, status, answer.text)
  return Schema.decodeUnknownSync(schema)(answer.text)
}

const ruleOf = (answer: Answer, status = 200) => decode(RuleBody, answer, status)
const alarmOf = (answer: Answer) => decode(AlarmBody, answer)
const get = <A, I>(schema: Schema.Schema<A, I>, path: string) => Effect.map(send("GET", path), (a) => decode(schema, a))
const active = get(AlarmsBody, "/api/v1/alarms/active")
const history = (query = "") => get(HistoryBody, `/api/v1/alarms/history${query}`)
const deliveries = (query = "") => get(DeliveriesBody, `/api/v1/alarms/notifications${query}`)

/** `[transition, alarmId, at]` of each history entry, newest first. */
const transitions = (entries: ReadonlyArray<HistoryEntryJson>) =>
  entries.map((entry) => [entry.transition, entry.alarmId as number | null, entry.at] as const)

const plateZone = { name: "hot plate", ...plate }
const plateRule = {
  name: "  plate too hot  ",
  zoneId: 1,
  metric: "max",
  direction: "above",
  threshold: 60,
  delaySeconds: 2,
  severity: "critical"
} as const
/** Holds on every frame of the scene: a warm spot always makes the frame's max 32.8 °C or more. */
const warmRule = {
  name: "something warm",
  metric: "max",
  direction: "above",
  threshold: 30,
  severity: "warning"
} as const

const createZone = Effect.gen(function*() {
  const created = yield* send("POST", "/api/v1/zones", { json: plateZone })
  assert.strictEqual(created.status, 201, created.text)
})

const createRule = (rule: object) =>
  Effect.map(send("POST", "/api/v1/alarms/rules", { json: rule }), (a) => ruleOf(a, 201))

describe("an alarm on the hot plate", () => {
  it.effect("is pending, raised (with its event), acknowledged and cleared as the plate heats and cools", () =>
    Effect.gen(function*() {
      // the timeline: plate max above 60 °C, then (2 s later) raised; cleared below 60 − 1 °C
      const pendingFrame = firstFrame(0, (max) => max > 60)
      const raisedFrame = pendingFrame + 2000 / periodMs
      const clearedFrame = firstFrame(raisedFrame, (max) => max < 59)
      assert.isAbove(at(pendingFrame), 25_000) // the plate heats from 20 s on
      assert.isBelow(at(clearedFrame), 60_000)
      for (let sequence = pendingFrame; sequence < clearedFrame; sequence++) {
        // above 60 °C during the delay (or it would go back to ok), then not below 59 °C until it clears
        assert.isAtLeast(sceneStats(sequence).max, sequence <= raisedFrame ? 60 : 59, `frame ${sequence}`)
      }

      yield* advanceTo(1_000)
      yield* createZone
      const created = yield* send("POST", "/api/v1/alarms/rules", { json: plateRule })
      assert.strictEqual(created.status, 201, created.text)
      assert.match(created.headers["content-type"] ?? "", /application\/json/)
      assert.deepStrictEqual(jsonOf(created), {
        id: 1,
        name: "plate too hot",
        zoneId: 1,
        metric: "max",
        direction: "above",
        threshold: 60,
        hysteresis: 1,
        delaySeconds: 2,
        severity: "critical",
        enabled: true
      })
      assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/alarms/rules")), [jsonOf(created)])
      assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/alarms/rules/1")), jsonOf(created))

      // nothing until the plate passes 60 °C
      yield* advanceTo(at(pendingFrame) - 1)
      assert.deepStrictEqual(yield* active, [])
      assert.deepStrictEqual(yield* history(), [])

      yield* advanceTo(at(pendingFrame) + 500)
      assert.deepStrictEqual(yield* active, [])
      const pending = yield* history()
      assert.deepStrictEqual(transitions(pending), [["pending", null, iso(at(pendingFrame))]])
      assertValue(pending[0]!.value, sceneStats(pendingFrame).max)

      // raised once the condition has held for delaySeconds
      yield* advanceTo(at(raisedFrame) - 1)
      assert.deepStrictEqual(yield* active, [])
      yield* advanceTo(at(raisedFrame) + 500)
      const [answered] = yield* active
      assertValue(answered?.value, sceneStats(raisedFrame).max)
      const raised: AlarmJson = {
        id: AlarmId.make(1),
        ruleId: RuleId.make(1),
        zoneId: ZoneId.make(1),
        severity: "critical",
        state: "active",
        value: answered!.value,
        raisedAt: iso(at(raisedFrame)),
        acknowledgedAt: null,
        clearedAt: null,
        eventId: EventId.make(1),
        triggerFrame: { sequence: raisedFrame, capturedAt: iso(at(raisedFrame)) }
      }
      assert.deepStrictEqual(yield* active, [raised])
      assert.deepStrictEqual(alarmOf(yield* send("GET", "/api/v1/alarms/1")), raised)
      const afterRaise = yield* history()
      assert.deepStrictEqual(transitions(afterRaise), [
        ["raised", 1, iso(at(raisedFrame))],
        ["pending", null, iso(at(pendingFrame))]
      ])
      assert.deepStrictEqual(afterRaise.map((entry) => [entry.id, entry.ruleId]), [[2, 1], [1, 1]])
      assert.strictEqual(afterRaise[0]!.value, raised.value)

      // the alarm's event records the frames around it
      const event = decode(Schema.parseJson(EventJson), yield* send("GET", "/api/v1/events/1"))
      assert.deepStrictEqual([event.kind, event.label, event.zoneId, event.alarmId, event.triggeredAt], [
        "alarm",
        "plate too hot",
        1,
        1,
        iso(at(raisedFrame))
      ])

      // acknowledged: once; again changes nothing
      yield* advanceTo(at(raisedFrame) + 3_000)
      const acknowledged: AlarmJson = { ...raised, acknowledgedAt: iso(at(raisedFrame) + 3_000) }
      assert.deepStrictEqual(alarmOf(yield* send("POST", "/api/v1/alarms/1/ack")), acknowledged)
      yield* advanceTo(at(raisedFrame) + 4_000)
      assert.deepStrictEqual(alarmOf(yield* send("POST", "/api/v1/alarms/1/ack")), acknowledged)
      assert.deepStrictEqual(yield* active, [acknowledged])
      assert.deepStrictEqual(transitions(yield* history()).slice(0, 2), [
        ["acknowledged", 1, iso(at(raisedFrame) + 3_000)],
        ["raised", 1, iso(at(raisedFrame))]
      ])

      // cleared once the plate is below 59 °C
      yield* advanceTo(at(clearedFrame) - 1)
      assert.lengthOf(yield* active, 1)
      yield* advanceTo(at(clearedFrame) + 500)
      assert.deepStrictEqual(yield* active, [])
      const cleared: AlarmJson = { ...acknowledged, state: "cleared", clearedAt: iso(at(clearedFrame)) }
      assert.deepStrictEqual(alarmOf(yield* send("GET", "/api/v1/alarms/1")), cleared)
      const all = yield* history()
      assert.deepStrictEqual(transitions(all), [
        ["cleared", 1, iso(at(clearedFrame))],
        ["acknowledged", 1, iso(at(raisedFrame) + 3_000)],
        ["raised", 1, iso(at(raisedFrame))],
        ["pending", null, iso(at(pendingFrame))]
      ])
      assertValue(all[0]!.value, sceneStats(clearedFrame).max)
      assert.isNull(all[1]!.value)

      // a cleared alarm is not acknowledged
      const late = yield* send("POST", "/api/v1/alarms/1/ack")
      assert.strictEqual(late.status, 409)
      const error = errorOf(late)
      assert.strictEqual(error._tag, "AlarmNotActive")
      assert.strictEqual(error.id, 1)
      assert.include(error.message, "cleared")

      // the typed client decodes every answer
      const client = yield* HttpApiClient.make(IrcamApi)
      assert.deepStrictEqual(yield* client.alarms.get({ path: { id: AlarmId.make(1) } }), cleared)
      assert.deepStrictEqual(yield* client.alarms.active(), [])
      const typed = yield* client.alarms.history({ urlParams: { ruleId: RuleId.make(1), limit: 2 } })
      assert.deepStrictEqual(typed.map((entry) => entry.transition), ["cleared", "acknowledged"])
      const rules = yield* client.alarms.listRules()
      assert.deepStrictEqual(rules.map((rule) => rule.name), ["plate too hot"])
      const notActive = yield* Effect.flip(client.alarms.acknowledge({ path: { id: AlarmId.make(1) } }))
      assert.strictEqual(notActive._tag, "AlarmNotActive")
    }).pipe(inApp()))

  it.effect("a rule on the whole frame (no zoneId) watches every pixel", () =>
    Effect.gen(function*() {
      yield* advanceTo(1_000)
      const rule = yield* createRule({ ...plateRule, zoneId: null, delaySeconds: 0 })
      assert.isNull(rule.zoneId)
      const frame: Rect = { x: 0, y: 0, width: 32, height: 24 }
      const raisedFrame = firstFrame(1_000 / periodMs, (max) => max > 60, frame)
      yield* advanceTo(at(raisedFrame) - 1)
      assert.deepStrictEqual(yield* active, [])
      yield* advanceTo(at(raisedFrame) + 500)
      const [alarm] = yield* active
      assert.strictEqual(alarm?.raisedAt, iso(at(raisedFrame)))
      assert.isNull(alarm?.zoneId)
      assertValue(alarm?.value, sceneStats(raisedFrame, frame).max)
    }).pipe(inApp()))
})

describe("changing a rule", () => {
  it.effect("disabling or deleting it clears its active alarm; enabling it again raises a new one", () =>
    Effect.gen(function*() {
      yield* advanceTo(1_000)
      const rule = yield* createRule(warmRule)
      yield* advanceTo(1_500)
      const [first] = yield* active
      assert.deepStrictEqual([first?.id, first?.ruleId, first?.zoneId, first?.severity], [1, rule.id, null, "warning"])
      assert.strictEqual(first?.raisedAt, iso(1_125), "at the first frame after the rule")

      const disabled = yield* send("PUT", `/api/v1/alarms/rules/${rule.id}`, { json: { ...warmRule, enabled: false } })
      assert.strictEqual(ruleOf(disabled).enabled, false)
      assert.deepStrictEqual(yield* active, [])
      assert.strictEqual(alarmOf(yield* send("GET", "/api/v1/alarms/1")).clearedAt, iso(1_500))
      yield* advanceTo(3_000)
      assert.deepStrictEqual(yield* active, [])

      ruleOf(yield* send("PUT", `/api/v1/alarms/rules/${rule.id}`, { json: warmRule }))
      yield* advanceTo(3_500)
      assert.deepStrictEqual((yield* active).map((alarm) => [alarm.id, alarm.raisedAt]), [[2, iso(3_125)]])

      const deleted = yield* send("DELETE", `/api/v1/alarms/rules/${rule.id}`)
      assert.strictEqual(deleted.status, 204)
      assert.strictEqual(deleted.text, "")
      assert.deepStrictEqual(yield* active, [])
      assert.strictEqual(alarmOf(yield* send("GET", "/api/v1/alarms/2")).state, "cleared")
      // the alarms and the history of a deleted rule stay
      assert.deepStrictEqual(transitions(yield* history(`?ruleId=${rule.id}`)), [
        ["cleared", 2, iso(3_500)],
        ["raised", 2, iso(3_125)],
        ["cleared", 1, iso(1_500)],
        ["raised", 1, iso(1_125)]
      ])
      // a cleared alarm's history entry has no value when its rule, not the scene, cleared it
      assert.isNull((yield* history())[0]!.value)
    }).pipe(inApp()))
})

describe("the rules", () => {
  it.effect("POST applies the defaults; PUT replaces the whole rule; DELETE answers 204, then 404", () =>
    Effect.gen(function*() {
      yield* createZone
      const minimal = yield* createRule({
        name: "cold",
        metric: "min",
        direction: "below",
        threshold: 5,
        severity: "warning"
      })
      assert.deepStrictEqual(Schema.encodeSync(Rule)(minimal), {
        id: RuleId.make(1),
        name: "cold",
        zoneId: null,
        metric: "min",
        direction: "below",
        threshold: 5,
        hysteresis: 1,
        delaySeconds: 0,
        severity: "warning",
        enabled: true
      })
      const full = {
        name: "fast rise",
        zoneId: 1,
        metric: "rate",
        direction: "above",
        threshold: 20.5,
        hysteresis: 0,
        delaySeconds: 86_400,
        severity: "critical",
        enabled: false
      }
      const second = yield* createRule(full)
      assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/alarms/rules/2")), { id: 2, ...full })
      assert.deepStrictEqual(
        (yield* get(Schema.parseJson(Schema.Array(Rule)), "/api/v1/alarms/rules")).map((rule) => rule.id),
        [minimal.id, second.id]
      )

      // PUT takes the whole rule: what it leaves out takes its default again
      const replaced = yield* send("PUT", "/api/v1/alarms/rules/2", {
        json: { name: "hot", zoneId: 1, metric: "average", direction: "above", threshold: 70, severity: "warning" }
      })
      assert.deepStrictEqual(jsonOf(replaced), {
        id: 2,
        name: "hot",
        zoneId: 1,
        metric: "average",
        direction: "above",
        threshold: 70,
        hysteresis: 1,
        delaySeconds: 0,
        severity: "warning",
        enabled: true
      })
      assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/alarms/rules/2")), jsonOf(replaced))

      assert.strictEqual((yield* send("DELETE", "/api/v1/alarms/rules/1")).status, 204)
      for (const [method, options] of [["GET", {}], ["PUT", { json: full }], ["DELETE", {}]] as const) {
        const gone = yield* send(method, "/api/v1/alarms/rules/1", options)
        assert.strictEqual(gone.status, 404, method)
        const error = errorOf(gone)
        assert.strictEqual(error._tag, "RuleNotFound")
        assert.strictEqual(error.id, 1)
        assert.include(error.message, "1")
      }
      // ids are not reused
      assert.strictEqual((yield* createRule(warmRule)).id, 3)
      assert.deepStrictEqual(
        (yield* get(Schema.parseJson(Schema.Array(Rule)), "/api/v1/alarms/rules")).map((r) => r.id),
        [2, 3]
      )

      // a zone's rules go with it
      assert.strictEqual((yield* send("DELETE", "/api/v1/zones/1")).status, 204)
      assert.deepStrictEqual(
        (yield* get(Schema.parseJson(Schema.Array(Rule)), "/api/v1/alarms/rules")).map((r) => r.id),
        [3]
      )
      assert.strictEqual((yield* send("GET", "/api/v1/alarms/rules/2")).status, 404)

      const client = yield* HttpApiClient.make(IrcamApi)
      const input = {
        name: "typed",
        zoneId: null,
        metric: "max",
        direction: "above",
        threshold: 50,
        hysteresis: 2,
        delaySeconds: 1,
        severity: "warning",
        enabled: true
      } as const
      const typed = yield* client.alarms.createRule({ payload: input })
      assert.deepStrictEqual(typed, new Rule({ id: RuleId.make(4), ...input }))
      const updated = yield* client.alarms.updateRule({ path: { id: typed.id }, payload: { ...input, threshold: 55 } })
      assert.strictEqual(updated.threshold, 55)
      yield* client.alarms.deleteRule({ path: { id: typed.id } })
      const missing = yield* Effect.flip(client.alarms.getRule({ path: { id: typed.id } }))
      assert.strictEqual(missing._tag, "RuleNotFound")
    }).pipe(inApp()))

  it.effect("a zone that does not exist is a 422 RuleInvalid naming zoneId", () =>
    Effect.gen(function*() {
      yield* createZone
      const rule = yield* createRule({ ...plateRule })
      for (
        const [method, path] of [["POST", "/api/v1/alarms/rules"], ["PUT", `/api/v1/alarms/rules/${rule.id}`]] as const
      ) {
        const answer = yield* send(method, path, { json: { ...plateRule, zoneId: 9 } })
        assert.strictEqual(answer.status, 422, `${method}: ${answer.text}`)
        const error = errorOf(answer)
        assert.strictEqual(error._tag, "RuleInvalid")
        assert.strictEqual(error.field, "zoneId")
        assert.include(error.message, "9")
      }
      // unchanged, and nothing created
      assert.strictEqual(ruleOf(yield* send("GET", `/api/v1/alarms/rules/${rule.id}`)).zoneId, 1)
      assert.lengthOf(jsonOf(yield* send("GET", "/api/v1/alarms/rules")) as Array<unknown>, 1)
      // an unknown rule is a 404 before its zone is looked at
      assert.strictEqual(
        (yield* send("PUT", "/api/v1/alarms/rules/7", { json: { ...plateRule, zoneId: 9 } })).status,
        404
      )
      const client = yield* HttpApiClient.make(IrcamApi)
      const error = yield* Effect.flip(client.alarms.createRule({
        payload: { ...plateRule, name: "plate too hot", zoneId: ZoneId.make(9), hysteresis: 1, enabled: true }
      }))
      assert.strictEqual(error._tag, "RuleInvalid")
    }).pipe(inApp()))

  it.effect("an invalid rule is a 400 naming the field", () =>
    Effect.gen(function*() {
      yield* createZone
      const valid = { name: "r", zoneId: 1, metric: "max", direction: "above", threshold: 60, severity: "warning" }
      const cases: ReadonlyArray<readonly [body: unknown, path: ReadonlyArray<string>]> = [
        [{ ...valid, name: "" }, ["name"]],
        [{ ...valid, name: "   " }, ["name"]],
        [{ ...valid, name: "x".repeat(101) }, ["name"]],
        [{ ...valid, name: 7 }, ["name"]],
        [{ ...valid, name: undefined }, ["name"]],
        [{ ...valid, zoneId: 0 }, ["zoneId"]],
        [{ ...valid, zoneId: 1.5 }, ["zoneId"]],
        [{ ...valid, zoneId: "1" }, ["zoneId"]],
        [{ ...valid, metric: "avg" }, ["metric"]],
        [{ ...valid, metric: undefined }, ["metric"]],
        [{ ...valid, direction: "over" }, ["direction"]],
        [{ ...valid, threshold: "60" }, ["threshold"]],
        [{ ...valid, threshold: 1001 }, ["threshold"]],
        [{ ...valid, threshold: -101 }, ["threshold"]],
        [{ ...valid, threshold: null }, ["threshold"]],
        [{ ...valid, threshold: undefined }, ["threshold"]],
        [{ ...valid, hysteresis: -1 }, ["hysteresis"]],
        [{ ...valid, hysteresis: 101 }, ["hysteresis"]],
        [{ ...valid, delaySeconds: -1 }, ["delaySeconds"]],
        [{ ...valid, delaySeconds: 86_401 }, ["delaySeconds"]],
        [{ ...valid, severity: "info" }, ["severity"]],
        [{ ...valid, enabled: "yes" }, ["enabled"]],
        [{ ...valid, enabled: null }, ["enabled"]],
        // fields it does not know are refused, not ignored: a misspelt one would silently take its default
        [{ ...valid, delay: 5 }, ["delay"]],
        [{ ...valid, id: 3 }, ["id"]],
        [[], []],
        ["rule", []],
        [null, []]
      ]
      for (const [body, path] of cases) {
        for (const [method, url] of [["POST", "/api/v1/alarms/rules"], ["PUT", "/api/v1/alarms/rules/1"]] as const) {
          const answer = yield* send(method, url, { body: JSON.stringify(body) })
          assert.strictEqual(answer.status, 400, `${method} ${JSON.stringify(body)}: ${answer.text}`)
          assert.deepStrictEqual(decodeErrorOf(answer).issues[0].path, path, `${method} ${JSON.stringify(body)}`)
        }
      }
      // JSON has no infinity: 1e999 reads as one
      const huge = yield* send("POST", "/api/v1/alarms/rules", { body: JSON.stringify(valid).replace("60", "1e999") })
      assert.deepStrictEqual(decodeErrorOf(huge).issues[0].path, ["threshold"])
      const noBody = yield* send("POST", "/api/v1/alarms/rules")
      assert.strictEqual(noBody.status, 400)
      const malformed = yield* send("POST", "/api/v1/alarms/rules", { body: "{\"name\":" })
      assert.strictEqual(malformed.status, 400)
      assert.strictEqual(errorOf(malformed)._tag, "MalformedBody")
      assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/alarms/rules")), [])
    }).pipe(inApp()))
})

describe("ids", () => {
  it.effect("that are not positive integers are a 400 naming id; unknown ones a 404", () =>
    Effect.gen(function*() {
      const endpoints = [
        ["GET", "/api/v1/alarms/rules/"],
        ["PUT", "/api/v1/alarms/rules/"],
        ["DELETE", "/api/v1/alarms/rules/"],
        ["GET", "/api/v1/alarms/"],
        ["POST", "/api/v1/alarms/", "/ack"]
      ] as const
      for (const id of ["abc", "0", "-1", "1.5", "NaN", "99999999999999999999"]) {
        for (const [method, prefix, suffix = ""] of endpoints) {
          const answer = yield* send(method, `${prefix}${id}${suffix}`, method === "PUT" ? { json: warmRule } : {})
          assert.strictEqual(answer.status, 400, `${method} ${prefix}${id}${suffix}`)
          assert.deepStrictEqual(decodeErrorOf(answer).issues[0].path, ["id"], `${method} ${prefix}${id}${suffix}`)
        }
      }
      for (const [method, prefix, suffix = ""] of endpoints) {
        const answer = yield* send(method, `${prefix}42${suffix}`, method === "PUT" ? { json: warmRule } : {})
        assert.strictEqual(answer.status, 404, `${method} ${prefix}42${suffix}`)
        const error = errorOf(answer)
        assert.strictEqual(error._tag, prefix.includes("rules") ? "RuleNotFound" : "AlarmNotFound")
        assert.strictEqual(error.id, 42)
        assert.include(error.message, "42")
      }
      const client = yield* HttpApiClient.make(IrcamApi)
      assert.strictEqual(
        (yield* Effect.flip(client.alarms.get({ path: { id: AlarmId.make(42) } })))._tag,
        "AlarmNotFound"
      )
    }).pipe(inApp()))
})

describe("with API_TOKEN", () => {
  it.effect("creating, changing and deleting rules and acknowledging need the token (401); reads do not", () =>
    Effect.gen(function*() {
      yield* advanceTo(1_000)
      const writes = [
        ["POST", "/api/v1/alarms/rules", { json: warmRule }],
        ["PUT", "/api/v1/alarms/rules/1", { json: warmRule }],
        ["DELETE", "/api/v1/alarms/rules/1", {}],
        ["POST", "/api/v1/alarms/1/ack", {}]
      ] as const
      for (const [method, path, options] of writes) {
        for (const token of [undefined, "wrong"]) {
          const denied = yield* send(method, path, token === undefined ? options : { ...options, token })
          assert.strictEqual(denied.status, 401, `${method} ${path} ${token}`)
          assert.strictEqual(errorOf(denied)._tag, "Unauthorized")
          assert.strictEqual(denied.headers["www-authenticate"], "Bearer realm=\"ircam\"")
        }
      }
      assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/alarms/rules")), [])

      const token = "s3cret"
      assert.strictEqual((yield* send("POST", "/api/v1/alarms/rules", { json: warmRule, token })).status, 201)
      yield* advanceTo(1_500)
      for (
        const path of [
          "/api/v1/alarms/rules",
          "/api/v1/alarms/rules/1",
          "/api/v1/alarms/active",
          "/api/v1/alarms/history",
          "/api/v1/alarms/notifications",
          "/api/v1/alarms/1"
        ]
      ) {
        assert.strictEqual((yield* send("GET", path)).status, 200, path)
      }
      assert.strictEqual((yield* send("POST", "/api/v1/alarms/1/ack", { token })).status, 200)
      assert.strictEqual((yield* send("PUT", "/api/v1/alarms/rules/1", { json: warmRule, token })).status, 200)
      assert.strictEqual((yield* send("DELETE", "/api/v1/alarms/rules/1", { token })).status, 204)

      const client = yield* HttpApiClient.make(IrcamApi, {
        transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
      })
      const rule = yield* client.alarms.createRule({
        payload: { ...warmRule, zoneId: null, hysteresis: 1, delaySeconds: 0, enabled: true }
      })
      const error = yield* Effect.flip(
        (yield* HttpApiClient.make(IrcamApi)).alarms.deleteRule({ path: { id: rule.id } })
      )
      assert.strictEqual(error._tag, "Unauthorized")
    }).pipe(inApp({ apiToken: Option.some(Redacted.make("s3cret")) })))
})

/** Adds history entries straight to the database: `count` of them, alternating between rules 1 and 2. */
const seedHistory = (count: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = Array.from({ length: count }, (_, i) => ({
      ruleId: (i % 2) + 1,
      alarmId: null,
      transition: i % 3 === 0 ? "pending" : "ok",
      value: 60 + i,
      at: start + i * 1000
    }))
    yield* sql`INSERT INTO alarm_history ${sql.insert(rows)}`
  })

describe("GET /api/v1/alarms/history", () => {
  it.effect("answers newest first, at most limit (default 100), filtered by ruleId, in pages by before", () =>
    Effect.gen(function*() {
      yield* seedHistory(150)
      const ids = (entries: ReadonlyArray<HistoryEntryJson>) => entries.map((entry) => entry.id)
      const range = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => from - i)

      const first = yield* history()
      assert.deepStrictEqual(ids(first), range(150, 51))
      assert.deepStrictEqual(first[0], {
        id: 150,
        ruleId: RuleId.make(2),
        alarmId: null,
        transition: "ok",
        value: 209,
        at: iso(149_000)
      })
      const [raw] = jsonOf(yield* send("GET", "/api/v1/alarms/history?limit=1")) as Array<object>
      assert.sameMembers(Object.keys(raw!), ["id", "ruleId", "alarmId", "transition", "value", "at"])

      const cases: ReadonlyArray<readonly [query: string, ids: ReadonlyArray<number>]> = [
        ["?limit=1000", range(150, 1)],
        ["?limit=1", [150]],
        ["?limit=3&before=148", [147, 146, 145]],
        ["?before=3", [2, 1]],
        ["?before=1", []],
        ["?before=999", range(150, 51)],
        ["?ruleId=1&limit=3", [149, 147, 145]],
        ["?ruleId=2&limit=2&before=145", [144, 142]],
        ["?ruleId=3", []]
      ]
      for (const [query, expected] of cases) assert.deepStrictEqual(ids(yield* history(query)), expected, query)

      // walking the pages of a rule
      const seen: Array<number> = []
      let before = ""
      for (;;) {
        const page = ids(yield* history(`?ruleId=1&limit=40${before}`))
        if (page.length === 0) break
        seen.push(...page)
        before = `&before=${page[page.length - 1]}`
      }
      assert.deepStrictEqual(seen, range(150, 1).filter((id) => id % 2 === 1))

      const client = yield* HttpApiClient.make(IrcamApi)
      const typed = yield* client.alarms.history({ urlParams: { ruleId: RuleId.make(2), before: 10, limit: 2 } })
      assert.deepStrictEqual(ids(typed), [8, 6])
      assert.deepStrictEqual(Schema.decodeUnknownSync(HistoryParams)({}), { limit: 100 })
    }).pipe(inApp()))

  it.effect("invalid parameters are a 400 naming them", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [query: string, field: string]> = [
        ["limit=0", "limit"],
        ["limit=1001", "limit"],
        ["limit=2.5", "limit"],
        ["limit=ten", "limit"],
        ["limit=", "limit"],
        ["before=0", "before"],
        ["before=-3", "before"],
        ["before=x", "before"],
        ["ruleId=0", "ruleId"],
        ["ruleId=abc", "ruleId"],
        ["ruleId=1&ruleId=2", "ruleId"]
      ]
      for (const [query, field] of cases) {
        const answer = yield* send("GET", `/api/v1/alarms/history?${query}`)
        assert.strictEqual(answer.status, 400, `${query}: ${answer.text}`)
        assert.deepStrictEqual(decodeErrorOf(answer).issues[0].path, [field], query)
      }
    }).pipe(inApp()))
})

describe("GET /api/v1/alarms/notifications", () => {
  it.scoped("shows each delivery: pending with its last error, given up after the retry bound, delivered", () =>
    Effect.gen(function*() {
      const webhook = yield* receiver
      webhook.status = 503
      yield* Effect.gen(function*() {
        assert.deepStrictEqual(yield* deliveries(), [])
        yield* advanceTo(1_000)
        yield* createRule(warmRule)

        // raised at 1.125 s; the receiver fails, so the delivery stays pending with the error
        yield* advanceTo(1_500)
        const pending = yield* eventually(
          Effect.map(deliveries(), (all) => Option.fromNullable(all.find((d) => d.attempts > 0)))
        )
        assert.deepStrictEqual(
          [pending.id, pending.channel, pending.type, pending.status, pending.createdAt, pending.deliveredAt],
          [1, "webhook", "alarm.raised", "pending", iso(1_125), null]
        )
        assert.strictEqual(pending.lastError, "HTTP 503: receiver down")
        assert.isAbove(Date.parse(pending.nextAttemptAt!), start + 1_125)
        assert.match(pending.messageId, /^msg_/)
        const raised = JSON.parse(webhook.received[0]!)
        assert.strictEqual(raised.type, "alarm.raised")
        assert.strictEqual(raised.data.alarm.id, 1)

        // given up 20 s after it was queued, and not tried again
        yield* advanceTo(1_125 + 20_000 + 500)
        const givenUp = yield* eventually(
          Effect.map(deliveries(), ([d]) => Option.fromNullable(d?.status === "given_up" ? d : undefined))
        )
        assert.isNull(givenUp.nextAttemptAt)
        assert.isNull(givenUp.deliveredAt)
        assert.strictEqual(givenUp.lastError, "HTTP 503: receiver down")
        assert.isAbove(givenUp.attempts, 1)
        assert.strictEqual(webhook.received.length, givenUp.attempts)
        yield* advanceTo(40_000)
        assert.strictEqual(webhook.received.length, givenUp.attempts, "no attempt after giving up")

        // the receiver is back: the clearing is delivered
        webhook.status = 204
        ruleOf(yield* send("PUT", "/api/v1/alarms/rules/1", { json: { ...warmRule, enabled: false } }))
        const all = yield* eventually(
          Effect.map(deliveries(), (all) => Option.some(all).pipe(Option.filter(([d]) => d?.status === "delivered")))
        )
        assert.deepStrictEqual(all.map((d) => [d.id, d.type, d.status]), [
          [2, "alarm.cleared", "delivered"],
          [1, "alarm.raised", "given_up"]
        ])
        assert.strictEqual(all[0]!.deliveredAt, iso(40_000))
        assert.strictEqual(all[0]!.attempts, 1)
        assert.isNull(all[0]!.lastError)
        assert.isNull(all[0]!.nextAttemptAt)
        assert.strictEqual(JSON.parse(webhook.received[webhook.received.length - 1]!).type, "alarm.cleared")

        const cases: ReadonlyArray<readonly [query: string, ids: ReadonlyArray<number>]> = [
          ["?status=given_up", [1]],
          ["?status=delivered", [2]],
          ["?status=pending", []],
          ["?channel=webhook", [2, 1]],
          ["?channel=email", []],
          ["?limit=1", [2]],
          ["?before=2", [1]],
          ["?status=given_up&limit=1000", [1]]
        ]
        for (const [query, ids] of cases) {
          assert.deepStrictEqual((yield* deliveries(query)).map((d) => d.id), ids, query)
        }
        const client = yield* HttpApiClient.make(IrcamApi)
        const typed = yield* client.alarms.notifications({ urlParams: { status: "given_up", limit: 10 } })
        assert.deepStrictEqual(typed.map((d) => d.id), [1])
        assert.deepStrictEqual(Schema.decodeUnknownSync(NotificationParams)({}), { limit: 100 })
      }).pipe(inApp({ webhookUrl: Option.some(webhook.url) }))
    }))

  it.effect("invalid parameters are a 400 naming them", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [query: string, field: string]> = [
        ["status=failed", "status"],
        ["status=GIVEN_UP", "status"],
        ["channel=SMS", "channel"],
        ["limit=0", "limit"],
        ["limit=1001", "limit"],
        ["before=0", "before"]
      ]
      for (const [query, field] of cases) {
        const answer = yield* send("GET", `/api/v1/alarms/notifications?${query}`)
        assert.strictEqual(answer.status, 400, `${query}: ${answer.text}`)
        assert.deepStrictEqual(decodeErrorOf(answer).issues[0].path, [field], query)
      }
    }).pipe(inApp()))
})

describe("when the database fails", () => {
  it.effect("every alarms endpoint answers 503 StorageError with a message", () =>
    Effect.gen(function*() {
      yield* advanceTo(1_000)
      yield* createRule(warmRule)
      yield* advanceTo(1_500)
      const sql = yield* SqlClient.SqlClient
      for (const table of ["alarm_history", "alarms", "alarm_rules", "outbox"]) yield* sql`DROP TABLE ${sql(table)}`
      const requests = [
        ["GET", "/api/v1/alarms/rules", {}],
        ["POST", "/api/v1/alarms/rules", { json: warmRule }],
        ["GET", "/api/v1/alarms/rules/1", {}],
        ["PUT", "/api/v1/alarms/rules/1", { json: warmRule }],
        ["DELETE", "/api/v1/alarms/rules/1", {}],
        ["GET", "/api/v1/alarms/active", {}],
        ["GET", "/api/v1/alarms/history", {}],
        ["GET", "/api/v1/alarms/notifications", {}],
        ["GET", "/api/v1/alarms/1", {}],
        ["POST", "/api/v1/alarms/1/ack", {}]
      ] as const
      for (const [method, path, options] of requests) {
        const answer = yield* send(method, path, options)
        assert.strictEqual(answer.status, 503, `${method} ${path}: ${answer.text}`)
        const error = errorOf(answer)
        assert.strictEqual(error._tag, "StorageError")
        assert.match(error.message, /^cannot .+: ./)
      }
      const client = yield* HttpApiClient.make(IrcamApi)
      assert.strictEqual((yield* Effect.flip(client.alarms.active()))._tag, "StorageError")
      // the rest of the API goes on
      assert.strictEqual((yield* send("GET", "/api/v1/zones")).status, 200)
    }).pipe(inApp()))
})

describe("the OpenAPI document", () => {
  it.effect("documents the alarms endpoints, their parameters, errors and which need the token", () =>
    Effect.gen(function*() {
      interface Operation {
        readonly parameters: ReadonlyArray<{ readonly name: string; readonly in: string; readonly required: boolean }>
        readonly requestBody?: { readonly required: boolean }
        readonly responses: Record<string, unknown>
        readonly security: ReadonlyArray<Record<string, unknown>>
      }
      const document = jsonOf(yield* send("GET", "/api/v1/openapi.json")) as {
        readonly paths: Record<string, Record<string, Operation>>
      }
      const path = (p: string) => document.paths[`/api/v1/alarms${p}`]!
      assert.sameMembers(Object.keys(path("/rules")), ["get", "post"])
      assert.sameMembers(Object.keys(path("/rules/{id}")), ["get", "put", "delete"])
      for (const p of ["/active", "/history", "/notifications", "/{id}"]) {
        assert.sameMembers(Object.keys(path(p)), ["get"])
      }
      assert.sameMembers(Object.keys(path("/{id}/ack")), ["post"])

      const guarded = [
        path("/rules")["post"]!,
        path("/rules/{id}")["put"]!,
        path("/rules/{id}")["delete"]!,
        path("/{id}/ack")["post"]!
      ]
      for (const operation of guarded) {
        assert.deepStrictEqual(operation.security, [{ bearer: [] }])
        assert.property(operation.responses, "401")
      }
      for (const operation of [path("/rules")["get"]!, path("/active")["get"]!, path("/{id}")["get"]!]) {
        assert.isEmpty(operation.security)
      }
      assert.includeMembers(Object.keys(path("/rules")["post"]!.responses), ["201", "400", "401", "422", "503"])
      assert.includeMembers(Object.keys(path("/rules/{id}")["put"]!.responses), [
        "200",
        "400",
        "401",
        "404",
        "422",
        "503"
      ])
      assert.includeMembers(Object.keys(path("/rules/{id}")["delete"]!.responses), ["204", "401", "404", "503"])
      assert.includeMembers(Object.keys(path("/{id}/ack")["post"]!.responses), ["200", "401", "404", "409", "503"])
      const list = path("/history")["get"]!
      assert.sameMembers(list.parameters.map((p) => p.name), ["ruleId", "limit", "before"])
      assert.isTrue(list.parameters.every((p) => p.in === "query" && !p.required))
      assert.sameMembers(path("/notifications")["get"]!.parameters.map((p) => p.name), [
        "status",
        "channel",
        "limit",
        "before"
      ])
    }).pipe(inApp()))
})

describe("nothing a client sends to the alarms API is answered with a 5xx", () => {
  it.effect("bodies, queries and paths", () =>
    Effect.gen(function*() {
      yield* createZone
      const bodies = [
        "{\"name\":\"\\u0000\",\"metric\":\"max\",\"direction\":\"above\",\"threshold\":1,\"severity\":\"warning\"}",
        "{\"__proto__\":{\"name\":\"x\"}}",
        "{\"constructor\":{\"prototype\":{}}}",
        "{\"name\":\"x\",\"metric\":\"max\",\"direction\":\"above\",\"threshold\":1,\"severity\":\"warning\",\"zoneId\":1e308}",
        "{\"name\":\"x\",\"metric\":\"max\",\"direction\":\"above\",\"threshold\":1,\"severity\":\"warning\",\"zoneId\":9007199254740993}",
        "[".repeat(5000) + "]".repeat(5000),
        "\u00ff\u00fe"
      ]
      for (const body of bodies) {
        for (
          const [method, path] of [["POST", "/api/v1/alarms/rules"], ["PUT", "/api/v1/alarms/rules/1"], [
            "POST",
            "/api/v1/alarms/1/ack"
          ]] as const
        ) {
          const answer = yield* send(method, path, { body })
          assert.isBelow(answer.status, 500, `${method} ${path} ${body.slice(0, 60)}`)
          if (answer.status >= 400) {
            assert.isString(Schema.decodeUnknownSync(Schema.parseJson(ErrorBody))(answer.text)._tag)
          }
        }
      }
      const paths = [
        "/api/v1/alarms/history?limit=1e4",
        "/api/v1/alarms/history?before=1&before=2",
        "/api/v1/alarms/notifications?status=pending&status=delivered",
        "/api/v1/alarms/rules/1/x",
        "/api/v1/alarms/1%2F2",
        "/api/v1/alarms/",
        "/api/v1/alarms"
      ]
      for (const path of paths) {
        const answer = yield* send("GET", path)
        assert.isBelow(answer.status, 500, path)
        assert.isString(errorOf(answer)._tag, path)
      }
    }).pipe(inApp()))
})
