#!/usr/bin/env node
// The `ircam` executable: the bundle `npm run build` makes from the compiled packages (see
// scripts/bundle.js), refused when a source file changed after it was built.
import { readFileSync } from "node:fs"
import module from "node:module"
import { staleBuild } from "./build-check.js"

// From Node 22.1 on, V8's compiled code of the bundle is kept between runs (in NODE_COMPILE_CACHE,
// else a folder in the temporary directory): a start is about 0.1 s quicker. Before, a no-op.
module.enableCompileCache?.()

const args = process.argv.slice(2)
const stale = staleBuild()
if (stale !== undefined) {
  console.error(`ircam: ${stale}`)
  process.exitCode = 1
} else if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) {
  // the root help, as the bundle printed it when it was built
  process.stdout.write(readFileSync(new URL("../dist/bundle/help.txt", import.meta.url)))
} else {
  await import("../dist/bundle/bin.js")
}
