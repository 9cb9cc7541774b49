/**
 * The real server in a child process, as the benchmarks measure it: the built `ircam serve` with
 * the node options of the systemd unit, on the simulated sensor at 16 frames/s, its database in a
 * directory of the benchmark's; and what a process costs, read from /proc (Linux).
 */
import { type Ircam, serverEnv, start, waitUntilAnswering } from "@ircam/test-support/Process"
import { readFileSync } from "node:fs"
import { join } from "node:path"

// compiled to bench/dist/: the repository is two folders up
const unit = readFileSync(new URL("../../deploy/ircam.service", import.meta.url), "utf8")

/** The node options of deploy/ircam.service (between node and the script): the service's memory settings. */
export const serviceNodeOptions = (/^ExecStart=\S+ (.*?) ?\S+ serve$/m.exec(unit)?.[1] ?? "").split(" ").filter(Boolean)

/** The server on `port` as the service runs it, its database in `dir`; `settings` add to its environment. */
export const serve = (dir: string, port: number, settings: Record<string, string> = {}): Ircam =>
  start(
    ["serve"],
    serverEnv(dir, port, {
      DATABASE_PATH: join(dir, "bench.db"),
      REFRESH_RATE_HZ: "16",
      LOG_LEVEL: "warn",
      ...settings
    }),
    dir,
    serviceNodeOptions
  )

/** Resolves once the server on `port` answers its health check, whatever the status. */
export const untilAnswering = (ircam: Ircam, port: number) =>
  waitUntilAnswering(ircam, `http://127.0.0.1:${port}/api/v1/health`)

/** User + system CPU seconds of a process, from /proc/<pid>/stat. */
export const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Resident set size of a process in MB, from /proc/<pid>/status. */
export const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))
  return Number(line?.replace(/\D+/g, "") ?? 0) / 1024
}
