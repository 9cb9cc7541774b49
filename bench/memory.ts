/**
 * Server memory over time: the real server in a child process, started as `npm start` starts it,
 * at 16 frames/s with a realistic load: a zone over the simulated hot plate, an alarm rule that
 * is raised and cleared in every 90 s cycle of the scene (each one records an event), one live
 * stream (an open page) and a `GET /thermal/real-time` a second. Its RSS is sampled from /proc
 * every 10 s. Budget (DESIGN.md): RSS < 120 MB after an hour at 16 fps, no growth. The growth is
 * judged on the floors: the lowest RSS (just after a garbage collection) in each third of the run
 * after its first quarter (start-up and warm-up left out), since single samples swing by tens of MB
 * with the collector. The reference is node itself: the RSS of an empty node process.
 *
 * `npm run bench` runs it for 2 minutes; `npx tsx bench/memory.ts --minutes 60` for the budget's hour.
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { cpuSeconds, freePort, rssMb, serve, stop, untilAnswering } from "./Process.js"

const budgetMb = 120
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

/** The lowest RSS in each third of the samples after the first quarter, with when that third ends. */
const floors = (samples: ReadonlyArray<readonly [minutes: number, mb: number]>) => {
  const settled = samples.slice(Math.floor(samples.length / 4))
  const size = Math.max(1, Math.floor(settled.length / 3))
  return [0, 1, 2].map((third) => settled.slice(third * size, third === 2 ? undefined : (third + 1) * size))
    .filter((part) => part.length > 0)
    .map((part) => ({ mb: Math.min(...part.map(([, mb]) => mb)), minutes: part[part.length - 1]![0] }))
}

/** RSS of a node process that does nothing: the floor under any node server on this machine. */
const nodeFloorMb = async () => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" })
  await sleep(1000)
  const rss = rssMb(child.pid!)
  await stop(child)
  return rss
}

export const measure = async (minutes: number) => {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-"))
  const port = await freePort()
  const child = serve(dir, port)
  const stream = new AbortController()
  try {
    await untilAnswering(port)
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

    const pid = child.pid!
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
    const settled = floors(samples)
    const first = settled[0]!
    const last = settled[settled.length - 1]!
    return {
      minutes,
      firstMb: samples[0]![1],
      lastMb: samples[samples.length - 1]![1],
      peakMb: Math.max(...samples.map(([, mb]) => mb)),
      floorsMb: settled.map(({ mb }) => mb),
      growthMbPerHour: last.minutes === first.minutes ? 0 : (last.mb - first.mb) / (last.minutes - first.minutes) * 60,
      cpuPercent: cpu,
      alarmsRaised: health.checks.alarms.details.raised,
      eventsRecorded: health.checks.events.details.eventsRecorded,
      nodeFloorMb: await nodeFloorMb()
    }
  } finally {
    stream.abort()
    await stop(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

const report = (figures: Awaited<ReturnType<typeof measure>>) => {
  const {
    alarmsRaised,
    cpuPercent,
    eventsRecorded,
    firstMb,
    floorsMb,
    growthMbPerHour,
    lastMb,
    minutes,
    nodeFloorMb,
    peakMb
  } = figures
  const within = lastMb < budgetMb
  console.log(
    `server memory over ${minutes} min at 16 frames/s (a zone, an alarm rule, one stream, a request a second): ` +
      `RSS ${firstMb.toFixed(0)} MB after ${sampleSeconds} s, ${lastMb.toFixed(0)} MB at the end, ` +
      `peak ${peakMb.toFixed(0)} MB (budget < ${budgetMb} MB; ${within ? "ok" : "OVER BUDGET"})`
  )
  console.log(
    `  lowest RSS in each third after the first quarter: ${floorsMb.map((mb) => mb.toFixed(0)).join(", ")} MB, ` +
      `${growthMbPerHour >= 0 ? "+" : ""}${
        growthMbPerHour.toFixed(1)
      } MB/hour (budget: no growth); ${alarmsRaised} alarms raised, ${eventsRecorded} events recorded; ` +
      `server CPU ${cpuPercent.toFixed(1)} % of a core`
  )
  console.log(`  reference, an empty node process: RSS ${nodeFloorMb.toFixed(0)} MB`)
}

export const run = Effect.promise(() => measure(2).then(report))

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const index = process.argv.indexOf("--minutes")
  const minutes = index < 0 ? 2 : Number(process.argv[index + 1])
  if (!(minutes > 0)) throw new Error("--minutes must be a positive number")
  void measure(minutes).then(report)
}
