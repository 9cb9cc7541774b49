/**
 * AlarmEngine inside the whole core (monitor, zones, events, notifier outbox) on an in-memory
 * database, fed frames by the test, on the TestClock.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Queue, Scope, Stream, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { RuleInput } from "../src/Alarm.js"
import { AlarmEngine, AlarmNotActive, AlarmNotFound, RuleInvalid, RuleNotFound } from "../src/AlarmEngine.js"
import { AppConfig, type AppConfigShape } from "../src/AppConfig.js"
import * as Core from "../src/Core.js"
import * as Database from "../src/Database.js"
import { EventStore } from "../src/EventStore.js"
import { type Frame, PIXELS } from "../src/Frame.js"
import { Health } from "../src/Health.js"
import { Monitor } from "../src/Monitor.js"
import { Sensor } from "../src/Sensor.js"
import type { ZoneId } from "../src/Zone.js"
import { ZoneRepo } from "../src/ZoneRepo.js"

const PERIOD = 500 // 2 Hz

/** 20 °C everywhere but the 4 × 3 pixels at x 24, y 4, which are at `hot` °C. */
const frameOf = (sequence: number, capturedAt: number, hot: number): Frame => {
  const temperatures = new Float32Array(PIXELS).fill(20)
  for (let y = 4; y < 7; y++) for (let x = 24; x < 28; x++) temperatures[y * 32 + x] = hot
  return { temperatures, capturedAt, sequence, ambient: 25, vdd: 3.3 }
}

const rule = (fields: Partial<RuleInput> = {}): RuleInput => ({
  name: "plate too hot",
  zoneId: null,
  metric: "max",
  direction: "above",
  threshold: 60,
  hysteresis: 2,
  delaySeconds: 2,
  severity: "critical",
  enabled: true,
  ...fields
})

const setup = (config: Partial<AppConfigShape> = {}) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const queue = yield* Queue.unbounded<Frame>()
    const context = yield* Layer.buildWithScope(
      Core.layer.pipe(
        Layer.provide(Sensor.layerTest(Stream.fromQueue(queue), { refreshRateHz: 2 })),
        Layer.provide(AppConfig.layerWith({
          databasePath: Database.memory,
          refreshRateHz: 2,
          preEventSeconds: 2,
          postEventSeconds: 2,
          webhookUrl: Option.some(new URL("http://127.0.0.1:9/unreachable")),
          ...config
        }))
      ),
      scope
    )
    const engine = Context.get(context, AlarmEngine)
    const zones = Context.get(context, ZoneRepo)
    const monitor = Context.get(context, Monitor)
    const health = Context.get(context, Health)
    const sql = Context.get(context, SqlClient.SqlClient)
    const events = Context.get(context, EventStore)
    let sequence = 0
    const evaluations = Effect.map(health.report, (r) => r.checks["alarms"]!.details["evaluations"] as number)
    /** One frame a period with the hot pixels at `hot`, each seen by the engine before the next. */
    const feed = (hot: number, seconds: number) =>
      Effect.gen(function*() {
        for (let i = 0; i < seconds * 1000 / PERIOD; i++) {
          yield* TestClock.adjust(PERIOD)
          const before = yield* evaluations
          yield* Queue.offer(queue, frameOf(sequence++, yield* TestClock.currentTimeMillis, hot))
          for (let n = 0; n < 1000 && (yield* evaluations) === before; n++) yield* Effect.yieldNow()
        }
      })
    const plate = yield* zones.create({
      id: undefined,
      name: "plate",
      color: undefined,
      x: 24,
      y: 4,
      width: 4,
      height: 3
    })
    const transitions = Effect.map(
      engine.history({ limit: 100 }),
      (entries) => entries.map((e) => `${e.transition}${e.value === null ? "" : `@${e.value}`}`).reverse()
    )
    const outbox = sql<{ channel: string; payload: string }>`SELECT channel, payload FROM outbox ORDER BY id`
    return { engine, zones, monitor, sql, events, feed, plate, transitions, outbox, scope }
  })

describe("AlarmEngine", () => {
  it.effect("pending, raised after the delay with an event and a notification, acknowledged, cleared", () =>
    Effect.gen(function*() {
      const { engine, events, feed, outbox, plate, transitions } = yield* setup()
      const created = yield* engine.createRule(rule({ zoneId: plate.id }))
      yield* feed(30, 3)
      assert.deepStrictEqual(yield* engine.active, [])
      yield* feed(70, 1.5)
      assert.deepStrictEqual(yield* engine.active, [], "pending for 1 s of the 2 s delay")
      yield* feed(70, 1)
      const [alarm] = yield* engine.active
      assert.deepStrictEqual(
        { ...alarm!, raisedAt: undefined, eventId: undefined },
        {
          id: alarm!.id,
          ruleId: created.id,
          zoneId: plate.id,
          severity: "critical",
          state: "active",
          value: 70,
          raisedAt: undefined,
          acknowledgedAt: null,
          clearedAt: null,
          eventId: undefined
        }
      )
      const event = yield* events.get(alarm!.eventId!)
      assert.strictEqual(event.kind, "alarm")
      assert.strictEqual(event.zoneId, plate.id)
      assert.strictEqual(event.alarmId, alarm!.id)
      assert.strictEqual(event.label, "plate too hot")

      const acknowledged = yield* engine.acknowledge(alarm!.id)
      assert.isNotNull(acknowledged.acknowledgedAt)
      assert.deepStrictEqual(yield* engine.acknowledge(alarm!.id), acknowledged, "acknowledging twice changes nothing")

      yield* feed(59, 2) // within the hysteresis: still active
      assert.lengthOf(yield* engine.active, 1)
      yield* feed(57, 1)
      assert.deepStrictEqual(yield* engine.active, [])
      const cleared = yield* engine.getAlarm(alarm!.id)
      assert.strictEqual(cleared.state, "cleared")
      assert.isNotNull(cleared.clearedAt)
      assert.deepStrictEqual(yield* transitions, ["pending@70", "raised@70", "acknowledged", "cleared@57"])

      const sent = (yield* outbox).map((row) => ({ channel: row.channel, ...JSON.parse(row.payload) }))
      assert.deepStrictEqual(sent.map((n) => [n.channel, n.type, n.data.alarm.state]), [
        ["webhook", "alarm.raised", "active"],
        ["webhook", "alarm.cleared", "cleared"]
      ])
      assert.deepStrictEqual(sent[0].data.rule, {
        id: created.id,
        name: "plate too hot",
        zoneId: plate.id,
        zoneName: "plate",
        metric: "max",
        direction: "above",
        threshold: 60,
        severity: "critical"
      })

      const error = yield* Effect.flip(engine.acknowledge(alarm!.id))
      assert.instanceOf(error, AlarmNotActive)
    }))

  it.effect("a condition that stops before the delay goes back to ok; flapping inside the hysteresis does not clear", () =>
    Effect.gen(function*() {
      const { engine, feed, plate, transitions } = yield* setup()
      yield* engine.createRule(rule({ zoneId: plate.id, delaySeconds: 1.5 }))
      yield* feed(61, 1)
      yield* feed(50, 0.5)
      yield* feed(61, 2)
      for (let i = 0; i < 4; i++) {
        yield* feed(61, 0.5)
        yield* feed(58.5, 0.5)
      }
      assert.deepStrictEqual(yield* transitions, ["pending@61", "ok@50", "pending@61", "raised@61"])
      assert.lengthOf(yield* engine.active, 1)
    }))

  it.effect("the whole frame, and other metrics and directions", () =>
    Effect.gen(function*() {
      const { engine, feed } = yield* setup()
      // the average of the frame: 12 pixels of 768 at `hot`, the rest at 20
      yield* engine.createRule(
        rule({ name: "room", metric: "average", threshold: 20.5, hysteresis: 0.5, delaySeconds: 0 })
      )
      yield* engine.createRule(
        rule({ name: "cold", metric: "min", direction: "below", threshold: 10, delaySeconds: 0 })
      )
      yield* feed(80, 1)
      const active = yield* engine.active
      assert.lengthOf(active, 1)
      assert.strictEqual(active[0]!.value, 20.94, "20 + 60 × 12 / 768 = 20.9375, to 0.01")
      yield* feed(0, 1)
      assert.deepStrictEqual((yield* engine.active).map((a) => a.value), [0], "the cold rule; the room cleared")
    }))

  it.effect("rate: the change of the max in °C per minute, once 10 s of data are in", () =>
    Effect.gen(function*() {
      const { engine, feed, plate } = yield* setup()
      yield* engine.createRule(
        rule({ zoneId: plate.id, metric: "rate", threshold: 20, delaySeconds: 0, hysteresis: 5 })
      )
      // 0.25 °C a frame at 2 Hz = 30 °C per minute
      for (let i = 0; i < 30; i++) yield* feed(30 + i * 0.25, 0.5)
      const [alarm] = yield* engine.active
      assert.closeTo(alarm!.value, 30, 0.5)
      yield* feed(37.5, 70)
      assert.deepStrictEqual(yield* engine.active, [], "steady again: cleared")
    }))

  it.effect("deleting a zone deletes its rules and clears their alarms; so do deleting and disabling a rule", () =>
    Effect.gen(function*() {
      const { engine, feed, plate, zones } = yield* setup()
      const onZone = yield* engine.createRule(rule({ zoneId: plate.id, delaySeconds: 0 }))
      const deleted = yield* engine.createRule(rule({ name: "b", delaySeconds: 0 }))
      const disabled = yield* engine.createRule(rule({ name: "c", delaySeconds: 0 }))
      yield* feed(70, 1)
      assert.lengthOf(yield* engine.active, 3)

      yield* zones.remove(plate.id)
      yield* feed(70, 1)
      assert.instanceOf(yield* Effect.flip(engine.getRule(onZone.id)), RuleNotFound)
      yield* engine.deleteRule(deleted.id)
      yield* engine.updateRule(disabled.id, rule({ name: "c", delaySeconds: 0, enabled: false }))
      assert.deepStrictEqual(yield* engine.active, [])
      assert.deepStrictEqual((yield* engine.rules).map((r) => [r.name, r.enabled]), [["c", false]])
      yield* feed(70, 1)
      assert.deepStrictEqual(yield* engine.active, [], "a disabled rule raises nothing")
    }))

  it.effect("rules are checked: unknown zone, unknown rule, unknown alarm", () =>
    Effect.gen(function*() {
      const { engine } = yield* setup()
      const invalid = yield* Effect.flip(engine.createRule(rule({ zoneId: 99 as ZoneId })))
      assert.instanceOf(invalid, RuleInvalid)
      assert.strictEqual(invalid.field, "zoneId")
      assert.strictEqual(invalid.message, "there is no zone 99")
      assert.instanceOf(yield* Effect.flip(engine.updateRule(5, rule())), RuleNotFound)
      assert.instanceOf(yield* Effect.flip(engine.deleteRule(5)), RuleNotFound)
      assert.instanceOf(yield* Effect.flip(engine.getAlarm(5)), AlarmNotFound)
      assert.instanceOf(yield* Effect.flip(engine.acknowledge(5)), AlarmNotFound)
    }))

  it.effect("an alarm active at a restart is taken up again and cleared by its rule", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-alarms-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const databasePath = join(dir, "ircam.db")
      const first = yield* setup({ databasePath })
      yield* first.engine.createRule(rule({ zoneId: first.plate.id, delaySeconds: 0 }))
      yield* first.feed(70, 1)
      const [alarm] = yield* first.engine.active
      yield* Scope.close(first.scope, { _tag: "Success", value: undefined } as never)

      const second = yield* setup({ databasePath })
      assert.deepStrictEqual((yield* second.engine.active).map((a) => a.id), [alarm!.id])
      yield* second.feed(40, 1)
      assert.deepStrictEqual(yield* second.engine.active, [])
      assert.strictEqual((yield* second.engine.getAlarm(alarm!.id)).state, "cleared")
    }).pipe(Effect.scoped))

  it.effect("history pages newest first and filters by rule", () =>
    Effect.gen(function*() {
      const { engine, feed, plate } = yield* setup()
      const a = yield* engine.createRule(rule({ zoneId: plate.id, delaySeconds: 0 }))
      yield* engine.createRule(rule({ name: "b", delaySeconds: 0 }))
      yield* feed(70, 1)
      yield* feed(30, 1)
      const all = yield* engine.history({ limit: 100 })
      assert.lengthOf(all, 4)
      assert.deepStrictEqual(all.map((e) => e.id), [...all.map((e) => e.id)].sort((x, y) => y - x))
      const page = yield* engine.history({ limit: 2, before: all[1]!.id })
      assert.deepStrictEqual(page.map((e) => e.id), [all[2]!.id, all[3]!.id])
      assert.isTrue((yield* engine.history({ limit: 100, ruleId: a.id })).every((e) => e.ruleId === a.id))
    }))
})
