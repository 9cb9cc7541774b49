/**
 * AlarmEngine: the alarm rules (in SQLite), the state machine of each rule run on every frame's
 * statistics, the alarms it raises and clears, their acknowledgement and history.
 *
 * It follows the monitor's snapshots in a fiber of its own, through a small sliding buffer, so
 * it never holds up the monitor loop. Raising an alarm starts an event recording (EventStore)
 * and, in the same transaction as the alarm and its history, queues its notification in the
 * Notifier's durable outbox; clearing queues the other. Alarms still active at a restart are
 * taken up again (their rule may clear them).
 *
 * Rules are deleted with their zone (the database cascades); an active alarm of a rule that is
 * deleted or disabled is cleared.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Clock, Effect, Option, PubSub, Schema, Stream } from "effect"
import {
  type AlarmId,
  type AlarmJson,
  type HistoryEntryJson,
  type Notification,
  Rule,
  type RuleId,
  type RuleInput,
  type Transition
} from "./Alarm.js"
import * as StateMachine from "./AlarmStateMachine.js"
import type { EventId } from "./Event.js"
import { EventStore, StorageError } from "./EventStore.js"
import { round2, summarize } from "./Frame.js"
import * as Health from "./Health.js"
import { Monitor, type Snapshot } from "./Monitor.js"
import { Notifier } from "./Notifier.js"
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

/** `rate`: the change of the max over (up to) this window, in °C per minute; needs at least `rateMinSpanMs` of data. */
export const rateWindowMs = 60_000
export const rateMinSpanMs = 10_000
const rateSampleEveryMs = 250

interface RuleRow {
  readonly id: number
  readonly name: string
  readonly zoneId: number | null
  readonly metric: Rule["metric"]
  readonly direction: Rule["direction"]
  readonly threshold: number
  readonly hysteresis: number
  readonly delaySeconds: number
  readonly severity: Rule["severity"]
  readonly enabled: number
}

interface AlarmRow {
  readonly id: number
  readonly ruleId: number
  readonly zoneId: number | null
  readonly severity: Rule["severity"]
  readonly state: "active" | "cleared"
  readonly value: number
  readonly raisedAt: number
  readonly acknowledgedAt: number | null
  readonly clearedAt: number | null
  readonly eventId: number | null
}

const toRule = (row: RuleRow): Rule =>
  new Rule({
    id: row.id as RuleId,
    name: row.name,
    zoneId: row.zoneId as ZoneId | null,
    metric: row.metric,
    direction: row.direction,
    threshold: row.threshold,
    hysteresis: row.hysteresis,
    delaySeconds: row.delaySeconds,
    severity: row.severity,
    enabled: row.enabled === 1
  })

const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString()

export const toAlarmJson = (row: AlarmRow): AlarmJson => ({
  id: row.id as AlarmId,
  ruleId: row.ruleId as RuleId,
  zoneId: row.zoneId as ZoneId | null,
  severity: row.severity,
  state: row.state,
  value: row.value,
  raisedAt: iso(row.raisedAt)!,
  acknowledgedAt: iso(row.acknowledgedAt),
  clearedAt: iso(row.clearedAt),
  eventId: row.eventId as EventId | null
})

const storage = (what: string) => (error: SqlError.SqlError) =>
  new StorageError({
    message: `${what}: ${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}`
  })

/** A rule's value on a snapshot: its metric over its zone (or the whole frame); none if it cannot be computed. */
const valueOf = (rule: Rule, snapshot: Snapshot, rate: (zoneId: ZoneId | null) => number | undefined) => {
  if (rule.metric === "rate") return rate(rule.zoneId)
  if (rule.zoneId === null) {
    const { max, mean, min } = summarize(snapshot.frame.temperatures)
    return rule.metric === "average" ? mean : rule.metric === "max" ? max : min
  }
  const zone = snapshot.zones.find((z) => z.zoneId === rule.zoneId)
  return zone === undefined ? undefined : zone[rule.metric]
}

export interface HistoryQuery {
  readonly ruleId?: RuleId | undefined
  readonly before?: number | undefined
  readonly limit: number
}

/** An alarm raised, acknowledged or cleared, as `AlarmEngine.changes` tells it. */
export interface AlarmChange {
  readonly transition: "raised" | "acknowledged" | "cleared"
  readonly alarm: AlarmJson
}

export class AlarmEngine extends Effect.Service<AlarmEngine>()("@ircam/core/AlarmEngine", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const monitor = yield* Monitor
    const zones = yield* ZoneRepo
    const events = yield* EventStore
    const notifier = yield* Notifier
    const lock = yield* Effect.makeSemaphore(1)

    // In memory: the enabled rules, each rule's phase, the active alarm of each rule.
    let rules: ReadonlyArray<Rule> = []
    const phases = new Map<number, StateMachine.Phase>()
    const active = new Map<number, AlarmRow>()
    // max of each scope (zone id, or -1 for the whole frame) sampled for `rate`
    const samples = new Map<number, Array<{ readonly at: number; readonly max: number }>>()
    const counters = { evaluations: 0, raised: 0, cleared: 0, errors: 0 }
    let lastError: { readonly at: number; readonly message: string } | undefined
    // sliding: a subscriber that does not keep up loses the oldest changes, never delays an evaluation
    const changes = yield* PubSub.sliding<AlarmChange>(64)

    const loadRules = sql<RuleRow>`SELECT * FROM alarm_rules ORDER BY id`.pipe(
      Effect.map((rows) => rows.map(toRule)),
      Effect.mapError(storage("cannot read the alarm rules"))
    )

    const record = (ruleId: number, alarmId: number | null, transition: Transition, value: number | null, at: number) =>
      sql`INSERT INTO alarm_history ${sql.insert({ ruleId, alarmId, transition, value, at })}`

    const notification = (type: Notification["type"], rule: Rule, alarm: AlarmRow, at: number) =>
      Effect.gen(function*() {
        const zone = rule.zoneId === null ? Option.none() : yield* Effect.option(zones.get(rule.zoneId))
        return {
          type,
          timestamp: new Date(at).toISOString(),
          data: {
            alarm: toAlarmJson(alarm),
            rule: {
              id: rule.id,
              name: rule.name,
              zoneId: rule.zoneId,
              zoneName: Option.match(zone, { onNone: () => null, onSome: (z) => z.name }),
              metric: rule.metric,
              direction: rule.direction,
              threshold: rule.threshold,
              severity: rule.severity
            }
          }
        } satisfies Notification
      })

    const raise = (rule: Rule, value: number, now: number) =>
      Effect.gen(function*() {
        // the recording first: the alarm names its event
        const event = yield* events.trigger({
          kind: "alarm",
          label: rule.name,
          ...(rule.zoneId === null ? {} : { zoneId: rule.zoneId })
        }).pipe(
          Effect.map((e) => e.id as number),
          Effect.catchAll((error) =>
            Effect.as(Effect.logWarning(`alarm of rule ${rule.id}: no event recorded`, error.message), null)
          )
        )
        const alarm = yield* sql.withTransaction(Effect.gen(function*() {
          const [row] = yield* sql<AlarmRow>`INSERT INTO alarms ${
            sql.insert({
              ruleId: rule.id,
              zoneId: rule.zoneId,
              severity: rule.severity,
              state: "active",
              value,
              raisedAt: now,
              eventId: event
            })
          } RETURNING *`
          yield* record(rule.id, row!.id, "raised", value, now)
          yield* notifier.enqueue(yield* notification("alarm.raised", rule, row!, now))
          return row!
        })).pipe(Effect.mapError((e) => e._tag === "SqlError" ? storage("cannot store the alarm")(e) : e))
        if (event !== null) {
          yield* sql`UPDATE events SET alarm_id = ${alarm.id} WHERE id = ${event} AND alarm_id IS NULL`.pipe(
            Effect.mapError(storage("cannot link the event to its alarm"))
          )
        }
        active.set(rule.id, alarm)
        yield* changes.publish({ transition: "raised", alarm: toAlarmJson(alarm) })
        counters.raised++
        yield* Effect.logWarning(`alarm ${alarm.id} raised: ${rule.name} (${rule.severity}), ${rule.metric} ${value}`)
      })

    const clear = (rule: Rule, value: number | null, now: number) =>
      Effect.gen(function*() {
        const alarm = active.get(rule.id)
        if (alarm === undefined) return
        const cleared: AlarmRow = { ...alarm, state: "cleared", clearedAt: now }
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`UPDATE alarms SET state = 'cleared', cleared_at = ${now} WHERE id = ${alarm.id}`
          yield* record(rule.id, alarm.id, "cleared", value, now)
          yield* notifier.enqueue(yield* notification("alarm.cleared", rule, cleared, now))
        })).pipe(Effect.mapError((e) => e._tag === "SqlError" ? storage("cannot clear the alarm")(e) : e))
        active.delete(rule.id)
        yield* changes.publish({ transition: "cleared", alarm: toAlarmJson(cleared) })
        counters.cleared++
        yield* Effect.logInfo(`alarm ${alarm.id} cleared: ${rule.name}`)
      })

    /** The rules again from the database; alarms of rules that are gone or disabled are cleared. */
    const syncRules = Effect.gen(function*() {
      const all = yield* loadRules
      const now = yield* Clock.currentTimeMillis
      const enabled = all.filter((r) => r.enabled)
      for (const [ruleId, alarm] of active) {
        const rule = enabled.find((r) => r.id === ruleId)
        if (rule !== undefined) continue
        const stored = all.find((r) => r.id === ruleId)
        yield* clear(
          stored ?? toRule({
            id: ruleId,
            name: `deleted rule ${ruleId}`,
            zoneId: alarm.zoneId,
            metric: "max",
            direction: "above",
            threshold: 0,
            hysteresis: 0,
            delaySeconds: 0,
            severity: alarm.severity,
            enabled: 0
          }),
          null,
          now
        )
      }
      for (const id of phases.keys()) if (!enabled.some((r) => r.id === id)) phases.delete(id)
      rules = enabled
    })

    const rateOf = (now: number) => (zoneId: ZoneId | null) => {
      const series = samples.get(zoneId ?? -1)
      if (series === undefined || series.length < 2) return undefined
      const first = series[0]!
      const last = series[series.length - 1]!
      const span = last.at - first.at
      return span < rateMinSpanMs || now - last.at > rateSampleEveryMs * 4
        ? undefined
        : Math.round((last.max - first.max) / (span / 60_000) * 100) / 100
    }

    const sample = (snapshot: Snapshot) => {
      const at = snapshot.frame.capturedAt
      const scopes: Array<readonly [number, number]> = [[-1, summarize(snapshot.frame.temperatures).max]]
      for (const zone of snapshot.zones) scopes.push([zone.zoneId, zone.max])
      for (const [scope, max] of scopes) {
        const series = samples.get(scope) ?? []
        const last = series[series.length - 1]
        if (last === undefined || at - last.at >= rateSampleEveryMs) series.push({ at, max })
        while (series.length > 0 && at - series[0]!.at > rateWindowMs) series.shift()
        samples.set(scope, series)
      }
    }

    const evaluate = (snapshot: Snapshot) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const now = snapshot.frame.capturedAt
        sample(snapshot)
        counters.evaluations++
        if (rules.some((r) => r.zoneId !== null && !snapshot.zones.some((z) => z.zoneId === r.zoneId))) {
          // a zone was deleted: its rules went with it
          yield* syncRules
        }
        for (const rule of rules) {
          const raw = valueOf(rule, snapshot, rateOf(now))
          if (raw === undefined) continue
          // °C to 0.01, as everywhere else in the API; the threshold is compared with that
          const value = round2(raw)
          const phase = phases.get(rule.id) ?? (active.has(rule.id) ? { _tag: "Active" as const } : StateMachine.ok)
          const next = StateMachine.step(rule, phase, value, now)
          if (next._tag === "Stay") continue
          if (next._tag === "Pending") yield* record(rule.id, null, "pending", value, now)
          if (next._tag === "Ok") yield* record(rule.id, null, "ok", value, now)
          if (next._tag === "Raise") yield* raise(rule, value, now)
          if (next._tag === "Clear") yield* clear(rule, value, now)
          phases.set(rule.id, next.phase)
        }
      })).pipe(
        Effect.catchAll((error) =>
          Effect.gen(function*() {
            counters.errors++
            lastError = { at: yield* Clock.currentTimeMillis, message: error.message }
            yield* Effect.logWarning("alarm evaluation failed", error.message)
          })
        )
      )

    // Alarms active at the last stop are taken up again.
    for (
      const row of yield* sql<AlarmRow>`SELECT * FROM alarms WHERE state = 'active'`.pipe(
        Effect.mapError(storage("cannot read the active alarms"))
      )
    ) {
      active.set(row.ruleId, row)
    }
    yield* lock.withPermits(1)(syncRules)

    yield* monitor.changes.pipe(
      Stream.filterMap((snapshot) => snapshot),
      Stream.buffer({ capacity: 16, strategy: "sliding" }),
      Stream.runForEach(evaluate),
      Effect.forkScoped
    )

    yield* Health.register(
      "alarms",
      Effect.sync(() => ({
        status: counters.errors > 0 && lastError !== undefined ? "degraded" as const : "ok" as const,
        ...(lastError === undefined ? {} : { message: `alarm evaluation failed: ${lastError.message}` }),
        details: {
          rules: rules.length,
          active: active.size,
          ...counters,
          lastError: lastError === undefined
            ? null
            : { at: new Date(lastError.at).toISOString(), message: lastError.message }
        }
      }))
    )

    const checkZone = (zoneId: ZoneId | null) =>
      zoneId === null ? Effect.void : zones.get(zoneId).pipe(
        Effect.mapError(() => new RuleInvalid({ field: "zoneId", message: `there is no zone ${zoneId}` }))
      )

    const getRule = (id: number) =>
      sql<RuleRow>`SELECT * FROM alarm_rules WHERE id = ${id}`.pipe(
        Effect.mapError(storage("cannot read the alarm rule")),
        Effect.flatMap((rows) =>
          rows[0] === undefined
            ? Effect.fail(new RuleNotFound({ id, message: `there is no alarm rule ${id}` }))
            : Effect.succeed(toRule(rows[0]))
        )
      )

    const columns = (input: RuleInput) => ({ ...input, enabled: input.enabled ? 1 : 0 })

    const getAlarm = (id: number) =>
      sql<AlarmRow>`SELECT * FROM alarms WHERE id = ${id}`.pipe(
        Effect.mapError(storage("cannot read the alarm")),
        Effect.flatMap((rows) =>
          rows[0] === undefined
            ? Effect.fail(new AlarmNotFound({ id, message: `there is no alarm ${id}` }))
            : Effect.succeed(rows[0])
        )
      )

    return {
      /** Subscribes now (for the scope): the stream gives every alarm raised, acknowledged or cleared from then on. */
      subscribe: Stream.fromPubSub(changes, { scoped: true }),
      rules: loadRules,
      getRule,
      createRule: (input: RuleInput) =>
        lock.withPermits(1)(Effect.gen(function*() {
          yield* checkZone(input.zoneId)
          const [row] = yield* sql<RuleRow>`INSERT INTO alarm_rules ${sql.insert(columns(input))} RETURNING *`.pipe(
            Effect.mapError(storage("cannot store the alarm rule"))
          )
          yield* syncRules
          return toRule(row!)
        })),
      updateRule: (id: number, input: RuleInput) =>
        lock.withPermits(1)(Effect.gen(function*() {
          yield* getRule(id)
          yield* checkZone(input.zoneId)
          const [row] = yield* sql<RuleRow>`UPDATE alarm_rules SET ${
            sql.update(columns(input))
          } WHERE id = ${id} RETURNING *`
            .pipe(Effect.mapError(storage("cannot store the alarm rule")))
          // the rule's state starts again under its new limits; an active alarm is cleared by it if it no longer holds
          phases.delete(id)
          yield* syncRules
          return toRule(row!)
        })),
      deleteRule: (id: number) =>
        lock.withPermits(1)(Effect.gen(function*() {
          yield* getRule(id)
          yield* sql`DELETE FROM alarm_rules WHERE id = ${id}`.pipe(
            Effect.mapError(storage("cannot delete the alarm rule"))
          )
          yield* syncRules
        })),
      active: Effect.map(
        sql<AlarmRow>`SELECT * FROM alarms WHERE state = 'active' ORDER BY id DESC`,
        (rows) => rows.map(toAlarmJson)
      ).pipe(Effect.mapError(storage("cannot read the active alarms"))),
      getAlarm: (id: number) => Effect.map(getAlarm(id), toAlarmJson),
      history: (query: HistoryQuery): Effect.Effect<ReadonlyArray<HistoryEntryJson>, StorageError> =>
        sql<
          {
            id: number
            ruleId: number
            alarmId: number | null
            transition: Transition
            value: number | null
            at: number
          }
        >`
          SELECT * FROM alarm_history WHERE ${
          sql.and([
            sql`1 = 1`,
            ...(query.ruleId === undefined ? [] : [sql`rule_id = ${query.ruleId}`]),
            ...(query.before === undefined ? [] : [sql`id < ${query.before}`])
          ])
        } ORDER BY id DESC LIMIT ${query.limit}`.pipe(
          Effect.map((rows) =>
            rows.map((row) => ({
              ...row,
              ruleId: row.ruleId as RuleId,
              alarmId: row.alarmId as AlarmId | null,
              at: new Date(row.at).toISOString()
            }))
          ),
          Effect.mapError(storage("cannot read the alarm history"))
        ),
      acknowledge: (id: number) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const alarm = yield* getAlarm(id)
          if (alarm.state !== "active") {
            return yield* new AlarmNotActive({
              id,
              message: `alarm ${id} is cleared; only an active alarm is acknowledged`
            })
          }
          if (alarm.acknowledgedAt !== null) return toAlarmJson(alarm)
          const now = yield* Clock.currentTimeMillis
          yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`UPDATE alarms SET acknowledged_at = ${now} WHERE id = ${id}`
            yield* record(alarm.ruleId, id, "acknowledged", null, now)
          })).pipe(Effect.mapError(storage("cannot acknowledge the alarm")))
          const acknowledged = { ...alarm, acknowledgedAt: now }
          if (active.get(alarm.ruleId)?.id === id) active.set(alarm.ruleId, acknowledged)
          yield* changes.publish({ transition: "acknowledged", alarm: toAlarmJson(acknowledged) })
          return toAlarmJson(acknowledged)
        }))
    } as const
  }).pipe(Effect.annotateLogs({ service: "AlarmEngine" }))
}) {}
