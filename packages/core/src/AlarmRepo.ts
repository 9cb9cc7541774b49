/**
 * AlarmRepo: the `alarm_rules`, `alarms` and `alarm_history` tables. Rows are decoded with
 * Schema; every read and write fails with `StorageError`. The state of each rule and the
 * decisions are AlarmEngine's.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Option, Schema, type Types } from "effect"
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

const isId = (value: unknown) => Number.isSafeInteger(value) && (value as number) > 0
const isSeverity = Schema.is(Severity)

/** A row of a periods query: an `AlarmPeriod` as SQLite answers it, its columns named as its fields. */
const isPeriod = (row: unknown): row is AlarmPeriod => {
  if (typeof row !== "object" || row === null) return false
  const { alarmId, alarms, eventId, from, ruleId, severity, to } = row as Record<string, unknown>
  return isId(ruleId) && isSeverity(severity) && Number.isSafeInteger(alarms) && isId(alarmId) &&
    (eventId === null || isId(eventId)) && typeof from === "number" && (to === null || typeof to === "number")
}

/**
 * The rows of a periods query, checked in one pass: a long range answers a thousand windows a
 * rule, and a Schema a field (with an object a row for the renamed columns) cost more than the query.
 */
const PeriodRows = Schema.declare(
  (rows: unknown): rows is ReadonlyArray<AlarmPeriod> => Array.isArray(rows) && rows.every(isPeriod),
  { identifier: "AlarmPeriodRows", description: "rows of rule, severity, alarms, alarm, event, from, to" }
)
const decodePeriodRows = Schema.decodeUnknown(PeriodRows)

/** Which alarm periods `periods` answers. */
export interface PeriodQuery {
  /** the rules' zone; null for the whole frame */
  readonly zoneId: ZoneId | null
  /** epoch ms */
  readonly from: number
  readonly to: number
  /** the width (ms) below which alarms are not told apart (the answer's step) */
  readonly resolutionMs: number
}

/** A range with more alarms than this answers at most this many periods a rule. */
export const maxPeriods = 1000

/**
 * Joins the periods of one rule that are closer than `width` (ms): at that scale they are one.
 * `periods` come oldest first (by `from`, then rule), and so does the answer.
 */
export const mergePeriods = (periods: ReadonlyArray<AlarmPeriod>, width: number): ReadonlyArray<AlarmPeriod> => {
  const merged: Array<Types.Mutable<AlarmPeriod>> = []
  const lastOf = new Map<number, Types.Mutable<AlarmPeriod>>()
  for (const period of periods) {
    const last = lastOf.get(period.ruleId)
    if (last !== undefined && last.to !== null && period.from - last.to < width) {
      // extended in place: a year of windows can all be one period, a new object each time is garbage
      last.to = period.to
      last.alarms += period.alarms
    } else {
      const first = { ...period }
      lastOf.set(period.ruleId, first)
      merged.push(first)
    }
  }
  return merged
}

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

      /**
       * The periods during which alarms of the rules on a zone (or the whole frame) were active in
       * `from`..`to`, oldest first; an open period (`to` null) is an active alarm. When the range holds
       * at most `maxPeriods` alarms, each is a period; otherwise each rule's are gathered in at most
       * `maxPeriods` windows, and periods closer than a window are one (a chart cannot tell them
       * apart). Everything is read through the index by zone, rule and time, a seek a rule and window
       * at most: a year with an alarm every 90 s answers in milliseconds.
       */
      periods: (query: PeriodQuery): Effect.Effect<ReadonlyArray<AlarmPeriod>, StorageError.StorageError> =>
        Effect.gen(function*() {
          const { from, to, zoneId } = query
          // the rules that ever had an alarm on the target, one index seek each
          const rules = sql`rules(id) AS (
            SELECT min(rule_id) FROM alarms WHERE zone_id IS ${zoneId}
            UNION ALL
            SELECT (SELECT min(rule_id) FROM alarms WHERE zone_id IS ${zoneId} AND rule_id > rules.id)
              FROM rules WHERE rules.id IS NOT NULL
          )`
          const inRange = sql`alarms a ON a.zone_id IS ${zoneId} AND a.rule_id = rules.id
            AND a.raised_at >= ${from} AND a.raised_at <= ${to}`
          // whether there are more than maxPeriods, reading no more than that
          const [count] = yield* sql<{ n: number }>`WITH RECURSIVE ${rules}
            SELECT count(*) AS n FROM (SELECT 1 FROM rules JOIN ${inRange} LIMIT ${maxPeriods + 1})`
          const n = count?.n ?? 0
          // each rule's last alarm raised before the range, when it lasts into it (one is active at a time)
          const period = sql`a.rule_id AS ruleId, a.severity, 1 AS alarms, a.id AS alarmId, a.event_id AS eventId,
            a.raised_at AS "from", a.cleared_at AS "to"`
          const spanning = sql`SELECT ${period}
            FROM rules JOIN alarms a ON a.id = (
              SELECT id FROM alarms WHERE zone_id IS ${zoneId} AND rule_id = rules.id AND raised_at < ${from}
              ORDER BY raised_at DESC LIMIT 1)
            WHERE a.cleared_at IS NULL OR a.cleared_at >= ${from}`
          const width = Math.max(query.resolutionMs, Math.ceil((to - from + 1) / maxPeriods))
          const window = sql`zone_id IS ${zoneId} AND rule_id = rules.id AND raised_at >= windows.start
            AND raised_at < min(windows.start + ${width}, ${to} + 1)`
          // AlarmPeriods as better-sqlite3 makes the rows (named in SQL: no renaming, no second object
          // a row), oldest first as the answer and mergePeriods want them
          const periods = yield* (n <= maxPeriods
            ? sql`WITH RECURSIVE ${rules}
              SELECT ${period} FROM rules JOIN ${inRange}
              UNION ALL ${spanning}
              ORDER BY "from", ruleId, alarmId`
            : sql`WITH RECURSIVE ${rules},
              windows(start) AS (
                SELECT ${from} UNION ALL SELECT start + ${width} FROM windows WHERE start + ${width} <= ${to}
              ),
              groups AS (
                SELECT rules.id AS rule_id,
                  (SELECT id FROM alarms WHERE ${window} ORDER BY raised_at LIMIT 1) AS first,
                  (SELECT id FROM alarms WHERE ${window} ORDER BY raised_at DESC LIMIT 1) AS last,
                  (SELECT count(*) FROM alarms WHERE ${window}) AS alarms
                FROM rules, windows WHERE rules.id IS NOT NULL
              )
              SELECT g.rule_id AS ruleId, f.severity, g.alarms, f.id AS alarmId, f.event_id AS eventId,
                f.raised_at AS "from", l.cleared_at AS "to"
              FROM groups g JOIN alarms f ON f.id = g.first JOIN alarms l ON l.id = g.last
              UNION ALL ${spanning}
              ORDER BY "from", ruleId, alarmId`).withoutTransform.pipe(Effect.flatMap(decodePeriodRows))
          return n <= maxPeriods ? periods : mergePeriods(periods, width)
        }).pipe(StorageError.mapError("cannot read the alarm periods")),

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
