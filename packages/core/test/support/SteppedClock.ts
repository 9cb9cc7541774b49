/**
 * A Clock whose wall time can be stepped while its monotonic time and its sleeps stay those of
 * the clock underneath (the TestClock in tests): what NTP does to a Raspberry Pi without a
 * battery-backed clock.
 */
import type { Clock } from "effect"
import { Effect } from "effect"

export interface SteppedClock {
  /** Moves the wall clock by `ms` milliseconds (negative: back); the monotonic clock does not move. */
  readonly step: (ms: number) => Effect.Effect<void>
}

/**
 * Runs `test` with a Clock whose wall time `step` moves: every effect in it (the layers it
 * builds, the fibers they fork) reads the stepped wall clock. The clock underneath is the one in
 * effect (`Effect.clockWith`: the TestClock in `it.effect`, which the `Clock` tag does not give);
 * everything but the wall time stays its own, so `TestClock.adjust` still works inside `test`.
 */
export const withSteppedClock = <A, E, R>(test: (clock: SteppedClock) => Effect.Effect<A, E, R>) =>
  Effect.clockWith((base) => {
    let offset = 0
    const clock: Clock.Clock = Object.create(base, {
      unsafeCurrentTimeMillis: { value: () => base.unsafeCurrentTimeMillis() + offset },
      currentTimeMillis: { value: Effect.map(base.currentTimeMillis, (ms) => ms + offset) },
      // the TestClock derives its nanos from its millis through `this`: keep them unstepped
      unsafeCurrentTimeNanos: { value: () => base.unsafeCurrentTimeNanos() },
      currentTimeNanos: { value: base.currentTimeNanos }
    })
    const step = (ms: number) =>
      Effect.sync(() => {
        offset += ms
      })
    return Effect.withClock(test({ step }), clock)
  })
