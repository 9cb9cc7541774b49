/**
 * `ircam db …`: maintenance of the SQLite database at `DATABASE_PATH`. Only the database is opened
 * (migrated on open); the monitor and the sensor are never started. (The options are in Commands.ts.)
 */
import { Reactivity } from "@effect/experimental"
import { FileSystem } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { AppConfig } from "@ircam/core/AppConfig"
import { EventRepo } from "@ircam/core/EventRepo"
import { Clock, Console, Data, Effect, Either, Option, String as Str } from "effect"
import * as CliStorage from "./CliStorage.js"
import type { DbBackupOptions, DbPruneOptions, DbStatusOptions } from "./Commands.js"

export class DbCommandError extends Data.TaggedError("DbCommandError")<{ readonly message: string }> {}

const setExitCode = (code: number) =>
  Effect.sync(() => {
    process.exitCode = code
  })

const units: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `30d`, `12h`, `45m`, `90s`, `2w` (also `1.5d`) in milliseconds; a one-line reason otherwise. */
export const parseDuration = (text: string): Either.Either<number, string> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text)
  return match === null
    ? Either.left(`invalid duration "${text}": use a number and a unit s, m, h, d or w (e.g. 30d, 12h)`)
    : Either.right(Number(match[1]) * units[match[2]!.toLowerCase()]!)
}

const formatBytes = (bytes: number): string =>
  bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`

const schemaVersion = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ migrationId: number | null; name: string | null }>`
    SELECT migration_id, name FROM effect_sql_migrations ORDER BY migration_id DESC LIMIT 1`
  return { version: row?.migrationId ?? 0, name: row?.name ?? null }
})

const pageBytes = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const [row] = yield* sql<{ pageCount: number; pageSize: number; freelistCount: number }>`
    SELECT (SELECT page_count FROM pragma_page_count()) AS page_count,
      (SELECT page_size FROM pragma_page_size()) AS page_size,
      (SELECT freelist_count FROM pragma_freelist_count()) AS freelist_count`
  return {
    bytes: (row?.pageCount ?? 0) * (row?.pageSize ?? 0),
    freeBytes: (row?.freelistCount ?? 0) * (row?.pageSize ?? 0)
  }
})

// ---- migrate

const sqliteNow = (millis: number) => new Date(millis).toISOString().slice(0, 19).replace("T", " ")

/** `ircam db migrate`. */
export const migrate = () =>
  Effect.gen(function*() {
    const started = sqliteNow(yield* Clock.currentTimeMillis)
    yield* Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { databasePath } = yield* AppConfig
      const { name, version } = yield* schemaVersion
      const [applied] = yield* sql<{ count: number }>`
        SELECT count(*) AS count FROM effect_sql_migrations WHERE created_at >= ${started}`
      yield* Console.log(
        `${databasePath}: schema version ${version}${name === null ? "" : ` (${name})`}; ` +
          `${applied?.count ?? 0} migration(s) applied now`
      )
    }).pipe(Effect.provide(CliStorage.layer))
  })

// ---- status

const tables = ["zones", "events", "event_frames", "alarms", "outbox"] as const

/** `ircam db status`. */
export const status = ({ json }: DbStatusOptions) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { databasePath } = yield* AppConfig
    const { name, version } = yield* schemaVersion
    const [mode] = yield* sql<{ journalMode: string }>`PRAGMA journal_mode`
    const { bytes, freeBytes } = yield* pageBytes
    const counts: Record<string, number> = {}
    for (const table of tables) {
      const [row] = yield* sql<{ count: number }>`SELECT count(*) AS count FROM ${sql(table)}`
      counts[table] = row?.count ?? 0
    }
    const result = {
      path: databasePath,
      bytes,
      freeBytes,
      schemaVersion: version,
      migration: name,
      journalMode: mode?.journalMode ?? null,
      rows: counts
    }
    if (json) return yield* Console.log(JSON.stringify(result, null, 2))
    yield* Console.log(
      [
        `path:           ${databasePath}`,
        `size:           ${formatBytes(bytes)} (${formatBytes(freeBytes)} free)`,
        `schema version: ${version}${name === null ? "" : ` (${name})`}`,
        `journal mode:   ${result.journalMode}`,
        ...tables.map((table) => `${`${table}:`.padEnd(16)}${counts[table]}`)
      ].join("\n")
    )
  }).pipe(Effect.provide(CliStorage.layer))

// ---- integrity

/** The problems `PRAGMA integrity_check` and `foreign_key_check` find; empty when the database is sound. */
export const integrityProblems = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const integrity = yield* sql<{ integrityCheck: string }>`PRAGMA integrity_check`
  const problems = integrity.map((row) => row.integrityCheck).filter((line) => line !== "ok")
  const foreignKeys = yield* sql<{ table: string; rowid: number | null; parent: string }>`PRAGMA foreign_key_check`
  for (const row of foreignKeys) {
    problems.push(`${row.table} row ${row.rowid ?? "?"} refers to a missing row of ${row.parent}`)
  }
  return problems
})

/** `ircam db integrity`. */
export const integrity = () =>
  Effect.gen(function*() {
    const { databasePath } = yield* AppConfig
    const problems = yield* integrityProblems
    if (problems.length === 0) return yield* Console.log(`${databasePath}: integrity ok`)
    yield* Console.error(`${databasePath}: ${problems.length} integrity problem(s)`)
    for (const problem of problems) yield* Console.error(`  ${problem}`)
    yield* setExitCode(1)
  }).pipe(Effect.provide(CliStorage.layer))

// ---- vacuum

/** `ircam db vacuum`. */
export const vacuum = () =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { databasePath } = yield* AppConfig
    const before = yield* pageBytes
    yield* Console.log(`vacuuming ${databasePath} (${formatBytes(before.bytes)}); this may take a while...`)
    yield* sql`VACUUM`
    const after = yield* pageBytes
    yield* Console.log(`done: ${formatBytes(before.bytes)} -> ${formatBytes(after.bytes)}`)
  }).pipe(Effect.provide(CliStorage.layer))

// ---- backup

/** Opens `file` on its own and checks it. */
const checkCopy = (file: string) =>
  Effect.gen(function*() {
    const copy = yield* SqliteClient.make({
      filename: file,
      readonly: true,
      disableWAL: true,
      transformResultNames: Str.snakeToCamel
    }).pipe(
      Effect.catchAllDefect((cause) =>
        new DbCommandError({
          message: `cannot open the copy ${file}: ${cause instanceof Error ? cause.message : cause}`
        })
      )
    )
    return yield* integrityProblems.pipe(Effect.provideService(SqlClient.SqlClient, copy))
  }).pipe(Effect.scoped, Effect.provide(Reactivity.layer))

/** `ircam db backup`. */
export const backup = ({ file, force }: DbBackupOptions) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const sql = yield* SqlClient.SqlClient
    const { databasePath } = yield* AppConfig
    if (yield* fs.exists(file)) {
      if (!force) return yield* new DbCommandError({ message: `${file} exists already (use --force to overwrite)` })
      yield* fs.remove(file)
    }
    yield* Console.log(`copying ${databasePath} to ${file}...`)
    yield* sql`VACUUM INTO ${file}`
    const problems = yield* checkCopy(file)
    if (problems.length > 0) {
      return yield* new DbCommandError({ message: `the copy ${file} fails its integrity check: ${problems[0]}` })
    }
    const { size } = yield* fs.stat(file)
    yield* Console.log(`backup written to ${file} (${formatBytes(Number(size))}); integrity ok`)
  }).pipe(Effect.provide(CliStorage.layer))

// ---- prune

/** `ircam db prune`. */
export const prune = ({ olderThan }: DbPruneOptions) =>
  Effect.gen(function*() {
    const age = yield* Option.match(olderThan, {
      onNone: () => Effect.map(AppConfig, (config) => config.eventRetentionDays * units.d!),
      onSome: (text) => Either.mapLeft(parseDuration(text), (message) => new DbCommandError({ message }))
    })
    const events = yield* EventRepo
    const cutoff = (yield* Clock.currentTimeMillis) - age
    const deleted = yield* events.deleteCompleteBefore(cutoff)
    const freed = yield* events.reclaim
    yield* Console.log(
      `deleted ${deleted.length} event(s) recorded before ${new Date(cutoff).toISOString()}; ${
        formatBytes(freed)
      } freed`
    )
  }).pipe(Effect.provide(CliStorage.layer))
