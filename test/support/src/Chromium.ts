/**
 * Debian's Chromium for the browser tests, installed with apt-get when it is missing. Installing
 * needs root (or password-less sudo) and the network; when it cannot be done, `ensureChromium`
 * answers why, and the tests skip with that message.
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"

export const executablePath = "/usr/bin/chromium"

/** Flags for a headless run in a container: no sandbox (root), no GPU, no calls home. */
export const launchArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

const run = (command: string, args: ReadonlyArray<string>): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
    child.once("error", (error) => resolve({ code: -1, output: `${output}${error.message}` }))
    child.once("close", (code) => resolve({ code, output }))
  })

/** apt-get as root, or through `sudo -n` (never prompts) otherwise. */
const aptGet = (...args: Array<string>) => {
  const isRoot = process.getuid?.() === 0
  return isRoot ? run("apt-get", args) : run("sudo", ["-n", "apt-get", ...args])
}

const lastLines = (text: string) => text.trim().split("\n").slice(-5).join("\n")

/**
 * Makes sure `/usr/bin/chromium` exists: installs the `chromium` package if needed (after an
 * `apt-get update` if the first attempt fails, e.g. on stale package lists). Answers `undefined`
 * when Chromium is there, else the reason it is not.
 */
export const ensureChromium = async (): Promise<string | undefined> => {
  if (existsSync(executablePath)) return undefined
  const install = () => aptGet("install", "-y", "chromium")
  let result = await install()
  if (result.code !== 0) {
    const update = await aptGet("update")
    if (update.code !== 0) return `apt-get update failed (${update.code}):\n${lastLines(update.output)}`
    result = await install()
  }
  if (result.code !== 0 || !existsSync(executablePath)) {
    return `apt-get install chromium failed (${result.code}):\n${lastLines(result.output)}`
  }
  return undefined
}
