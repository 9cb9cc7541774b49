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
  }),
  // Rules of a deleted zone are deleted with it (ON DELETE CASCADE); their alarms and history stay.
  "0003_alarms": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      CREATE TABLE alarm_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        zone_id INTEGER REFERENCES zones (id) ON DELETE CASCADE,
        metric TEXT NOT NULL CHECK (metric IN ('average', 'max', 'min', 'rate')),
        direction TEXT NOT NULL CHECK (direction IN ('above', 'below')),
        threshold REAL NOT NULL,
        hysteresis REAL NOT NULL CHECK (hysteresis >= 0),
        delay_seconds REAL NOT NULL CHECK (delay_seconds >= 0),
        severity TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1))
      )`
    yield* sql`
      CREATE TABLE alarms (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id INTEGER NOT NULL,
        zone_id INTEGER,
        severity TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('active', 'cleared')),
        value REAL NOT NULL,
        raised_at INTEGER NOT NULL,
        acknowledged_at INTEGER,
        cleared_at INTEGER,
        event_id INTEGER
      )`
    yield* sql`CREATE INDEX alarms_by_state ON alarms (state)`
    yield* sql`
      CREATE TABLE alarm_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id INTEGER NOT NULL,
        alarm_id INTEGER,
        transition TEXT NOT NULL,
        value REAL,
        at INTEGER NOT NULL
      )`
    // Notifications to deliver, one row per channel, kept after delivery or giving up.
    yield* sql`
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
        message_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'given_up')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      )`
    yield* sql`CREATE INDEX outbox_due ON outbox (status, next_attempt_at)`
  }),
  // Frames are read in the order they were stored, which is the order they were captured: their
  // wall-clock captured_at goes backwards when the clock is stepped back. An index on event_id alone
  // keeps each event's entries in rowid order.
  "0004_event_frames_in_order": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE INDEX event_frames_in_order ON event_frames (event_id)`
    yield* sql`DROP INDEX event_frames_by_event`
  }),
  // Channels are named by the module that sends on them (Core composes them); the table no longer
  // lists them. SQLite cannot drop a CHECK constraint: the table is made again.
  "0005_outbox_any_channel": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      CREATE TABLE outbox_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        payload TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'given_up')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        delivered_at INTEGER
      )`
    yield* sql`INSERT INTO outbox_new SELECT id, channel, message_id, payload, status, attempts, next_attempt_at,
      last_error, created_at, delivered_at FROM outbox`
    yield* sql`DROP TABLE outbox`
    yield* sql`ALTER TABLE outbox_new RENAME TO outbox`
    yield* sql`CREATE INDEX outbox_pending ON outbox (status, channel)`
  }),
  // The temperature history (HistoryRepo). A series is one stretch of one target, the frame
  // (zone_id NULL) or a zone with one rectangle: a new one starts when a zone's rectangle changes
  // or the wall clock goes back to seconds already recorded. Buckets are keyed by series and
  // wall-clock second (t, epoch seconds, the bucket's start); temperatures are centi-degrees, so a
  // row is some 25 bytes. Alarm periods are read by zone, rule and time (`alarms_by_zone_rule`).
  "0006_history": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      CREATE TABLE history_series (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        zone_id INTEGER,
        x INTEGER,
        y INTEGER,
        width INTEGER,
        height INTEGER,
        reason TEXT NOT NULL CHECK (reason IN ('started', 'zoneChanged', 'clockSteppedBack')),
        started_at INTEGER NOT NULL
      )`
    yield* sql`CREATE INDEX history_series_by_zone ON history_series (zone_id)`
    for (const table of ["history_seconds", "history_minutes", "history_hours"]) {
      yield* sql.unsafe(`
        CREATE TABLE ${table} (
          series_id INTEGER NOT NULL,
          t INTEGER NOT NULL,
          frames INTEGER NOT NULL,
          min INTEGER NOT NULL,
          max INTEGER NOT NULL,
          mean INTEGER NOT NULL,
          ambient INTEGER,
          PRIMARY KEY (series_id, t)
        ) WITHOUT ROWID`)
    }
    yield* sql`CREATE INDEX alarms_by_zone_rule ON alarms (zone_id, rule_id, raised_at, cleared_at)`
  }),
  // The frame that raised each alarm, and the latest frame when each event was triggered (its
  // sequence and wall-clock label): the pictures of notifications and the GIF's marker show it.
  "0007_alarm_evidence": Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql`ALTER TABLE alarms ADD COLUMN trigger_sequence INTEGER`
    yield* sql`ALTER TABLE alarms ADD COLUMN trigger_captured_at INTEGER`
    yield* sql`ALTER TABLE events ADD COLUMN trigger_sequence INTEGER`
    yield* sql`ALTER TABLE events ADD COLUMN trigger_captured_at INTEGER`
    yield* sql`CREATE INDEX alarms_by_event ON alarms (event_id)`
  })
}
