/**
 * Versioned schema migrations, applied in id order at start-up and recorded in
 * `effect_sql_migrations`. Never edit a released migration: add a new one.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export const migrations = {
  "0001_zones": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      CREATE TABLE zones (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        color TEXT NOT NULL,
        x INTEGER NOT NULL CHECK (x >= 0),
        y INTEGER NOT NULL CHECK (y >= 0),
        width INTEGER NOT NULL CHECK (width >= 1 AND x + width <= 32),
        height INTEGER NOT NULL CHECK (height >= 1 AND y + height <= 24),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`
  })
}
