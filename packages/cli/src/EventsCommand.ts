/**
 * `ircam events …`: read the recorded events in `DATABASE_PATH`. Plain SQL reads: no event
 * writer, recovery or retention runs, so it is safe while a server uses the same file. The
 * JSON and CSV shapes are the HTTP API's (the same functions format them). (The options are in
 * Commands.ts.)
 */
import { FileSystem, Path } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { AppConfig } from "@ircam/core/AppConfig"
import * as Database from "@ircam/core/Database"
import { type Event, type StoredFrame, toJson } from "@ircam/core/Event"
import { EventNotFound, type EventRow, StorageError, toEvent } from "@ircam/core/EventStore"
import * as FrameCodec from "@ircam/core/FrameCodec"
import * as Health from "@ircam/core/Health"
import { csvHeader, csvRow, frameJson } from "@ircam/http/EventHandlers"
import { Console, Effect, Layer, Option } from "effect"
import type { EventsExportOptions, EventsListOptions, EventsShowOptions } from "./Commands.js"

/** The database at DATABASE_PATH, migrated; nothing else. */
export const DatabaseLive = Database.layer.pipe(Layer.provide(Health.Health.layer), Layer.provide(AppConfig.layer))

/** Frames read (and formatted) per query during an export. */
export const exportBatch = 200
/** Exports of at least this many frames report their progress on stderr. */
export const progressThreshold = 1000

const storageError = (what: string) => (error: { readonly message: string }) =>
  new StorageError({ message: `${what}: ${error.message}` })

const listEvents = (limit: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<EventRow>`SELECT * FROM events ORDER BY id DESC LIMIT ${limit}`.pipe(
      Effect.map((rows) => rows.map(toEvent)),
      Effect.mapError(storageError("cannot list events"))
    ))

const getEvent = (id: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<EventRow>`SELECT * FROM events WHERE id = ${id}`.pipe(
      Effect.mapError(storageError(`cannot read event ${id}`)),
      Effect.flatMap((rows) =>
        rows[0] === undefined
          ? Effect.fail(new EventNotFound({ id, message: `no event with id ${id}` }))
          : Effect.succeed(toEvent(rows[0]))
      )
    ))

/** The frames of an event from `offset` on, at most `limit`, oldest first. */
const readFrames = (id: number, offset: number, limit: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ capturedAt: number; sequence: number; ambient: number; temperatures: Uint8Array }>`
      SELECT captured_at, sequence, ambient, temperatures FROM event_frames
      WHERE event_id = ${id} ORDER BY captured_at, rowid LIMIT ${limit} OFFSET ${offset}`.pipe(
        Effect.mapError(storageError(`cannot read event ${id}`)),
        Effect.flatMap((rows) =>
          Effect.try({
            try: (): ReadonlyArray<StoredFrame> =>
              rows.map((row) => ({ ...row, temperatures: FrameCodec.decode(row.temperatures) })),
            catch: (cause) => new StorageError({ message: `event ${id} holds an unreadable frame: ${String(cause)}` })
          })
        )
      )
  )

const iso = (ms: number | null) => ms === null ? "-" : new Date(ms).toISOString()

const pad = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>) =>
  cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()

/** The events as a small aligned table. */
export const table = (events: ReadonlyArray<Event>): string => {
  const header = ["ID", "KIND", "STATUS", "TRIGGERED", "FRAMES", "PEAK", "ZONE", "LABEL"]
  const rows = events.map((e) => [
    String(e.id),
    e.kind,
    e.status,
    iso(e.triggeredAt),
    String(e.frameCount),
    e.peak === null ? "-" : `${e.peak.temperature}°C`,
    e.zoneId === null ? "-" : String(e.zoneId),
    e.label ?? ""
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  return [pad(header, widths), ...rows.map((row) => pad(row, widths))].join("\n")
}

/** Writes to stdout and waits until it is handed to the OS (a pipe may be slower than the exit). */
const writeStdout = (text: string) =>
  Effect.async<void>((resume) => {
    process.stdout.write(text, () => resume(Effect.void))
  })

/** `ircam events list`. */
export const list = ({ json, limit }: EventsListOptions) =>
  Effect.gen(function*() {
    const events = yield* listEvents(limit)
    if (json) return yield* Console.log(JSON.stringify(events.map(toJson)))
    yield* Console.log(events.length === 0 ? "no events" : table(events))
  }).pipe(Effect.provide(DatabaseLive))

/** `ircam events show`. */
export const show = ({ id, json }: EventsShowOptions) =>
  Effect.gen(function*() {
    const event = yield* getEvent(id)
    if (json) return yield* Console.log(JSON.stringify(toJson(event)))
    const e = toJson(event)
    yield* Console.log(
      [
        `id:        ${e.id}`,
        `kind:      ${e.kind}`,
        `label:     ${e.label ?? "-"}`,
        `status:    ${e.status}`,
        `triggered: ${e.triggeredAt}`,
        `frames:    ${e.frameCount} (${e.startedAt ?? "-"} to ${e.endedAt ?? "-"})`,
        `zone:      ${e.zoneId ?? "-"}`,
        `alarm:     ${e.alarmId ?? "-"}`,
        `peak:      ${e.peak === null ? "-" : `${e.peak.temperature}°C at x=${e.peak.x} y=${e.peak.y}`}`
      ].join("\n")
    )
  }).pipe(Effect.provide(DatabaseLive))

/** `ircam events export`. */
export const exportEvent = ({ format, id, out }: EventsExportOptions) =>
  Effect.gen(function*() {
    const event = yield* getEvent(id)
    const total = event.frameCount
    const parts: Array<string> = []
    let done = 0
    for (;;) {
      const frames = yield* readFrames(id, done, exportBatch)
      if (frames.length === 0) break
      parts.push(
        format === "csv"
          ? frames.map((frame) => csvRow(frame) + "\r\n").join("")
          : frames.map((frame) => JSON.stringify(frameJson(frame))).join(",")
      )
      done += frames.length
      if (total >= progressThreshold) yield* Console.error(`exported ${done}/${total} frames`)
      if (frames.length < exportBatch) break
    }
    const text = format === "csv" ? `${csvHeader}\r\n${parts.join("")}` : `[${parts.join(",")}]`
    if (Option.isNone(out)) return yield* writeStdout(format === "csv" ? text : text + "\n")
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.resolve(out.value)
    yield* fs.writeFileString(file, text).pipe(
      Effect.mapError((error) => new StorageError({ message: `cannot write ${file}: ${error.message}` }))
    )
    yield* Console.log(`wrote ${done} frames of event ${id} (${format}) to ${file}`)
  }).pipe(Effect.provide(DatabaseLive))
