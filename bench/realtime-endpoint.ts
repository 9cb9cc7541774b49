/**
 * GET /api/v1/thermal/real-time latency under load: the real server in a child process, this
 * process sending an open-loop 1,000 requests/s for 5 s over keep-alive loopback connections.
 * Budget (DESIGN.md): p99 < 10 ms at 1,000 requests/s.
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { Agent, get } from "node:http"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

const ratePerSecond = 1_000
const seconds = 5

const freePort = () =>
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

const request = (agent: Agent, port: number) =>
  new Promise<number>((resolve, reject) => {
    const start = performance.now()
    get({ host: "127.0.0.1", port, path: "/api/v1/thermal/real-time", agent }, (response) => {
      response.resume()
      response.once("end", () =>
        response.statusCode === 200
          ? resolve(performance.now() - start)
          : reject(new Error(`status ${response.statusCode}`)))
    }).once("error", reject)
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))]!

export const run = Effect.promise(async () => {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-"))
  const port = await freePort()
  const server = spawn(process.execPath, [join(import.meta.dirname, "../packages/cli/bin/ircam.js"), "serve"], {
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
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  try {
    let ready = false
    for (let attempt = 0; attempt < 100 && !ready; attempt++) {
      ready = await request(agent, port).then(() => true, () => false)
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    if (!ready) throw new Error("the server did not start")
    for (let i = 0; i < 200; i++) await request(agent, port) // warm-up

    const latencies: Array<number> = []
    const pending: Array<Promise<void>> = []
    const total = ratePerSecond * seconds
    const start = performance.now()
    for (let i = 0; i < total; i++) {
      const due = start + i * 1000 / ratePerSecond
      const wait = due - performance.now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      pending.push(request(agent, port).then((ms) => void latencies.push(ms)))
    }
    await Promise.all(pending)
    const achieved = total / ((performance.now() - start) / 1000)
    const sorted = latencies.sort((a, b) => a - b)
    const p99 = percentile(sorted, 99)
    console.log(
      `GET /thermal/real-time: ${total} requests at ${Math.round(achieved)} requests/s: ` +
        `p50 ${percentile(sorted, 50).toFixed(2)} ms, p90 ${percentile(sorted, 90).toFixed(2)} ms, ` +
        `p99 ${p99.toFixed(2)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms ` +
        `(budget p99 < 10 ms; ${p99 < 10 ? "ok" : "OVER BUDGET"})`
    )
  } finally {
    agent.destroy()
    server.kill("SIGTERM")
    await new Promise((resolve) => server.once("exit", resolve))
    rmSync(dir, { recursive: true, force: true })
  }
})
