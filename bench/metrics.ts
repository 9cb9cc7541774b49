/**
 * What Prometheus costs ircam, each against a run without scrapes in the same run:
 *
 * - the monitor loop's throughput (as bench/monitor-loop.ts: frames through the buffer, 2 zones
 *   and the alarm engine, on one core), in alternating runs with every metric defined and without
 *   (the metrics add nothing per frame: it should not differ), and the time of a scrape;
 * - the real server in a child process at 16 frames/s: its CPU time (from /proc) over 10 s
 *   without scrapes and with 10 scrapes a second over HTTP (many, to measure a scrape's CPU above
 *   the noise), the time a scrape takes, and whether every frame was still processed.
 */
import { AppConfig } from "@ircam/core/AppConfig"
import * as Core from "@ircam/core/Core"
import { LiveStream } from "@ircam/http/LiveStream"
import { Metrics, openMetricsFormat } from "@ircam/http/Metrics"
import * as MetricsLive from "@ircam/http/MetricsLive"
import { freePort } from "@ircam/test-support/Port"
import { stop } from "@ircam/test-support/Process"
import { Deferred, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as LoopFrames from "./LoopFrames.js"
import { cpuSeconds, serve, untilAnswering } from "./Server.js"

const frameCount = 50_000
const rateHz = 16
const rounds = 5

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const format = (n: number) => Math.round(n).toLocaleString("en")

/**
 * One run of the loop over `frameCount` frames: frames/s; with the metrics defined, then the
 * times of scrapes on the idle application (a scrape's own cost).
 */
const loopRun = (defined: boolean) =>
  Effect.gen(function*() {
    const go = yield* Deferred.make<void>()
    return yield* Effect.gen(function*() {
      const perSecond = frameCount / ((yield* LoopFrames.time(go, frameCount)) / 1000)
      const scrapes: Array<number> = []
      const metrics = yield* Effect.serviceOption(Metrics)
      if (Option.isSome(metrics)) {
        for (let n = 0; n < 50; n++) {
          const started = performance.now()
          yield* metrics.value.scrape(openMetricsFormat)
          scrapes.push(performance.now() - started)
        }
      }
      return { perSecond, scrapes }
    }).pipe(
      Effect.provide(
        (defined ? MetricsLive.collecting : Layer.empty).pipe(
          Layer.provideMerge(LiveStream.Default),
          Layer.provideMerge(Core.layer),
          Layer.provideMerge(LoopFrames.sensor(go, frameCount, rateHz)),
          Layer.provideMerge(AppConfig.layerWith({ databasePath: ":memory:", refreshRateHz: rateHz }))
        )
      ),
      Effect.orDie
    )
  })

const monitorLoop = Effect.gen(function*() {
  const without: Array<number> = []
  const withMetrics: Array<number> = []
  const scrapeTimes: Array<number> = []
  yield* loopRun(true) // warm-up
  for (let round = 0; round < rounds; round++) {
    without.push((yield* loopRun(false)).perSecond)
    const run = yield* loopRun(true)
    withMetrics.push(run.perSecond)
    scrapeTimes.push(...run.scrapes)
  }
  const change = (median(withMetrics) / median(without) - 1) * 100
  console.log(
    `monitor loop with and without metrics: ${format(median(without))} frames/s without (${
      without.map(format).join(", ")
    }), ` +
      `${format(median(withMetrics))} with every metric defined (${withMetrics.map(format).join(", ")}): ` +
      `${change >= 0 ? "+" : ""}${change.toFixed(1)} %`
  )
  console.log(
    `  a scrape in process (OpenMetrics, every service's metrics and the process's): median ` +
      `${median(scrapeTimes).toFixed(2)} ms over ${scrapeTimes.length}`
  )
}).pipe(Logger.withMinimumLogLevel(LogLevel.Error))

const sequence = (port: number) =>
  fetch(`http://127.0.0.1:${port}/api/v1/thermal/real-time`).then(async (r) =>
    (await r.json() as { sequence: number }).sequence
  )

const scrapesPerSecond = 10

/** The server's CPU (% of one core) over `seconds`, scraping or not; the scrapes' times; frames processed. */
const serverRun = async (pid: number, port: number, seconds: number, scrape: boolean) => {
  const times: Array<number> = []
  const before = cpuSeconds(pid)
  const first = await sequence(port)
  const started = performance.now()
  for (let tick = 0; tick < seconds * scrapesPerSecond; tick++) {
    if (scrape) {
      const t = performance.now()
      const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5" }
      })
      await response.text()
      times.push(performance.now() - t)
    }
    const next = started + (tick + 1) * 1000 / scrapesPerSecond
    await new Promise((resolve) => setTimeout(resolve, next - performance.now()))
  }
  const cpu = (cpuSeconds(pid) - before) / seconds * 100
  return { cpu, times, frames: (await sequence(port)) - first }
}

const server = async () => {
  const seconds = 10
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-"))
  const port = await freePort()
  const ircam = serve(dir, port)
  try {
    await untilAnswering(ircam, port)
    await new Promise((resolve) => setTimeout(resolve, 2000)) // settled
    const pid = ircam.child.pid!
    await serverRun(pid, port, 3, true) // warm-up: compiled code
    const without = await serverRun(pid, port, seconds, false)
    const withScrapes = await serverRun(pid, port, seconds, true)
    const perScrapeMs = (withScrapes.cpu - without.cpu) / 100 * seconds * 1000 / withScrapes.times.length
    console.log(
      `server at ${rateHz} frames/s: ${without.cpu.toFixed(1)} % of a core without scrapes, ` +
        `${withScrapes.cpu.toFixed(1)} % with ${scrapesPerSecond} scrapes a second: ${perScrapeMs.toFixed(1)} ms of ` +
        `CPU a scrape, ${(perScrapeMs / 50).toFixed(2)} % of a core at one scrape every 5 s; frames processed ` +
        `in ${seconds} s: ${without.frames} and ${withScrapes.frames} (expected ${rateHz * seconds})`
    )
    console.log(
      `  a scrape over HTTP: median ${median(withScrapes.times).toFixed(1)} ms, ` +
        `max ${Math.max(...withScrapes.times).toFixed(1)} ms`
    )
  } finally {
    await stop(ircam)
    rmSync(dir, { recursive: true, force: true })
  }
}

export const run = Effect.zipRight(monitorLoop, Effect.promise(server))
