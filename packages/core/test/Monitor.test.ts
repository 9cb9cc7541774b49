import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Ref, Stream, TestClock } from "effect"
import type { AppConfig, AppConfigShape } from "../src/AppConfig.js"
import { type Frame, HEIGHT, PIXELS, summarize, WIDTH } from "../src/Frame.js"
import { FrameBuffer } from "../src/FrameBuffer.js"
import { Health } from "../src/Health.js"
import { Monitor } from "../src/Monitor.js"
import { Sensor, type SensorDiagnostics, SensorError, type SensorInfo } from "../src/Sensor.js"
import { stats, type ZoneSpec } from "../src/Zone.js"
import { ZoneRepo } from "../src/ZoneRepo.js"
import { withSteppedClock } from "./support/SteppedClock.js"
import * as TestCore from "./support/TestCore.js"
import * as TestFrames from "./support/TestFrames.js"

/** The temperatures of frame `sequence`: a pattern of 20..26 °C, one degree warmer per frame. */
const pattern = (sequence: number) => (i: number) => 20 + (i % 7) + sequence

/** Frame `sequence`, captured at `at` ms. */
const frameAt = (sequence: number, at: number) => TestFrames.make({ sequence, at, temperatures: pattern(sequence) })

/** Frame `sequence`, captured now (by the clocks in context). */
const frameNow = (sequence: number) => TestFrames.now({ sequence, temperatures: pattern(sequence) })

const zoneSpec = (rect: Pick<ZoneSpec, "x" | "y" | "width" | "height">): ZoneSpec => ({
  id: undefined,
  name: undefined,
  color: undefined,
  ...rect
})

const timeout = (n: number) => new SensorError({ reason: "Timeout", message: `timeout ${n}` })

/** The monitor, the buffer (32 frames) and the zones on an in-memory database, on `sensor`. */
const monitorOn = <S>(
  sensor: Layer.Layer<Sensor | S, never, AppConfig>,
  overrides: Partial<AppConfigShape> = {}
) =>
  Monitor.Default.pipe(
    Layer.provideMerge(Layer.mergeAll(sensor, FrameBuffer.Default)),
    Layer.provideMerge(TestCore.storage({ maxZones: 4, frameBufferSeconds: 4, refreshRateHz: 8, ...overrides }))
  )

/** The monitor on a sensor the test feeds with `TestCore.push`. */
const fedMonitor = (info: Partial<SensorInfo> = {}) => monitorOn(TestCore.fedSensor(info))

/** The monitor on a sensor delivering `frames`. */
const streamMonitor = (
  frames: Stream.Stream<Frame, SensorError>,
  info: Partial<SensorInfo> = {},
  diagnostics?: Effect.Effect<SensorDiagnostics>
) => monitorOn(Sensor.layerTest(frames, info, diagnostics))

const sensorCheck = Effect.flatMap(Monitor, (monitor) => monitor.sensorHealth)
const monitorCheck = Effect.flatMap(Monitor, (monitor) => monitor.health)

/** Waits (without time passing) until the monitor has processed the frame `sequence`, the latest pushed. */
const awaitSequence = (sequence: number) =>
  Effect.flatMap(Monitor, (monitor) =>
    Effect.scoped(Effect.flatMap(monitor.changes, (changes) =>
      changes.pipe(
        Stream.filter((s) => s.frame.sequence === sequence),
        Stream.runHead,
        Effect.map(Option.getOrThrow)
      ))))

describe("Monitor", () => {
  it.effect("pushes every frame into the buffer and the latest snapshot, with stats for each zone", () =>
    Effect.gen(function*() {
      const monitor = yield* Monitor
      const buffer = yield* FrameBuffer
      const zones = yield* ZoneRepo
      assert.isTrue(Option.isNone(yield* monitor.latest))

      const a = yield* zones.create(zoneSpec({ x: 0, y: 0, width: 4, height: 2 }))
      const b = yield* zones.create(zoneSpec({ x: 10, y: 20, width: 22, height: 4 }))
      const first = frameAt(0, 1000)
      yield* TestCore.push(first)
      const snapshot = yield* awaitSequence(0)
      assert.strictEqual(snapshot.frame, first)
      assert.deepStrictEqual(snapshot.zones, [
        { zoneId: a.id, rect: a, ...stats(first, a) },
        { zoneId: b.id, rect: b, ...stats(first, b) }
      ])
      // the stats are those of the zone's pixels, not of the whole frame
      assert.strictEqual(snapshot.zones[0]?.min, 20)
      assert.strictEqual(snapshot.zones[0]?.max, 26)
      assert.deepStrictEqual(snapshot.summary, summarize(first.temperatures))

      yield* TestCore.push(frameAt(1, 1125), frameAt(2, 1250))
      const third = yield* awaitSequence(2)
      assert.deepStrictEqual(Option.getOrThrow(yield* monitor.latest), third)
      assert.strictEqual(yield* buffer.size, 3)
      assert.deepStrictEqual((yield* buffer.snapshot(0)).map((f) => f.sequence), [0, 1, 2])
      assert.strictEqual(third.zones[0]?.min, 22)

      // zones follow the repository: a removed zone has no stats on the next frame
      yield* zones.remove(a.id)
      yield* TestCore.push(frameAt(3, 1375))
      const fourth = yield* awaitSequence(3)
      assert.deepStrictEqual(fourth.zones.map((z) => z.zoneId), [b.id])

      assert.deepStrictEqual(yield* monitorCheck, {
        status: "ok",
        details: { framesProcessed: 4, zones: 1, lastSequence: 3 }
      })
    }).pipe(Effect.provide(fedMonitor())))

  it.effect("reports an empty monitor and a sensor without frames", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* monitorCheck, {
        status: "ok",
        details: { framesProcessed: 0, zones: 0, lastSequence: null }
      })
      assert.deepStrictEqual(yield* sensorCheck, {
        status: "ok",
        details: {
          kind: "test",
          model: "test frames",
          serial: "S1",
          refreshRateHz: 8,
          note: "picked for the test",
          lastFrameAgeMs: null,
          frameRate: null,
          errors: 0,
          lastError: null
        }
      })
    }).pipe(Effect.provide(streamMonitor(Stream.never, { note: "picked for the test", serial: "S1" }))))

  it.effect("a sensor without frames becomes degraded after 2 s and down after 10 s", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* sensorCheck).status, "ok")
      yield* TestClock.adjust("1 millis")
      const degraded = yield* sensorCheck
      assert.strictEqual(degraded.status, "degraded")
      assert.strictEqual(degraded.message, "no frame from the sensor in 2 s")
      yield* TestClock.adjust("8 seconds")
      assert.strictEqual((yield* sensorCheck).status, "down")
    }).pipe(Effect.provide(streamMonitor(Stream.never))))

  it.effect("a stale sensor is degraded, then down; a new frame makes it ok again", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("5 seconds")
      yield* TestCore.push(yield* frameNow(0))
      yield* awaitSequence(0)
      const fresh = yield* sensorCheck
      assert.strictEqual(fresh.status, "ok")
      assert.strictEqual(fresh.details["lastFrameAgeMs"], 0)

      // at 8 Hz the limits are max(3 periods, 2 s) = 2 s and max(10 periods, 10 s) = 10 s
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* sensorCheck).status, "ok")
      yield* TestClock.adjust("1 millis")
      const stale = yield* sensorCheck
      assert.strictEqual(stale.status, "degraded")
      assert.strictEqual(stale.message, "last frame 2 s ago")
      assert.strictEqual(stale.details["lastFrameAgeMs"], 2001)

      yield* TestClock.adjust("7999 millis")
      assert.strictEqual((yield* sensorCheck).status, "degraded")
      yield* TestClock.adjust("1 millis")
      const dead = yield* sensorCheck
      assert.strictEqual(dead.status, "down")
      assert.strictEqual(dead.message, "last frame 10 s ago")

      yield* TestCore.push(yield* frameNow(1))
      yield* awaitSequence(1)
      const recovered = yield* sensorCheck
      assert.strictEqual(recovered.status, "ok")
      assert.isUndefined(recovered.message)
    }).pipe(Effect.provide(fedMonitor())))

  it.effect("shows the driver's own counters and last error, and names that error when frames stop", () =>
    Effect.gen(function*() {
      const diagnostics = yield* Ref.make<SensorDiagnostics>({ lastError: null, counters: { retries: 0 } })
      yield* Effect.gen(function*() {
        assert.deepStrictEqual((yield* sensorCheck).details["driver"], { retries: 0, lastError: null })

        yield* Ref.set(diagnostics, {
          lastError: { at: 1500, message: "I²C read failed: EIO" },
          counters: { retries: 3 }
        })
        yield* TestClock.adjust("3 seconds")
        const degraded = yield* sensorCheck
        assert.deepStrictEqual(degraded.details["driver"], {
          retries: 3,
          lastError: { at: "1970-01-01T00:00:01.500Z", message: "I²C read failed: EIO" }
        })
        assert.strictEqual(
          degraded.message,
          "no frame from the sensor in 3 s; the driver last reported: I²C read failed: EIO"
        )
      }).pipe(Effect.provide(streamMonitor(Stream.never, {}, Ref.get(diagnostics))))
    }))

  it.effect("a slow sensor's limits are measured in refresh periods", () =>
    Effect.gen(function*() {
      // at 0.5 Hz a period is 2 s: degraded after 3 periods (6 s), down after 10 periods (20 s)
      yield* TestCore.push(yield* frameNow(0))
      yield* awaitSequence(0)
      yield* TestClock.adjust("6 seconds")
      assert.strictEqual((yield* sensorCheck).status, "ok")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* sensorCheck).status, "degraded")
      yield* TestClock.adjust("13999 millis")
      assert.strictEqual((yield* sensorCheck).status, "degraded")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* sensorCheck).status, "down")
    }).pipe(Effect.provide(fedMonitor({ refreshRateHz: 0.5 }))))

  it.effect("measures the achieved frame rate over the last frames", () =>
    Effect.gen(function*() {
      const rate = Effect.map(sensorCheck, (c) => c.details["frameRate"])
      yield* TestCore.push(frameAt(0, 0))
      yield* awaitSequence(0)
      assert.isNull(yield* rate, "one frame has no rate")
      yield* TestCore.push(frameAt(1, 0))
      yield* awaitSequence(1)
      assert.isNull(yield* rate, "frames captured at the same instant have no rate")
      // 4 Hz for a while, then 8 Hz: only the last 16 frames count
      let at = 0
      for (let i = 2; i < 20; i++) yield* TestCore.push(frameAt(i, at += 250))
      yield* awaitSequence(19)
      assert.strictEqual(yield* rate, 4)
      for (let i = 20; i < 40; i++) yield* TestCore.push(frameAt(i, at += 125))
      yield* awaitSequence(39)
      assert.strictEqual(yield* rate, 8)
      yield* TestCore.push(frameAt(40, at += 250))
      yield* awaitSequence(40)
      // 15 intervals: 14 × 125 ms + 250 ms = 2 s
      assert.strictEqual(yield* rate, 7.5)
    }).pipe(Effect.provide(fedMonitor())))

  it.effect("retries a failing sensor stream with backoff and shows the errors in the sensor check", () => {
    let attempts = 0
    const frames = Stream.suspend(() => {
      attempts++
      return attempts <= 3
        ? Stream.fail(timeout(attempts))
        : Stream.concat(Stream.fromEffect(frameNow(attempts)), Stream.never)
    })
    return Effect.gen(function*() {
      yield* TestClock.adjust(0)
      assert.strictEqual(attempts, 1)
      const afterFirst = yield* sensorCheck
      assert.strictEqual(afterFirst.details["errors"], 1)
      assert.deepStrictEqual(afterFirst.details["lastError"], { at: "1970-01-01T00:00:00.000Z", message: "timeout 1" })

      // the first retry comes after 0.5 s (±20 % jitter), not at once
      yield* TestClock.adjust("399 millis")
      assert.strictEqual(attempts, 1)
      yield* TestClock.adjust("201 millis")
      assert.strictEqual(attempts, 2)
      // then about 1 s later
      yield* TestClock.adjust("199 millis")
      assert.strictEqual(attempts, 2)
      yield* TestClock.adjust("1001 millis")
      assert.strictEqual(attempts, 3)
      const afterThird = yield* sensorCheck
      assert.strictEqual(afterThird.details["errors"], 3)
      assert.strictEqual((afterThird.details["lastError"] as { message: string }).message, "timeout 3")
      // then about 2 s later the sensor answers
      yield* TestClock.adjust("2400 millis")
      assert.strictEqual(attempts, 4)
      const snapshot = yield* awaitSequence(4)
      assert.isAtLeast(snapshot.frame.capturedAt, 2800)
      const recovered = yield* sensorCheck
      assert.strictEqual(recovered.status, "ok")
      assert.strictEqual(recovered.details["errors"], 3, "errors are counted for ever")
    }).pipe(Effect.provide(streamMonitor(frames)))
  })

  it.effect("the backoff starts again from 0.5 s once frames flow again", () => {
    let attempts = 0
    // fails 4 times (backoff 0.5, 1, 2, 4 s), then delivers a frame and fails again
    const frames = Stream.suspend(() => {
      attempts++
      return attempts <= 4
        ? Stream.fail(timeout(attempts))
        : attempts === 5
        ? Stream.concat(Stream.fromEffect(frameNow(attempts)), Stream.fail(timeout(attempts)))
        : Stream.never
    })
    return Effect.gen(function*() {
      // 0.5 + 1 + 2 + 4 = 7.5 s (± 20 %) until the fifth attempt
      let elapsed = 0
      while (attempts < 5 && elapsed < 10_000) {
        yield* TestClock.adjust("50 millis")
        elapsed += 50
      }
      assert.strictEqual(attempts, 5)
      assert.isAtLeast(elapsed, 6000)
      // without the reset the next delay would be about 8 s
      yield* TestClock.adjust("350 millis")
      assert.strictEqual(attempts, 5)
      yield* TestClock.adjust("250 millis")
      assert.strictEqual(attempts, 6, "retried after about 0.5 s, not 8 s")
    }).pipe(Effect.provide(streamMonitor(frames)))
  })

  it.effect("a sensor stream that ends is restarted after 1 s", () => {
    let runs = 0
    const frames = Stream.suspend(() => {
      runs++
      return Stream.fromEffect(frameNow(runs))
    })
    return Effect.gen(function*() {
      yield* TestClock.adjust(0)
      yield* awaitSequence(1)
      assert.strictEqual(runs, 1)
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(runs, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(runs, 2)
      yield* awaitSequence(2)
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual(runs, 5)
      yield* awaitSequence(5)
      assert.strictEqual(yield* (yield* FrameBuffer).size, 5)
      assert.strictEqual((yield* sensorCheck).details["errors"], 0)
    }).pipe(Effect.provide(streamMonitor(frames)))
  })

  it.effect("a defect in the sensor stream restarts the loop instead of stopping it", () => {
    let runs = 0
    const frames = Stream.suspend(() => {
      runs++
      return runs === 1
        ? Stream.dieMessage("driver bug")
        : Stream.concat(Stream.fromEffect(frameNow(runs)), Stream.never)
    })
    return Effect.gen(function*() {
      yield* TestClock.adjust(0)
      assert.strictEqual(runs, 1)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(runs, 2)
      const snapshot = yield* awaitSequence(2)
      assert.strictEqual(snapshot.frame.sequence, 2)
      // a defect is not a sensor error
      assert.strictEqual((yield* sensorCheck).details["errors"], 0)
    }).pipe(Effect.provide(streamMonitor(frames)))
  })

  it.effect("zone statistics use the zone's rectangle on the real frame layout", () =>
    Effect.gen(function*() {
      // bottom-right pixel only
      const corner = yield* (yield* ZoneRepo).create(zoneSpec({ x: WIDTH - 1, y: HEIGHT - 1, width: 1, height: 1 }))
      yield* TestCore.push(TestFrames.make({ temperatures: (i) => i }))
      const snapshot = yield* awaitSequence(0)
      assert.deepStrictEqual(snapshot.zones, [{
        zoneId: corner.id,
        rect: corner,
        average: PIXELS - 1,
        min: PIXELS - 1,
        max: PIXELS - 1
      }])
    }).pipe(Effect.provide(fedMonitor())))
})

describe("Monitor.changes", () => {
  it.scoped("starts with the latest snapshot, with its summary, then gives every new one", () =>
    Effect.gen(function*() {
      const monitor = yield* Monitor
      const empty = yield* monitor.changes
      yield* TestCore.push(frameAt(0, 0), frameAt(1, 125))
      yield* awaitSequence(1)
      const changes = yield* monitor.changes
      const seen = yield* changes.pipe(Stream.take(3), Stream.runCollect, Effect.fork)
      yield* TestCore.push(frameAt(2, 250), frameAt(3, 375))
      const snapshots = [...yield* Fiber.join(seen)]
      assert.deepStrictEqual(snapshots.map((s) => s.frame.sequence), [1, 2, 3])
      for (const snapshot of snapshots) {
        assert.deepStrictEqual(snapshot.summary, summarize(snapshot.frame.temperatures))
      }
      assert.deepStrictEqual(snapshots[0]!.summary, {
        min: 21,
        max: 27,
        mean: summarize(frameAt(1, 0).temperatures).mean
      })
      // a subscriber from before the first frame gets every frame since
      const early = yield* empty.pipe(Stream.take(4), Stream.runCollect)
      assert.deepStrictEqual([...early].map((s) => s.frame.sequence), [0, 1, 2, 3])
    }).pipe(Effect.provide(fedMonitor())))

  it.scoped("frames that carry the same time are each told once", () =>
    Effect.gen(function*() {
      const monitor = yield* Monitor
      yield* TestCore.push(frameAt(0, 500))
      yield* awaitSequence(0)
      const changes = yield* monitor.changes
      yield* TestCore.push(frameAt(1, 500), frameAt(2, 500))
      const seen = yield* changes.pipe(Stream.take(3), Stream.runCollect)
      assert.deepStrictEqual([...seen].map((s) => s.frame.sequence), [0, 1, 2])
    }).pipe(Effect.provide(fedMonitor())))

  it.scoped("a slow subscriber misses snapshots instead of holding up the loop", () =>
    Effect.gen(function*() {
      const monitor = yield* Monitor
      const changes = yield* monitor.changes
      const seen: Array<number> = []
      // takes a second over each snapshot while the sensor delivers 8 a second
      yield* changes.pipe(
        Stream.runForEach((snapshot) =>
          Effect.zipRight(Effect.sync(() => seen.push(snapshot.frame.sequence)), Effect.sleep("1 second"))
        ),
        Effect.forkScoped
      )
      for (let i = 0; i < 80; i++) {
        yield* TestCore.push(yield* frameNow(i))
        yield* TestClock.adjust("125 millis")
      }
      // the loop kept up with the sensor
      assert.deepStrictEqual((yield* monitor.health).details, { framesProcessed: 80, zones: 0, lastSequence: 79 })
      assert.strictEqual((yield* sensorCheck).details["frameRate"], 8)
      assert.isBelow(seen.length, 20)
      // it catches up, ending with the latest, having missed the snapshots its buffer could not hold
      yield* TestClock.adjust("1 minute")
      assert.isAtMost(seen.length, 80 - 16)
      assert.strictEqual(seen[seen.length - 1], 79)
      for (let i = 1; i < seen.length; i++) assert.isAbove(seen[i]!, seen[i - 1]!)
    }).pipe(Effect.provide(fedMonitor())))
})

describe("Monitor across wall-clock steps", () => {
  for (
    const [name, stepMs] of [["back 60 s", -60_000], ["forward 60 s", 60_000], [
      "forward 400 days",
      400 * 86_400_000
    ]] as const
  ) {
    it.scoped(`frame age, frame rate and uptime are right when the clock is stepped ${name}`, () =>
      withSteppedClock((clock) =>
        Effect.gen(function*() {
          const health = yield* Health
          const sensorOf = Effect.map(health.report, (report) => report.checks["sensor"]!)
          let sequence = 0
          const deliver = (seconds: number) =>
            Effect.gen(function*() {
              for (let i = 0; i < seconds * 8; i++) {
                yield* TestCore.push(yield* frameNow(sequence++))
                yield* TestClock.adjust("125 millis")
              }
            })
          yield* deliver(10)
          yield* clock.step(stepMs)
          yield* deliver(2)
          const report = yield* health.report
          assert.strictEqual(report.uptimeSeconds, 12)
          const sensor = report.checks["sensor"]!
          assert.strictEqual(sensor.status, "ok")
          assert.strictEqual(sensor.details["lastFrameAgeMs"], 125)
          assert.strictEqual(sensor.details["frameRate"], 8)

          // frames stop: the age grows with the time that passes, not with the step
          yield* TestClock.adjust("1875 millis")
          assert.strictEqual((yield* sensorOf).status, "ok")
          yield* clock.step(-stepMs)
          yield* TestClock.adjust("1 millis")
          const stale = yield* sensorOf
          assert.strictEqual(stale.status, "degraded")
          assert.strictEqual(stale.details["lastFrameAgeMs"], 2001)
          assert.strictEqual((yield* health.report).uptimeSeconds, 14)
        })
      ).pipe(Effect.provide(TestCore.fed())))
  }
})
