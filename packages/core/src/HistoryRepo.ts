/**
 * HistoryRepo: the `history_series`, `history_seconds`, `history_minutes` and `history_hours`
 * tables. Rows are decoded with Schema; every read and write fails with `StorageError`. The
 * recording itself (aggregation, the writer, retention) is History's; the CLI reads through this
 * module too.
 *
 * Temperatures are stored as whole centi-degrees (the 0.01 °C the API answers), `t` as the
 * bucket's start in epoch seconds. The minute and hour buckets are made again from the finer
 * ones each time seconds are written to them (`rollUp`): min of the mins, max of the maxes, the
 * means weighted by frames. So a minute that a restart cut in two holds both parts.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Database from "./Database.js"
import type { StoredSegment } from "./HistoryAggregator.js"
import { type Bucket, type Resolution, type Segment, SegmentReason } from "./HistoryBucket.js"
import * as StorageError from "./StorageError.js"
import { ZoneId } from "./Zone.js"

const tables: Readonly<Record<Resolution, string>> = {
  "1s": "history_seconds",
  "1m": "history_minutes",
  "1h": "history_hours"
}

/** Rows per INSERT: far below SQLite's limit on bound parameters. */
const rowsPerInsert = 500

/** Values a bucket row has: series, t, frames, min, max, mean, ambient (centi-degrees). */
const bucketColumns = 7

const isInt = Number.isSafeInteger

/**
 * The rows of a bucket query as one JSON array of their values, row after row, checked in one
 * pass: whole numbers, the ambient temperature null where there is none. A range is thousands of
 * rows (a week of minutes is 10,080): better-sqlite3 makes a row object one property at a time,
 * which under the service's small young generation cost twice the query itself, and a Schema a
 * field several times more; one text parsed at once costs a fraction of either.
 */
const BucketValues = Schema.parseJson(Schema.declare(
  (values: unknown): values is ReadonlyArray<number | null> =>
    Array.isArray(values) && values.length % bucketColumns === 0 &&
    values.every((value, i) => isInt(value) || (value === null && i % bucketColumns === bucketColumns - 1)),
  { identifier: "HistoryBucketValues", description: "whole numbers: series, t, frames, centi-degrees, a row at a time" }
))
const decodeBucketValues = Schema.decodeUnknown(BucketValues)

const toBuckets = (values: ReadonlyArray<number | null>): Array<Bucket> => {
  const buckets = new Array<Bucket>(values.length / bucketColumns)
  for (let i = 0, at = 0; i < buckets.length; i++, at += bucketColumns) {
    const ambient = values[at + 6] ?? null
    buckets[i] = {
      seriesId: values[at]!,
      t: values[at + 1]!,
      frames: values[at + 2]!,
      min: values[at + 3]! / 100,
      max: values[at + 4]! / 100,
      mean: values[at + 5]! / 100,
      ambient: ambient === null ? null : ambient / 100
    }
  }
  return buckets
}

const SeriesRow = Schema.Struct({
  id: Schema.Int,
  zoneId: Schema.NullOr(ZoneId),
  x: Schema.NullOr(Schema.Int),
  y: Schema.NullOr(Schema.Int),
  width: Schema.NullOr(Schema.Int),
  height: Schema.NullOr(Schema.Int),
  reason: SegmentReason,
  startedAt: Schema.Number
})

const toSegment = ({ height, width, x, y, ...row }: typeof SeriesRow.Type): Segment => ({
  ...row,
  rect: x === null || y === null || width === null || height === null ? null : { x, y, width, height }
})

const LatestRow = Schema.Struct({ ...SeriesRow.fields, lastSecond: Schema.NullOr(Schema.Int) })

/** A closed second as the writer stores it: a bucket in °C, rounded to centi-degrees here. */
export type SecondRow = Bucket

const centi = (celsius: number) => Math.round(celsius * 100)

/** How much of the oldest history `dropOldest` deletes at once, by resolution (seconds). */
const dropSpan: Readonly<Record<Resolution, number>> = { "1s": 6 * 3600, "1m": 7 * 86_400, "1h": 30 * 86_400 }

export class HistoryRepo extends Effect.Service<HistoryRepo>()("@ircam/core/HistoryRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const findSeries = SqlSchema.findAll({
      Request: Schema.NullOr(ZoneId),
      Result: SeriesRow,
      execute: (zoneId) =>
        sql`SELECT id, zone_id, x, y, width, height, reason, started_at FROM history_series
          WHERE zone_id IS ${zoneId} ORDER BY id`
    })

    // the newest series of each target, and the last second it covers at the finest resolution that
    // still has it (seconds are the newest data; a minute or an hour covers up to its last second)
    const findLatest = SqlSchema.findAll({
      Request: Schema.Void,
      Result: LatestRow,
      execute: () =>
        sql`SELECT s.id, s.zone_id, s.x, s.y, s.width, s.height, s.reason, s.started_at,
            coalesce(
              (SELECT max(t) FROM history_seconds WHERE series_id = s.id),
              (SELECT max(t) + 59 FROM history_minutes WHERE series_id = s.id),
              (SELECT max(t) + 3599 FROM history_hours WHERE series_id = s.id)
            ) AS last_second
          FROM history_series s WHERE s.id IN (SELECT max(id) FROM history_series GROUP BY zone_id)`
    })

    const seriesIds = sql<{ id: number }>`SELECT id FROM history_series`.pipe(
      Effect.map((rows) => rows.map((row) => row.id))
    )

    const changes = Effect.map(sql<{ n: number }>`SELECT changes() AS n`, (rows) => rows[0]?.n ?? 0)

    /** Deletes the rows of `table` before `cutoff` (epoch seconds), series by series (each an index range). */
    const deleteBefore = (table: string, cutoff: (seriesId: number) => number | undefined) =>
      Effect.gen(function*() {
        let deleted = 0
        for (const id of yield* seriesIds) {
          const before = cutoff(id)
          if (before === undefined) continue
          yield* sql`DELETE FROM ${sql(table)} WHERE series_id = ${id} AND t < ${before}`
          deleted += yield* changes
        }
        return deleted
      })

    /** `table`'s buckets over [from, to) (aligned to its width) made again from the finer `source`'s. */
    const rollUpInto = (table: string, source: string, width: number, seriesId: number, from: number, to: number) =>
      sql`
        INSERT INTO ${sql(table)} (series_id, t, frames, min, max, mean, ambient)
        SELECT series_id, t - t % ${width}, sum(frames), min(min), max(max),
          round(sum(mean * frames) * 1.0 / sum(frames)),
          round(sum(ambient * frames) * 1.0 / sum(CASE WHEN ambient IS NULL THEN 0 ELSE frames END))
        FROM ${sql(source)}
        WHERE series_id = ${seriesId} AND t >= ${from - from % width} AND t < ${to - to % width + width}
        GROUP BY t - t % ${width}
        ON CONFLICT (series_id, t) DO UPDATE SET frames = excluded.frames, min = excluded.min, max = excluded.max,
          mean = excluded.mean, ambient = excluded.ambient`

    return {
      /** `effect` in one transaction: seconds, their series and their rollups are stored together or not at all. */
      transaction: (what: string) => StorageError.transaction(sql, what),

      /** The newest segment of each target and the last second it covers: what recording may continue. */
      latest: findLatest(undefined).pipe(
        Effect.map((rows): ReadonlyArray<StoredSegment> =>
          rows.map(({ lastSecond, ...row }) => ({ segment: toSegment(row), lastSecond }))
        ),
        StorageError.mapError("cannot read the history's segments")
      ),

      /** Stores a new segment's series; answers its id. */
      insertSeries: (segment: Omit<Segment, "id">) =>
        sql<{ id: number }>`INSERT INTO history_series ${
          sql.insert({
            zoneId: segment.zoneId,
            x: segment.rect?.x ?? null,
            y: segment.rect?.y ?? null,
            width: segment.rect?.width ?? null,
            height: segment.rect?.height ?? null,
            reason: segment.reason,
            startedAt: segment.startedAt
          })
        } RETURNING id`.pipe(
          Effect.map(([row]) => row!.id),
          StorageError.mapError("cannot store a history series")
        ),

      /**
       * Stores closed seconds. A second stored again (it cannot be, by how segments are made, but a
       * write must never fail over it) is merged with the stored one.
       */
      writeSeconds: (rows: ReadonlyArray<SecondRow>) =>
        Effect.gen(function*() {
          for (let at = 0; at < rows.length; at += rowsPerInsert) {
            const batch = rows.slice(at, at + rowsPerInsert).map((row) => ({
              seriesId: row.seriesId,
              t: row.t,
              frames: row.frames,
              min: centi(row.min),
              max: centi(row.max),
              mean: centi(row.mean),
              ambient: row.ambient === null ? null : centi(row.ambient)
            }))
            yield* sql`INSERT INTO history_seconds ${sql.insert(batch)}
              ON CONFLICT (series_id, t) DO UPDATE SET frames = frames + excluded.frames,
                min = min(min, excluded.min), max = max(max, excluded.max),
                mean = round((mean * frames + excluded.mean * excluded.frames) * 1.0 / (frames + excluded.frames)),
                ambient = coalesce(
                  round((ambient * frames + excluded.ambient * excluded.frames) * 1.0 / (frames + excluded.frames)),
                  ambient, excluded.ambient)`
          }
        }).pipe(StorageError.mapError("cannot store the history's seconds")),

      /** Makes the minutes of a series' seconds `from`..`to` (epoch seconds) again, then the hours of those minutes. */
      rollUp: (seriesId: number, from: number, to: number) =>
        Effect.zipRight(
          rollUpInto(tables["1m"], tables["1s"], 60, seriesId, from, to),
          rollUpInto(tables["1h"], tables["1m"], 3600, seriesId, from, to)
        ).pipe(Effect.asVoid, StorageError.mapError("cannot roll the history up")),

      /** The segments of a target (a zone, or null for the whole frame), oldest first. */
      series: (zoneId: ZoneId | null): Effect.Effect<ReadonlyArray<Segment>, StorageError.StorageError> =>
        findSeries(zoneId).pipe(
          Effect.map((rows) => rows.map(toSegment)),
          StorageError.mapError("cannot read the history's segments")
        ),

      /** The buckets of `step` of these series whose start is in `from`..`to` (epoch seconds), by time then series. */
      buckets: (
        step: Resolution,
        seriesIds: ReadonlyArray<number>,
        from: number,
        to: number
      ): Effect.Effect<ReadonlyArray<Bucket>, StorageError.StorageError> =>
        seriesIds.length === 0
          ? Effect.succeed([])
          : sql<{ values: string }>`SELECT '[' || coalesce(group_concat(
                series_id || ',' || t || ',' || frames || ',' || min || ',' || max || ',' || mean || ',' ||
                  coalesce(ambient, 'null'),
                ',' ORDER BY t, series_id), '') || ']' AS "values"
              FROM ${sql(tables[step])} WHERE series_id IN ${sql.in(seriesIds)} AND t >= ${from} AND t <= ${to}`
            .withoutTransform.pipe(
              Effect.flatMap(([row]) => decodeBucketValues(row?.values)),
              Effect.map(toBuckets),
              StorageError.mapError("cannot read the history")
            ),

      /** Deletes the buckets of `step` that start before `cutoff` (epoch seconds); answers how many. */
      deleteBefore: (step: Resolution, cutoff: number) =>
        deleteBefore(tables[step], () => cutoff).pipe(StorageError.mapError("cannot delete old history")),

      /** Deletes the series without a bucket left, but those in `keep` (being recorded); answers how many. */
      deleteEmptySeries: (keep: ReadonlyArray<number>) =>
        Effect.gen(function*() {
          yield* sql`DELETE FROM history_series WHERE ${
            sql.and([
              ...(keep.length === 0 ? [] : [sql`id NOT IN ${sql.in(keep)}`]),
              ...Object.values(tables).map((table) =>
                sql`NOT EXISTS (SELECT 1 FROM ${sql(table)} WHERE series_id = history_series.id)`
              )
            ])
          }`
          return yield* changes
        }).pipe(StorageError.mapError("cannot delete empty history series")),

      /** Bytes the whole database's pages hold (what counts toward `MAX_DB_MB`). */
      databaseBytes: Effect.provideService(Database.usedBytes, SqlClient.SqlClient, sql),

      /** Gives the free pages back to the file system. */
      reclaim: Effect.provideService(Database.reclaim, SqlClient.SqlClient, sql),

      /** Bytes the history's tables and index take in the database file. */
      bytes: sql<{ bytes: number }>`
        SELECT coalesce(sum(pgsize), 0) AS bytes FROM dbstat WHERE name IN (
          'history_series', 'history_series_by_zone', 'history_seconds', 'history_minutes', 'history_hours')`.pipe(
        Effect.map((rows) => rows[0]?.bytes ?? 0),
        StorageError.mapError("cannot read the history's size")
      ),

      /**
       * Deletes the oldest stretch of the finest resolution that has any (6 hours of seconds, else a
       * week of minutes, else a month of hours): what goes first when the history outgrows its share
       * of `MAX_DB_MB`. Answers whether anything was deleted.
       */
      dropOldest: Effect.gen(function*() {
        for (const step of ["1s", "1m", "1h"] as const) {
          const table = tables[step]
          const oldest = new Map<number, number>()
          for (const id of yield* seriesIds) {
            const [row] = yield* sql<{ t: number | null }>`SELECT min(t) AS t FROM ${
              sql(table)
            } WHERE series_id = ${id}`
            if (row?.t != null) oldest.set(id, row.t)
          }
          if (oldest.size === 0) continue
          const until = Math.min(...oldest.values()) + dropSpan[step]
          const deleted = yield* deleteBefore(table, (id) => oldest.has(id) ? until : undefined)
          if (deleted > 0) return true
        }
        return false
      }).pipe(StorageError.mapError("cannot delete the oldest history"))
    } as const
  })
}) {}
