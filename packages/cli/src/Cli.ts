/**
 * The `ircam` command line: parses the arguments against the command tree (Commands.ts) and
 * runs the command they name.
 */
import { Command } from "@effect/cli"
import { normalizeArgs, root } from "./Commands.js"

const runRoot = Command.run(root, { name: "ircam", version: "0.1.0" })

export const run = (argv: ReadonlyArray<string>) => runRoot(normalizeArgs(argv))
