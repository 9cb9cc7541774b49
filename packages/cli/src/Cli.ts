/**
 * The `ircam` command line.
 */
import { Command } from "@effect/cli"
import * as Mlx90640Command from "./Mlx90640Command.js"
import * as Serve from "./Serve.js"

export const root = Command.make("ircam").pipe(
  Command.withDescription("ircam: real-time IR thermal monitoring with the MLX90640"),
  Command.withSubcommands([Serve.command, Mlx90640Command.command])
)

export const run = Command.run(root, { name: "ircam", version: "0.1.0" })
