import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import BetterSqlite3 from "better-sqlite3"
import { Cause, Effect, Exit, Layer, Option } from "effect"
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AppConfig } from "../src/AppConfig.js"
import * as Database from "../src/Database.js"
import * as Health from "../src/Health.js"

/** A fresh temporary directory, removed when the scope closes. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "ircam-db-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const databaseAt = (databasePath: string) =>
  Database.layer.pipe(
    Layer.provideMerge(Health.Health.layer),
    Layer.provide(AppConfig.layerWith({ databasePath }))
  )

/** Opens the database at `databasePath` just for `use`. */
const withDatabase = <A, E>(
  databasePath: string,
  use: Effect.Effect<A, E, SqlClient.SqlClient | Health.Health>
) => Effect.provide(use, databaseAt(databasePath))

const pragma = (name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql.unsafe<Record<string, unknown>>(`PRAGMA ${name}`)
    return row === undefined ? undefined : Object.values(row)[0]
  })

/** Builds the layer for `databasePath` and returns its failure (the test fails on success or on a defect). */
const openFailure = (databasePath: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(withDatabase(databasePath, Effect.void))
    if (Exit.isSuccess(exit)) return assert.fail(`expected opening ${databasePath} to fail`)
    const failure = Cause.failureOption(exit.cause)
    if (Option.isNone(failure)) return assert.fail(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
    return failure.value
  })

describe("Database.layer on a file", () => {
  it.scoped("creates the missing directories of DATABASE_PATH", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const databasePath = join(dir, "not", "yet", "there", "ircam.db")
      assert.isFalse(existsSync(join(dir, "not")))
      yield* withDatabase(databasePath, pragma("user_version"))
      assert.isTrue(statSync(join(dir, "not", "yet", "there")).isDirectory())
      assert.isTrue(statSync(databasePath).isFile())
    }))

  it.scoped("uses the WAL journal and the PRAGMAs", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "ircam.db")
      const values = yield* withDatabase(
        databasePath,
        Effect.all({
          journal: pragma("journal_mode"),
          foreignKeys: pragma("foreign_keys"),
          synchronous: pragma("synchronous"),
          busyTimeout: pragma("busy_timeout")
        })
      )
      assert.deepStrictEqual(values, { journal: "wal", foreignKeys: 1, synchronous: 1, busyTimeout: 100 })
    }))

  it.scoped("applies the migrations once and records them", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "ircam.db")
      const migrations = Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{ migrationId: number; name: string }>`
          SELECT migration_id, name FROM effect_sql_migrations ORDER BY migration_id`
      })
      const first = yield* withDatabase(
        databasePath,
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const tables = yield* sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`
          assert.include(tables.map((t) => t.name), "zones")
          yield* sql`INSERT INTO zones ${
            sql.insert({
              name: "kept",
              color: "#ff0000",
              x: 0,
              y: 0,
              width: 1,
              height: 1,
              createdAt: "t",
              updatedAt: "t"
            })
          }`
          return yield* migrations
        })
      )
      assert.deepStrictEqual(first.map((m) => [m.migrationId, m.name]), [[1, "zones"], [2, "events"], [3, "alarms"]])
      // opening the same file again finds the migration applied and the data still there
      const second = yield* withDatabase(
        databasePath,
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const rows = yield* sql<{ name: string }>`SELECT name FROM zones`
          assert.deepStrictEqual(rows.map((r) => r.name), ["kept"])
          return yield* migrations
        })
      )
      assert.deepStrictEqual(second.map((m) => [m.migrationId, m.name]), [[1, "zones"], [2, "events"], [3, "alarms"]])
    }))

  it.scoped("switches a database made without it to incremental auto-vacuum, keeping its data", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "old.db")
      const old = new BetterSqlite3(databasePath)
      old.exec("CREATE TABLE keep (v TEXT); INSERT INTO keep VALUES ('still here')")
      assert.strictEqual(old.pragma("auto_vacuum", { simple: true }), 0)
      old.close()
      const result = yield* withDatabase(
        databasePath,
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const [mode] = yield* sql<{ autoVacuum: number }>`PRAGMA auto_vacuum`
          const rows = yield* sql<{ v: string }>`SELECT v FROM keep`
          return { mode: mode?.autoVacuum, rows: rows.map((r) => r.v) }
        })
      )
      assert.deepStrictEqual(result, { mode: 2, rows: ["still here"] })
    }))

  it.scoped("the zones table enforces the frame bounds", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "ircam.db")
      const exit = yield* withDatabase(
        databasePath,
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`INSERT INTO zones ${
            sql.insert({
              name: "wide",
              color: "#ff0000",
              x: 30,
              y: 0,
              width: 3,
              height: 1,
              createdAt: "t",
              updatedAt: "t"
            })
          }`
        })
      ).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
    }))

  it.scoped("registers a database health check that reports ok", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "ircam.db")
      const report = yield* withDatabase(databasePath, Effect.flatMap(Health.Health, (h) => h.report))
      assert.strictEqual(report.status, "ok")
      assert.deepStrictEqual(report.checks["database"], {
        status: "ok",
        details: { path: databasePath, journalMode: "wal", schemaVersion: 3 }
      })
    }))
})

describe("Database.layer failures", () => {
  it.scoped("a directory as DATABASE_PATH fails with DatabaseError", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const error = yield* openFailure(dir)
      assert.instanceOf(error, Database.DatabaseError)
      if (!(error instanceof Database.DatabaseError)) return
      assert.strictEqual(error._tag, "DatabaseError")
      assert.strictEqual(error.path, dir)
      assert.include(error.message, dir)
    }))

  it.scoped("a path under a regular file fails with DatabaseError", () =>
    Effect.gen(function*() {
      const file = join(yield* tempDir, "plain-file")
      writeFileSync(file, "not a directory")
      const databasePath = join(file, "sub", "ircam.db")
      const error = yield* openFailure(databasePath)
      assert.instanceOf(error, Database.DatabaseError)
      if (!(error instanceof Database.DatabaseError)) return
      assert.strictEqual(error.path, databasePath)
      assert.include(error.message, "cannot create the directory of")
    }))

  it.scoped("a file that is not a database fails with DatabaseError", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "garbage.db")
      writeFileSync(databasePath, "x".repeat(4096))
      const error = yield* openFailure(databasePath)
      assert.instanceOf(error, Database.DatabaseError)
      if (!(error instanceof Database.DatabaseError)) return
      assert.include(error.message, databasePath)
      assert.match(error.message, /not a database/)
    }))
})

describe("Database.layerMemory", () => {
  it.effect("opens a migrated in-memory database without touching the disk", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* pragma("journal_mode"), "memory")
      assert.strictEqual(yield* pragma("foreign_keys"), 1)
      const report = yield* (yield* Health.Health).report
      assert.deepStrictEqual(report.checks["database"], {
        status: "ok",
        details: { path: ":memory:", journalMode: "memory", schemaVersion: 3 }
      })
    }).pipe(Effect.provide(Database.layerMemory.pipe(Layer.provideMerge(Health.Health.layer)))))

  it.effect("the health check shows a missing schema version and goes down when the database breaks", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const health = yield* Health.Health
      yield* sql`DELETE FROM effect_sql_migrations`
      assert.deepStrictEqual((yield* health.report).checks["database"]?.details, {
        path: ":memory:",
        journalMode: "memory",
        schemaVersion: null
      })
      yield* sql`DROP TABLE effect_sql_migrations`
      const report = yield* health.report
      assert.strictEqual(report.status, "down")
      const check = report.checks["database"]
      assert.strictEqual(check?.status, "down")
      assert.match(check?.message ?? "", /.+/)
      assert.deepStrictEqual(check?.details, { path: ":memory:" })
    }).pipe(Effect.provide(Database.layerMemory.pipe(Layer.provideMerge(Health.Health.layer)))))
})
