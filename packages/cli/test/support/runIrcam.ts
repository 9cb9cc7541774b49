/**
 * Runs `ircam <args>` (bin/ircam.js) to its end as a child process, with exactly `env` (plus PATH) in `cwd`.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

const bin = fileURLToPath(new URL("../../bin/ircam.js", import.meta.url))

export const runToExit = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  cwd: string,
  timeoutMs = 30_000
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> =>
  new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { cwd, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : child.exitCode, stdout, stderr })
    )
  })
