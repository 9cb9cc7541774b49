/**
 * Runs `ircam` (packages/cli/bin/ircam.js, the built executable) as a child process, as a user
 * would: a fresh environment (no variable of the test runner leaks in), a working directory of
 * the caller's choosing. Refuses to start it when its build is older than the sources, so that a
 * test never checks old code.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { staleBuild } from "../../../packages/cli/bin/build-check.js"

export const bin = fileURLToPath(new URL("../../../packages/cli/bin/ircam.js", import.meta.url))

// every child still running, with the promise of its end
const children = new Map<ChildProcess, Promise<number | null>>()

let checked = false

/** Throws, saying what to do, when the build is missing or older than a source file. */
export const assertFreshBuild = (): void => {
  if (checked) return
  const stale = staleBuild()
  if (stale !== undefined) throw new Error(`cannot run the built ircam: ${stale}`)
  checked = true
}

/**
 * The environment of `ircam serve` for a test: `port` on loopback, the simulated sensor, a
 * database in `dir`, JSON logs; `settings` add to it or override it.
 */
export const serverEnv = (dir: string, port: number, settings: Record<string, string> = {}) => ({
  PORT: String(port),
  HOST: "127.0.0.1",
  DATABASE_PATH: join(dir, "ircam.db"),
  SENSOR: "simulated",
  LOG_FORMAT: "json",
  ...settings
})

export interface Ircam {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** the exit code (null when a signal ended it) */
  readonly exited: Promise<number | null>
}

/** Starts `ircam <args>` with exactly `env` (plus PATH and NO_COLOR) in `cwd`; `node` options before the script. */
export const start = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  cwd: string,
  node: ReadonlyArray<string> = []
): Ircam => {
  assertFreshBuild()
  const child = spawn(process.execPath, [...node, bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const exited = once(child, "close").then(() => {
    children.delete(child)
    return child.exitCode
  })
  children.set(child, exited)
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits until `url` answers (any status), polling every `intervalMs` a bounded number of times;
 * fails early, with the child's output, if the child exits first.
 */
export const waitUntilAnswering = async (
  ircam: Ircam,
  url: string,
  { attempts = 300, intervalMs = 100 }: { readonly attempts?: number; readonly intervalMs?: number } = {}
): Promise<void> => {
  let exited = false
  void ircam.exited.then(() => (exited = true))
  for (let attempt = 0; attempt < attempts && !exited; attempt++) {
    const answered = await fetch(url).then(() => true, () => false)
    if (answered) return
    await sleep(intervalMs)
  }
  throw new Error(
    `ircam did not answer at ${url}${exited ? ` (it exited with ${ircam.child.exitCode})` : ""}\n` +
      `stdout:\n${ircam.stdout()}\nstderr:\n${ircam.stderr()}`
  )
}

/** Asks ircam to stop (SIGTERM) and waits for its exit code. */
export const stop = async (ircam: Ircam): Promise<number | null> => {
  ircam.child.kill("SIGTERM")
  return ircam.exited
}

/** Runs `ircam <args>` to its end (killed after `timeoutMs`): its exit code and output. */
export const runToExit = async (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  cwd: string,
  timeoutMs = 30_000
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> => {
  const ircam = start(args, env, cwd)
  const timer = setTimeout(() => ircam.child.kill("SIGKILL"), timeoutMs)
  const code = await ircam.exited
  clearTimeout(timer)
  return { code, stdout: ircam.stdout(), stderr: ircam.stderr() }
}

/** Kills every child still running (for afterAll). */
export const killAll = async (): Promise<void> => {
  const running = [...children]
  for (const [child] of running) child.kill("SIGKILL")
  await Promise.all(running.map(([, exited]) => exited))
}
