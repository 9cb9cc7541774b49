/**
 * AlarmEngine: runs the state machine of every alarm rule on each frame's statistics, raises and
 * clears the alarms, acknowledges them. Rules, alarms and history are stored by AlarmRepo.
 *
 * It follows the monitor's snapshots in a fiber of its own, through a small sliding buffer, so
 * it never holds up the monitor loop. Raising an alarm starts an event recording (EventStore)
 * and, in the same transaction as the alarm and its history, queues its notification in the
 * Notifier's durable outbox; clearing queues the other, and so does acknowledging (for the
 * channels that carry it). Alarms still active at a restart are
 * taken up again (their rule may clear them). Delays and the rate are measured on the frames'
 * monotonic times; the times stored and shown are the frames' wall-clock labels.
 *
 * Rules are deleted with their zone (the database cascades; the engine follows ZoneRepo's
 * changes); an active alarm of a rule that is deleted or disabled is cleared.
 *
 * Longer than 350 lines on purpose: raising, clearing and acknowledging share the engine's state
 * (the active alarms, the rules' state machines) under one lock; the SQL is in AlarmRepo, the state
 * machine in AlarmStateMachine, the metric in RuleMetric.
 */
import { Clock, Effect, Option, Schema, Stream } from "effect"
import {
  type Alarm,
  type AlarmId,
  type AlarmJson,
  type HistoryEntry,
  type Notification,
  notificationOf,
  Rule,
  type RuleId,
  type RuleInput,
  type Severity,
  toJson,
  type Transition
} from "./Alarm.js"
import { AlarmRepo, type HistoryQuery } from "./AlarmRepo.js"
import * as StateMachine from "./AlarmStateMachine.js"
import { AppConfig } from "./AppConfig.js"
import * as ChangeFeed from "./ChangeFeed.js"
import { EventStore } from "./EventStore.js"
import { type Frame, round2 } from "./Frame.js"
import type { CheckResult } from "./Health.js"
import { describe } from "./internal/describe.js"
import { Monitor, type Snapshot } from "./Monitor.js"
import { Notifier } from "./Notifier.js"
import * as RuleMetric from "./RuleMetric.js"
import type { StorageError } from "./StorageError.js"
import { iso } from "./Time.js"
import type { ZoneId } from "./Zone.js"
import { ZoneRepo } from "./ZoneRepo.js"

export class RuleNotFound extends Schema.TaggedError<RuleNotFound>()("RuleNotFound", {
  id: Schema.Number,
  message: Schema.String
}) {}

export class AlarmNotFound extends Schema.TaggedError<AlarmNotFound>()("AlarmNotFound", {
  id: Schema.Number,
  message: Schema.String
}) {}

/** A rule that cannot be stored as given (the shape is checked by `RuleInput`; this is what needs the database). */
export class RuleInvalid extends Schema.TaggedError<RuleInvalid>()("RuleInvalid", {
  field: Schema.String,
  message: Schema.String
}) {}

export class AlarmNotActive extends Schema.TaggedError<AlarmNotActive>()("AlarmNotActive", {
  id: Schema.Number,
  message: Schema.String
}) {}

/** Alarms raised, acknowledged and cleared since start, by severity (`AlarmEngine.stats`). */
export type TransitionCounts = Record<"raised" | "acknowledged" | "cleared", Record<Severity, number>>

/**
 * An alarm raised, acknowledged or cleared, a rule created, updated or deleted, or a rule's
 * condition starting to hold (`pending`, waiting for its delay) or stopping before the delay
 * (`ok`), as `AlarmEngine.changes` tells it.
 */
export type AlarmChange =
  | { readonly transition: "raised" | "acknowledged" | "cleared"; readonly alarm: AlarmJson }
  | { readonly transition: "created" | "updated" | "deleted"; readonly rule: Rule }
  | { readonly transition: "pending" | "ok"; readonly ruleId: RuleId; readonly value: number; readonly at: string }

export class AlarmEngine extends Effect.Service<AlarmEngine>()("@ircam/core/AlarmEngine", {
  scoped: Effect.gen(function*() {
    const repo = yield* AlarmRepo
    const monitor = yield* Monitor
    const zones = yield* ZoneRepo
    const events = yield* EventStore
    const notifier = yield* Notifier
    const { publicUrl } = yield* AppConfig
    const lock = yield* Effect.makeSemaphore(1)
    const feed = yield* ChangeFeed.make<AlarmChange>()

    // In memory: the enabled rules, each rule's phase, the active alarm of each rule.
    let all: ReadonlyArray<Rule> = []
    let rules: ReadonlyArray<Rule> = []
    const phases = new Map<RuleId, StateMachine.Phase>()
    const active = new Map<RuleId, Alarm>()
    const metrics = RuleMetric.make()
    const counters = { evaluations: 0, errors: 0 }
    const transitions: TransitionCounts = {
      raised: { warning: 0, critical: 0 },
      acknowledged: { warning: 0, critical: 0 },
      cleared: { warning: 0, critical: 0 }
    }
    let lastError: { readonly at: number; readonly message: string } | undefined
    // failures since the last evaluation that went through: degraded while there are any
    let failing = 0

    const record = (
      ruleId: RuleId,
      alarmId: AlarmId | null,
      transition: Transition,
      value: number | null,
      at: number
    ) => repo.record({ ruleId, alarmId, transition, value, at })

    const notification = (type: Notification["type"], rule: Rule, alarm: Alarm, at: number) =>
      Effect.map(
        rule.zoneId === null ? Effect.succeedNone : Effect.option(zones.get(rule.zoneId)),
        (zone) => notificationOf(type, rule, alarm, Option.getOrNull(Option.map(zone, (z) => z.name)), at, publicUrl)
      )

    /** Raised by `frame`'s value: its wall-clock label is the alarm's time, and the event keeps it. */
    const raise = (rule: Rule, value: number, frame: Frame) =>
      Effect.gen(function*() {
        const at = frame.capturedAt
        const triggerFrame = { sequence: frame.sequence, capturedAt: frame.capturedAt }
        // the recording first: the alarm names its event
        const event = yield* events.trigger({
          kind: "alarm",
          label: rule.name,
          ...(rule.zoneId === null ? {} : { zoneId: rule.zoneId }),
          frame: { ...triggerFrame, monotonicMs: frame.monotonicMs }
        }).pipe(
          Effect.map((e) => e.id),
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning(`alarm of rule ${rule.id}: no event recorded`, error.message), null)
          )
        )
        const alarm = yield* repo.transaction("cannot store the alarm")(Effect.gen(function*() {
          const alarm = yield* repo.insertAlarm({
            ruleId: rule.id,
            zoneId: rule.zoneId,
            severity: rule.severity,
            value,
            raisedAt: at,
            eventId: event,
            triggerFrame
          })
          yield* record(rule.id, alarm.id, "raised", value, at)
          yield* notifier.enqueue(yield* notification("alarm.raised", rule, alarm, at))
          return alarm
        }))
        if (event !== null) yield* events.linkAlarm(event, alarm.id)
        active.set(rule.id, alarm)
        yield* feed.publish({ transition: "raised", alarm: toJson(alarm) })
        transitions.raised[rule.severity]++
        yield* Effect.logWarning(`alarm ${alarm.id} raised: ${rule.name} (${rule.severity}), ${rule.metric} ${value}`)
      })

    const clear = (rule: Rule, value: number | null, at: number) =>
      Effect.gen(function*() {
        const alarm = active.get(rule.id)
        if (alarm === undefined) return
        const cleared: Alarm = { ...alarm, state: "cleared", clearedAt: at }
        yield* repo.transaction("cannot clear the alarm")(Effect.gen(function*() {
          yield* repo.clearAlarm(alarm.id, at)
          yield* record(rule.id, alarm.id, "cleared", value, at)
          yield* notifier.enqueue(yield* notification("alarm.cleared", rule, cleared, at))
        }))
        active.delete(rule.id)
        yield* feed.publish({ transition: "cleared", alarm: toJson(cleared) })
        transitions.cleared[alarm.severity]++
        yield* Effect.logInfo(`alarm ${alarm.id} cleared: ${rule.name}`)
      })

    /** The rules again from the database; alarms of rules that are gone or disabled are cleared. */
    const syncRules = Effect.gen(function*() {
      const before = all
      all = yield* repo.rules
      const at = yield* Clock.currentTimeMillis
      const enabled = all.filter((r) => r.enabled)
      for (const [ruleId, alarm] of active) {
        if (enabled.some((r) => r.id === ruleId)) continue
        const known = all.find((r) => r.id === ruleId) ?? before.find((r) => r.id === ruleId)
        yield* clear(
          known ?? new Rule({
            id: ruleId,
            name: `deleted rule ${ruleId}`,
            zoneId: alarm.zoneId,
            metric: "max",
            direction: "above",
            threshold: 0,
            hysteresis: 0,
            delaySeconds: 0,
            severity: alarm.severity,
            enabled: false
          }),
          null,
          at
        )
      }
      for (const id of phases.keys()) if (!enabled.some((r) => r.id === id)) phases.delete(id)
      rules = enabled
      // rules that went with their zone
      for (const rule of before) {
        if (!all.some((r) => r.id === rule.id)) yield* feed.publish({ transition: "deleted", rule })
      }
    })

    const evaluate = (snapshot: Snapshot) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const now = snapshot.frame.monotonicMs
        const at = snapshot.frame.capturedAt
        metrics.sample(snapshot)
        counters.evaluations++
        for (const rule of rules) {
          const raw = metrics.valueOf(rule, snapshot)
          if (raw === undefined) continue
          // °C to 0.01, as everywhere else in the API; the threshold is compared with that
          const value = round2(raw)
          const phase = phases.get(rule.id) ?? (active.has(rule.id) ? { _tag: "Active" as const } : StateMachine.ok)
          const next = StateMachine.step(rule, phase, value, now)
          if (next._tag === "Stay") continue
          if (next._tag === "Pending" || next._tag === "Ok") {
            const transition = next._tag === "Pending" ? "pending" : "ok"
            yield* record(rule.id, null, transition, value, at)
            yield* feed.publish({ transition, ruleId: rule.id, value, at: iso(at) })
          }
          if (next._tag === "Raise") yield* raise(rule, value, snapshot.frame)
          if (next._tag === "Clear") yield* clear(rule, value, at)
          phases.set(rule.id, next.phase)
        }
        failing = 0
      }))

    const failed = (what: string) => (message: string) =>
      Effect.gen(function*() {
        counters.errors++
        failing++
        lastError = { at: yield* Clock.currentTimeMillis, message }
        yield* Effect.logWarning(what, message)
      })

    /** `effect`, its failures (and, should there be one, a bug) counted and logged: the feed it serves goes on. */
    const guarded = (what: string) => <E extends { readonly message: string }>(effect: Effect.Effect<void, E>) =>
      effect.pipe(
        Effect.catchAll((error) => failed(what)(error.message)),
        Effect.catchAllDefect((defect) => failed(what)(`unexpected failure: ${describe(defect)}`))
      )

    // Alarms active at the last stop are taken up again.
    for (const alarm of yield* repo.active) active.set(alarm.ruleId, alarm)
    yield* lock.withPermits(1)(syncRules)

    yield* Stream.unwrapScoped(monitor.changes).pipe(
      Stream.buffer({ capacity: 16, strategy: "sliding" }),
      Stream.runForEach((snapshot) => guarded("alarm evaluation failed")(evaluate(snapshot))),
      Effect.forkScoped
    )
    // a zone deleted took its rules with it (the database cascades)
    yield* Stream.unwrapScoped(zones.changes).pipe(
      Stream.filter((change) => change.transition === "deleted"),
      Stream.runForEach(() => guarded("cannot reload the rules")(lock.withPermits(1)(syncRules))),
      Effect.forkScoped
    )

    const health: Effect.Effect<CheckResult> = Effect.sync(() => ({
      status: failing > 0 ? "degraded" : "ok",
      ...(failing > 0 && lastError !== undefined ? { message: `alarm evaluation failed: ${lastError.message}` } : {}),
      details: {
        rules: rules.length,
        active: active.size,
        evaluations: counters.evaluations,
        raised: transitions.raised.warning + transitions.raised.critical,
        cleared: transitions.cleared.warning + transitions.cleared.critical,
        errors: counters.errors,
        lastError: lastError === undefined ? null : { at: iso(lastError.at), message: lastError.message }
      }
    }))

    const checkZone = (zoneId: ZoneId | null) =>
      zoneId === null ? Effect.void : zones.get(zoneId).pipe(
        Effect.mapError(() => new RuleInvalid({ field: "zoneId", message: `there is no zone ${zoneId}` }))
      )

    const getRule = (id: RuleId) =>
      Effect.flatMap(
        repo.rule(id),
        Option.match({
          onNone: () => Effect.fail(new RuleNotFound({ id, message: `there is no alarm rule ${id}` })),
          onSome: Effect.succeed
        })
      )

    const getAlarm = (id: AlarmId) =>
      Effect.flatMap(
        repo.alarm(id),
        Option.match({
          onNone: () => Effect.fail(new AlarmNotFound({ id, message: `there is no alarm ${id}` })),
          onSome: Effect.succeed
        })
      )

    return {
      /** Subscribes now (for the scope): every alarm and rule change from then on. */
      changes: feed.changes,
      rules: repo.rules,
      getRule,
      createRule: (input: RuleInput) =>
        lock.withPermits(1)(Effect.gen(function*() {
          yield* checkZone(input.zoneId)
          const rule = yield* repo.insertRule(input)
          yield* syncRules
          yield* feed.publish({ transition: "created", rule })
          return rule
        })),
      updateRule: (id: RuleId, input: RuleInput) =>
        lock.withPermits(1)(Effect.gen(function*() {
          yield* getRule(id)
          yield* checkZone(input.zoneId)
          const rule = yield* Effect.flatMap(
            repo.updateRule(id, input),
            Option.match({
              onNone: () => Effect.fail(new RuleNotFound({ id, message: `there is no alarm rule ${id}` })),
              onSome: Effect.succeed
            })
          )
          // the rule's state starts again under its new limits; an active alarm is cleared by it if it no longer holds
          phases.delete(id)
          yield* syncRules
          yield* feed.publish({ transition: "updated", rule })
          return rule
        })),
      deleteRule: (id: RuleId) =>
        lock.withPermits(1)(Effect.gen(function*() {
          yield* getRule(id)
          yield* repo.deleteRule(id)
          yield* syncRules
        })),
      active: Effect.map(repo.active, (alarms) => alarms.map(toJson)),
      /** From memory, for metrics: the enabled rules, the active alarms, the transitions and evaluations counted. */
      stats: Effect.sync(() => ({
        rules,
        active: [...active.values()],
        transitions: structuredClone(transitions),
        evaluations: counters.evaluations,
        errors: counters.errors
      })),
      getAlarm: (id: AlarmId) => Effect.map(getAlarm(id), toJson),
      history: (query: HistoryQuery): Effect.Effect<ReadonlyArray<HistoryEntry>, StorageError> => repo.history(query),
      acknowledge: (id: AlarmId) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const alarm = yield* getAlarm(id)
          if (alarm.state !== "active") {
            return yield* new AlarmNotActive({
              id,
              message: `alarm ${id} is cleared; only an active alarm is acknowledged`
            })
          }
          if (alarm.acknowledgedAt !== null) return toJson(alarm)
          const at = yield* Clock.currentTimeMillis
          const acknowledged: Alarm = { ...alarm, acknowledgedAt: at }
          const rule = yield* repo.rule(alarm.ruleId)
          yield* repo.transaction("cannot acknowledge the alarm")(Effect.gen(function*() {
            yield* repo.acknowledgeAlarm(id, at)
            yield* record(alarm.ruleId, id, "acknowledged", null, at)
            // only the channels that carry acknowledgements (MQTT) get a row
            if (Option.isSome(rule)) {
              yield* notifier.enqueue(yield* notification("alarm.acknowledged", rule.value, acknowledged, at))
            }
          }))
          transitions.acknowledged[alarm.severity]++
          if (active.get(alarm.ruleId)?.id === id) active.set(alarm.ruleId, acknowledged)
          yield* feed.publish({ transition: "acknowledged", alarm: toJson(acknowledged) })
          return toJson(acknowledged)
        })),
      health
    } as const
  }).pipe(Effect.annotateLogs({ service: "AlarmEngine" }))
}) {}
