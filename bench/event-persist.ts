/**
 * Event persistence on a database file (WAL, the production PRAGMAs), on one core:
 * - a 20 s event at 16 fps: `trigger` with 320 frames in the buffer and PRE_EVENT_SECONDS=20
 *   stores the event and its 320 frames in one transaction; median over 25 runs (after 3 warm-up
 *   runs). Budget: < 100 ms.
 * - sustained recording: frames per second the store writes when fed continuously, timing `flush`
 *   over batches of 8 frames (what half a second brings at 16 fps) and of 64.
 * The clock is the TestClock, frozen: the store's own writer fiber never wakes up, so every frame
 * is written by a timed call. `--json` prints one JSON object instead of text.
 */
import { AppConfig } from "@ircam/core/AppConfig"
import { ClockWatch } from "@ircam/core/ClockWatch"
import { EventStore } from "@ircam/core/EventStore"
import { type Frame, PIXELS } from "@ircam/core/Frame"
import { FrameBuffer } from "@ircam/core/FrameBuffer"
import { renderScene } from "@ircam/core/SimulatedSensor"
import * as Storage from "@ircam/core/Storage"
import { Effect, Layer, Logger, LogLevel, TestClock, TestContext } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const rateHz = 16
const preEventSeconds = 20
const eventFrames = preEventSeconds * rateHz // 320
const runs = 25
const warmUp = 3
/** A fixed "now" (2026-11-24T08:00:00Z): frame times are real-looking epoch ms. */
const now = 1_795_507_200_000

// scene frames, rendered once: the benchmark measures storing them, not drawing them
const scene: ReadonlyArray<Float32Array> = Array.from({ length: 64 }, (_, n) => {
  const temperatures = new Float32Array(PIXELS)
  renderScene(1, n, rateHz, temperatures)
  return temperatures
})

// the TestClock is frozen: both clocks read the same
const frameAt = (sequence: number, capturedAt: number): Frame => ({
  temperatures: scene[sequence % scene.length]!,
  capturedAt,
  monotonicMs: capturedAt,
  sequence,
  ambient: 25,
  vdd: 3.3
})

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

export interface Result {
  readonly benchmark: "event-persist"
  /** median ms of `trigger` storing a 320-frame event */
  readonly event320Ms: number
  /** frames per second written by `flush` in batches of 8 frames */
  readonly framesPerSecond: number
  /** the same in batches of 64 frames */
  readonly framesPerSecondBatch64: number
}

export const measure = Effect.gen(function*() {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-events-"))
  yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
  yield* TestClock.setTime(now)
  const context = yield* Layer.build(
    EventStore.Default.pipe(
      Layer.provideMerge(Layer.mergeAll(Storage.layer, FrameBuffer.Default, ClockWatch.Default)),
      Layer.provide(AppConfig.layerWith({
        databasePath: join(dir, "events.db"),
        refreshRateHz: rateHz,
        frameBufferSeconds: 30,
        preEventSeconds,
        postEventSeconds: 600
      }))
    )
  )
  const store = yield* Effect.provide(EventStore, context)
  const buffer = yield* Effect.provide(FrameBuffer, context)

  // (a) the 320 frames of the last 20 s, the newest captured now
  const period = 1000 / rateHz
  for (let i = 0; i < eventFrames; i++) {
    yield* buffer.push(frameAt(i, now - Math.round((eventFrames - 1 - i) * period)))
  }
  const times: Array<number> = []
  for (let run = 0; run < warmUp + runs; run++) {
    const start = performance.now()
    const event = yield* store.trigger({ kind: "manual" })
    const elapsed = performance.now() - start
    if (event.frameCount !== eventFrames) throw new Error(`stored ${event.frameCount} frames, not ${eventFrames}`)
    if (run >= warmUp) times.push(elapsed)
    // ends the recording, so that the next trigger starts a new event (not timed)
    yield* store.remove(event.id)
  }

  // (b) one long recording, fed batch after batch; only `flush` is timed
  let sequence = eventFrames
  const sustained = (batch: number, batches: number) =>
    Effect.gen(function*() {
      const event = yield* store.trigger({ kind: "manual" })
      let elapsed = 0
      for (let b = 0; b < batches; b++) {
        for (let i = 0; i < batch; i++) {
          // after the trigger, inside the 600 s window
          yield* buffer.push(frameAt(sequence, now + 1 + Math.round((sequence - eventFrames) * period)))
          sequence++
        }
        const start = performance.now()
        yield* store.flush
        elapsed += performance.now() - start
      }
      const stored = (yield* store.get(event.id)).frameCount - eventFrames
      if (stored !== batch * batches) throw new Error(`flush stored ${stored} frames, not ${batch * batches}`)
      yield* store.remove(event.id)
      return stored / (elapsed / 1000)
    })
  const framesPerSecond = yield* sustained(8, 300)
  const framesPerSecondBatch64 = yield* sustained(64, 40)

  return {
    benchmark: "event-persist",
    event320Ms: median(times),
    framesPerSecond,
    framesPerSecondBatch64
  } satisfies Result
}).pipe(
  Effect.scoped,
  Effect.provide(TestContext.TestContext),
  Effect.orDie,
  Logger.withMinimumLogLevel(LogLevel.Error)
)

export const run = Effect.map(measure, ({ event320Ms, framesPerSecond, framesPerSecondBatch64 }) => {
  const fps = (value: number) => Math.round(value).toLocaleString("en")
  console.log(
    `event persistence: a 20 s event at 16 fps (320 frames) in one transaction: ${event320Ms.toFixed(1)} ms ` +
      `(median of ${runs}; budget < 100 ms; ${event320Ms < 100 ? "ok" : "OVER BUDGET"})`
  )
  console.log(
    `event recording: ${fps(framesPerSecond)} frames/s in batches of 8, ${fps(framesPerSecondBatch64)} frames/s ` +
      `in batches of 64 (recording at 16 fps needs 16)`
  )
})

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  Effect.runPromise(
    process.argv.includes("--json")
      ? Effect.map(
        measure,
        ({ event320Ms, framesPerSecond }) =>
          console.log(JSON.stringify({ benchmark: "event-persist", event320Ms, framesPerSecond }))
      )
      : run
  ).catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
