/**
 * Start-up: how long a user waits for `ircam`, run the way a user runs it: the executable from
 * the PATH (a symlink `ircam` to packages/cli/bin/ircam.js in a directory put first on PATH, as
 * `npm link` or the service's install make it), not through npx or npm. Budgets (DESIGN.md):
 * - `ircam serve`, on a new database, until it has answered a `GET /api/v1/thermal/real-time`
 *   with a frame: ≤ 1.5 s;
 * - `ircam --help` to its exit: ≤ 0.4 s;
 * - `ircam zones list` on an existing database to its exit: ≤ 0.6 s.
 * Each is the median of several runs, after one that is not counted (so the files are in the
 * page cache, as they are on a device that has run ircam before), printed next to a bare
 * `node -e 0` measured in between: the floor of any node program on this machine at this moment.
 */
import { freePort } from "@ircam/test-support/Port"
import { assertFreshBuild, bin } from "@ircam/test-support/Process"
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const runs = 7

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Milliseconds from spawning `command` to its exit; fails unless it exits with 0. */
const timeToExit = async (command: string, args: ReadonlyArray<string>, env: Record<string, string>, cwd: string) => {
  const started = performance.now()
  const child = spawn(command, args, { cwd, env, stdio: "ignore" })
  const [code] = await once(child, "exit") as [number | null]
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}`)
  return performance.now() - started
}

/** Milliseconds from spawning `ircam serve` to its first frame answered, polling every 5 ms. */
const timeToFirstFrame = async (env: Record<string, string>, dir: string) => {
  const port = await freePort()
  const started = performance.now()
  const child: ChildProcess = spawn("ircam", ["serve"], {
    cwd: dir,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1", SENSOR: "simulated", DATABASE_PATH: join(dir, "serve.db") },
    stdio: "ignore"
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`ircam serve exited with ${child.exitCode}`)
      const status = await fetch(`http://127.0.0.1:${port}/api/v1/thermal/real-time`).then(
        (response) => response.arrayBuffer().then(() => response.status),
        () => 0
      )
      if (status === 200) return performance.now() - started
      await sleep(5)
    }
  } finally {
    child.kill("SIGTERM")
    if (child.exitCode === null) await once(child, "exit")
    rmSync(join(dir, "serve.db"), { force: true })
    rmSync(join(dir, "serve.db-wal"), { force: true })
    rmSync(join(dir, "serve.db-shm"), { force: true })
  }
}

interface Figure {
  readonly ms: number
  readonly nodeMs: number
}

/** The median of `measure` and of a bare node, alternating, after one run of each not counted. */
const against = async (measure: () => Promise<number>, env: Record<string, string>, dir: string) => {
  const node = () => timeToExit(process.execPath, ["-e", "0"], env, dir)
  await measure()
  await node()
  const times: Array<number> = []
  const nodeTimes: Array<number> = []
  for (let run = 0; run < runs; run++) {
    times.push(await measure())
    nodeTimes.push(await node())
  }
  return { ms: median(times), nodeMs: median(nodeTimes) } satisfies Figure
}

export const measure = async () => {
  assertFreshBuild()
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-startup-"))
  try {
    symlinkSync(bin, join(dir, "ircam"))
    const env = { PATH: `${dir}:${process.env.PATH ?? "/usr/bin:/bin"}`, NO_COLOR: "1" }
    const withDatabase = { ...env, DATABASE_PATH: join(dir, "zones.db") }
    // a database with a zone in it, as on a device in use
    await timeToExit(
      "ircam",
      ["zones", "add", "--x", "24", "--y", "4", "--width", "4", "--height", "3"],
      withDatabase,
      dir
    )
    return {
      serve: await against(() => timeToFirstFrame(env, dir), env, dir),
      help: await against(() => timeToExit("ircam", ["--help"], env, dir), env, dir),
      zonesList: await against(() => timeToExit("ircam", ["zones", "list"], withDatabase, dir), env, dir)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const line = (what: string, { ms, nodeMs }: Figure, budgetMs: number) =>
  `  ${what}: ${(ms / 1000).toFixed(2)} s (budget ≤ ${(budgetMs / 1000).toFixed(1)} s; ` +
  `${ms <= budgetMs ? "ok" : "OVER BUDGET"}); node -e 0: ${(nodeMs / 1000).toFixed(2)} s`

export const run = async () => {
  const { help, serve, zonesList } = await measure()
  console.log(`start-up of the built ircam, run from the PATH (median of ${runs}):`)
  console.log(line("ircam serve to its first frame answered", serve, 1500))
  console.log(line("ircam --help", help, 400))
  console.log(line("ircam zones list on an existing database", zonesList, 600))
}
