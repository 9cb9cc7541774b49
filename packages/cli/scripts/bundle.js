/**
 * Bundles the `ircam` executable from the compiled packages (the dist/ folders `tsc -b` writes)
 * with esbuild, into packages/cli/dist/bundle: bin.js with what every command needs (parsing the
 * command line, --help) and one chunk per command, imported when that command runs.
 *
 * Why a bundle: Node loads ES modules file by file, and effect and @effect/* are hundreds of
 * files, all of them loaded through their index modules; one file, tree-shaken to what ircam
 * uses, starts several times faster and holds less code in memory.
 */
import * as esbuild from "esbuild"
import { execFile } from "node:child_process"
import { readFile, rm, writeFile } from "node:fs/promises"
import { relative } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const cli = fileURLToPath(new URL("..", import.meta.url))
const root = fileURLToPath(new URL("../../..", import.meta.url))
const outdir = `${cli}dist/bundle`

/**
 * `import { Effect, Schema } from "effect"` makes esbuild build whole namespace objects, so every
 * export of each module named stays in the bundle, with all that those exports use. Importing
 * the modules themselves (`import * as Effect from "effect/Effect"`) lets it keep what is used.
 */
const barrels = [
  "effect",
  "@effect/platform",
  "@effect/platform-node",
  "@effect/cli",
  "@effect/sql",
  "@effect/experimental"
]

/** For each barrel, what each of its names is: a module (`effect/Effect`) or a name in one. */
const barrelContents = async (build) => {
  const contents = new Map()
  for (const barrel of barrels) {
    const { path } = await build.resolve(barrel, { kind: "import-statement", resolveDir: cli })
    const index = await readFile(path, "utf8")
    const names = new Map()
    for (const [, name, file] of index.matchAll(/export \* as (\w+) from "\.\/(\w+)\.js"/g)) {
      names.set(name, { module: `${barrel}/${file}` })
    }
    for (const [, list, file] of index.matchAll(/export \{([^}]*)\} from "\.\/(\w+)\.js"/g)) {
      for (const name of list.replace(/\/\*[\s\S]*?\*\//g, "").split(",").map((n) => n.trim()).filter(Boolean)) {
        names.set(name, { from: `${barrel}/${file}` })
      }
    }
    contents.set(barrel, names)
  }
  return contents
}

const importModules = (source, contents) =>
  source.replace(/import \{([^}]*)\} from "([^"]+)";/g, (statement, list, barrel) => {
    const names = contents.get(barrel)
    if (names === undefined) return statement
    return list.split(",").map((specifier) => specifier.trim()).filter(Boolean).map((specifier) => {
      const [name, local = name] = specifier.split(/\s+as\s+/)
      const target = names.get(name)
      if (target === undefined) return `import { ${specifier} } from "${barrel}";`
      if (target.module !== undefined) return `import * as ${local} from "${target.module}";`
      return `import { ${specifier} } from "${target.from}";`
    }).join("\n")
  })

/**
 * `import.meta.url` in our packages means where the module's file is (WebPage finds the page's
 * files from it, the I²C transport its addon): keep that meaning in the chunk the module lands in.
 */
const keepModuleLocation = (source, path) =>
  source.replaceAll(
    "import.meta.url",
    `new URL(${JSON.stringify(relative(outdir, path).split("\\").join("/"))}, import.meta.url).href`
  )

/** Our compiled modules, with both rewrites above. */
const workspaceModules = {
  name: "workspace-modules",
  setup(build) {
    let contents
    build.onStart(async () => {
      contents = await barrelContents(build)
    })
    build.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]dist[\\/].*\.js$/ }, async (args) => ({
      contents: keepModuleLocation(importModules(await readFile(args.path, "utf8"), contents), args.path)
    }))
  }
}

await rm(outdir, { recursive: true, force: true })
const result = await esbuild.build({
  entryPoints: { bin: `${cli}dist/bin.js` },
  outdir,
  // paths in meta.json relative to the repository
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // native addons, loaded from node_modules as they are
  external: ["better-sqlite3", "i2c-bus"],
  // bundled CommonJS modules call require()
  banner: {
    js:
      "import { createRequire as __createRequire } from \"node:module\"; const require = __createRequire(import.meta.url);"
  },
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  sourcesContent: false,
  metafile: true,
  logLevel: "warning",
  plugins: [workspaceModules]
})
// what went where, for esbuild's analyzer (https://esbuild.github.io/analyze/)
await writeFile(`${outdir}/meta.json`, JSON.stringify(result.metafile))

// `ircam --help`, rendered once here by the bundle itself: @effect/printer takes a good part of a
// run to lay out the help of every command, and the text depends on nothing but the build
// (bin/ircam.js prints it)
const help = await promisify(execFile)(process.execPath, [`${outdir}/bin.js`, "--help"], {
  cwd: outdir,
  env: { PATH: process.env.PATH }
})
await writeFile(`${outdir}/help.txt`, help.stdout)

const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith(".js"))
const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const all = outputs.reduce((sum, [, output]) => sum + output.bytes, 0)
const bin = outputs.find(([file]) => file.endsWith("/bin.js"))[1].bytes
process.stdout.write(
  `bundle: ${relative(root, outdir)}/bin.js ${megabytes(bin)} and ${outputs.length - 1} chunks, ` +
    `${megabytes(all - bin)}\n`
)
