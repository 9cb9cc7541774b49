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
  }),
  // An event's row and its frames change in the same transactions, so frame_count, started_at,
  // ended_at and the peak always describe exactly the frames stored (see EventStore).
  "0002_events": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('manual', 'alarm')),
        label TEXT,
        status TEXT NOT NULL CHECK (status IN ('recording', 'complete')),
        triggered_at INTEGER NOT NULL,
        window_end INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER,
        frame_count INTEGER NOT NULL DEFAULT 0,
        zone_id INTEGER,
        alarm_id INTEGER,
        peak_temperature REAL,
        peak_x INTEGER,
        peak_y INTEGER
      )`
    yield* sql`CREATE INDEX events_by_triggered_at ON events (triggered_at)`
    yield* sql`
      CREATE TABLE event_frames (
        event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        captured_at INTEGER NOT NULL,
        sequence INTEGER NOT NULL,
        ambient REAL NOT NULL,
        temperatures BLOB NOT NULL
      )`
    yield* sql`CREATE INDEX event_frames_by_event ON event_frames (event_id, captured_at)`
  })
}
