/**
 * AlarmRepo on an in-memory database: rules, alarms and history as stored and read back, the
 * history's filters, and every failure (a row that no longer decodes, a table that cannot be
 * written) as a StorageError.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { AlarmId, RuleId, type RuleInput } from "../src/Alarm.js"
import { AlarmRepo, type NewAlarm } from "../src/AlarmRepo.js"
import { EventId } from "../src/Event.js"
import { StorageError } from "../src/StorageError.js"
import { ZoneRepo } from "../src/ZoneRepo.js"
import * as TestCore from "./support/TestCore.js"

const input: RuleInput = {
  name: "oven",
  zoneId: null,
  metric: "max",
  direction: "above",
  threshold: 80,
  hysteresis: 1,
  delaySeconds: 5,
  severity: "critical",
  enabled: true
}

const newAlarm = (ruleId: RuleId, raisedAt: number): NewAlarm => ({
  ruleId,
  zoneId: null,
  severity: "critical",
  value: 81.5,
  raisedAt,
  eventId: null
})

describe("AlarmRepo", () => {
  it.effect("rules: stored, read back with their boolean, updated, deleted", () =>
    Effect.gen(function*() {
      const repo = yield* AlarmRepo
      const zone = yield* (yield* ZoneRepo).create({ x: 0, y: 0, width: 4, height: 4 })
      const oven = yield* repo.insertRule(input)
      const door = yield* repo.insertRule({ ...input, name: "door", zoneId: zone.id, enabled: false })
      assert.deepStrictEqual({ ...door }, { ...input, id: door.id, name: "door", zoneId: zone.id, enabled: false })
      assert.deepStrictEqual((yield* repo.rules).map((r) => [r.id, r.enabled]), [[oven.id, true], [door.id, false]])
      assert.deepStrictEqual(Option.map(yield* repo.rule(door.id), (r) => r.name), Option.some("door"))

      const updated = yield* repo.updateRule(oven.id, { ...input, threshold: 90, enabled: false })
      assert.deepStrictEqual(Option.map(updated, (r) => [r.threshold, r.enabled]), Option.some([90, false]))
      assert.isTrue(Option.isNone(yield* repo.updateRule(RuleId.make(99), input)))
      assert.isTrue(yield* repo.deleteRule(oven.id))
      assert.isFalse(yield* repo.deleteRule(oven.id))
      assert.isTrue(Option.isNone(yield* repo.rule(oven.id)))
      // a rule goes with its zone
      yield* (yield* ZoneRepo).remove(zone.id)
      assert.deepStrictEqual(yield* repo.rules, [])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("alarms: raised, acknowledged, cleared; the active ones newest first", () =>
    Effect.gen(function*() {
      const repo = yield* AlarmRepo
      const rule = yield* repo.insertRule(input)
      const first = yield* repo.insertAlarm({ ...newAlarm(rule.id, 1000), eventId: EventId.make(3) })
      assert.deepStrictEqual(first, {
        id: first.id,
        ruleId: rule.id,
        zoneId: null,
        severity: "critical",
        state: "active",
        value: 81.5,
        raisedAt: 1000,
        acknowledgedAt: null,
        clearedAt: null,
        eventId: EventId.make(3),
        triggerFrame: null
      })
      const second = yield* repo.insertAlarm(newAlarm(rule.id, 2000))
      assert.deepStrictEqual((yield* repo.active).map((a) => a.id), [second.id, first.id])
      yield* repo.acknowledgeAlarm(first.id, 1500)
      yield* repo.clearAlarm(first.id, 1800)
      assert.deepInclude(Option.getOrThrow(yield* repo.alarm(first.id)), {
        state: "cleared",
        acknowledgedAt: 1500,
        clearedAt: 1800
      })
      assert.deepStrictEqual((yield* repo.active).map((a) => a.id), [second.id])
      assert.isTrue(Option.isNone(yield* repo.alarm(AlarmId.make(99))))
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("history: newest first, by rule, in pages", () =>
    Effect.gen(function*() {
      const repo = yield* AlarmRepo
      const a = yield* repo.insertRule(input)
      const b = yield* repo.insertRule({ ...input, name: "b" })
      const alarm = yield* repo.insertAlarm(newAlarm(a.id, 1000))
      yield* repo.record({ ruleId: a.id, alarmId: null, transition: "pending", value: 81, at: 500 })
      yield* repo.record({ ruleId: a.id, alarmId: alarm.id, transition: "raised", value: 81.5, at: 1000 })
      yield* repo.record({ ruleId: b.id, alarmId: null, transition: "pending", value: 82, at: 1100 })
      yield* repo.record({ ruleId: a.id, alarmId: alarm.id, transition: "acknowledged", value: null, at: 1200 })
      const all = yield* repo.history({ limit: 10 })
      assert.deepStrictEqual(all.map((e) => [e.transition, e.at]), [
        ["acknowledged", 1200],
        ["pending", 1100],
        ["raised", 1000],
        ["pending", 500]
      ])
      assert.deepStrictEqual(all[0], {
        id: all[0]!.id,
        ruleId: a.id,
        alarmId: alarm.id,
        transition: "acknowledged",
        value: null,
        at: 1200
      })
      assert.deepStrictEqual((yield* repo.history({ limit: 10, ruleId: b.id })).map((e) => e.value), [82])
      assert.deepStrictEqual(
        (yield* repo.history({ limit: 2, before: all[1]!.id })).map((e) => e.id),
        [all[2]!.id, all[3]!.id]
      )
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a transaction stores an alarm and its history together or not at all", () =>
    Effect.gen(function*() {
      const repo = yield* AlarmRepo
      const rule = yield* repo.insertRule(input)
      const failed = yield* Effect.flip(
        repo.transaction("cannot store the alarm")(Effect.gen(function*() {
          const alarm = yield* repo.insertAlarm(newAlarm(rule.id, 1000))
          yield* repo.record({ ruleId: rule.id, alarmId: alarm.id, transition: "raised", value: 81.5, at: 1000 })
          return yield* new StorageError({ message: "the notification could not be queued" })
        }))
      )
      assert.strictEqual(failed.message, "the notification could not be queued")
      assert.deepStrictEqual(yield* repo.active, [])
      assert.deepStrictEqual(yield* repo.history({ limit: 10 }), [])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a row that no longer decodes is a StorageError naming what could not be read", () =>
    Effect.gen(function*() {
      const repo = yield* AlarmRepo
      const sql = yield* SqlClient.SqlClient
      const rule = yield* repo.insertRule(input)
      const alarm = yield* repo.insertAlarm(newAlarm(rule.id, 1000))
      yield* sql`UPDATE alarms SET severity = 'fatal' WHERE id = ${alarm.id}`
      yield* sql`INSERT INTO alarm_history (rule_id, transition, at) VALUES (${rule.id}, 'exploded', 0)`
      yield* sql`UPDATE alarm_rules SET id = 0 WHERE id = ${rule.id}`
      for (
        const [failure, what, why] of [
          [Effect.asVoid(repo.active), "cannot read the active alarms", "severity"],
          [Effect.asVoid(repo.alarm(alarm.id)), `cannot read alarm ${alarm.id}`, "severity"],
          [Effect.asVoid(repo.history({ limit: 10 })), "cannot read the alarm history", "transition"],
          [Effect.asVoid(repo.rules), "cannot read the alarm rules", "id"]
        ] as const
      ) {
        const error = yield* Effect.flip(failure)
        assert.instanceOf(error, StorageError)
        assert.include(error.message, what)
        assert.include(error.message, why)
      }
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a table that cannot be written is a StorageError with the driver's reason", () =>
    Effect.gen(function*() {
      const repo = yield* AlarmRepo
      const sql = yield* SqlClient.SqlClient
      const rule = yield* repo.insertRule(input)
      const alarm = yield* repo.insertAlarm(newAlarm(rule.id, 1000))
      yield* sql`DROP TABLE alarms`
      yield* sql`DROP TABLE alarm_history`
      yield* sql`DROP TABLE alarm_rules`
      const error = yield* Effect.flip(repo.insertRule(input))
      assert.instanceOf(error, StorageError)
      assert.include(error.message, "cannot store the alarm rule")
      assert.include(error.message, "no such table: alarm_rules")
      for (
        const failure of [
          repo.updateRule(rule.id, input),
          repo.deleteRule(rule.id),
          repo.insertAlarm(newAlarm(rule.id, 0)),
          repo.clearAlarm(alarm.id, 0),
          repo.acknowledgeAlarm(alarm.id, 0),
          repo.record({ ruleId: rule.id, alarmId: null, transition: "ok", value: 1, at: 0 })
        ]
      ) {
        assert.instanceOf(yield* Effect.flip(failure), StorageError)
      }
    }).pipe(Effect.provide(TestCore.storage())))
})
