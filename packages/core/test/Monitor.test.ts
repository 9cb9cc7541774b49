import { assert, describe, it } from "@effect/vitest"
import { Clock, Context, Effect, Layer, Option, Queue, Ref, Stream, TestClock } from "effect"
import type { Frame } from "../src/Frame.js"
import { HEIGHT, PIXELS, WIDTH } from "../src/Frame.js"
import { FrameBuffer } from "../src/FrameBuffer.js"
import * as Health from "../src/Health.js"
import { Monitor, type Snapshot } from "../src/Monitor.js"
import { Sensor, type SensorDiagnostics, SensorError, type SensorInfo } from "../src/Sensor.js"
import { stats, type ZoneSpec } from "../src/Zone.js"
import { ZoneRepo } from "../src/ZoneRepo.js"

const frameAt = (sequence: number, capturedAt: number, value = (i: number) => 20 + (i % 7)): Frame => {
  const temperatures = new Float32Array(PIXELS)
  for (let i = 0; i < PIXELS; i++) temperatures[i] = value(i) + sequence
  return { temperatures, capturedAt, sequence, ambient: 25, vdd: 3.3 }
}

/** A frame captured now (by the test clock). */
const frameNow = (sequence: number) => Effect.map(Clock.currentTimeMillis, (now) => frameAt(sequence, now))

const zoneSpec = (rect: Pick<ZoneSpec, "x" | "y" | "width" | "height">): ZoneSpec => ({
  id: undefined,
  name: undefined,
  color: undefined,
  ...rect
})

const timeout = (n: number) => new SensorError({ reason: "Timeout", message: `timeout ${n}` })

/** Builds the monitor on the test sensor `frames` in the test's scope and returns the services around it. */
const setup = (
  frames: Stream.Stream<Frame, SensorError>,
  options: {
    readonly info?: Partial<SensorInfo>
    readonly capacity?: number
    readonly diagnostics?: Effect.Effect<SensorDiagnostics>
  } = {}
) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      Monitor.Default.pipe(
        Layer.provideMerge(Layer.mergeAll(
          Sensor.layerTest(frames, options.info ?? {}, options.diagnostics),
          FrameBuffer.layerTest(options.capacity ?? 32),
          ZoneRepo.layerTest({ maxZones: 4 }),
          Health.Health.layer
        ))
      )
    )
    const health = Context.get(context, Health.Health)
    const check = (name: string) =>
      Effect.map(health.report, (report) => {
        const result = report.checks[name]
        return result === undefined ? assert.fail(`no ${name} check`) : result
      })
    return {
      monitor: Context.get(context, Monitor),
      buffer: Context.get(context, FrameBuffer),
      zones: Context.get(context, ZoneRepo),
      health,
      check
    }
  })

/** Waits (without time passing) until the monitor has processed the frame `sequence`. */
const awaitSequence = (monitor: Monitor, sequence: number) =>
  monitor.changes.pipe(
    Stream.filterMap((snapshot) => Option.filter(snapshot, (s: Snapshot) => s.frame.sequence === sequence)),
    Stream.runHead,
    Effect.map(Option.getOrThrow)
  )

describe("Monitor", () => {
  it.scoped("pushes every frame into the buffer and the latest snapshot, with stats for each zone", () =>
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Frame>()
      const { buffer, check, monitor, zones } = yield* setup(Stream.fromQueue(queue))
      assert.isTrue(Option.isNone(yield* monitor.latest))

      const a = yield* zones.create(zoneSpec({ x: 0, y: 0, width: 4, height: 2 }))
      const b = yield* zones.create(zoneSpec({ x: 10, y: 20, width: 22, height: 4 }))
      const first = frameAt(0, 1000)
      yield* Queue.offer(queue, first)
      const snapshot = yield* awaitSequence(monitor, 0)
      assert.strictEqual(snapshot.frame, first)
      assert.deepStrictEqual(snapshot.zones, [
        { zoneId: a.id, ...stats(first, a) },
        { zoneId: b.id, ...stats(first, b) }
      ])
      // the stats are those of the zone's pixels, not of the whole frame
      assert.strictEqual(snapshot.zones[0]?.min, 20)
      assert.strictEqual(snapshot.zones[0]?.max, 26)

      yield* Queue.offerAll(queue, [frameAt(1, 1125), frameAt(2, 1250)])
      const third = yield* awaitSequence(monitor, 2)
      assert.deepStrictEqual(Option.getOrThrow(yield* monitor.latest), third)
      assert.strictEqual(yield* buffer.size, 3)
      assert.deepStrictEqual((yield* buffer.snapshot(0)).map((f) => f.sequence), [0, 1, 2])
      assert.strictEqual(third.zones[0]?.min, 22)

      // zones follow the repository: a removed zone has no stats on the next frame
      yield* zones.remove(a.id)
      yield* Queue.offer(queue, frameAt(3, 1375))
      const fourth = yield* awaitSequence(monitor, 3)
      assert.deepStrictEqual(fourth.zones.map((z) => z.zoneId), [b.id])

      assert.deepStrictEqual(yield* check("monitor"), {
        status: "ok",
        details: { framesProcessed: 4, zones: 1, lastSequence: 3 }
      })
    }))

  it.scoped("reports an empty monitor and a sensor without frames", () =>
    Effect.gen(function*() {
      const { check } = yield* setup(Stream.never, { info: { note: "picked for the test", serial: "S1" } })
      assert.deepStrictEqual(yield* check("monitor"), {
        status: "ok",
        details: { framesProcessed: 0, zones: 0, lastSequence: null }
      })
      assert.deepStrictEqual(yield* check("sensor"), {
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
    }))

  it.scoped("a sensor without frames becomes degraded after 2 s and down after 10 s", () =>
    Effect.gen(function*() {
      const { check, health } = yield* setup(Stream.never)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* check("sensor")).status, "ok")
      yield* TestClock.adjust("1 millis")
      const degraded = yield* check("sensor")
      assert.strictEqual(degraded.status, "degraded")
      assert.strictEqual(degraded.message, "no frame from the sensor in 2 s")
      yield* TestClock.adjust("8 seconds")
      assert.strictEqual((yield* check("sensor")).status, "down")
      assert.strictEqual((yield* health.report).status, "down")
    }))

  it.scoped("a stale sensor is degraded, then down; a new frame makes it ok again", () =>
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Frame>()
      const { check, health, monitor } = yield* setup(Stream.fromQueue(queue))
      yield* TestClock.adjust("5 seconds")
      yield* Queue.offer(queue, yield* frameNow(0))
      yield* awaitSequence(monitor, 0)
      const fresh = yield* check("sensor")
      assert.strictEqual(fresh.status, "ok")
      assert.strictEqual(fresh.details["lastFrameAgeMs"], 0)

      // at 8 Hz the limits are max(3 periods, 2 s) = 2 s and max(10 periods, 10 s) = 10 s
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* check("sensor")).status, "ok")
      yield* TestClock.adjust("1 millis")
      const stale = yield* check("sensor")
      assert.strictEqual(stale.status, "degraded")
      assert.strictEqual(stale.message, "last frame 2 s ago")
      assert.strictEqual(stale.details["lastFrameAgeMs"], 2001)
      assert.strictEqual((yield* health.report).status, "degraded")

      yield* TestClock.adjust("7999 millis")
      assert.strictEqual((yield* check("sensor")).status, "degraded")
      yield* TestClock.adjust("1 millis")
      const dead = yield* check("sensor")
      assert.strictEqual(dead.status, "down")
      assert.strictEqual(dead.message, "last frame 10 s ago")
      assert.strictEqual((yield* health.report).status, "down")

      yield* Queue.offer(queue, yield* frameNow(1))
      yield* awaitSequence(monitor, 1)
      const recovered = yield* check("sensor")
      assert.strictEqual(recovered.status, "ok")
      assert.isUndefined(recovered.message)
    }))

  it.scoped("shows the driver's own counters and last error, and names that error when frames stop", () =>
    Effect.gen(function*() {
      const diagnostics = yield* Ref.make<SensorDiagnostics>({ lastError: null, counters: { retries: 0 } })
      const { check } = yield* setup(Stream.never, { diagnostics: Ref.get(diagnostics) })
      assert.deepStrictEqual((yield* check("sensor")).details["driver"], { retries: 0, lastError: null })

      yield* Ref.set(diagnostics, {
        lastError: { at: 1500, message: "I²C read failed: EIO" },
        counters: { retries: 3 }
      })
      yield* TestClock.adjust("3 seconds")
      const degraded = yield* check("sensor")
      assert.deepStrictEqual(degraded.details["driver"], {
        retries: 3,
        lastError: { at: "1970-01-01T00:00:01.500Z", message: "I²C read failed: EIO" }
      })
      assert.strictEqual(
        degraded.message,
        "no frame from the sensor in 3 s; the driver last reported: I²C read failed: EIO"
      )
    }))

  it.scoped("a slow sensor's limits are measured in refresh periods", () =>
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Frame>()
      // at 0.5 Hz a period is 2 s: degraded after 3 periods (6 s), down after 10 periods (20 s)
      const { check, monitor } = yield* setup(Stream.fromQueue(queue), { info: { refreshRateHz: 0.5 } })
      yield* Queue.offer(queue, yield* frameNow(0))
      yield* awaitSequence(monitor, 0)
      yield* TestClock.adjust("6 seconds")
      assert.strictEqual((yield* check("sensor")).status, "ok")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* check("sensor")).status, "degraded")
      yield* TestClock.adjust("13999 millis")
      assert.strictEqual((yield* check("sensor")).status, "degraded")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual((yield* check("sensor")).status, "down")
    }))

  it.scoped("measures the achieved frame rate over the last frames", () =>
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Frame>()
      const { check, monitor } = yield* setup(Stream.fromQueue(queue))
      const rate = () => Effect.map(check("sensor"), (c) => c.details["frameRate"])
      yield* Queue.offer(queue, frameAt(0, 0))
      yield* awaitSequence(monitor, 0)
      assert.isNull(yield* rate(), "one frame has no rate")
      yield* Queue.offer(queue, frameAt(1, 0))
      yield* awaitSequence(monitor, 1)
      assert.isNull(yield* rate(), "frames captured at the same instant have no rate")
      // 4 Hz for a while, then 8 Hz: only the last 16 frames count
      let at = 0
      for (let i = 2; i < 20; i++) yield* Queue.offer(queue, frameAt(i, at += 250))
      yield* awaitSequence(monitor, 19)
      assert.strictEqual(yield* rate(), 4)
      for (let i = 20; i < 40; i++) yield* Queue.offer(queue, frameAt(i, at += 125))
      yield* awaitSequence(monitor, 39)
      assert.strictEqual(yield* rate(), 8)
      yield* Queue.offer(queue, frameAt(40, at += 250))
      yield* awaitSequence(monitor, 40)
      // 15 intervals: 14 × 125 ms + 250 ms = 2 s
      assert.strictEqual(yield* rate(), 7.5)
    }))

  it.scoped("retries a failing sensor stream with backoff and shows the errors in the sensor check", () =>
    Effect.gen(function*() {
      let attempts = 0
      const frames = Stream.suspend(() => {
        attempts++
        return attempts <= 3
          ? Stream.fail(timeout(attempts))
          : Stream.concat(Stream.fromEffect(frameNow(attempts)), Stream.never)
      })
      const { check, monitor } = yield* setup(frames)
      yield* TestClock.adjust(0)
      assert.strictEqual(attempts, 1)
      const afterFirst = yield* check("sensor")
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
      const afterThird = yield* check("sensor")
      assert.strictEqual(afterThird.details["errors"], 3)
      assert.strictEqual((afterThird.details["lastError"] as { message: string }).message, "timeout 3")
      // then about 2 s later the sensor answers
      yield* TestClock.adjust("2400 millis")
      assert.strictEqual(attempts, 4)
      const snapshot = yield* awaitSequence(monitor, 4)
      assert.isAtLeast(snapshot.frame.capturedAt, 2800)
      const recovered = yield* check("sensor")
      assert.strictEqual(recovered.status, "ok")
      assert.strictEqual(recovered.details["errors"], 3, "errors are counted for ever")
    }))

  it.scoped("the backoff starts again from 0.5 s once frames flow again", () =>
    Effect.gen(function*() {
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
      yield* setup(frames)
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
    }))

  it.scoped("a sensor stream that ends is restarted after 1 s", () =>
    Effect.gen(function*() {
      let runs = 0
      const frames = Stream.suspend(() => {
        runs++
        return Stream.fromEffect(frameNow(runs))
      })
      const { buffer, check, monitor } = yield* setup(frames)
      yield* TestClock.adjust(0)
      yield* awaitSequence(monitor, 1)
      assert.strictEqual(runs, 1)
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(runs, 1)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(runs, 2)
      yield* awaitSequence(monitor, 2)
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual(runs, 5)
      yield* awaitSequence(monitor, 5)
      assert.strictEqual(yield* buffer.size, 5)
      assert.strictEqual((yield* check("sensor")).details["errors"], 0)
    }))

  it.scoped("a defect in the sensor stream restarts the loop instead of stopping it", () =>
    Effect.gen(function*() {
      let runs = 0
      const frames = Stream.suspend(() => {
        runs++
        return runs === 1
          ? Stream.dieMessage("driver bug")
          : Stream.concat(Stream.fromEffect(frameNow(runs)), Stream.never)
      })
      const { check, monitor } = yield* setup(frames)
      yield* TestClock.adjust(0)
      assert.strictEqual(runs, 1)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(runs, 2)
      const snapshot = yield* awaitSequence(monitor, 2)
      assert.strictEqual(snapshot.frame.sequence, 2)
      // a defect is not a sensor error
      assert.strictEqual((yield* check("sensor")).details["errors"], 0)
    }))

  it.scoped("zone statistics use the zone's rectangle on the real frame layout", () =>
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Frame>()
      const { monitor, zones } = yield* setup(Stream.fromQueue(queue))
      // bottom-right pixel only
      const corner = yield* zones.create(zoneSpec({ x: WIDTH - 1, y: HEIGHT - 1, width: 1, height: 1 }))
      yield* Queue.offer(queue, frameAt(0, 0, (i) => i))
      const snapshot = yield* awaitSequence(monitor, 0)
      assert.deepStrictEqual(snapshot.zones, [{
        zoneId: corner.id,
        average: PIXELS - 1,
        min: PIXELS - 1,
        max: PIXELS - 1
      }])
    }))
})
