/**
 * Runs `ircam` (bin/ircam.js) as a child process, for the zones and events command tests: a
 * fresh environment (PATH plus what the test gives), a working directory of the test's choosing.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"

export const bin = fileURLToPath(new URL("../../bin/ircam.js", import.meta.url))

const children = new Set<ChildProcess>()

export interface Ircam {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

export const start = (args: ReadonlyArray<string>, env: Record<string, string>, cwd: string): Ircam => {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  children.add(child)
  const exited = once(child, "close").then(() => {
    children.delete(child)
    return child.exitCode
  })
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

export const runToExit = async (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  cwd: string,
  timeoutMs = 30_000
) => {
  const ircam = start(args, env, cwd)
  const timer = setTimeout(() => ircam.child.kill("SIGKILL"), timeoutMs)
  const code = await ircam.exited
  clearTimeout(timer)
  return { code, stdout: ircam.stdout(), stderr: ircam.stderr() }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `url` until it answers; fails with the child's output if it exits first or never answers. */
export const waitUntilAnswering = async (ircam: Ircam, url: string, attempts = 300): Promise<void> => {
  let exited = false
  void ircam.exited.then(() => (exited = true))
  for (let attempt = 0; attempt < attempts && !exited; attempt++) {
    if (await fetch(url).then(() => true, () => false)) return
    await sleep(100)
  }
  throw new Error(`ircam did not answer at ${url}\nstdout:\n${ircam.stdout()}\nstderr:\n${ircam.stderr()}`)
}

export const stop = (ircam: Ircam): Promise<number | null> => {
  ircam.child.kill("SIGTERM")
  return ircam.exited
}

/** Kills every child still running (for afterAll). */
export const killAll = async (): Promise<void> => {
  const running = [...children]
  for (const child of running) child.kill("SIGKILL")
  await Promise.all(running.map((child) => once(child, "close").catch(() => undefined)))
}
