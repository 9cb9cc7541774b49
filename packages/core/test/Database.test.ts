import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { SqliteClient, SqliteMigrator } from "@effect/sql-sqlite-node"
import { assert, describe, it } from "@effect/vitest"
import BetterSqlite3 from "better-sqlite3"
import { Cause, Effect, Exit, Layer, Option, String as Str } from "effect"
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { AppConfig } from "../src/AppConfig.js"
import * as Database from "../src/Database.js"
import { migrations } from "../src/Migrations.js"
import * as TestCore from "./support/TestCore.js"

/** A fresh temporary directory, removed when the scope closes. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "ircam-db-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const databaseAt = (databasePath: string) => Database.layer.pipe(Layer.provideMerge(TestCore.config({ databasePath })))

/** Opens the database at `databasePath` just for `use`. */
const withDatabase = <A, E>(
  databasePath: string,
  use: Effect.Effect<A, E, SqlClient.SqlClient | AppConfig>
) => Effect.provide(use, databaseAt(databasePath))

const allMigrations = [
  [1, "zones"],
  [2, "events"],
  [3, "alarms"],
  [4, "event_frames_in_order"],
  [5, "outbox_any_channel"],
  [6, "history"],
  [7, "alarm_evidence"]
]
/** The schema version of a database with every migration applied. */
const latest = allMigrations[allMigrations.length - 1]![0]

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
      assert.deepStrictEqual(first.map((m) => [m.migrationId, m.name]), allMigrations)
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
      assert.deepStrictEqual(second.map((m) => [m.migrationId, m.name]), allMigrations)
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

  it.scoped("its health check reports ok with the path, the journal and the schema version", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "ircam.db")
      assert.deepStrictEqual(yield* withDatabase(databasePath, Database.health), {
        status: "ok",
        details: { path: databasePath, journalMode: "wal", schemaVersion: latest }
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

describe("Database.layer in memory", () => {
  it.effect("opens a migrated in-memory database without touching the disk", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* pragma("journal_mode"), "memory")
      assert.strictEqual(yield* pragma("foreign_keys"), 1)
      assert.deepStrictEqual(yield* Database.health, {
        status: "ok",
        details: { path: ":memory:", journalMode: "memory", schemaVersion: latest }
      })
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("the health check shows a missing schema version and goes down when the database breaks", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`DELETE FROM effect_sql_migrations`
      assert.deepStrictEqual((yield* Database.health).details, {
        path: ":memory:",
        journalMode: "memory",
        schemaVersion: null
      })
      yield* sql`DROP TABLE effect_sql_migrations`
      const check = yield* Database.health
      assert.strictEqual(check.status, "down")
      assert.strictEqual(
        check.message,
        "cannot read the database: Failed to execute statement (no such table: effect_sql_migrations)"
      )
      assert.deepStrictEqual(check.details, { path: ":memory:" })
    }).pipe(Effect.provide(TestCore.storage())))
})

/** A database file made by the release whose schema ended with migration `last`. */
const olderDatabase = (databasePath: string, last: string, fill: Effect.Effect<void, unknown, SqlClient.SqlClient>) =>
  Effect.provide(
    fill,
    SqliteMigrator.layer({
      loader: SqliteMigrator.fromRecord(Object.fromEntries(Object.entries(migrations).filter(([id]) => id <= last)))
    }).pipe(
      Layer.provideMerge(SqliteClient.layer({
        filename: databasePath,
        transformQueryNames: Str.camelToSnake,
        transformResultNames: Str.snakeToCamel
      })),
      Layer.provide(NodeContext.layer)
    )
  )

describe("Database.layer on a database of an older schema", () => {
  it.scoped("0004 reads an event's frames in the order they were stored, keeping them", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "old.db")
      // frames stored while the wall clock was stepped back: captured_at goes backwards
      const capturedAt = [100_000, 100_125, 40_250, 40_375]
      yield* olderDatabase(
        databasePath,
        "0003_alarms",
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`INSERT INTO events (id, kind, status, triggered_at, window_end, frame_count)
            VALUES (1, 'manual', 'complete', 100000, 110000, 4)`
          for (const [i, at] of capturedAt.entries()) {
            yield* sql`INSERT INTO event_frames ${
              sql.insert({ eventId: 1, capturedAt: at, sequence: i, ambient: 25, temperatures: new Uint8Array([i]) })
            }`
          }
        })
      )
      const result = yield* withDatabase(
        databasePath,
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const indexes = yield* sql<{ name: string }>`
            SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event_frames' ORDER BY name`
          const plan = yield* sql.unsafe<{ detail: string }>(
            "EXPLAIN QUERY PLAN SELECT sequence FROM event_frames WHERE event_id = 1"
          )
          const frames = yield* sql<{ sequence: number; capturedAt: number }>`
            SELECT sequence, captured_at FROM event_frames WHERE event_id = 1`
          return { indexes: indexes.map((i) => i.name), plan: plan.map((p) => p.detail).join("; "), frames }
        })
      )
      assert.deepStrictEqual(result.indexes, ["event_frames_in_order"])
      assert.include(result.plan, "event_frames_in_order")
      assert.deepStrictEqual(result.frames, capturedAt.map((capturedAt, sequence) => ({ sequence, capturedAt })))
    }))

  it.scoped("0005 keeps every outbox row and accepts any channel name, still checking the status", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "old.db")
      const rows = [
        {
          id: 1,
          channel: "webhook",
          messageId: "m1",
          payload: "{\"a\":1}",
          status: "delivered",
          attempts: 1,
          nextAttemptAt: 10,
          lastError: null,
          createdAt: 5,
          deliveredAt: 11
        },
        {
          id: 2,
          channel: "email",
          messageId: "m1",
          payload: "{\"a\":1}",
          status: "given_up",
          attempts: 7,
          nextAttemptAt: 20,
          lastError: "550 no such user",
          createdAt: 5,
          deliveredAt: null
        },
        {
          id: 4,
          channel: "webhook",
          messageId: "m2",
          payload: "{}",
          status: "pending",
          attempts: 0,
          nextAttemptAt: 30,
          lastError: null,
          createdAt: 30,
          deliveredAt: null
        }
      ]
      yield* olderDatabase(
        databasePath,
        "0004_event_frames_in_order",
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`INSERT INTO outbox ${sql.insert(rows)}`
          // the old table refuses a channel it does not list
          const refused = yield* Effect.exit(
            sql`INSERT INTO outbox ${sql.insert({ ...rows[2]!, id: 5, channel: "sms" })}`
          )
          assert.isTrue(Exit.isFailure(refused))
        })
      )
      yield* withDatabase(
        databasePath,
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          assert.deepStrictEqual(yield* sql`SELECT * FROM outbox ORDER BY id`, rows)
          // a channel of any name; new ids follow the old ones
          const [added] = yield* sql<{ id: number }>`INSERT INTO outbox ${
            sql.insert({ ...rows[2]!, id: undefined, channel: "sms" })
          } RETURNING id`
          assert.strictEqual(added?.id, 5)
          const badStatus = yield* Effect.exit(sql`UPDATE outbox SET status = 'lost' WHERE id = 5`)
          assert.isTrue(Exit.isFailure(badStatus))
          const indexes = yield* sql<{ name: string }>`
            SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' ORDER BY name`
          assert.deepStrictEqual(indexes.map((i) => i.name), ["outbox_pending"])
          const [version] = yield* sql<{ id: number }>`SELECT max(migration_id) AS id FROM effect_sql_migrations`
          assert.strictEqual(version?.id, latest)
        })
      )
    }))

  it.scoped("0007 keeps alarms and events, with no trigger frame, and records one for new ones", () =>
    Effect.gen(function*() {
      const databasePath = join(yield* tempDir, "old.db")
      const alarm = {
        id: 3,
        ruleId: 1,
        zoneId: null,
        severity: "warning",
        state: "cleared",
        value: 31.5,
        raisedAt: 1000,
        acknowledgedAt: null,
        clearedAt: 2000,
        eventId: 9
      }
      yield* olderDatabase(
        databasePath,
        "0005_outbox_any_channel",
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql`INSERT INTO alarms ${sql.insert(alarm)}`)
      )
      yield* withDatabase(
        databasePath,
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          assert.deepStrictEqual(yield* sql`SELECT * FROM alarms`, [
            { ...alarm, triggerSequence: null, triggerCapturedAt: null }
          ])
          yield* sql`INSERT INTO alarms ${
            sql.insert({ ...alarm, id: 4, eventId: 10, triggerSequence: 77, triggerCapturedAt: 1500 })
          }`
          const plan = yield* sql<{ detail: string }>`EXPLAIN QUERY PLAN SELECT * FROM alarms WHERE event_id = 10`
          assert.include(plan.map((p) => p.detail).join("; "), "alarms_by_event")
          const columns = yield* sql<{ name: string }>`SELECT name FROM pragma_table_info('events')`
          assert.includeMembers(columns.map((c) => c.name), ["trigger_sequence", "trigger_captured_at"])
        })
      )
    }))
})
