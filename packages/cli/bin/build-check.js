// Is the bundle that bin/ircam.js runs older than the sources it was built from? Run before it is
// loaded, so that an old build never runs unnoticed after a change or a `git pull`.
import { readdirSync, statSync } from "node:fs"
import { fileURLToPath } from "node:url"

const packages = fileURLToPath(new URL("../../", import.meta.url))
const bundle = fileURLToPath(new URL("../dist/bundle/bin.js", import.meta.url))
const built = ["core", "hw", "http", "cli"]

/** The first file or folder under `dir` changed after `time`, as a path relative to `packages`. */
const changedAfter = (dir, time) => {
  if (statSync(dir).mtimeMs > time) return dir
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    const changed = entry.isDirectory() ? changedAfter(path, time) : statSync(path).mtimeMs > time && path
    if (changed) return changed
  }
  return undefined
}

/** Why the bundle may not run, or undefined when it is newer than every source file. */
export const staleBuild = () => {
  let builtAt
  try {
    builtAt = statSync(bundle).mtimeMs
  } catch {
    return "ircam is not built yet: run `npm run build` (`npm install` does it too)"
  }
  for (const name of built) {
    let changed
    try {
      changed = changedAfter(`${packages}${name}/src`, builtAt)
    } catch {
      continue // installed without its sources
    }
    if (changed !== undefined) {
      return `packages/${changed.slice(packages.length)} changed after the last build: run \`npm run build\` ` +
        "(or `npm run dev` to run the sources as they are)"
    }
  }
  return undefined
}
