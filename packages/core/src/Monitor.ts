/**
 * Monitor: the loop at the heart of ircam, run as a scoped fiber.
 *
 *   Sensor.frames ─► FrameBuffer.push ─► frame and zone statistics ─► latest snapshot ─► changes
 *
 * The loop never ends on its own: a failing sensor stream is retried with a capped,
 * jittered exponential backoff that resets once frames flow again, and every failure is
 * logged, counted and shown in the `sensor` health check.
 */
import { Cause, Clock, Duration, Effect, Option, Schedule, Stream } from "effect"
import * as ChangeFeed from "./ChangeFeed.js"
import { type Frame, summarize, type Summary } from "./Frame.js"
import { FrameBuffer } from "./FrameBuffer.js"
import type { CheckResult, Status } from "./Health.js"
import { Sensor, type SensorError } from "./Sensor.js"
import { iso, monotonicMs } from "./Time.js"
import { type Rect, type Stats, stats, type ZoneId } from "./Zone.js"
import { ZoneRepo } from "./ZoneRepo.js"

export interface ZoneStats extends Stats {
  readonly zoneId: ZoneId
  /** the rectangle the statistics were computed on (the history starts a new segment when it changes) */
  readonly rect: Rect
}

/** A frame with the statistics of the whole frame and of every zone on it, computed once. */
export interface Snapshot {
  readonly frame: Frame
  readonly summary: Summary
  readonly zones: ReadonlyArray<ZoneStats>
}

/** Sensor retries: 0.5 s, 1 s, 2 s … capped at 30 s, jittered, for ever. */
export const sensorRetry = Schedule.exponential("500 millis").pipe(
  Schedule.union(Schedule.spaced("30 seconds")),
  Schedule.jittered
)

/** Frames older than this many refresh periods (and at least `minStale`) make the sensor degraded / down. */
const staleAfter = { periods: 3, min: Duration.seconds(2) }
const deadAfter = { periods: 10, min: Duration.seconds(10) }
const limit = (rule: typeof staleAfter, period: number) => Math.max(rule.periods * period, Duration.toMillis(rule.min))

const rateWindow = 16

/** The sensor's figures as the monitor sees them (`Monitor.sensorStats`), for metrics. */
export interface SensorStats {
  /** frames processed since start */
  readonly frames: number
  /** failures of the sensor's frame stream since start, by reason */
  readonly errors: Readonly<Partial<Record<SensorError["reason"], number>>>
  /** milliseconds since the last frame; since start while there has been none */
  readonly lastFrameAgeMs: number
  /** frames per second over the last frames; null until there are two */
  readonly frameRate: number | null
}

export class Monitor extends Effect.Service<Monitor>()("@ircam/core/Monitor", {
  scoped: Effect.gen(function*() {
    const sensor = yield* Sensor
    const buffer = yield* FrameBuffer
    const zones = yield* ZoneRepo
    // each snapshot with its number, so a subscriber can tell which ones it has had
    const feed = yield* ChangeFeed.make<readonly [number, Snapshot]>(16)
    let latest: Snapshot | undefined
    let published = 0
    const startedAt = yield* monotonicMs

    let framesProcessed = 0
    const errorsByReason: Partial<Record<SensorError["reason"], number>> = {}
    const sensorErrors = () => Object.values(errorsByReason).reduce((sum, n) => sum + n, 0)
    let lastError: { readonly at: number; readonly message: string } | undefined
    // monotonic capture times of the last frames, for the achieved frame rate
    const recent = new Float64Array(rateWindow)

    const process = (frame: Frame) =>
      Effect.gen(function*() {
        yield* buffer.push(frame)
        const list = yield* zones.list
        const zoneStats = list.map((zone): ZoneStats => ({ zoneId: zone.id, rect: zone, ...stats(frame, zone) }))
        recent[framesProcessed % rateWindow] = frame.monotonicMs
        framesProcessed++
        latest = { frame, summary: summarize(frame.temperatures), zones: zoneStats }
        yield* feed.publish([++published, latest])
      })

    const onSensorError = (error: SensorError) =>
      Effect.gen(function*() {
        errorsByReason[error.reason] = (errorsByReason[error.reason] ?? 0) + 1
        lastError = { at: yield* Clock.currentTimeMillis, message: error.message }
        yield* Effect.logWarning("sensor failed; retrying", error.message).pipe(
          Effect.annotateLogs({ reason: error.reason, errors: sensorErrors() })
        )
      })

    const run = sensor.frames.pipe(
      Stream.tapError(onSensorError),
      Stream.retry(sensorRetry),
      Stream.runForEach(process)
    )

    // A sensor stream that ends, or a defect, restarts the loop after a pause instead of stopping it.
    yield* run.pipe(
      Effect.zipRight(Effect.logWarning("sensor stream ended; restarting")),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause) ? Effect.interrupt : Effect.logError("monitor loop failed; restarting", cause)
      ),
      Effect.repeat(Schedule.spaced("1 second")),
      Effect.annotateLogs({ service: "Monitor" }),
      Effect.forkScoped
    )

    const period = 1000 / sensor.info.refreshRateHz
    const achievedRate = () => {
      const n = Math.min(framesProcessed, rateWindow)
      if (n < 2) return null
      const newest = recent[(framesProcessed - 1) % rateWindow]!
      const oldest = recent[(framesProcessed - n) % rateWindow]!
      return newest > oldest ? Math.round((n - 1) * 10000 / (newest - oldest)) / 10 : null
    }

    const lastFrameAge = Effect.map(monotonicMs, (now) => now - (latest?.frame.monotonicMs ?? startedAt))

    const sensorHealth: Effect.Effect<CheckResult> = Effect.gen(function*() {
      const age = yield* lastFrameAge
      const status: Status = age > limit(deadAfter, period)
        ? "down"
        : age > limit(staleAfter, period)
        ? "degraded"
        : "ok"
      const { info } = sensor
      const driver = sensor.diagnostics === undefined ? undefined : yield* sensor.diagnostics
      const driverError = driver?.lastError == null ? "" : `; the driver last reported: ${driver.lastError.message}`
      return {
        status,
        ...(status === "ok" ? {} : {
          message: (latest === undefined
            ? `no frame from the sensor in ${Math.round(age / 1000)} s`
            : `last frame ${Math.round(age / 1000)} s ago`) + driverError
        }),
        details: {
          kind: info.kind,
          model: info.model,
          serial: info.serial,
          refreshRateHz: info.refreshRateHz,
          ...(info.note === undefined ? {} : { note: info.note }),
          lastFrameAgeMs: latest === undefined ? null : Math.round(age),
          frameRate: achievedRate(),
          errors: sensorErrors(),
          lastError: lastError === undefined ? null : { at: iso(lastError.at), message: lastError.message },
          ...(driver === undefined ? {} : {
            driver: {
              ...driver.counters,
              lastError: driver.lastError === null
                ? null
                : { at: iso(driver.lastError.at), message: driver.lastError.message }
            }
          })
        }
      }
    })

    const health: Effect.Effect<CheckResult> = Effect.sync(() => ({
      status: "ok",
      details: {
        framesProcessed,
        zones: latest?.zones.length ?? 0,
        lastSequence: latest?.frame.sequence ?? null
      }
    }))

    return {
      /** the latest snapshot; none until the first frame */
      latest: Effect.sync(() => Option.fromNullable(latest)),
      /**
       * Subscribes now (for the scope): the latest snapshot, then every new one. A subscriber that
       * does not keep up misses snapshots instead of holding up the loop.
       */
      changes: Effect.map(feed.changes, (next) => {
        // the latest snapshot when subscribing; the subscription may hold it too, and later ones:
        // only newer ones pass (by number: two frames may carry the same time)
        const first = latest === undefined ? [] : [[published, latest] as const]
        return Stream.suspend(() => {
          let last = 0
          return Stream.concat(Stream.fromIterable(first), next).pipe(
            Stream.filterMap(([n, snapshot]) => {
              if (n <= last) return Option.none()
              last = n
              return Option.some(snapshot)
            })
          )
        })
      }),
      /** the `monitor` check: frames processed, zones */
      health,
      /** the `sensor` check: the age of the last frame, the achieved rate, errors, the driver's counters */
      sensorHealth,
      /** what the `sensor` check counts, as numbers */
      sensorStats: Effect.map(lastFrameAge, (age): SensorStats => ({
        frames: framesProcessed,
        errors: { ...errorsByReason },
        lastFrameAgeMs: age,
        frameRate: achievedRate()
      }))
    } as const
  })
}) {}
