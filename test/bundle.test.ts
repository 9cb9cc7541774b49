/**
 * What the built `ircam` loads, from the bundle's own record (packages/cli/dist/bundle/meta.json,
 * esbuild's metafile): a command loads its own code and what every command needs, nothing else;
 * and `ircam --help`, which prints the help the bundle rendered when it was built.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { assertFreshBuild, runToExit } from "@ircam/test-support/Process"
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

interface Metafile {
  readonly outputs: Record<string, {
    readonly bytes: number
    readonly entryPoint?: string
    readonly imports: ReadonlyArray<{ readonly path: string; readonly kind: string }>
    readonly inputs: Record<string, unknown>
  }>
}

let meta: Metafile = { outputs: {} }

beforeAll(() => {
  assertFreshBuild()
  meta = JSON.parse(
    readFileSync(fileURLToPath(new URL("../packages/cli/dist/bundle/meta.json", import.meta.url)), "utf8")
  ) as Metafile
})

/** The chunk made for `entry` (`bin.js` or a module a command imports when it runs). */
const chunkOf = (entry: string) => {
  const found = Object.entries(meta.outputs).find(([, output]) => output.entryPoint?.endsWith(entry))
  assert.isDefined(found, `a chunk for ${entry}`)
  return found![0]
}

/** The source files a chunk needs before it runs: its own and those of the chunks it imports statically. */
const loadedWith = (chunk: string): ReadonlyArray<string> => {
  const seen = new Set<string>()
  const pending = [chunk]
  while (pending.length > 0) {
    const next = pending.pop()!
    if (seen.has(next)) continue
    seen.add(next)
    for (const { kind, path } of meta.outputs[next]!.imports) {
      if (kind === "import-statement" && path in meta.outputs) pending.push(path)
    }
  }
  return [...seen].flatMap((output) => Object.keys(meta.outputs[output]!.inputs))
}

const ours = (files: ReadonlyArray<string>) =>
  files.filter((file) => file.startsWith("packages/")).map((file) => file.replace(/\/dist\//, "/"))

describe("the ircam bundle", () => {
  it("loads only the command line to parse and print --help", () => {
    assert.sameMembers(
      ours(loadedWith(chunkOf("cli/dist/bin.js"))).filter((file) => file.startsWith("packages/cli/")),
      ["bin.js", "Cli.js", "Commands.js", "Environment.js", "ErrorReport.js"].map((file) => `packages/cli/${file}`)
    )
    const elsewhere = ours(loadedWith(chunkOf("cli/dist/bin.js"))).filter((file) => !file.startsWith("packages/cli/"))
    // the defaults and the address format that the options show
    assert.sameMembers(elsewhere.map((file) => file.replace(/^packages\/hw\//, "")), [
      "I2cBus.js",
      "Mlx90640Dump.js",
      "Mlx90640Frame.js",
      "Mlx90640Parameters.js"
    ])
  })

  it("loads a command's implementation when it runs, without the server's", () => {
    const zones = ours(loadedWith(chunkOf("cli/dist/ZonesCommand.js")))
    assert.include(zones, "packages/core/ZoneRepo.js")
    assert.isFalse(zones.some((file) => file.startsWith("packages/http/")), "no HTTP")
    assert.notInclude(zones, "packages/core/Monitor.js")
    assert.notInclude(zones, "packages/cli/Serve.js")
  })

  it("loads MQTT.js only when it is used (MQTT_URL set), not to serve", () => {
    const serve = loadedWith(chunkOf("cli/dist/Serve.js"))
    assert.include(serve, "packages/core/dist/Mqtt.js")
    assert.isFalse(serve.some((file) => file.includes("node_modules/mqtt/")))
    const everything = Object.values(meta.outputs).flatMap((output) => Object.keys(output.inputs))
    assert.isTrue(everything.some((file) => file.includes("node_modules/mqtt/")))
  })

  it("leaves HttpApiScalar's copy of the Scalar script out (/docs reads it from its file)", () => {
    const everything = Object.values(meta.outputs).flatMap((output) => Object.keys(output.inputs))
    assert.include(everything, "packages/http/dist/ApiDocs.js")
    assert.isFalse(everything.some((file) => file.endsWith("internal/httpApiScalar.js")))
  })

  it("ircam --help and -h print the help the bundle renders, as it renders it", async () => {
    const bundle = fileURLToPath(new URL("../packages/cli/dist/bundle/bin.js", import.meta.url))
    const rendered = await promisify(execFile)(process.execPath, [bundle, "--help"], { cwd: tmpdir() })
    assert.include(rendered.stdout, "ircam zones add")
    for (const flag of ["--help", "-h"]) {
      const printed = await runToExit([flag], {}, tmpdir())
      assert.strictEqual(printed.code, 0)
      assert.strictEqual(printed.stdout, rendered.stdout, flag)
    }
  })
})
