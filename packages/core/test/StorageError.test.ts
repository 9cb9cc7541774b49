import { SqlClient, SqlError } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Data, Effect, Schema } from "effect"
import * as StorageError from "../src/StorageError.js"
import * as TestCore from "./support/TestCore.js"

class Refused extends Data.TaggedError("Refused") {}

const missingTable = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT * FROM no_such_table`)

describe("StorageError", () => {
  it.effect("mapError names what failed and the driver's reason", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(StorageError.mapError("cannot read the things")(missingTable))
      assert.instanceOf(error, StorageError.StorageError)
      assert.strictEqual(
        error.message,
        "cannot read the things: Failed to prepare statement (no such table: no_such_table)"
      )
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("mapError turns a row that does not decode into a StorageError with the decoding problem", () =>
    Effect.gen(function*() {
      const decoded = Schema.decodeUnknown(Schema.Struct({ id: Schema.Number }))({ id: "seven" })
      const error = yield* Effect.flip(StorageError.mapError("cannot read the thing")(decoded))
      assert.match(error.message, /^cannot read the thing: /)
      assert.include(error.message, "\"seven\"")
    }))

  it("a SqlError without a driver error keeps its own message", () => {
    const error = StorageError.storageError("cannot write")(new SqlError.SqlError({ message: "closed" }))
    assert.strictEqual(error.message, "cannot write: closed")
  })

  it.effect("mapSqlError maps only the SqlErrors: the other errors stay as they are", () =>
    Effect.gen(function*() {
      const sqlFailure = yield* Effect.flip(StorageError.mapSqlError("cannot store")(missingTable))
      assert.instanceOf(sqlFailure, StorageError.StorageError)
      const other = yield* Effect.flip(StorageError.mapSqlError("cannot store")(new Refused()))
      assert.instanceOf(other, Refused)
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("transaction rolls back on any failure and maps its SqlErrors", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`CREATE TABLE t (v INTEGER)`
      const insertThen = <E>(failure: Effect.Effect<never, E, SqlClient.SqlClient>) =>
        Effect.flip(
          StorageError.transaction(sql, "cannot store t")(Effect.zipRight(sql`INSERT INTO t VALUES (1)`, failure))
        )
      const refused = yield* insertThen(new Refused())
      assert.instanceOf(refused, Refused)
      const failed = yield* insertThen(Effect.flatMap(missingTable, () => Effect.never))
      assert.instanceOf(failed, StorageError.StorageError)
      assert.match(failed.message, /^cannot store t: /)
      assert.deepStrictEqual(yield* sql`SELECT v FROM t`, [])
      yield* StorageError.transaction(sql, "cannot store t")(sql`INSERT INTO t VALUES (2)`)
      assert.deepStrictEqual(yield* sql`SELECT v FROM t`, [{ v: 2 }])
    }).pipe(Effect.provide(TestCore.storage())))
})
