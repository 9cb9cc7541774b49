/**
 * What the benchmarks that run the server in a child process share.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"

/** A TCP port that was free a moment ago. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(
        () => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")))
      )
    })
  })

/** The server as `npm start` runs it, on the simulated sensor at 16 frames/s, its database in `dir`. */
export const serve = (dir: string, port: number) =>
  spawn(process.execPath, [join(import.meta.dirname, "../packages/cli/bin/ircam.js"), "serve"], {
    cwd: dir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_PATH: join(dir, "bench.db"),
      SENSOR: "simulated",
      REFRESH_RATE_HZ: "16",
      LOG_LEVEL: "warn"
    },
    stdio: "ignore"
  })

/** Resolves once the server on `port` answers its health check, whatever the status. */
export const untilAnswering = async (port: number) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await fetch(`http://127.0.0.1:${port}/api/v1/health`).then(() => true, () => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`nothing answers on port ${port}`)
}

/** SIGTERM, and its exit. */
export const stop = async (child: ChildProcess) => {
  child.kill("SIGTERM")
  if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve))
}

/** User + system CPU seconds of a process, from /proc/<pid>/stat (Linux). */
export const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ")
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the command name
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Resident set size of a process in MB, from /proc/<pid>/status (Linux). */
export const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))
  return Number(line?.replace(/\D+/g, "") ?? 0) / 1024
}
