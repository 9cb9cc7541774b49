/**
 * `ircam zones …`: list and edit the zones in the database at `DATABASE_PATH`, with the same
 * validation and limits as the API (through `ZoneRepo`; neither the monitor nor the sensor runs).
 * A running server notices the change within a second.
 */
import { Args, Command, Options } from "@effect/cli"
import { Color, type Zone, ZoneName, ZoneSpec } from "@ircam/core/Zone"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Console, Effect, Option, ParseResult, Schema } from "effect"
import * as CliStorage from "./CliStorage.js"

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

const name = Options.text("name").pipe(Options.optional, Options.withDescription("1 to 64 characters"))
const color = Options.text("color").pipe(Options.optional, Options.withDescription("#rrggbb"))
const json = Options.boolean("json").pipe(Options.withDescription("print JSON instead of text"))
const id = Args.integer({ name: "id" }).pipe(Args.withDescription("the zone's id (see `ircam zones list`)"))

const list = Command.make("list", { json }, ({ json }) =>
  Effect.gen(function*() {
    const zones = yield* (yield* ZoneRepo).list
    if (json) return yield* Console.log(JSON.stringify(zones.map(zoneJson)))
    yield* Console.log(zones.length === 0 ? "no zones" : table(zones))
  }).pipe(Effect.provide(CliStorage.layer))).pipe(
    Command.withDescription("List the zones as a table, or as JSON with --json.\nExample: ircam zones list --json")
  )

const add = Command.make("add", {
  x: Options.integer("x").pipe(Options.withDescription("left column, 0..31")),
  y: Options.integer("y").pipe(Options.withDescription("top row, 0..23")),
  width: Options.integer("width").pipe(Options.withDescription("pixels, 1..32; x + width ≤ 32")),
  height: Options.integer("height").pipe(Options.withDescription("pixels, 1..24; y + height ≤ 24")),
  name,
  color
}, (options) =>
  Effect.gen(function*() {
    const spec = yield* decodeSpec({ x: options.x, y: options.y, width: options.width, height: options.height })
    const zoneName = yield* decodeOptional(ZoneName, "name", options.name)
    const zoneColor = yield* decodeOptional(Color, "color", options.color)
    const zone = yield* (yield* ZoneRepo).create({ ...spec, name: zoneName, color: zoneColor })
    yield* Console.log(`added ${describeZone(zone)}`)
  }).pipe(Effect.provide(CliStorage.layer))).pipe(
    Command.withDescription(
      "Add a zone (at most MAX_ZONES; the rectangle must lie inside the 32×24 frame).\n" +
        "Example: ircam zones add --x 4 --y 2 --width 8 --height 6 --name oven --color '#ff0000'"
    )
  )

const update = Command.make("update", {
  id,
  x: Options.integer("x").pipe(Options.optional, Options.withDescription("left column, 0..31")),
  y: Options.integer("y").pipe(Options.optional, Options.withDescription("top row, 0..23")),
  width: Options.integer("width").pipe(Options.optional, Options.withDescription("pixels, 1..32")),
  height: Options.integer("height").pipe(Options.optional, Options.withDescription("pixels, 1..24")),
  name,
  color
}, (options) =>
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
  }).pipe(Effect.provide(CliStorage.layer))).pipe(
    Command.withDescription(
      "Change a zone; what is not given stays as it is.\nExample: ircam zones update 3 --x 10 --name press"
    )
  )

const remove = Command.make("remove", { id }, ({ id }) =>
  Effect.gen(function*() {
    yield* (yield* ZoneRepo).remove(id)
    yield* Console.log(`removed zone ${id}`)
  }).pipe(Effect.provide(CliStorage.layer))).pipe(
    Command.withDescription("Delete a zone (and its alarm rules).\nExample: ircam zones remove 3")
  )

/**
 * @effect/cli spells one-letter options with one dash (`-x`); the zone options are documented as
 * `--x` and `--y` (like the API's fields), so both spellings are accepted: this rewrites `--x 3`
 * and `--x=3` after a `zones` command into `-x 3` / `-x=3`.
 */
export const normalizeArgs = (argv: ReadonlyArray<string>): Array<string> => {
  if (!argv.slice(2).includes("zones")) return [...argv]
  return argv.map((arg) => arg.replace(/^--([xy])(=|$)/, "-$1$2"))
}

export const command = Command.make("zones").pipe(
  Command.withDescription(
    "List, add, update and remove zones in DATABASE_PATH (a running server sees changes within a second).\n" +
      "Example: ircam zones add --x 0 --y 0 --width 8 --height 6 --name oven"
  ),
  Command.withSubcommands([list, add, update, remove])
)
