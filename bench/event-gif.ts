/**
 * An event as an animated GIF (EventAnimation), on a database file with the production PRAGMAs:
 * - a 20 s event at 8 fps (160 frames of the simulated scene, the hot plate heating), scale 8,
 *   with the two zones and the legend drawn: the time to encode the whole GIF (both passes, the
 *   reads included; median of 5 after a warm-up) and its size. Budget: ≤ 1 s and ≤ 2 MB.
 * - the longest event there can be, 15 minutes at 16 fps (14,400 frames), streamed chunk by chunk
 *   at scale 4: the time, the size, and how much the heap grows over the stream (sampled after
 *   every chunk), which must not grow with the event.
 * `--json` prints one JSON object instead of text.
 */
import { AppConfig } from "@ircam/core/AppConfig"
import type { Event } from "@ircam/core/Event"
import * as EventAnimation from "@ircam/core/EventAnimation"
import { EventRepo } from "@ircam/core/EventRepo"
import { type Frame, PIXELS } from "@ircam/core/Frame"
import { renderScene } from "@ircam/core/SimulatedSensor"
import * as Storage from "@ircam/core/Storage"
import { Effect, Layer, Logger, LogLevel, Option, Stream } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** 2026-11-24T08:00:00Z */
const now = 1_795_507_200_000
const runs = 5
/** seconds into the simulated scene's cycle where the hot plate heats */
const heating = 22

const zones = [
  { x: 24, y: 4, width: 4, height: 3, color: "#ff4136", name: "hot plate" },
  { x: 0, y: 12, width: 10, height: 12, color: "#0074d9", name: "bench" }
]

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Stores an event of `seconds` at `rateHz` frames of the simulated scene; answers it. */
const storeEvent = (seconds: number, rateHz: number) =>
  Effect.gen(function*() {
    const repo = yield* EventRepo
    const id = yield* repo.insert({ kind: "manual", label: null, triggeredAt: now, windowEnd: now, zoneId: null })
    const count = seconds * rateHz
    for (let from = 0; from < count; from += 400) {
      const frames: Array<Frame> = []
      for (let n = from; n < Math.min(count, from + 400); n++) {
        const temperatures = new Float32Array(PIXELS)
        renderScene(1, heating * rateHz + n, rateHz, temperatures)
        const capturedAt = now + Math.round((n * 1000) / rateHz)
        frames.push({ temperatures, capturedAt, monotonicMs: capturedAt, sequence: n, ambient: 25, vdd: 3.3 })
      }
      yield* repo.transaction("bench")(repo.appendFrames(id, frames, null))
    }
    yield* repo.complete(id)
    return Option.getOrThrow(yield* repo.get(id))
  })

export interface Result {
  readonly benchmark: "event-gif"
  /** median ms to encode the 20 s, 8 fps event at scale 8 with zones and legend */
  readonly gif20sMs: number
  readonly gif20sBytes: number
  /** the 15-minute, 16 fps event at scale 4 */
  readonly longMs: number
  readonly longBytes: number
  readonly longFrames: number
  /** how far the heap rose above where it was at the first chunk, at most, MB */
  readonly longHeapGrowthMb: number
}

const collect = (event: Event, options: EventAnimation.AnimationOptions) =>
  Effect.map(EventAnimation.bytes(event, options, Infinity), Option.getOrThrow)

export const measure = Effect.gen(function*() {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-gif-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  const context = yield* Layer.build(
    Storage.layer.pipe(Layer.provide(AppConfig.layerWith({ databasePath: join(dir, "events.db") })))
  )
  const short = yield* Effect.provide(storeEvent(20, 8), context)
  const options: EventAnimation.AnimationOptions = { palette: "iron", scale: 8, zones, legend: true, speed: 1 }
  let size = 0
  const times: Array<number> = []
  for (let run = 0; run < runs + 1; run++) {
    const start = performance.now()
    size = (yield* Effect.provide(collect(short, options), context)).length
    if (run > 0) times.push(performance.now() - start)
  }

  const long = yield* Effect.provide(storeEvent(15 * 60, 16), context)
  global.gc?.()
  let first: number | undefined
  let highest = 0
  let longBytes = 0
  let longFrames = 0
  const start = performance.now()
  yield* EventAnimation.stream(long, { palette: "iron", scale: 4, speed: 1 }).pipe(
    Stream.runForEach((chunk) =>
      Effect.sync(() => {
        longBytes += chunk.length
        longFrames++
        const heap = process.memoryUsage().heapUsed
        first ??= heap
        highest = Math.max(highest, heap - first)
      })
    ),
    Effect.provide(context)
  )
  const longMs = performance.now() - start
  return {
    benchmark: "event-gif",
    gif20sMs: median(times),
    gif20sBytes: size,
    longMs,
    longBytes,
    longFrames,
    longHeapGrowthMb: highest / 1_048_576
  } satisfies Result
}).pipe(Effect.scoped, Effect.orDie, Logger.withMinimumLogLevel(LogLevel.Error))

export const run = Effect.map(measure, (result) => {
  const mb = (bytes: number) => (bytes / 1_048_576).toFixed(2)
  const ok = result.gif20sMs <= 1000 && result.gif20sBytes <= 2 * 1_048_576
  console.log(
    `event GIF: a 20 s event at 8 fps (160 frames), scale 8, zones and legend: ${result.gif20sMs.toFixed(0)} ms, ` +
      `${mb(result.gif20sBytes)} MB (median of ${runs}; budget ≤ 1 s and ≤ 2 MB; ${ok ? "ok" : "OVER BUDGET"})`
  )
  console.log(
    `event GIF, streamed: 15 min at 16 fps (14,400 frames), scale 4: ${(result.longMs / 1000).toFixed(1)} s, ` +
      `${mb(result.longBytes)} MB in ${result.longFrames} chunks; the heap rose at most ` +
      `${result.longHeapGrowthMb.toFixed(1)} MB above its level at the first chunk`
  )
})

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  Effect.runPromise(
    process.argv.includes("--json") ? Effect.map(measure, (result) => console.log(JSON.stringify(result))) : run
  ).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
