/**
 * AlarmEngine inside the whole core (monitor, zones, events, notifier outbox) on an in-memory
 * database, fed frames by the test, on the TestClock; with the wall clock stepped (SteppedClock)
 * during an alarm delay and while the rate is measured.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Ref, Stream, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AlarmId, RuleId, type RuleInput } from "../src/Alarm.js"
import {
  type AlarmChange,
  AlarmEngine,
  AlarmNotActive,
  AlarmNotFound,
  RuleInvalid,
  RuleNotFound
} from "../src/AlarmEngine.js"
import { AlarmRepo } from "../src/AlarmRepo.js"
import type { AppConfigShape } from "../src/AppConfig.js"
import { EventRepo } from "../src/EventRepo.js"
import { EventStore } from "../src/EventStore.js"
import { monotonicMs } from "../src/Time.js"
import type { ZoneId } from "../src/Zone.js"
import { ZoneRepo } from "../src/ZoneRepo.js"
import { withSteppedClock } from "./support/SteppedClock.js"
import * as TestCore from "./support/TestCore.js"
import * as TestFrames from "./support/TestFrames.js"

const PERIOD = 500 // 2 Hz
const HOUR = 3_600_000

/** The plate: the 4 × 3 pixels at x 24, y 4. */
const plateRect = { x: 24, y: 4, width: 4, height: 3 }

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

/** The whole core at 2 Hz, with a webhook that nobody answers (notifications stay in the outbox). */
const core = (config: Partial<AppConfigShape> = {}) =>
  TestCore.fed({
    refreshRateHz: 2,
    preEventSeconds: 2,
    postEventSeconds: 2,
    webhookUrl: Option.some(new URL("http://127.0.0.1:9/unreachable")),
    ...config
  })

const evaluations = Effect.flatMap(
  AlarmEngine,
  (engine) => Effect.map(engine.health, (check) => check.details["evaluations"] as number)
)

/** Lets the fibers of the core run until `until` holds (no time passes); fails if it never does. */
const settle = <A, E, R>(effect: Effect.Effect<A, E, R>, until: (a: A) => boolean) =>
  Effect.gen(function*() {
    for (let n = 0; n < 1000; n++) {
      const value = yield* effect
      if (until(value)) return value
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage("the core never got there")
  })

/** One frame a period with the plate at `hot` °C and 20 °C elsewhere, each evaluated by the engine before the next. */
const feed = (hot: number, seconds: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds * 1000 / PERIOD; i++) {
      yield* TestClock.adjust(PERIOD)
      const before = yield* evaluations
      const sequence = Math.round((yield* monotonicMs) / PERIOD)
      yield* TestCore.push(
        yield* TestFrames.now({ sequence, temperatures: TestFrames.withRect(plateRect, hot) })
      )
      yield* settle(evaluations, (n) => n > before)
    }
  })

const createPlate = Effect.flatMap(ZoneRepo, (zones) => zones.create({ name: "plate", ...plateRect }))

const transitions = Effect.flatMap(AlarmEngine, (engine) =>
  Effect.map(
    engine.history({ limit: 100 }),
    (entries) => entries.map((e) => `${e.transition}${e.value === null ? "" : `@${e.value}`}`).reverse()
  ))

/** Every change the engine tells from now on, gathered as it comes (for the test's scope). */
const gatherChanges = Effect.gen(function*() {
  const changes = yield* (yield* AlarmEngine).changes
  const seen = yield* Ref.make<ReadonlyArray<AlarmChange>>([])
  yield* changes.pipe(Stream.runForEach((change) => Ref.update(seen, (all) => [...all, change])), Effect.forkScoped)
  const told = (n: number) =>
    Effect.map(
      settle(Ref.get(seen), (all) => all.length >= n),
      (all) => all.map((c) => "rule" in c ? `rule ${c.transition} ${c.rule.name}` : `alarm ${c.transition}`)
    )
  return told
})

describe("AlarmEngine", () => {
  it.effect("pending, raised after the delay with an event and a notification, acknowledged, cleared", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const events = yield* EventStore
      const sql = yield* SqlClient.SqlClient
      const plate = yield* createPlate
      const created = yield* engine.createRule(rule({ zoneId: plate.id }))
      yield* feed(30, 3)
      assert.deepStrictEqual(yield* engine.active, [])
      yield* feed(70, 1.5)
      assert.deepStrictEqual(yield* engine.active, [], "pending for 1 s of the 2 s delay")
      yield* feed(70, 1)
      const [alarm] = yield* engine.active
      assert.deepStrictEqual(
        { ...alarm!, raisedAt: undefined, eventId: undefined, triggerFrame: undefined },
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
          eventId: undefined,
          triggerFrame: undefined
        }
      )
      // the frame that raised it: the one whose value crossed the threshold after the delay
      assert.strictEqual(alarm!.triggerFrame?.capturedAt, alarm!.raisedAt)
      const event = yield* events.get(alarm!.eventId!)
      assert.strictEqual(event.kind, "alarm")
      assert.strictEqual(event.zoneId, plate.id)
      assert.strictEqual(event.alarmId, alarm!.id, "EventStore.linkAlarm named the alarm on its event")
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

      const outbox = yield* sql<{ channel: string; payload: string }>`SELECT channel, payload FROM outbox ORDER BY id`
      const sent = outbox.map((row) => ({ channel: row.channel, ...JSON.parse(row.payload) }))
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

      // without PUBLIC_URL there are no links, and the notification says why
      assert.isNull(sent[0].data.links)
      assert.include(sent[0].data.linksReason, "PUBLIC_URL is not set")

      const error = yield* Effect.flip(engine.acknowledge(alarm!.id))
      assert.instanceOf(error, AlarmNotActive)
    }).pipe(Effect.provide(core())))

  it.effect("the frame that raised an alarm is recorded and kept by its event, however short the pre-event window", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const plate = yield* createPlate
      yield* engine.createRule(rule({ zoneId: plate.id, delaySeconds: 0 }))
      yield* feed(30, 1)
      yield* feed(70, 0.5)
      const [alarm] = yield* engine.active
      const ref = { sequence: alarm!.triggerFrame!.sequence, capturedAt: Date.parse(alarm!.triggerFrame!.capturedAt) }
      const eventId = alarm!.eventId!
      const frame = Option.getOrThrow(yield* (yield* EventRepo).frameOf(eventId, ref))
      assert.strictEqual(frame.sequence, ref.sequence)
      assert.strictEqual(Math.max(...frame.temperatures), 70, "the frame whose value crossed the threshold")
      assert.deepStrictEqual(yield* (yield* EventRepo).triggerFrame(eventId), Option.some(ref))
      assert.deepStrictEqual(yield* (yield* AlarmRepo).triggersOfEvent(eventId), [ref])

      // links under PUBLIC_URL, its path kept
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ payload: string }>`SELECT payload FROM outbox ORDER BY id LIMIT 1`
      const base = "https://ircam.example/lab/api/v1"
      assert.deepStrictEqual(JSON.parse(row!.payload).data.links, {
        alarm: `${base}/alarms/${alarm!.id}`,
        frame: `${base}/alarms/${alarm!.id}/frame.png?zones=true&legend=true`,
        event: `${base}/events/${eventId}`,
        animation: `${base}/events/${eventId}/animation.gif?zones=true&legend=true`
      })
    }).pipe(
      Effect.provide(core({ preEventSeconds: 0, publicUrl: Option.some(new URL("https://ircam.example/lab/")) }))
    ))

  it.effect("a condition that stops before the delay goes back to ok; flapping inside the hysteresis does not clear", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const plate = yield* createPlate
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
    }).pipe(Effect.provide(core())))

  it.effect("the whole frame, and other metrics and directions", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
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
    }).pipe(Effect.provide(core())))

  it.effect("rate: the change of the max in °C per minute, once 10 s of data are in", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const plate = yield* createPlate
      yield* engine.createRule(
        rule({ zoneId: plate.id, metric: "rate", threshold: 20, delaySeconds: 0, hysteresis: 5 })
      )
      // 0.25 °C a frame at 2 Hz = 30 °C per minute
      for (let i = 0; i < 30; i++) yield* feed(30 + i * 0.25, 0.5)
      const [alarm] = yield* engine.active
      assert.closeTo(alarm!.value, 30, 0.5)
      yield* feed(37.5, 70)
      assert.deepStrictEqual(yield* engine.active, [], "steady again: cleared")
    }).pipe(Effect.provide(core())))

  it.effect("deleting a zone deletes its rules and clears their alarms; so do deleting and disabling a rule", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const zones = yield* ZoneRepo
      const plate = yield* createPlate
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
    }).pipe(Effect.provide(core())))

  it.effect("a zone deleted: its rule's alarm is cleared and the rule told deleted on `changes`", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const zones = yield* ZoneRepo
      const plate = yield* createPlate
      const told = yield* gatherChanges
      const onZone = yield* engine.createRule(rule({ zoneId: plate.id, delaySeconds: 0 }))
      yield* feed(70, 0.5)
      const [alarm] = yield* engine.active
      yield* zones.remove(plate.id)
      // no frame needed: the engine follows ZoneRepo's changes
      assert.deepStrictEqual(yield* told(4), [
        "rule created plate too hot",
        "alarm raised",
        "alarm cleared",
        "rule deleted plate too hot"
      ])
      assert.deepStrictEqual(yield* engine.active, [])
      assert.strictEqual((yield* engine.getAlarm(alarm!.id)).state, "cleared")
      assert.instanceOf(yield* Effect.flip(engine.getRule(onZone.id)), RuleNotFound)
    }).pipe(Effect.scoped, Effect.provide(core())))

  it.effect("rule changes appear on `changes`: created, updated, deleted", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const told = yield* gatherChanges
      const created = yield* engine.createRule(rule({ name: "a" }))
      yield* engine.updateRule(created.id, rule({ name: "a, renamed" }))
      yield* engine.deleteRule(created.id)
      assert.deepStrictEqual(yield* told(3), ["rule created a", "rule updated a, renamed", "rule deleted a, renamed"])
    }).pipe(Effect.scoped, Effect.provide(core())))

  it.effect("rules are checked: unknown zone, unknown rule, unknown alarm", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const invalid = yield* Effect.flip(engine.createRule(rule({ zoneId: 99 as ZoneId })))
      assert.instanceOf(invalid, RuleInvalid)
      assert.strictEqual(invalid.field, "zoneId")
      assert.strictEqual(invalid.message, "there is no zone 99")
      assert.instanceOf(yield* Effect.flip(engine.updateRule(RuleId.make(5), rule())), RuleNotFound)
      assert.instanceOf(yield* Effect.flip(engine.deleteRule(RuleId.make(5))), RuleNotFound)
      assert.instanceOf(yield* Effect.flip(engine.getAlarm(AlarmId.make(5))), AlarmNotFound)
      assert.instanceOf(yield* Effect.flip(engine.acknowledge(AlarmId.make(5))), AlarmNotFound)
    }).pipe(Effect.provide(core())))

  it.effect("an alarm active at a restart is taken up again and cleared by its rule", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-alarms-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const databasePath = join(dir, "ircam.db")
      const alarm = yield* Effect.gen(function*() {
        const engine = yield* AlarmEngine
        yield* engine.createRule(rule({ zoneId: (yield* createPlate).id, delaySeconds: 0 }))
        yield* feed(70, 1)
        const [alarm] = yield* engine.active
        return alarm!
      }).pipe(Effect.provide(core({ databasePath })))

      yield* Effect.gen(function*() {
        const engine = yield* AlarmEngine
        assert.deepStrictEqual((yield* engine.active).map((a) => a.id), [alarm.id])
        yield* feed(40, 1)
        assert.deepStrictEqual(yield* engine.active, [])
        assert.strictEqual((yield* engine.getAlarm(alarm.id)).state, "cleared")
      }).pipe(Effect.provide(core({ databasePath })))
    }).pipe(Effect.scoped))

  it.effect("an alarm whose rule was deleted while ircam was stopped is cleared at start-up", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-alarms-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const databasePath = join(dir, "ircam.db")
      const alarm = yield* Effect.gen(function*() {
        const engine = yield* AlarmEngine
        yield* engine.createRule(rule({ delaySeconds: 0, severity: "warning" }))
        yield* feed(70, 0.5)
        const [alarm] = yield* engine.active
        return alarm!
      }).pipe(Effect.provide(core({ databasePath })))
      // as the CLI may do
      yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql`DELETE FROM alarm_rules`).pipe(
        Effect.provide(TestCore.storage({ databasePath }))
      )

      yield* Effect.gen(function*() {
        const engine = yield* AlarmEngine
        const sql = yield* SqlClient.SqlClient
        assert.deepStrictEqual(yield* engine.active, [])
        assert.deepInclude(yield* engine.getAlarm(alarm.id), { state: "cleared", severity: "warning" })
        const [last] = yield* sql<{ payload: string }>`SELECT payload FROM outbox ORDER BY id DESC LIMIT 1`
        const notification = JSON.parse(last!.payload)
        assert.strictEqual(notification.type, "alarm.cleared")
        assert.strictEqual(notification.data.rule.name, `deleted rule ${alarm.ruleId}`)
      }).pipe(Effect.provide(core({ databasePath })))
    }).pipe(Effect.scoped))

  it.effect("a failure to store an evaluation's outcome is counted and shown in health; the next frame tries again", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const sql = yield* SqlClient.SqlClient
      yield* engine.createRule(rule({ delaySeconds: 0 }))
      // the history cannot be written for a while
      yield* sql`CREATE TRIGGER failing BEFORE INSERT ON alarm_history BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END`
      yield* feed(70, 0.5)
      assert.deepStrictEqual(yield* engine.active, [])
      const failing = yield* engine.health
      assert.strictEqual(failing.status, "degraded")
      assert.include(failing.message, "alarm evaluation failed: cannot record the alarm transition")
      assert.include(failing.message, "disk I/O error")
      assert.deepInclude(failing.details, { errors: 1, raised: 0 })
      yield* sql`DROP TRIGGER failing`
      yield* feed(70, 0.5)
      assert.lengthOf(yield* engine.active, 1)
      assert.deepStrictEqual(yield* transitions, ["raised@70"])
    }).pipe(Effect.provide(core())))

  it.effect("history pages newest first and filters by rule", () =>
    Effect.gen(function*() {
      const engine = yield* AlarmEngine
      const plate = yield* createPlate
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
    }).pipe(Effect.provide(core())))
})

describe("AlarmEngine, with the wall clock stepped", () => {
  /** Feeds frames with the plate at `hot(i)` for frame i until `until` holds; answers the monotonic time then. */
  const feedUntil = (
    hot: (i: number) => number,
    until: Effect.Effect<boolean, unknown, AlarmEngine>,
    at: (i: number) => Effect.Effect<void>
  ) =>
    Effect.gen(function*() {
      for (let i = 0; i < 200; i++) {
        yield* at(i)
        yield* feed(hot(i), PERIOD / 1000)
        if (yield* until) return yield* monotonicMs
      }
      return yield* Effect.dieMessage("it never happened")
    })

  const raised = Effect.flatMap(AlarmEngine, (engine) => Effect.map(engine.active, (active) => active.length > 0))

  const delayAcross = (stepMs: number) =>
    withSteppedClock((clock) =>
      Effect.gen(function*() {
        const engine = yield* AlarmEngine
        const plate = yield* createPlate
        yield* engine.createRule(rule({ zoneId: plate.id, delaySeconds: 5 }))
        yield* feed(30, 2)
        // the condition starts with the next frame; the wall clock is stepped 2 s into the delay
        const start = (yield* monotonicMs) + PERIOD
        const at = yield* feedUntil(() => 70, raised, (i) => i === 4 ? clock.step(stepMs) : Effect.void)
        assert.strictEqual(at - start, 5000, "raised exactly 5 s after the condition started, on the monotonic clock")
        const [alarm] = yield* engine.active
        assert.strictEqual(
          alarm!.raisedAt,
          new Date(at + stepMs).toISOString(),
          "its time is the raising frame's wall-clock label"
        )
        assert.deepStrictEqual(yield* transitions, ["pending@70", "raised@70"])
      })
    ).pipe(Effect.provide(core()))

  it.effect("a delay of 5 s with the wall clock stepped back 60 s in between: raised 5 s after", () =>
    delayAcross(-60_000))

  it.effect("a delay of 5 s with the wall clock stepped forward an hour in between: raised 5 s after", () =>
    delayAcross(HOUR))

  const rateAcross = (stepMs: number) =>
    withSteppedClock((clock) =>
      Effect.gen(function*() {
        const engine = yield* AlarmEngine
        const plate = yield* createPlate
        yield* engine.createRule(
          rule({ zoneId: plate.id, metric: "rate", threshold: 20, delaySeconds: 0, hysteresis: 5 })
        )
        // 0.25 °C a frame at 2 Hz = 30 °C per minute; the wall clock stepped 5 s in
        const start = (yield* monotonicMs) + PERIOD
        const at = yield* feedUntil((i) => 30 + i * 0.25, raised, (i) => i === 10 ? clock.step(stepMs) : Effect.void)
        assert.strictEqual(at - start, 10_000, "raised as soon as 10 s of data are in")
        const [alarm] = yield* engine.active
        assert.strictEqual(alarm!.value, 30)
      })
    ).pipe(Effect.provide(core()))

  it.effect("rate: the wall clock stepped back 60 s while it is measured changes nothing", () => rateAcross(-60_000))

  it.effect("rate: the wall clock stepped forward an hour while it is measured changes nothing", () => rateAcross(HOUR))
})
