import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, TestClock } from "effect"
import { ClockWatch, stepShownFor, stepThreshold } from "../src/ClockWatch.js"
import { withSteppedClock } from "./support/SteppedClock.js"
import * as TestLogs from "./support/TestLogs.js"

const start = Date.UTC(2026, 2, 1, 12, 0, 0)
const day = 86_400_000

/** A test on the ClockWatch, its logs kept, with the wall clock at `start` and movable by `clock.step`. */
const watched = <A, E>(
  test: (
    clock: { readonly step: (ms: number) => Effect.Effect<void> },
    logs: ReadonlyArray<TestLogs.LogEntry>
  ) => Effect.Effect<A, E, ClockWatch>
) =>
  TestLogs.capture((logs) =>
    Effect.zipRight(
      TestClock.setTime(start),
      withSteppedClock((clock) => Effect.provide(test(clock, logs), ClockWatch.Default))
    )
  )

const warnings = (logs: ReadonlyArray<TestLogs.LogEntry>) => logs.filter((entry) => entry.level === "WARN")

describe("ClockWatch", () => {
  it.effect("is ok while the clocks agree", () =>
    watched((_, logs) =>
      Effect.gen(function*() {
        const watch = yield* ClockWatch
        yield* TestClock.adjust("2 minutes")
        assert.deepStrictEqual(yield* watch.health, { status: "ok", details: { steps: 0, lastStep: null } })
        assert.deepStrictEqual(yield* watch.steps, { count: 0, last: undefined })
        assert.deepStrictEqual(warnings(logs), [])
      })
    ))

  const steps = [
    ["forward by seconds", 5_000, "forward", "5 s", "5 s"],
    ["back by seconds", -5_000, "back", "5 s", "5 s"],
    ["forward by months", 92 * day, "forward", "92d", "92d"],
    ["back by months", -92 * day, "back", "92d", "92d"]
  ] as const
  for (const [name, stepMs, direction, logged, shown] of steps) {
    it.effect(`notices a step ${name} within a second, logs a warning and is degraded`, () =>
      watched((clock, logs) =>
        Effect.gen(function*() {
          const watch = yield* ClockWatch
          yield* TestClock.adjust("30 seconds")
          yield* clock.step(stepMs)
          yield* TestClock.adjust("1 second")
          // the watch's own loop saw it, not only a health check
          const { count, last } = yield* watch.steps
          assert.strictEqual(count, 1)
          assert.deepStrictEqual(last, { at: start + 31_000 + stepMs, atMonotonic: start + 31_000, byMs: stepMs })
          const warned = warnings(logs)
          assert.strictEqual(warned.length, 1)
          assert.include(warned[0]!.message, `the system clock was stepped ${direction} by ${logged};`)
          assert.include(warned[0]!.message, "durations are measured on the monotonic clock")
          assert.strictEqual(warned[0]!.annotations["service"], "ClockWatch")

          const at = new Date(start + 31_000 + stepMs).toISOString()
          assert.deepStrictEqual(yield* watch.health, {
            status: "degraded",
            message: `the system clock was stepped ${direction} by ${shown} at ${at}`,
            details: { steps: 1, lastStep: { at, seconds: stepMs / 1000 } }
          })
          // one step, one warning
          yield* TestClock.adjust("10 seconds")
          assert.strictEqual(warnings(logs).length, 1)
        })
      ))
  }

  it.effect("shows a step for 10 minutes from the moment it was noticed, then is ok again", () =>
    watched((clock) =>
      Effect.gen(function*() {
        const watch = yield* ClockWatch
        yield* TestClock.adjust("30 seconds")
        yield* clock.step(-60_000)
        yield* TestClock.adjust("1 second")
        const lastStep = { at: new Date(start + 31_000 - 60_000).toISOString(), seconds: -60 }
        yield* TestClock.adjust(Duration.subtract(stepShownFor, "1 millis"))
        assert.deepStrictEqual(yield* watch.health, {
          status: "degraded",
          message: `the system clock was stepped back by 60 s at ${lastStep.at}`,
          details: { steps: 1, lastStep }
        })
        yield* TestClock.adjust("1 millis")
        assert.deepStrictEqual(yield* watch.health, { status: "ok", details: { steps: 1, lastStep } })
      })
    ))

  it.effect("a health check between two comparisons notices the step too, once", () =>
    watched((clock, logs) =>
      Effect.gen(function*() {
        const watch = yield* ClockWatch
        yield* TestClock.adjust("500 millis")
        yield* clock.step(-60_000)
        assert.strictEqual((yield* watch.health).status, "degraded")
        yield* TestClock.adjust("10 seconds")
        assert.strictEqual((yield* watch.steps).count, 1)
        assert.strictEqual(warnings(logs).length, 1)
      })
    ))

  it.effect("counts every step and shows the last one", () =>
    watched((clock) =>
      Effect.gen(function*() {
        const watch = yield* ClockWatch
        yield* clock.step(-60_000)
        yield* TestClock.adjust("1 second")
        yield* clock.step(3_600_000)
        yield* TestClock.adjust("1 second")
        const health = yield* watch.health
        assert.strictEqual(health.status, "degraded")
        assert.deepStrictEqual(health.details, {
          steps: 2,
          lastStep: { at: new Date(start + 2_000 - 60_000 + 3_600_000).toISOString(), seconds: 3600 }
        })
      })
    ))

  it.effect("slow drift below the threshold is not a step", () =>
    watched((clock, logs) =>
      Effect.gen(function*() {
        const watch = yield* ClockWatch
        // just under the threshold every second, a minute long: the clocks end up 59.94 s apart
        const drift = Duration.toMillis(stepThreshold) - 1
        for (let i = 0; i < 60; i++) {
          yield* clock.step(drift)
          yield* TestClock.adjust("1 second")
        }
        assert.strictEqual(yield* Clock.currentTimeMillis, start + 60_000 + 60 * drift)
        assert.deepStrictEqual(yield* watch.health, { status: "ok", details: { steps: 0, lastStep: null } })
        assert.deepStrictEqual(warnings(logs), [])
      })
    ))

  it.effect("a step of exactly the threshold is a step", () =>
    watched((clock) =>
      Effect.gen(function*() {
        const watch = yield* ClockWatch
        yield* clock.step(-Duration.toMillis(stepThreshold))
        yield* TestClock.adjust("1 second")
        assert.strictEqual((yield* watch.steps).count, 1)
      })
    ))

  describe("retentionNow", () => {
    it.effect("is the wall clock while the clocks agree", () =>
      watched(() =>
        Effect.gen(function*() {
          const watch = yield* ClockWatch
          yield* TestClock.adjust("2 minutes")
          assert.strictEqual(yield* watch.retentionNow, start + 120_000)
        })
      ))

    it.effect("never runs ahead of the start plus the monotonic time elapsed", () =>
      watched((clock) =>
        Effect.gen(function*() {
          const watch = yield* ClockWatch
          yield* TestClock.adjust("1 minute")
          yield* clock.step(400 * day)
          assert.strictEqual(yield* watch.retentionNow, start + 60_000)
          yield* TestClock.adjust("1 minute")
          assert.strictEqual(yield* watch.retentionNow, start + 120_000)
          // drift forward is not counted either
          yield* clock.step(-400 * day + 500)
          assert.strictEqual(yield* watch.retentionNow, start + 120_000)
        })
      ))

    it.effect("follows a wall clock stepped back", () =>
      watched((clock) =>
        Effect.gen(function*() {
          const watch = yield* ClockWatch
          yield* TestClock.adjust("1 minute")
          yield* clock.step(-92 * day)
          assert.strictEqual(yield* watch.retentionNow, start + 60_000 - 92 * day)
          yield* TestClock.adjust("1 minute")
          assert.strictEqual(yield* watch.retentionNow, start + 120_000 - 92 * day)
          // stepped forward again to the right time
          yield* clock.step(92 * day)
          assert.strictEqual(yield* watch.retentionNow, start + 120_000)
        })
      ))
  })
})
