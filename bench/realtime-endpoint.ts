/**
 * GET /api/v1/thermal/real-time latency under load: the real server in a child process, this
 * process sending an open-loop 1,000 requests/s for 5 s over keep-alive loopback connections.
 * Budget (DESIGN.md): p99 < 10 ms at 1,000 requests/s. As a reference, the same load against a
 * bare node:http server (another child process) answering the same bytes: the floor that this
 * machine and this load generator allow.
 */
import { freePort } from "@ircam/test-support/Port"
import { type Ircam, stop } from "@ircam/test-support/Process"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { Agent, get } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { serve } from "./Server.js"

const ratePerSecond = 1_000
const seconds = 5

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

interface Latency {
  readonly rate: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

const measure = async (agent: Agent, port: number): Promise<Latency> => {
  for (let i = 0; i < 1_000; i++) await request(agent, port) // warm-up
  const latencies: Array<number> = []
  const pending: Array<Promise<void>> = []
  const total = ratePerSecond * seconds
  const start = performance.now()
  for (let i = 0; i < total; i++) {
    const wait = start + i * 1000 / ratePerSecond - performance.now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    pending.push(request(agent, port).then((ms) => void latencies.push(ms)))
  }
  await Promise.all(pending)
  const rate = total / ((performance.now() - start) / 1000)
  const sorted = latencies.sort((a, b) => a - b)
  return {
    rate,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!
  }
}

const describe = (name: string, { max, p50, p90, p99, rate }: Latency) =>
  `${name}: ${Math.round(rate)} requests/s: p50 ${p50.toFixed(2)} ms, p90 ${p90.toFixed(2)} ms, ` +
  `p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms`

const waitUntilAnswering = async (agent: Agent, port: number) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await request(agent, port).then(() => true, () => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`nothing answers on port ${port}`)
}

// a bare HTTP server answering the bytes in the file argv[1], on the port argv[2]
const reference = `
const body = require("node:fs").readFileSync(process.argv[1])
require("node:http").createServer((request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": body.length })
  response.end(body)
}).listen(Number(process.argv[2]), "127.0.0.1")`

export const run = Effect.promise(async () => {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-"))
  const agent = new Agent({ keepAlive: true, maxSockets: 32 })
  let server: Ircam | undefined
  let bareServer: ChildProcess | undefined
  try {
    const port = await freePort()
    server = serve(dir, port)
    await waitUntilAnswering(agent, port)
    const frame = await fetch(`http://127.0.0.1:${port}/api/v1/thermal/real-time`).then((r) => r.arrayBuffer())
    const ircam = await measure(agent, port)
    await stop(server)

    const bodyFile = join(dir, "frame.json")
    writeFileSync(bodyFile, new Uint8Array(frame))
    const referencePort = await freePort()
    bareServer = spawn(process.execPath, ["-e", reference, bodyFile, String(referencePort)], { stdio: "ignore" })
    await waitUntilAnswering(agent, referencePort)
    const bare = await measure(agent, referencePort)

    console.log(
      describe(`GET /thermal/real-time (${frame.byteLength} bytes)`, ircam) +
        ` (budget p99 < 10 ms; ${ircam.p99 < 10 ? "ok" : "OVER BUDGET"})`
    )
    console.log(describe("  reference, bare node:http with the same body", bare))
  } finally {
    agent.destroy()
    if (server !== undefined) await stop(server)
    if (bareServer !== undefined && bareServer.exitCode === null) {
      bareServer.kill("SIGTERM")
      await once(bareServer, "exit")
    }
    rmSync(dir, { recursive: true, force: true })
  }
})
