/**
 * The SQLite database: one connection (better-sqlite3 through @effect/sql), WAL journal,
 * the PRAGMAs below, and every migration applied before anything else uses it.
 */
import { Reactivity } from "@effect/experimental"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { SqlClient, type SqlError } from "@effect/sql"
import { SqliteClient, SqliteMigrator } from "@effect/sql-sqlite-node"
import { Context, Effect, Layer, Schema, String as Str } from "effect"
import { AppConfig } from "./AppConfig.js"
import type * as Health from "./Health.js"
import { migrations } from "./Migrations.js"
import { mapError, type StorageError, storageError } from "./StorageError.js"

export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  path: Schema.String,
  message: Schema.String
}) {}

export const memory = ":memory:"

const pragmas = [
  "PRAGMA synchronous = NORMAL", // with WAL: durable at checkpoints, never corrupt
  "PRAGMA foreign_keys = ON",
  // Another process (the CLI, a backup) may hold the lock briefly. better-sqlite3 waits for it
  // synchronously, stalling the whole event loop, so wait little: writers retry with backoff.
  "PRAGMA busy_timeout = 100"
]

const open = Effect.gen(function*() {
  const { databasePath } = yield* AppConfig
  const fail = (what: string) => (cause: unknown) =>
    new DatabaseError({
      path: databasePath,
      message: `${what} ${databasePath}: ${cause instanceof Error ? cause.message : String(cause)}`
    })
  if (databasePath !== memory) {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    yield* fs.makeDirectory(path.dirname(databasePath), { recursive: true }).pipe(
      Effect.mapError(fail("cannot create the directory of"))
    )
  }
  // better-sqlite3 throws from its constructor (bad path, not a database): make that a typed error
  const client = yield* SqliteClient.make({
    filename: databasePath,
    transformQueryNames: Str.camelToSnake,
    transformResultNames: Str.snakeToCamel
  }).pipe(
    Effect.catchAllDefect((cause) => Effect.fail(fail("cannot open")(cause)))
  )
  for (const pragma of pragmas) {
    yield* client.unsafe(pragma).pipe(Effect.mapError(fail("cannot configure")))
  }
  // Deleted events must give their space back (MAX_DB_MB): incremental auto-vacuum, switched on
  // once for a database made without it (VACUUM rewrites the file; it is small then).
  const [vacuum] = yield* client<{ autoVacuum: number }>`PRAGMA auto_vacuum`.pipe(
    Effect.mapError(fail("cannot configure"))
  )
  if (vacuum?.autoVacuum !== 2) {
    yield* client.unsafe("PRAGMA auto_vacuum = INCREMENTAL").pipe(
      Effect.zipRight(client.unsafe("VACUUM")),
      Effect.mapError(fail("cannot configure"))
    )
  }
  return Context.make(SqliteClient.SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
})

const ClientLive = Layer.scopedContext(open).pipe(Layer.provide(Reactivity.layer))

const MigratorLive = SqliteMigrator.layer({ loader: SqliteMigrator.fromRecord(migrations) })

/** The `database` check: the journal mode and schema version, or `down` when it cannot be read. */
export const health: Effect.Effect<Health.CheckResult, never, SqlClient.SqlClient | AppConfig> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const { databasePath } = yield* AppConfig
    return yield* Effect.gen(function*() {
      const [mode] = yield* sql<{ journalMode: string }>`PRAGMA journal_mode`
      const [version] = yield* sql<{ id: number | null }>`SELECT max(migration_id) AS id FROM effect_sql_migrations`
      return {
        status: "ok" as const,
        details: { path: databasePath, journalMode: mode?.journalMode ?? null, schemaVersion: version?.id ?? null }
      }
    }).pipe(
      Effect.catchAll((error) =>
        Effect.succeed({
          status: "down" as const,
          // the driver's reason, not only @effect/sql's "Failed to execute statement"
          message: storageError("cannot read the database")(error).message,
          details: { path: databasePath }
        })
      )
    )
  }
)

/** Bytes the database's pages hold, free pages left out: what counts toward `MAX_DB_MB`. */
export const usedBytes: Effect.Effect<number, StorageError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ bytes: number }>`
      SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size())
        - (SELECT freelist_count FROM pragma_freelist_count()) * (SELECT page_size FROM pragma_page_size())
        AS bytes`.pipe(
      Effect.map((rows) => rows[0]?.bytes ?? 0),
      mapError("cannot read the database's size")
    )
)

/**
 * Gives the free pages back to the file system (incremental auto-vacuum); answers how many bytes.
 * The pragma frees one page each time the driver steps it, and the driver steps a statement that
 * returns no rows once: so once a page.
 */
export const reclaim: Effect.Effect<number, StorageError, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    Effect.gen(function*() {
      const [row] = yield* sql<{ freelistCount: number; pageSize: number }>`
        SELECT (SELECT freelist_count FROM pragma_freelist_count()) AS freelist_count,
          (SELECT page_size FROM pragma_page_size()) AS page_size`
      const pages = row?.freelistCount ?? 0
      for (let i = 0; i < pages; i++) yield* sql`PRAGMA incremental_vacuum`
      return pages * (row?.pageSize ?? 0)
    }).pipe(mapError("cannot give the free space back"))
)

/**
 * `SqlClient` (and `SqliteClient`) on the file at `DATABASE_PATH` (its directory created if missing),
 * migrated.
 */
export const layer: Layer.Layer<
  SqlClient.SqlClient | SqliteClient.SqliteClient,
  DatabaseError | SqliteMigrator.MigrationError | SqlError.SqlError,
  AppConfig
> = MigratorLive.pipe(
  Layer.provideMerge(ClientLive),
  Layer.provide(NodeContext.layer)
)
