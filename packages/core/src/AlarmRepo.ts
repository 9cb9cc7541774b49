/**
 * AlarmRepo: the `alarm_rules`, `alarms` and `alarm_history` tables. Rows are decoded with
 * Schema; every read and write fails with `StorageError`. The state of each rule and the
 * decisions are AlarmEngine's.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import type { Option } from "effect"
import { Effect, Schema } from "effect"
import {
  type Alarm,
  AlarmId,
  AlarmState,
  type HistoryEntry,
  Rule,
  RuleId,
  type RuleInput,
  Severity,
  Transition
} from "./Alarm.js"
import { EventId } from "./Event.js"
import type { AlarmPeriod } from "./HistoryBucket.js"
import * as StorageError from "./StorageError.js"
import { ZoneId } from "./Zone.js"

/** SQLite has no boolean: 0 or 1. */
const IntBoolean = Schema.transform(Schema.Literal(0, 1), Schema.Boolean, {
  strict: true,
  decode: (n) => n === 1,
  encode: (b) => (b ? 1 : 0)
})

const RuleFromRow = Schema.Struct({ ...Rule.fields, enabled: IntBoolean }).pipe(Schema.compose(Rule))

const AlarmRow = Schema.Struct({
  id: AlarmId,
  ruleId: RuleId,
  zoneId: Schema.NullOr(ZoneId),
  severity: Severity,
  state: AlarmState,
  value: Schema.Number,
  raisedAt: Schema.Number,
  acknowledgedAt: Schema.NullOr(Schema.Number),
  clearedAt: Schema.NullOr(Schema.Number),
  eventId: Schema.NullOr(EventId)
})

const HistoryRow = Schema.Struct({
  id: Schema.Int,
  ruleId: RuleId,
  alarmId: Schema.NullOr(AlarmId),
  transition: Transition,
  value: Schema.NullOr(Schema.Number),
  at: Schema.Number
})

const PeriodRow = Schema.Struct({
  ruleId: RuleId,
  severity: Severity,
  alarms: Schema.Int,
  alarmId: AlarmId,
  raisedAt: Schema.Number,
  eventId: Schema.NullOr(EventId),
  clearedAt: Schema.NullOr(Schema.Number),
  active: Schema.Int
})

/** Which alarm periods `periods` answers. */
export interface PeriodQuery {
  /** the rules' zone; null for the whole frame */
  readonly zoneId: ZoneId | null
  /** epoch ms */
  readonly from: number
  readonly to: number
  /** the alarms of a rule raised within one bucket this wide (ms) make one period */
  readonly bucketMs: number
}

export interface HistoryQuery {
  readonly ruleId?: RuleId | undefined
  /** only entries with a smaller id (the next page) */
  readonly before?: number | undefined
  /** at most this many, newest first */
  readonly limit: number
}

/** The columns of a new alarm. */
export type NewAlarm = Omit<Alarm, "id" | "state" | "acknowledgedAt" | "clearedAt">

export class AlarmRepo extends Effect.Service<AlarmRepo>()("@ircam/core/AlarmRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const rules = SqlSchema.findAll({
      Request: Schema.Void,
      Result: RuleFromRow,
      execute: () => sql`SELECT * FROM alarm_rules ORDER BY id`
    })
    const rule = SqlSchema.findOne({
      Request: RuleId,
      Result: RuleFromRow,
      execute: (id) => sql`SELECT * FROM alarm_rules WHERE id = ${id}`
    })
    const alarm = SqlSchema.findOne({
      Request: AlarmId,
      Result: AlarmRow,
      execute: (id) => sql`SELECT * FROM alarms WHERE id = ${id}`
    })
    const active = SqlSchema.findAll({
      Request: Schema.Void,
      Result: AlarmRow,
      execute: () => sql`SELECT * FROM alarms WHERE state = 'active' ORDER BY id DESC`
    })
    const columns = (input: RuleInput) => ({ ...input, enabled: input.enabled ? 1 : 0 })

    return {
      /** `effect` in one transaction (an alarm, its history and its notification are stored together). */
      transaction: (what: string) => StorageError.transaction(sql, what),

      rules: rules(undefined).pipe(StorageError.mapError("cannot read the alarm rules")),

      rule: (id: RuleId): Effect.Effect<Option.Option<Rule>, StorageError.StorageError> =>
        rule(id).pipe(StorageError.mapError(`cannot read alarm rule ${id}`)),

      insertRule: (input: RuleInput): Effect.Effect<Rule, StorageError.StorageError> =>
        SqlSchema.findAll({
          Request: Schema.Void,
          Result: RuleFromRow,
          execute: () => sql`INSERT INTO alarm_rules ${sql.insert(columns(input))} RETURNING *`
        })(undefined).pipe(Effect.map((rows) => rows[0]!), StorageError.mapError("cannot store the alarm rule")),

      updateRule: (id: RuleId, input: RuleInput): Effect.Effect<Option.Option<Rule>, StorageError.StorageError> =>
        SqlSchema.findOne({
          Request: Schema.Void,
          Result: RuleFromRow,
          execute: () => sql`UPDATE alarm_rules SET ${sql.update(columns(input))} WHERE id = ${id} RETURNING *`
        })(undefined).pipe(StorageError.mapError(`cannot store alarm rule ${id}`)),

      /** Deletes a rule; answers whether there was one. Its alarms and history stay. */
      deleteRule: (id: RuleId) =>
        sql<{ id: number }>`DELETE FROM alarm_rules WHERE id = ${id} RETURNING id`.pipe(
          Effect.map((rows) => rows.length > 0),
          StorageError.mapError(`cannot delete alarm rule ${id}`)
        ),

      alarm: (id: AlarmId): Effect.Effect<Option.Option<Alarm>, StorageError.StorageError> =>
        alarm(id).pipe(StorageError.mapError(`cannot read alarm ${id}`)),

      /** The active alarms, newest first. */
      active: active(undefined).pipe(StorageError.mapError("cannot read the active alarms")),

      insertAlarm: (alarm: NewAlarm): Effect.Effect<Alarm, StorageError.StorageError> =>
        SqlSchema.findAll({
          Request: Schema.Void,
          Result: AlarmRow,
          execute: () => sql`INSERT INTO alarms ${sql.insert({ ...alarm, state: "active" })} RETURNING *`
        })(undefined).pipe(Effect.map((rows) => rows[0]!), StorageError.mapError("cannot store the alarm")),

      clearAlarm: (id: AlarmId, at: number) =>
        sql`UPDATE alarms SET state = 'cleared', cleared_at = ${at} WHERE id = ${id}`.pipe(
          Effect.asVoid,
          StorageError.mapError(`cannot clear alarm ${id}`)
        ),

      acknowledgeAlarm: (id: AlarmId, at: number) =>
        sql`UPDATE alarms SET acknowledged_at = ${at} WHERE id = ${id}`.pipe(
          Effect.asVoid,
          StorageError.mapError(`cannot acknowledge alarm ${id}`)
        ),

      /** Adds a transition to the history. */
      record: (entry: Omit<HistoryEntry, "id">) =>
        sql`INSERT INTO alarm_history ${sql.insert(entry)}`.pipe(
          Effect.asVoid,
          StorageError.mapError("cannot record the alarm transition")
        ),

      /**
       * The alarms of the rules on a zone (or the whole frame) that were active at some moment of
       * `from`..`to`, oldest first: those of one rule raised within one bucket as one period (from
       * the first raised to the last cleared; open while any is active), so a long range answers
       * at most a period a bucket and a rule. Both ends are read through an index.
       */
      periods: (query: PeriodQuery): Effect.Effect<ReadonlyArray<AlarmPeriod>, StorageError.StorageError> =>
        SqlSchema.findAll({
          Request: Schema.Void,
          Result: PeriodRow,
          execute: () =>
            sql`
              SELECT g.rule_id, f.severity, g.alarms, g.first AS alarm_id, f.raised_at, f.event_id, l.cleared_at,
                g.active
              FROM (
                SELECT rule_id, min(id) AS first, max(id) AS last, count(*) AS alarms,
                  count(*) - count(cleared_at) AS active
                FROM alarms
                WHERE id IN (
                  SELECT id FROM alarms
                    WHERE zone_id IS ${query.zoneId} AND raised_at >= ${query.from} AND raised_at <= ${query.to}
                  UNION
                  SELECT id FROM alarms
                    WHERE zone_id IS ${query.zoneId} AND cleared_at >= ${query.from} AND raised_at < ${query.from}
                  UNION
                  SELECT id FROM alarms
                    WHERE zone_id IS ${query.zoneId} AND cleared_at IS NULL AND raised_at < ${query.from}
                )
                GROUP BY rule_id, CAST(raised_at / ${query.bucketMs} AS INTEGER)
              ) g
              JOIN alarms f ON f.id = g.first
              JOIN alarms l ON l.id = g.last
              ORDER BY f.raised_at, g.rule_id`
        })(undefined).pipe(
          Effect.map((rows) =>
            rows.map(({ active, clearedAt, raisedAt, ...row }): AlarmPeriod => ({
              ...row,
              from: raisedAt,
              to: active > 0 ? null : clearedAt
            }))
          ),
          StorageError.mapError("cannot read the alarm periods")
        ),

      /** The history, newest first. */
      history: (query: HistoryQuery): Effect.Effect<ReadonlyArray<HistoryEntry>, StorageError.StorageError> =>
        SqlSchema.findAll({
          Request: Schema.Void,
          Result: HistoryRow,
          execute: () =>
            sql`SELECT * FROM alarm_history WHERE ${
              sql.and([
                ...(query.ruleId === undefined ? [] : [sql`rule_id = ${query.ruleId}`]),
                ...(query.before === undefined ? [] : [sql`id < ${query.before}`])
              ])
            } ORDER BY id DESC LIMIT ${query.limit}`
        })(undefined).pipe(StorageError.mapError("cannot read the alarm history"))
    } as const
  })
}) {}
