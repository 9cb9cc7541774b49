#!/usr/bin/env node
// The `ircam` executable: the bundle `npm run build` makes from the compiled packages (see
// scripts/bundle.js), refused when a source file changed after it was built.
import { staleBuild } from "./build-check.js"

const stale = staleBuild()
if (stale === undefined) {
  await import("../dist/bundle/bin.js")
} else {
  console.error(`ircam: ${stale}`)
  process.exitCode = 1
}
