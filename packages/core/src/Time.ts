/**
 * Time: the wall clock labels frames, events and alarms; it never measures a duration. A
 * Raspberry Pi has no battery-backed clock, and NTP steps its time at boot and after network
 * outages, by seconds or by months. Windows, delays, rates, retries and ages are measured on the
 * monotonic clock instead (Effect's `Clock.currentTimeNanos`: `process.hrtime`, which no step
 * moves), or counted in frames.
 */
import { type Clock, Effect } from "effect"

/**
 * Milliseconds on the monotonic clock, to 10 µs. Only differences mean anything: the origin is
 * arbitrary (under the TestClock it is the test's time, whose nanoseconds are a float64 product,
 * a few hundred ns off: the rounding gives whole milliseconds back).
 */
export const monotonicMs: Effect.Effect<number> = Effect.clockWith((clock) => Effect.sync(() => monotonicMsOf(clock)))

/** `monotonicMs` of a given clock, read at once (for code that reads the clock synchronously). */
export const monotonicMsOf = (clock: Clock.Clock): number =>
  Math.round(Number(clock.unsafeCurrentTimeNanos() / 1000n) / 10) / 100

/** An epoch-ms wall-clock label as ISO-8601 in UTC. */
export const iso = (ms: number): string => new Date(ms).toISOString()

/** `iso`, keeping null. */
export const isoOrNull = (ms: number | null): string | null => ms === null ? null : iso(ms)
