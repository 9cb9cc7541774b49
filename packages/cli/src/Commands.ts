/**
 * Every `ircam` command as @effect/cli sees it: names, options, arguments and help, which it
 * needs to parse any command line and to print `--help`. What a command does is in its own
 * module (`ZonesCommand.ts`, …), imported when that command runs: `ircam zones list` loads the
 * zones code and nothing of the server, the sensor or the other commands.
 *
 * Longer than 350 lines on purpose: it is one table, the whole command line in one place, and
 * it must import nothing heavy (what it imports, every command loads).
 */
import { Args, Command, Options } from "@effect/cli"
import { hex } from "@ircam/hw/I2cBus"
import * as Mlx90640Dump from "@ircam/hw/Mlx90640Dump"
import { Effect, ParseResult, Schema, type Types } from "effect"

/**
 * A command: its name, options and arguments, its help, and what it does: `run`, given the
 * module `load` imports, which happens only once the command runs.
 */
const command = <Name extends string, const Config extends Command.Command.Config, M, E, R>(
  name: Name,
  config: Config,
  description: string,
  load: () => Promise<M>,
  run: (module: M, options: Types.Simplify<Command.Command.ParseConfig<Config>>) => Effect.Effect<void, E, R>
) =>
  Command.make(name, config, (options) => Effect.flatMap(Effect.promise(load), (module) => run(module, options))).pipe(
    Command.withDescription(description)
  )

const json = (what: string) => Options.boolean("json").pipe(Options.withDescription(what))

// ---- serve

const serve = command(
  "serve",
  {},
  "Run the monitor and the HTTP API (configuration from the environment and ./.env; see .env.example)",
  () => import("./Serve.js"),
  (module) => module.run
)

// ---- mlx90640

const Emissivity = Schema.Number.pipe(
  Schema.greaterThan(0),
  Schema.lessThanOrEqualTo(1),
  Schema.annotations({ message: () => "--emissivity must be greater than 0 and at most 1" })
)

const decodeConfig = {
  dump: Args.text({ name: "dump.json" }).pipe(
    Args.withDescription("a JSON file with `eeprom` (832 words) and `frames` (834 words each), as in the fixtures")
  ),
  emissivity: Options.float("emissivity").pipe(
    Options.withSchema(Emissivity),
    Options.withDefault(Mlx90640Dump.defaultOptions.emissivity),
    Options.withDescription("emissivity of the scene, 0 < e ≤ 1")
  ),
  trOffset: Options.float("tr-offset").pipe(
    Options.withDefault(Mlx90640Dump.defaultOptions.trOffset),
    Options.withDescription("reflected temperature relative to the sensor's Ta, °C")
  )
}
export type DecodeOptions = Command.Command.ParseConfig<typeof decodeConfig>

const mlx90640 = Command.make("mlx90640").pipe(
  Command.withDescription("MLX90640 tools: decode recorded EEPROM and frames"),
  Command.withSubcommands([
    command(
      "decode",
      decodeConfig,
      "Replay a dump through the calibration math: prints {status, frames: [{subpage, vdd, ta, to}], temperatures}.\n" +
        "Example: ircam mlx90640 decode dump.json --emissivity 0.98 --tr-offset -5",
      () => import("./Mlx90640Command.js"),
      (m, o) => m.decode(o)
    )
  ])
)

// ---- zones

const zonesModule = () => import("./ZonesCommand.js")

const zoneName = Options.text("name").pipe(Options.optional, Options.withDescription("1 to 64 characters"))
const zoneColor = Options.text("color").pipe(Options.optional, Options.withDescription("#rrggbb"))
const zoneId = Args.integer({ name: "id" }).pipe(Args.withDescription("the zone's id (see `ircam zones list`)"))

const zonesListConfig = { json: json("print JSON instead of text") }
export type ZonesListOptions = Command.Command.ParseConfig<typeof zonesListConfig>

const zonesAddConfig = {
  x: Options.integer("x").pipe(Options.withDescription("left column, 0..31")),
  y: Options.integer("y").pipe(Options.withDescription("top row, 0..23")),
  width: Options.integer("width").pipe(Options.withDescription("pixels, 1..32; x + width ≤ 32")),
  height: Options.integer("height").pipe(Options.withDescription("pixels, 1..24; y + height ≤ 24")),
  name: zoneName,
  color: zoneColor
}
export type ZonesAddOptions = Command.Command.ParseConfig<typeof zonesAddConfig>

const zonesUpdateConfig = {
  id: zoneId,
  x: Options.integer("x").pipe(Options.optional, Options.withDescription("left column, 0..31")),
  y: Options.integer("y").pipe(Options.optional, Options.withDescription("top row, 0..23")),
  width: Options.integer("width").pipe(Options.optional, Options.withDescription("pixels, 1..32")),
  height: Options.integer("height").pipe(Options.optional, Options.withDescription("pixels, 1..24")),
  name: zoneName,
  color: zoneColor
}
export type ZonesUpdateOptions = Command.Command.ParseConfig<typeof zonesUpdateConfig>

const zonesRemoveConfig = { id: zoneId }
export type ZonesRemoveOptions = Command.Command.ParseConfig<typeof zonesRemoveConfig>

const zones = Command.make("zones").pipe(
  Command.withDescription(
    "List, add, update and remove zones in DATABASE_PATH (a running server sees changes within a second).\n" +
      "Example: ircam zones add --x 0 --y 0 --width 8 --height 6 --name oven"
  ),
  Command.withSubcommands([
    command(
      "list",
      zonesListConfig,
      "List the zones as a table, or as JSON with --json.\nExample: ircam zones list --json",
      zonesModule,
      (m, o) => m.list(o)
    ),
    command(
      "add",
      zonesAddConfig,
      "Add a zone (at most MAX_ZONES; the rectangle must lie inside the 32×24 frame).\n" +
        "Example: ircam zones add --x 4 --y 2 --width 8 --height 6 --name oven --color '#ff0000'",
      zonesModule,
      (m, o) => m.add(o)
    ),
    command(
      "update",
      zonesUpdateConfig,
      "Change a zone; what is not given stays as it is.\nExample: ircam zones update 3 --x 10 --name press",
      zonesModule,
      (m, o) => m.update(o)
    ),
    command(
      "remove",
      zonesRemoveConfig,
      "Delete a zone (and its alarm rules).\nExample: ircam zones remove 3",
      zonesModule,
      (m, o) => m.remove(o)
    )
  ])
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

// ---- events

const eventsModule = () => import("./EventsCommand.js")

const eventsJson = json("print JSON (the API's shape) instead of text")
const eventId = Args.integer({ name: "id" }).pipe(Args.withDescription("the event's id (see `ircam events list`)"))

const eventsListConfig = {
  json: eventsJson,
  limit: Options.integer("limit").pipe(
    Options.withSchema(Schema.Int.pipe(Schema.between(1, 10_000))),
    Options.withDefault(50),
    Options.withDescription("at most this many events, newest first (1..10000)")
  )
}
export type EventsListOptions = Command.Command.ParseConfig<typeof eventsListConfig>

const eventsShowConfig = { id: eventId, json: eventsJson }
export type EventsShowOptions = Command.Command.ParseConfig<typeof eventsShowConfig>

const eventsExportConfig = {
  id: eventId,
  format: Options.choice("format", ["json", "csv", "gif"]).pipe(
    Options.withDefault("json" as const),
    Options.withDescription(
      "json: [{capturedAt, sequence, temperatures}]; csv: capturedAt,sequence,r0c0…r23c31; gif: the event as an " +
        "animated heat map at its recorded pace (320×240 and the legend)"
    )
  ),
  out: Options.text("out").pipe(Options.optional, Options.withDescription("write to this file instead of stdout"))
}
export type EventsExportOptions = Command.Command.ParseConfig<typeof eventsExportConfig>

const events = Command.make("events").pipe(
  Command.withDescription(
    "Read the recorded events in DATABASE_PATH (read-only; safe while the server runs).\n" +
      "Example: ircam events export 12 --format csv --out event-12.csv"
  ),
  Command.withSubcommands([
    command(
      "list",
      eventsListConfig,
      "List the recorded events, newest first.\nExample: ircam events list --limit 10 --json",
      eventsModule,
      (m, o) => m.list(o)
    ),
    command(
      "show",
      eventsShowConfig,
      "Show one event.\nExample: ircam events show 12 --json",
      eventsModule,
      (m, o) => m.show(o)
    ),
    command(
      "export",
      eventsExportConfig,
      "Export an event's frames as JSON or CSV (the API's formats), or the event as an animated GIF, to stdout " +
        "or --out.\nExample: ircam events export 12 --format csv --out event-12.csv\n" +
        "Example: ircam events export 12 --format gif --out event-12.gif",
      eventsModule,
      (m, o) => m.exportEvent(o)
    )
  ])
)

// ---- history

const historyExportConfig = {
  zone: Options.integer("zone").pipe(
    Options.optional,
    Options.withDescription("the zone's id, a deleted zone's too (default: the whole frame)")
  ),
  from: Options.text("from").pipe(
    Options.optional,
    Options.withDescription("start, ISO-8601 with a time zone: 2026-11-24T08:00:00Z (default: an hour before --to)")
  ),
  to: Options.text("to").pipe(Options.optional, Options.withDescription("end, like --from (default: now)")),
  step: Options.choice("step", ["1s", "1m", "1h"]).pipe(
    Options.optional,
    Options.withDescription("the resolution (default: the finest that gives at most --points buckets)")
  ),
  points: Options.integer("points").pipe(
    Options.withSchema(Schema.Int.pipe(Schema.between(1, 1_000_000))),
    Options.withDefault(500),
    Options.withDescription("at most this many buckets when --step is not given (default 500, as the API)")
  ),
  format: Options.choice("format", ["json", "csv"]).pipe(
    Options.withDefault("json" as const),
    Options.withDescription("json: the API's answer; csv: t,min,max,mean,frames(,ambient), a row a bucket")
  ),
  out: Options.text("out").pipe(Options.optional, Options.withDescription("write to this file instead of stdout"))
}
export type HistoryExportOptions = Command.Command.ParseConfig<typeof historyExportConfig>

const history = Command.make("history").pipe(
  Command.withDescription(
    "Read the temperature history in DATABASE_PATH (read-only; safe while the server runs).\n" +
      "Example: ircam history export --zone 1 --format csv --out zone-1.csv"
  ),
  Command.withSubcommands([
    command(
      "export",
      historyExportConfig,
      "Export the min, max and mean of a zone (or the whole frame) bucket by bucket, gaps included, as the API's " +
        "JSON or as CSV, to stdout or --out.\n" +
        "Example: ircam history export --zone 1 --from 2026-11-24T00:00:00Z --to 2026-11-25T00:00:00Z --step 1m " +
        "--format csv",
      () => import("./HistoryCommand.js"),
      (m, o) => m.exportHistory(o)
    )
  ])
)

// ---- health

const healthConfig = {
  url: Options.text("url").pipe(
    Options.withDescription("base URL of the server (default: http://127.0.0.1:$PORT)"),
    Options.optional
  ),
  json: json("print the health report as JSON")
}
export type HealthOptions = Command.Command.ParseConfig<typeof healthConfig>

const health = command(
  "health",
  healthConfig,
  "Ask a running server for its health; exit code 0 ok, 1 degraded, 2 down or unreachable.\n" +
    "Example: ircam health --url http://127.0.0.1:8000 --json",
  () => import("./HealthCommand.js"),
  (m, o) => m.health(o)
)

// ---- config

const configCheckConfig = { json: json("print the configuration as JSON") }
export type ConfigCheckOptions = Command.Command.ParseConfig<typeof configCheckConfig>

const config = Command.make("config").pipe(
  Command.withDescription("Inspect the configuration.\nExample: ircam config check"),
  Command.withSubcommands([
    command(
      "check",
      configCheckConfig,
      "Validate the environment and ./.env as the server would, and print the effective configuration " +
        "(secrets masked); exit code 1 on an invalid value.\nExample: ircam config check --json",
      () => import("./ConfigCommand.js"),
      (m, o) => m.check(o)
    )
  ])
)

// ---- db

const dbModule = () => import("./DbCommand.js")

const dbStatusConfig = { json: json("print the result as JSON") }
export type DbStatusOptions = Command.Command.ParseConfig<typeof dbStatusConfig>

const dbBackupConfig = {
  file: Args.text({ name: "file" }).pipe(Args.withDescription("where to write the copy (must not exist)")),
  force: Options.boolean("force").pipe(Options.withDescription("overwrite an existing file"))
}
export type DbBackupOptions = Command.Command.ParseConfig<typeof dbBackupConfig>

const dbPruneConfig = {
  olderThan: Options.text("older-than").pipe(
    Options.withDescription("age of the events to delete, e.g. 30d, 12h (default: EVENT_RETENTION_DAYS days)"),
    Options.optional
  )
}
export type DbPruneOptions = Command.Command.ParseConfig<typeof dbPruneConfig>

const db = Command.make("db").pipe(
  Command.withDescription("Maintain the database at DATABASE_PATH.\nExample: ircam db status"),
  Command.withSubcommands([
    command(
      "migrate",
      {},
      "Apply the pending migrations to DATABASE_PATH and print the schema version.\nExample: ircam db migrate",
      dbModule,
      (m) => m.migrate()
    ),
    command(
      "status",
      dbStatusConfig,
      "Print the path, size, schema version, journal mode and row counts of the database.\n" +
        "Example: ircam db status --json",
      dbModule,
      (m, o) => m.status(o)
    ),
    command(
      "integrity",
      {},
      "Check the database (PRAGMA integrity_check and foreign_key_check); exit code 1 on a problem.\n" +
        "Example: ircam db integrity",
      dbModule,
      (m) => m.integrity()
    ),
    command(
      "vacuum",
      {},
      "Rebuild the database file (a full VACUUM) to give all free space back; it may take a while and " +
        "blocks writers meanwhile.\nExample: ircam db vacuum",
      dbModule,
      (m) => m.vacuum()
    ),
    command(
      "backup",
      dbBackupConfig,
      "Write a consistent copy of the database (VACUUM INTO), safe while the server runs; the copy is " +
        "checked afterwards.\nExample: ircam db backup /var/backups/ircam-2026-11-24.db",
      dbModule,
      (m, o) => m.backup(o)
    ),
    command(
      "prune",
      dbPruneConfig,
      "Delete the complete events older than a duration (default: EVENT_RETENTION_DAYS) with their frames, " +
        "and free the space.\nExample: ircam db prune --older-than 30d",
      dbModule,
      (m, o) => m.prune(o)
    )
  ])
)

// ---- sensor

const sensorModule = () => import("./SensorCommand.js")

const Address = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (text, _, ast) => {
    const t = text.trim()
    const value = /^0x[0-9a-f]{1,2}$/i.test(t) ? parseInt(t, 16) : /^[0-9]{1,3}$/.test(t) ? Number(t) : NaN
    return value >= 0x08 && value <= 0x77
      ? ParseResult.succeed(value)
      : ParseResult.fail(
        new ParseResult.Type(ast, text, `--address must be a 7-bit I²C address 0x08..0x77 (like 0x33), got "${text}"`)
      )
  },
  encode: (n) => ParseResult.succeed(hex(n, 2))
})

/** Which sensor a `sensor` command talks to. */
const target = {
  bus: Options.integer("bus").pipe(
    Options.withSchema(Schema.Int.pipe(Schema.between(0, 255))),
    Options.optional,
    Options.withDescription("I²C bus number, /dev/i2c-N (default: I2C_BUS, else 1)")
  ),
  address: Options.text("address").pipe(
    Options.withSchema(Address),
    Options.optional,
    Options.withDescription("the sensor's 7-bit address, 0x33 or 51 (default: I2C_ADDRESS, else 0x33)")
  ),
  emulated: Options.boolean("emulated").pipe(
    Options.withDescription("use the emulated MLX90640 instead of the hardware (no I²C needed)")
  )
}
export type SensorTarget = Command.Command.ParseConfig<typeof target>

const outOption = (what: string) =>
  Options.file("out").pipe(
    Options.withAlias("o"),
    Options.optional,
    Options.withDescription(`write the ${what} to this file instead of stdout`)
  )

const probeConfig = { ...target, json: json("print JSON") }
export type ProbeOptions = Command.Command.ParseConfig<typeof probeConfig>

const dumpEepromConfig = { ...target, out: outOption("EEPROM") }
export type DumpEepromOptions = Command.Command.ParseConfig<typeof dumpEepromConfig>

const Frames = Schema.Int.pipe(
  Schema.between(1, 10_000),
  Schema.annotations({ message: () => "-n must be a whole number of frames from 1 to 10000" })
)

const captureConfig = {
  ...target,
  frames: Options.integer("frames").pipe(
    Options.withAlias("n"),
    Options.withSchema(Frames),
    Options.withDefault(2),
    Options.withDescription("how many sub-pages to record (2 make one full image)")
  ),
  out: outOption("dump")
}
export type CaptureOptions = Command.Command.ParseConfig<typeof captureConfig>

const sensor = Command.make("sensor").pipe(
  Command.withDescription("MLX90640 maintenance: probe, dump-eeprom, capture (add --emulated to try without hardware)"),
  Command.withSubcommands([
    command(
      "probe",
      probeConfig,
      "Check that an MLX90640 answers; print its serial number and the settings in its control register.\n" +
        "Exit 2 (with what to check) when none answers.\n" +
        "Examples: ircam sensor probe | ircam sensor probe --bus 1 --address 0x33 --json | ircam sensor probe --emulated",
      sensorModule,
      (m, o) => m.probe(o)
    ),
    command(
      "dump-eeprom",
      dumpEepromConfig,
      "Print the 832 EEPROM (calibration) words as JSON {serial, eeprom}, read until two reads agree.\n" +
        "Examples: ircam sensor dump-eeprom | ircam sensor dump-eeprom --out eeprom.json",
      sensorModule,
      (m, o) => m.dumpEeprom(o)
    ),
    command(
      "capture",
      captureConfig,
      "Record the raw EEPROM and sub-pages as a dump {eeprom, frames} (834 words each: RAM 0x0400..0x073F, " +
        "control, sub-page), for bug reports; replay with `ircam mlx90640 decode`. Progress goes to stderr.\n" +
        "Examples: ircam sensor capture -n 4 --out dump.json | ircam sensor capture --emulated -n 2 -o dump.json",
      sensorModule,
      (m, o) => m.capture(o)
    )
  ])
)

/** The `ircam` command and all its subcommands. */
export const root = Command.make("ircam").pipe(
  Command.withDescription("ircam: real-time IR thermal monitoring with the MLX90640"),
  Command.withSubcommands([serve, mlx90640, zones, events, history, health, config, db, sensor])
)
