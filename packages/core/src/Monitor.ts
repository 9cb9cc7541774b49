/**
 * Monitor: the loop at the heart of ircam, run as a scoped fiber.
 *
 *   Sensor.frames ─► FrameBuffer.push ─► zone statistics ─► latest snapshot (SubscriptionRef)
 *
 * The loop never ends on its own: a failing sensor stream is retried with a capped,
 * jittered exponential backoff that resets once frames flow again, and every failure is
 * logged, counted and shown in the `sensor` health check.
 */
import { Cause, Clock, Duration, Effect, Option, Schedule, Stream, SubscriptionRef } from "effect"
import type { Frame } from "./Frame.js"
import { FrameBuffer } from "./FrameBuffer.js"
import * as Health from "./Health.js"
import { Sensor, type SensorError } from "./Sensor.js"
import { type Stats, stats, type ZoneId } from "./Zone.js"
import { ZoneRepo } from "./ZoneRepo.js"

export interface ZoneStats extends Stats {
  readonly zoneId: ZoneId
}

/** The latest frame and the statistics of every zone on it. */
export interface Snapshot {
  readonly frame: Frame
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

export class Monitor extends Effect.Service<Monitor>()("@ircam/core/Monitor", {
  scoped: Effect.gen(function*() {
    const sensor = yield* Sensor
    const buffer = yield* FrameBuffer
    const zones = yield* ZoneRepo
    const latest = yield* SubscriptionRef.make(Option.none<Snapshot>())
    const startedAt = yield* Clock.currentTimeMillis

    let framesProcessed = 0
    let sensorErrors = 0
    let lastError: { readonly at: number; readonly message: string } | undefined
    // capture times of the last frames, for the achieved frame rate
    const recent = new Float64Array(rateWindow)

    const process = (frame: Frame) =>
      Effect.gen(function*() {
        yield* buffer.push(frame)
        const list = yield* zones.list
        const zoneStats = list.map((zone): ZoneStats => ({ zoneId: zone.id, ...stats(frame, zone) }))
        recent[framesProcessed % rateWindow] = frame.capturedAt
        framesProcessed++
        yield* SubscriptionRef.set(latest, Option.some({ frame, zones: zoneStats }))
      })

    const onSensorError = (error: SensorError) =>
      Effect.gen(function*() {
        sensorErrors++
        lastError = { at: yield* Clock.currentTimeMillis, message: error.message }
        yield* Effect.logWarning("sensor failed; retrying", error.message).pipe(
          Effect.annotateLogs({ reason: error.reason, errors: sensorErrors })
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

    yield* Health.register(
      "sensor",
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const snapshot = yield* SubscriptionRef.get(latest)
        const lastFrameAt = Option.match(snapshot, { onNone: () => startedAt, onSome: (s) => s.frame.capturedAt })
        const age = now - lastFrameAt
        const status: Health.Status = age > limit(deadAfter, period)
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
            message: (Option.isNone(snapshot)
              ? `no frame from the sensor in ${Math.round(age / 1000)} s`
              : `last frame ${Math.round(age / 1000)} s ago`) + driverError
          }),
          details: {
            kind: info.kind,
            model: info.model,
            serial: info.serial,
            refreshRateHz: info.refreshRateHz,
            ...(info.note === undefined ? {} : { note: info.note }),
            lastFrameAgeMs: Option.isSome(snapshot) ? age : null,
            frameRate: achievedRate(),
            errors: sensorErrors,
            lastError: lastError === undefined
              ? null
              : { at: new Date(lastError.at).toISOString(), message: lastError.message },
            ...(driver === undefined ? {} : {
              driver: {
                ...driver.counters,
                lastError: driver.lastError === null
                  ? null
                  : { at: new Date(driver.lastError.at).toISOString(), message: driver.lastError.message }
              }
            })
          }
        }
      })
    )

    yield* Health.register(
      "monitor",
      Effect.gen(function*() {
        const snapshot = yield* SubscriptionRef.get(latest)
        return {
          status: "ok",
          details: {
            framesProcessed,
            zones: Option.match(snapshot, { onNone: () => 0, onSome: (s) => s.zones.length }),
            lastSequence: Option.match(snapshot, { onNone: () => null, onSome: (s) => s.frame.sequence })
          }
        }
      })
    )

    return {
      /** the latest frame with its zone statistics; none until the first frame */
      latest: SubscriptionRef.get(latest),
      /** the latest snapshot now and after every frame */
      changes: latest.changes
    } as const
  })
}) {}
