/**
 * Server memory over time: the real server in a child process, started as `npm start` starts it,
 * at 16 frames/s with a realistic load: a zone over the simulated hot plate, an alarm rule that
 * is raised and cleared in every 90 s cycle of the scene (each one records an event), one live
 * stream (an open page) and a `GET /thermal/real-time` a second. Its RSS is sampled from /proc
 * every 10 s. Budget (DESIGN.md): RSS ≤ 120 MB after an hour at 16 fps, no growth. The growth is
 * judged on the floors: the lowest RSS (just after a garbage collection) in each quarter of the
 * run, since single samples swing by tens of MB with the collector; the floors of the last three
 * quarters (start-up and warm-up left out) must lie within 5 MB of each other. The reference is
 * node itself: the RSS of an empty node process.
 *
 * `npm run bench` runs it for 2 minutes; `npm run bench -- memory --minutes 60` for the budget's hour.
 */
import { freePort } from "@ircam/test-support/Port"
import { stop } from "@ircam/test-support/Process"
import { spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cpuSeconds, rssMb, serve, untilAnswering } from "./Server.js"

const budgetMb = 120
/** How far apart the floors of the last three quarters may be. */
const floorSpreadMb = 5
const sampleSeconds = 10

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const post = (port: number, path: string, body: unknown) =>
  fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body)
  }).then(async (response) => {
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`)
  })

/** The lowest RSS in each quarter of the samples. */
const floors = (samples: ReadonlyArray<readonly [minutes: number, mb: number]>) =>
  [0, 1, 2, 3].map((quarter) =>
    samples.slice(Math.floor(quarter * samples.length / 4), Math.floor((quarter + 1) * samples.length / 4))
  ).filter((part) => part.length > 0).map((part) => Math.min(...part.map(([, mb]) => mb)))

/** RSS of a node process that does nothing: the floor under any node server on this machine. */
const nodeFloorMb = async () => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" })
  await sleep(1000)
  const rss = rssMb(child.pid!)
  child.kill("SIGTERM")
  await once(child, "exit")
  return rss
}

/** `minutes` of the load on the server, `settings` added to its environment (the MQTT benchmark's). */
export const measure = async (minutes: number, settings: Record<string, string> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-"))
  const port = await freePort()
  const server = serve(dir, port, settings)
  const stream = new AbortController()
  try {
    await untilAnswering(server, port)
    await post(port, "/zones", { name: "hot plate", x: 24, y: 4, width: 4, height: 3 })
    await post(port, "/alarms/rules", {
      name: "plate too hot",
      zoneId: 1,
      metric: "max",
      direction: "above",
      threshold: 60,
      delaySeconds: 2,
      severity: "critical"
    })
    // an open page: one stream, read as fast as it comes
    void fetch(`http://127.0.0.1:${port}/api/v1/thermal/stream`, { signal: stream.signal })
      .then(async (response) => {
        for await (const _ of response.body!) { /* discard */ }
      })
      .catch(() => undefined)
    const poll = setInterval(() => {
      fetch(`http://127.0.0.1:${port}/api/v1/thermal/real-time`).then((r) => r.arrayBuffer(), () => undefined)
    }, 1000)

    const pid = server.child.pid!
    const started = Date.now()
    const cpuBefore = cpuSeconds(pid)
    const samples: Array<readonly [minutes: number, mb: number]> = []
    try {
      while (Date.now() - started < minutes * 60_000) {
        await sleep(sampleSeconds * 1000)
        samples.push([(Date.now() - started) / 60_000, rssMb(pid)])
      }
    } finally {
      clearInterval(poll)
    }
    const cpu = (cpuSeconds(pid) - cpuBefore) / ((Date.now() - started) / 1000) * 100
    const health = await fetch(`http://127.0.0.1:${port}/api/v1/health`).then((r) => r.json()) as {
      checks: { events: { details: { eventsRecorded: number } }; alarms: { details: { raised: number } } }
    }
    return {
      minutes,
      firstMb: samples[0]![1],
      lastMb: samples[samples.length - 1]![1],
      peakMb: Math.max(...samples.map(([, mb]) => mb)),
      floorsMb: floors(samples),
      cpuPercent: cpu,
      alarmsRaised: health.checks.alarms.details.raised,
      eventsRecorded: health.checks.events.details.eventsRecorded,
      nodeFloorMb: await nodeFloorMb()
    }
  } finally {
    stream.abort()
    await stop(server)
    rmSync(dir, { recursive: true, force: true })
  }
}

export const report = (figures: Awaited<ReturnType<typeof measure>>) => {
  const { alarmsRaised, cpuPercent, eventsRecorded, firstMb, floorsMb, lastMb, minutes, nodeFloorMb, peakMb } = figures
  const settled = floorsMb.slice(1)
  const spread = Math.max(...settled) - Math.min(...settled)
  const verdict = (ok: boolean) => ok ? "ok" : "OVER BUDGET"
  console.log(
    `server memory over ${minutes} min at 16 frames/s (a zone, an alarm rule, one stream, a request a second): ` +
      `RSS ${firstMb.toFixed(0)} MB after ${sampleSeconds} s, ${lastMb.toFixed(0)} MB at the end ` +
      `(budget ≤ ${budgetMb} MB; ${verdict(lastMb <= budgetMb)}), peak ${peakMb.toFixed(0)} MB`
  )
  console.log(
    `  lowest RSS in each quarter: ${floorsMb.map((mb) => mb.toFixed(1)).join(", ")} MB; the last three within ` +
      `${spread.toFixed(1)} MB (budget ≤ ${floorSpreadMb} MB; ${verdict(spread <= floorSpreadMb)}); ` +
      `${alarmsRaised} alarms raised, ${eventsRecorded} events recorded; server CPU ${
        cpuPercent.toFixed(1)
      } % of a core`
  )
  console.log(`  reference, an empty node process: RSS ${nodeFloorMb.toFixed(0)} MB`)
}

/** `minutes` of load, then the figures. */
export const run = (minutes: number) => measure(minutes).then(report)
