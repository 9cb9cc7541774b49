/**
 * Debian packages the tests need (Chromium, libfaketime, …), installed with apt-get when they are
 * missing. Installing needs root (or password-less sudo) and the network; when it cannot be done,
 * `ensure` answers why, and the tests skip with that message.
 */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"

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
 * Makes sure `file` exists, installing `name` if needed (after an `apt-get update` if the first
 * attempt fails, e.g. on stale package lists). Answers `undefined` when it is there, else why not.
 */
export const ensure = async (name: string, file: string): Promise<string | undefined> => {
  if (existsSync(file)) return undefined
  const install = () => aptGet("install", "-y", name)
  let result = await install()
  if (result.code !== 0) {
    const update = await aptGet("update")
    if (update.code !== 0) return `apt-get update failed (${update.code}):\n${lastLines(update.output)}`
    result = await install()
  }
  if (result.code !== 0 || !existsSync(file)) {
    return `apt-get install ${name} failed (${result.code}):\n${lastLines(result.output)}`
  }
  return undefined
}
