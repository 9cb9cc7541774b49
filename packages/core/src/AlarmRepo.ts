/**
 * AlarmRepo: the `alarm_rules`, `alarms` and `alarm_history` tables. Rows are decoded with
 * Schema; every read and write fails with `StorageError`. The state of each rule and the
 * decisions are AlarmEngine's.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
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
import { EventId, type FrameRef } from "./Event.js"
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
  eventId: Schema.NullOr(EventId),
  triggerSequence: Schema.NullOr(Schema.Int),
  triggerCapturedAt: Schema.NullOr(Schema.Number)
})

const toAlarm = ({ triggerCapturedAt, triggerSequence, ...row }: typeof AlarmRow.Type): Alarm => ({
  ...row,
  triggerFrame: triggerSequence === null || triggerCapturedAt === null
    ? null
    : { sequence: triggerSequence, capturedAt: triggerCapturedAt }
})

const FrameRefRow = Schema.Struct({ triggerSequence: Schema.Int, triggerCapturedAt: Schema.Number })

const HistoryRow = Schema.Struct({
  id: Schema.Int,
  ruleId: RuleId,
  alarmId: Schema.NullOr(AlarmId),
  transition: Transition,
  value: Schema.NullOr(Schema.Number),
  at: Schema.Number
})

export interface HistoryQuery {
  readonly ruleId?: RuleId | undefined
  /** only entries with a smaller id (the next page) */
  readonly before?: number | undefined
  /** at most this many, newest first */
  readonly limit: number
}

/** The columns of a new alarm. */
export type NewAlarm = Omit<Alarm, "id" | "state" | "acknowledgedAt" | "clearedAt" | "triggerFrame"> & {
  readonly triggerFrame?: FrameRef | null | undefined
}

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
        alarm(id).pipe(Effect.map(Option.map(toAlarm)), StorageError.mapError(`cannot read alarm ${id}`)),

      /** The active alarms, newest first. */
      active: active(undefined).pipe(
        Effect.map((rows) => rows.map(toAlarm)),
        StorageError.mapError("cannot read the active alarms")
      ),

      insertAlarm: ({ triggerFrame, ...alarm }: NewAlarm): Effect.Effect<Alarm, StorageError.StorageError> =>
        SqlSchema.findAll({
          Request: Schema.Void,
          Result: AlarmRow,
          execute: () =>
            sql`INSERT INTO alarms ${
              sql.insert({
                ...alarm,
                state: "active",
                triggerSequence: triggerFrame?.sequence ?? null,
                triggerCapturedAt: triggerFrame?.capturedAt ?? null
              })
            } RETURNING *`
        })(undefined).pipe(Effect.map((rows) => toAlarm(rows[0]!)), StorageError.mapError("cannot store the alarm")),

      /** The frames that raised the alarms recorded by an event, oldest alarm first. */
      triggersOfEvent: (eventId: EventId): Effect.Effect<ReadonlyArray<FrameRef>, StorageError.StorageError> =>
        SqlSchema.findAll({
          Request: EventId,
          Result: FrameRefRow,
          execute: (id) =>
            sql`SELECT trigger_sequence, trigger_captured_at FROM alarms
              WHERE event_id = ${id} AND trigger_sequence IS NOT NULL AND trigger_captured_at IS NOT NULL ORDER BY id`
        })(eventId).pipe(
          Effect.map((rows) =>
            rows.map((row) => ({ sequence: row.triggerSequence, capturedAt: row.triggerCapturedAt }))
          ),
          StorageError.mapError(`cannot read the alarms of event ${eventId}`)
        ),

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
