/**
 * `ircam zones …`: list and edit the zones in the database at `DATABASE_PATH`, with the same
 * validation and limits as the API (through `ZoneRepo`; neither the monitor nor the sensor runs).
 * A running server notices the change within a second. (The options are in Commands.ts.)
 */
import { Color, type Zone, ZoneName, ZoneSpec } from "@ircam/core/Zone"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Console, Effect, Option, ParseResult, Schema } from "effect"
import * as CliStorage from "./CliStorage.js"
import type { ZonesAddOptions, ZonesListOptions, ZonesRemoveOptions, ZonesUpdateOptions } from "./Commands.js"

/** A command-line value the zone schema refuses; one line. */
export class InvalidZoneOption extends Schema.TaggedError<InvalidZoneOption>()("InvalidZoneOption", {
  message: Schema.String
}) {}

const firstIssue = (error: ParseResult.ParseError) => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  const where = issue && issue.path.length > 0 ? `--${String(issue.path[0])}: ` : ""
  return new InvalidZoneOption({ message: `${where}${issue?.message ?? error.message}`.replace(/\s*\n\s*/g, " ") })
}

const decodeSpec = (input: unknown) => Schema.decodeUnknown(ZoneSpec)(input).pipe(Effect.mapError(firstIssue))

const decodeOptional = <A>(schema: Schema.Schema<A, string>, flag: string, value: Option.Option<string>) =>
  Option.match(value, {
    onNone: () => Effect.succeed(undefined),
    onSome: (text) =>
      Schema.decodeUnknown(schema)(text).pipe(
        Effect.mapError((error) =>
          new InvalidZoneOption({
            message: `--${flag}: ${ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message ?? "invalid"}`.replace(
              /\s*\n\s*/g,
              " "
            )
          })
        )
      )
  })

const pad = (cells: ReadonlyArray<string>, widths: ReadonlyArray<number>) =>
  cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()

/** The zones as a small aligned table (a header line, then one line a zone). */
export const table = (zones: ReadonlyArray<Zone>): string => {
  const header = ["ID", "NAME", "COLOR", "X", "Y", "WIDTH", "HEIGHT"]
  const rows = zones.map((z) => [z.id, z.name, z.color, z.x, z.y, z.width, z.height].map(String))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  return [pad(header, widths), ...rows.map((row) => pad(row, widths))].join("\n")
}

const zoneJson = (zone: Zone) => ({
  id: zone.id,
  name: zone.name,
  color: zone.color,
  x: zone.x,
  y: zone.y,
  width: zone.width,
  height: zone.height
})

const describeZone = (zone: Zone) =>
  `zone ${zone.id} "${zone.name}" ${zone.color} at x=${zone.x} y=${zone.y}, ${zone.width}×${zone.height}`

/** `ircam zones list`. */
export const list = ({ json }: ZonesListOptions) =>
  Effect.gen(function*() {
    const zones = yield* (yield* ZoneRepo).list
    if (json) return yield* Console.log(JSON.stringify(zones.map(zoneJson)))
    yield* Console.log(zones.length === 0 ? "no zones" : table(zones))
  }).pipe(Effect.provide(CliStorage.layer))

/** `ircam zones add`. */
export const add = (options: ZonesAddOptions) =>
  Effect.gen(function*() {
    const spec = yield* decodeSpec({ x: options.x, y: options.y, width: options.width, height: options.height })
    const zoneName = yield* decodeOptional(ZoneName, "name", options.name)
    const zoneColor = yield* decodeOptional(Color, "color", options.color)
    const zone = yield* (yield* ZoneRepo).create({ ...spec, name: zoneName, color: zoneColor })
    yield* Console.log(`added ${describeZone(zone)}`)
  }).pipe(Effect.provide(CliStorage.layer))

/** `ircam zones update`. */
export const update = (options: ZonesUpdateOptions) =>
  Effect.gen(function*() {
    const repo = yield* ZoneRepo
    const current = yield* repo.get(options.id)
    const spec = yield* decodeSpec({
      x: Option.getOrElse(options.x, () => current.x),
      y: Option.getOrElse(options.y, () => current.y),
      width: Option.getOrElse(options.width, () => current.width),
      height: Option.getOrElse(options.height, () => current.height)
    })
    const zoneName = yield* decodeOptional(ZoneName, "name", options.name)
    const zoneColor = yield* decodeOptional(Color, "color", options.color)
    const zone = yield* repo.update(options.id, { ...spec, name: zoneName, color: zoneColor })
    yield* Console.log(`updated ${describeZone(zone)}`)
  }).pipe(Effect.provide(CliStorage.layer))

/** `ircam zones remove`. */
export const remove = ({ id }: ZonesRemoveOptions) =>
  Effect.gen(function*() {
    yield* (yield* ZoneRepo).remove(id)
    yield* Console.log(`removed zone ${id}`)
  }).pipe(Effect.provide(CliStorage.layer))
