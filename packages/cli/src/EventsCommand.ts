/**
 * `ircam events …`: read the recorded events in `DATABASE_PATH` through EventRepo: no event
 * writer, recovery or retention runs, so it is safe while a server uses the same file. The
 * JSON and CSV shapes are the HTTP API's (EventExport formats both); the GIF is the API's
 * animation (EventAnimation), written as it is encoded. (The options are in Commands.ts.)
 */
import { type Event, EventId, EventNotFound, toJson } from "@ircam/core/Event"
import * as EventAnimation from "@ircam/core/EventAnimation"
import { csvHeader, csvLineEnd, csvRow, frameJson } from "@ircam/core/EventExport"
import { EventRepo } from "@ircam/core/EventRepo"
import { Console, Effect, Option, Schema, Stream } from "effect"
import * as CliStorage from "./CliStorage.js"
import type { EventsExportOptions, EventsListOptions, EventsShowOptions } from "./Commands.js"
import { streamFile, streamStdout, writeFile, writeStdout } from "./Output.js"

/** Frames read (and formatted) per query during an export. */
export const exportBatch = 200
/** Exports of at least this many frames report their progress on stderr. */
export const progressThreshold = 1000

const isEventId = Schema.is(EventId)

const getEvent = (id: number) =>
  (isEventId(id) ? Effect.flatMap(EventRepo, (repo) => repo.get(id)) : Effect.succeedNone).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.fail(new EventNotFound({ id, message: `no event with id ${id}` })),
      onSome: Effect.succeed
    }))
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

/** `ircam events list`. */
export const list = ({ json, limit }: EventsListOptions) =>
  Effect.gen(function*() {
    const events = yield* Effect.flatMap(EventRepo, (repo) => repo.list({ limit }))
    if (json) return yield* Console.log(JSON.stringify(events.map(toJson)))
    yield* Console.log(events.length === 0 ? "no events" : table(events))
  }).pipe(Effect.provide(CliStorage.layer))

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
  }).pipe(Effect.provide(CliStorage.layer))

/** An export that cannot be made as asked. */
export class CannotExport extends Schema.TaggedError<CannotExport>()("CannotExport", { message: Schema.String }) {}

/** `--format gif`: the event as the API draws it by default with the legend, to `out` or a stdout that is not a terminal. */
const exportGif = (event: Event, out: Option.Option<string>) =>
  Effect.gen(function*() {
    if (event.frameCount === 0) {
      return yield* new CannotExport({ message: `event ${event.id} has no frames: there is nothing to animate` })
    }
    if (Option.isNone(out) && process.stdout.isTTY) {
      return yield* new CannotExport({ message: "a GIF is binary: write it to a file with --out, or redirect stdout" })
    }
    let bytes = 0
    const gif = EventAnimation.stream(event, { palette: "iron", scale: 10, legend: true, speed: 1 }).pipe(
      Stream.tap((chunk) => Effect.sync(() => (bytes += chunk.length)))
    )
    if (Option.isNone(out)) return yield* streamStdout(gif)
    const file = yield* streamFile(out.value, gif)
    yield* Console.log(
      `wrote event ${event.id} as an animated GIF (${event.frameCount} frames, ${
        Math.ceil(bytes / 1024)
      } KB) to ${file}`
    )
  })

/** `ircam events export`. */
export const exportEvent = ({ format, id, out }: EventsExportOptions) =>
  Effect.gen(function*() {
    const event = yield* getEvent(id)
    if (format === "gif") return yield* exportGif(event, out)
    const total = event.frameCount
    const parts: Array<string> = []
    let done = 0
    for (;;) {
      const frames = yield* Effect.flatMap(EventRepo, (repo) => repo.frames(event.id, done, exportBatch))
      if (frames.length === 0) break
      parts.push(
        format === "csv"
          ? frames.map((frame) => csvRow(frame) + csvLineEnd).join("")
          : frames.map((frame) => JSON.stringify(frameJson(frame))).join(",")
      )
      done += frames.length
      if (total >= progressThreshold) yield* Console.error(`exported ${done}/${total} frames`)
      if (frames.length < exportBatch) break
    }
    const text = format === "csv" ? `${csvHeader}${csvLineEnd}${parts.join("")}` : `[${parts.join(",")}]`
    if (Option.isNone(out)) return yield* writeStdout(format === "csv" ? text : text + "\n")
    const file = yield* writeFile(out.value, text)
    yield* Console.log(`wrote ${done} frames of event ${id} (${format}) to ${file}`)
  }).pipe(Effect.provide(CliStorage.layer))
