/**
 * ClockWatch: notices when the wall clock is stepped (NTP at boot or after an outage, a person
 * with `date -s`), by comparing how far it moved with how far the monotonic clock moved. A step
 * is logged as a warning and shown in the `clock` health check for `stepShownFor`.
 *
 * It also gives the "now" that ages of stored records are measured against (retention): the wall
 * clock, but never ahead of the wall time at start-up plus the monotonic time elapsed since. A
 * clock stepped forward by months therefore deletes nothing early; one stepped back only delays
 * deletions.
 */
import { Clock, Duration, Effect, Schedule } from "effect"
import type { CheckResult } from "./Health.js"
import { iso, monotonicMs } from "./Time.js"

/** How often the two clocks are compared. */
export const checkInterval = Duration.seconds(1)
/** A difference of at least this between the two clocks' progress is a step (NTP slews far less). */
export const stepThreshold = Duration.seconds(1)
/** How long a step keeps the `clock` check degraded. */
export const stepShownFor = Duration.minutes(10)

/** "back by 60 s", "forward by 92d": seconds to the tenth under two minutes, whole units above. */
export const describeStep = (ms: number): string => {
  const size = Math.abs(ms)
  const amount = size < 120_000
    ? `${Math.round(size / 100) / 10} s`
    : Duration.format(Duration.seconds(Math.round(size / 1000)))
  return `${ms > 0 ? "forward" : "back"} by ${amount}`
}

export interface ClockStep {
  /** wall-clock time just after the step (epoch ms) */
  readonly at: number
  /** monotonic time of the step */
  readonly atMonotonic: number
  /** how far the wall clock jumped: positive forward, negative back */
  readonly byMs: number
}

export class ClockWatch extends Effect.Service<ClockWatch>()("@ircam/core/ClockWatch", {
  scoped: Effect.gen(function*() {
    const wallAtStart = yield* Clock.currentTimeMillis
    const monotonicAtStart = yield* monotonicMs
    // wall − (wall at start + monotonic elapsed) at the last comparison
    let offset = 0
    let steps = 0
    let lastStep: ClockStep | undefined

    const compare = Effect.gen(function*() {
      const wall = yield* Clock.currentTimeMillis
      const monotonic = yield* monotonicMs
      const current = wall - (wallAtStart + (monotonic - monotonicAtStart))
      const jump = current - offset
      offset = current
      if (Math.abs(jump) < Duration.toMillis(stepThreshold)) return
      steps++
      lastStep = { at: wall, atMonotonic: monotonic, byMs: Math.round(jump) }
      yield* Effect.logWarning(
        `the system clock was stepped ${describeStep(jump)}; ` +
          "durations are measured on the monotonic clock and are not affected, but timestamps on either side of " +
          `the step are ${jump > 0 ? "further apart than the time that passed" : "out of order"}`
      )
    })
    yield* compare.pipe(
      Effect.repeat(Schedule.spaced(checkInterval)),
      Effect.annotateLogs({ service: "ClockWatch" }),
      Effect.forkScoped
    )

    const health: Effect.Effect<CheckResult> = Effect.gen(function*() {
      yield* compare
      const monotonic = yield* monotonicMs
      const shown = lastStep !== undefined && monotonic - lastStep.atMonotonic < Duration.toMillis(stepShownFor)
        ? lastStep
        : undefined
      return {
        status: shown === undefined ? "ok" : "degraded",
        ...(shown === undefined
          ? {}
          : { message: `the system clock was stepped ${describeStep(shown.byMs)} at ${iso(shown.at)}` }),
        details: {
          steps,
          lastStep: lastStep === undefined
            ? null
            : { at: iso(lastStep.at), seconds: Math.round(lastStep.byMs / 100) / 10 }
        }
      }
    })

    return {
      /** The wall clock for ages of stored records: never ahead of start-up time + monotonic time elapsed. */
      retentionNow: Effect.gen(function*() {
        const wall = yield* Clock.currentTimeMillis
        return Math.min(wall, wallAtStart + ((yield* monotonicMs) - monotonicAtStart))
      }),
      /** The steps seen so far. */
      steps: Effect.sync(() => ({ count: steps, last: lastStep })),
      health
    } as const
  })
}) {}
