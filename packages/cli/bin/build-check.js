// Is the bundle that bin/ircam.js runs older than the sources it was built from? Run before it is
// loaded, so that an old build never runs unnoticed after a change or a `git pull`.
import { readdirSync, statSync } from "node:fs"

const packages = new URL("../../", import.meta.url)
const bundle = new URL("../dist/bundle/bin.js", import.meta.url)
const built = ["core", "hw", "http", "cli"]

/** Why the bundle may not run, or undefined when it is newer than every source file. */
export const staleBuild = () => {
  let builtAt
  try {
    builtAt = statSync(bundle).mtimeMs
  } catch {
    return "ircam is not built yet: run `npm run build` (`npm install` does it too)"
  }
  for (const name of built) {
    const sources = new URL(`${name}/src/`, packages)
    let entries
    try {
      entries = readdirSync(sources, { recursive: true })
    } catch {
      continue // installed without its sources
    }
    for (const entry of ["", ...entries]) {
      if (statSync(new URL(entry, sources)).mtimeMs > builtAt) {
        return `packages/${name}/src/${entry} changed after the last build: run \`npm run build\` ` +
          "(or `npm run dev` to run the sources as they are)"
      }
    }
  }
  return undefined
}
