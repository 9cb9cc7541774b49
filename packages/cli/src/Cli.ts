/**
 * The `ircam` command line.
 */
import { Command } from "@effect/cli"
import * as ConfigCommand from "./ConfigCommand.js"
import * as DbCommand from "./DbCommand.js"
import * as EventsCommand from "./EventsCommand.js"
import * as HealthCommand from "./HealthCommand.js"
import * as Mlx90640Command from "./Mlx90640Command.js"
import * as SensorCommand from "./SensorCommand.js"
import * as Serve from "./Serve.js"
import * as ZonesCommand from "./ZonesCommand.js"

export const root = Command.make("ircam").pipe(
  Command.withDescription("ircam: real-time IR thermal monitoring with the MLX90640"),
  Command.withSubcommands([
    Serve.command,
    Mlx90640Command.command,
    ZonesCommand.command,
    EventsCommand.command,
    HealthCommand.command,
    ConfigCommand.command,
    DbCommand.command,
    SensorCommand.command
  ])
)

const runRoot = Command.run(root, { name: "ircam", version: "0.1.0" })

export const run = (argv: ReadonlyArray<string>) => runRoot(ZonesCommand.normalizeArgs(argv))
