/**
 * @ircam/core and @ircam/hw as another Effect program gets them: `npm pack` of each, installed
 * from the tarballs into a project of its own outside the workspace (their dependencies from the
 * npm registry or npm's cache), where the README's embedding example and a use of the MLX90640
 * math run with plain node, after `tsc` has type-checked them against the packed declarations.
 *
 * Install scripts are skipped, for time: nothing here needs the I²C addons, and SQLite's addon,
 * when the installed better-sqlite3 is the version the workspace built, is copied from there
 * instead of being compiled again (a minute and more); otherwise it is rebuilt.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { assertFreshBuild } from "@ircam/test-support/Process"
import { execFile } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const root = fileURLToPath(new URL("..", import.meta.url))
const packed = ["core", "hw"] as const

interface Manifest {
  readonly name: string
  readonly version: string
  readonly exports: Record<string, unknown>
  readonly dependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
}

const manifestOf = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest

const run = async (command: string, args: ReadonlyArray<string>, cwd: string) => {
  try {
    return await promisify(execFile)(command, [...args], {
      cwd,
      encoding: "utf8",
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: "1", npm_config_fund: "false", npm_config_audit: "false" }
    })
  } catch (error) {
    const { stderr = "", stdout = "" } = error as { stdout?: string; stderr?: string }
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}\n${stderr}`)
  }
}

// the README's example, made to run: its last comment says how
const readme = readFileSync(join(root, "README.md"), "utf8")
const embedding = /## Embedding the core[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1]!
  .replace("// run it: Effect.runPromise(", "Effect.runPromise(")

const hwExample = `import { decode, parse } from "@ircam/hw/Mlx90640Dump"
import * as SensorLive from "@ircam/hw/SensorLive"
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"

const dump = Effect.runSync(parse(readFileSync("melexis-example.json", "utf8"), "melexis-example.json"))
const { status, temperatures } = decode(dump)
console.log(JSON.stringify({ status, pixels: temperatures.length, sensorLayer: Layer.isLayer(SensorLive.layer) }))
`

let work = ""
let project = ""
let typeCheck: { readonly ok: boolean; readonly output: string } = { ok: false, output: "not run" }

/** Where a packed package is once installed: the tarball's contents. */
const installed = (name: string) => join(project, "node_modules", name)

beforeAll(async () => {
  assertFreshBuild()
  work = mkdtempSync(join(tmpdir(), "ircam-pack-"))
  project = join(work, "app")
  mkdirSync(project)
  const { stdout } = await run(
    "npm",
    ["pack", "--json", "--pack-destination", work, ...packed.flatMap((name) => ["-w", `packages/${name}`])],
    root
  )
  const tarballs = new Map(
    (JSON.parse(stdout) as ReadonlyArray<{ name: string; filename: string }>).map((
      { filename, name }
    ) => [name, join(work, filename)])
  )
  const workspace = manifestOf(root).devDependencies!
  writeFileSync(
    join(project, "package.json"),
    JSON.stringify({
      name: "embeds-ircam",
      private: true,
      type: "module",
      dependencies: {
        "@ircam/core": `file:${tarballs.get("@ircam/core")}`,
        "@ircam/hw": `file:${tarballs.get("@ircam/hw")}`,
        "effect": manifestOf(join(root, "packages/core")).dependencies!.effect
      },
      devDependencies: { "@types/node": workspace["@types/node"], "typescript": workspace.typescript }
    })
  )
  await run("npm", ["install", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], project)
  const sqlite = (dir: string) => join(dir, "node_modules/better-sqlite3")
  if (manifestOf(sqlite(project)).version === manifestOf(sqlite(root)).version) {
    cpSync(
      join(sqlite(root), "build/Release/better_sqlite3.node"),
      join(sqlite(project), "build/Release/better_sqlite3.node")
    )
  } else {
    await run("npm", ["rebuild", "better-sqlite3"], project)
  }

  writeFileSync(join(project, "embed.ts"), embedding)
  writeFileSync(join(project, "hw.ts"), hwExample)
  cpSync(join(root, "packages/hw/test/fixtures/mlx90640/melexis-example.json"), join(project, "melexis-example.json"))
  writeFileSync(
    join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        exactOptionalPropertyTypes: true,
        outDir: "out",
        types: ["node"]
      },
      include: ["embed.ts", "hw.ts"]
    })
  )
  // errors are the first test's to report; the JavaScript is written anyway, for the others
  const tsc = join(project, "node_modules/typescript/bin/tsc")
  typeCheck = await run(process.execPath, [tsc, "-p", "."], project).then(
    ({ stdout }) => ({ ok: true, output: stdout }),
    (error: Error) => ({ ok: false, output: error.message })
  )
}, 600_000)

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true })
})

/** The packages a compiled module imports (static, dynamic and through require), builtins left out. */
const importsOf = (source: string): ReadonlyArray<string> =>
  // `from` after a space, `}` or `*` (not the word inside a string such as `"from"`)
  [...source.matchAll(/(?:(?<=[\s}*])from\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)"([^".\s][^"\s]*)"/g)]
    .map(([, specifier]) => specifier!)
    .filter((specifier) => !specifier.startsWith("node:") && !builtinModules.includes(specifier))
    .map((specifier) => specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/"))

const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).map((file) => join(dir, file))

describe("npm pack of @ircam/core and @ircam/hw", () => {
  it.each(packed)("%s: exports point at compiled JavaScript with declarations, all in the tarball", (name) => {
    const dir = installed(`@ircam/${name}`)
    const manifest = manifestOf(dir)
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (target === null) continue
      const { default: js, types } = target as { default: string; types: string }
      assert.match(js, /^\.\/dist\/.*\.js$/, subpath)
      assert.match(types, /^\.\/dist\/.*\.d\.ts$/, subpath)
    }
    const files = filesUnder(join(dir, "dist"))
    assert.isTrue(existsSync(join(dir, "dist/index.js")) && existsSync(join(dir, "dist/index.d.ts")))
    for (const js of files.filter((file) => file.endsWith(".js"))) {
      assert.isTrue(existsSync(js.replace(/\.js$/, ".d.ts")), `${js} has its declarations`)
    }
    assert.isFalse(files.some((file) => file.endsWith(".tsbuildinfo")), "no build state")
    assert.isUndefined(manifest.devDependencies)
  })

  it.each(packed)("%s: declares what it imports, and nothing it does not need", (name) => {
    const dir = installed(`@ircam/${name}`)
    const manifest = manifestOf(dir)
    const declared = { ...manifest.dependencies, ...manifest.optionalDependencies }
    const imported = new Set(
      filesUnder(join(dir, "dist")).filter((file) => file.endsWith(".js")).flatMap((file) =>
        importsOf(readFileSync(file, "utf8"))
      )
    )
    for (const dependency of imported) assert.property(declared, dependency, `${name} imports ${dependency}`)
    // what is declared without being imported is a peer some declared package needs, pinned here
    const peers = new Set(
      Object.keys(declared).flatMap((dependency) =>
        Object.keys(manifestOf(installed(dependency)).peerDependencies ?? {})
      )
    )
    for (const dependency of Object.keys(declared)) {
      assert.isTrue(
        imported.has(dependency) || peers.has(dependency),
        `${name} declares ${dependency} but needs it not`
      )
    }
    for (const [dependency, version] of Object.entries(declared)) {
      if (!dependency.startsWith("@ircam/")) assert.match(version, /^\d+\.\d+\.\d+$/, `${dependency} is pinned`)
    }
  })
})

describe("a project that installs the tarballs", () => {
  it("type-checks the examples with tsc against the packed declarations", () => {
    assert.isTrue(typeCheck.ok, typeCheck.output)
  })

  it("runs the README's embedding example with plain node", async () => {
    const { stdout } = await run(process.execPath, ["out/embed.js"], project)
    assert.match(stdout, /^hot plate: \d+\.\d °C \(min \d+\.\d, max \d+\.\d\)$/m)
  }, 60_000)

  it("runs the MLX90640 math from @ircam/hw, and loads its sensor layer, with plain node", async () => {
    const { stdout } = await run(process.execPath, ["out/hw.js"], project)
    assert.deepStrictEqual(JSON.parse(stdout), { status: 0, pixels: 768, sensorLayer: true })
  }, 60_000)
})
