/**
 * The MLX90640 driver on the emulated device: start-up, frames against the scene, and recovery
 * from every kind of fault, on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Frame } from "@ircam/core/Frame"
import { Sensor, type SensorError, type SensorShape } from "@ircam/core/Sensor"
import { Cause, Chunk, Duration, Effect, Exit, Fiber, Layer, Option, Stream, TestClock } from "effect"
import { readFileSync } from "node:fs"
import {
  BusError,
  CorruptFrames,
  EmulatedMlx90640,
  layer as emulated,
  type Options as EmulatorOptions,
  StuckDataReady,
  Timeout
} from "../src/EmulatedMlx90640.js"
import { I2cBus, type I2cBusShape, I2cError } from "../src/I2cBus.js"
import { CONTROL, settingsOf, STATUS, STATUS_OVERWRITE } from "../src/Mlx90640Registers.js"
import { layer, make, type Options, timingFor } from "../src/Mlx90640Sensor.js"

const example: { readonly eeprom: ReadonlyArray<number> } = JSON.parse(
  readFileSync(new URL("./fixtures/mlx90640/melexis-example.json", import.meta.url), "utf8")
)

/** A scene that is easy to check: 20 °C plus 0.05 °C per pixel index. */
const ramp = (_measurement: number, _rate: number, out: Float32Array) => {
  for (let i = 0; i < 768; i++) out[i] = 20 + i * 0.05
}
const rampAt = (i: number) => 20 + i * 0.05

/** One raw count of this sensor is at most about 0.45 °C near room temperature; the emulator picks the closest. */
const tolerance = 0.25

const driverOptions: Options = { refreshRateHz: 8, emissivity: 0.95 }

/** The driver on an emulated device; returns both. */
const setup = (options: Partial<Options> = {}, device: EmulatorOptions = { scene: ramp }) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      layer({ ...driverOptions, ...options }).pipe(Layer.provideMerge(emulated(device)))
    )
    const sensor = yield* Effect.provide(Sensor, context)
    const emulator = yield* Effect.provide(EmulatedMlx90640, context)
    const bus = yield* Effect.provide(I2cBus, context)
    return { sensor, emulator, bus }
  })

/** Takes `n` frames while moving the clock forward in steps of `step`. */
const takeFrames = (sensor: SensorShape, n: number, step: Duration.DurationInput = "50 millis") =>
  Effect.gen(function*() {
    const fiber = yield* sensor.frames.pipe(Stream.take(n), Stream.runCollect, Effect.fork)
    for (let i = 0; i < 100_000; i++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) {
        return Chunk.toReadonlyArray(
          yield* Exit.matchEffect(done.value, {
            onFailure: Effect.failCause,
            onSuccess: Effect.succeed
          })
        )
      }
      yield* TestClock.adjust(step)
    }
    return assert.fail(`fewer than ${n} frames`)
  })

const maxError = (frame: Frame) => {
  let worst = 0
  for (let i = 0; i < 768; i++) worst = Math.max(worst, Math.abs(frame.temperatures[i]! - rampAt(i)))
  return worst
}

const counters = (sensor: SensorShape) =>
  Effect.map(sensor.diagnostics ?? Effect.die("no diagnostics"), (d) => d.counters)

describe("Mlx90640Sensor", () => {
  it.scoped("starts up: configures rate, calibrated resolution and chess mode, and names the sensor", () =>
    Effect.gen(function*() {
      const { emulator, sensor } = yield* setup({ refreshRateHz: 16, note: "chosen for the test" })
      assert.deepStrictEqual(sensor.info, {
        kind: "mlx90640",
        model: "MLX90640",
        serial: example.eeprom.slice(7, 10).map((w) => w.toString(16).padStart(4, "0")).join(""),
        refreshRateHz: 16,
        note: "chosen for the test"
      })
      assert.deepStrictEqual(settingsOf(yield* emulator.control), {
        refreshRateHz: 16,
        resolutionBits: 18,
        pattern: "chess"
      })
      assert.strictEqual((yield* emulator.status) & STATUS_OVERWRITE, STATUS_OVERWRITE)
    }))

  it.scoped("delivers full frames at the refresh rate once both sub-pages are in, matching the scene", () =>
    Effect.gen(function*() {
      const { sensor } = yield* setup()
      const frames = yield* takeFrames(sensor, 4, "125 millis")
      // sub-pages complete every 125 ms from power-on; the first full frame needs two of them
      assert.deepStrictEqual(frames.map((f) => f.sequence), [0, 1, 2, 3])
      assert.deepStrictEqual(frames.map((f) => f.capturedAt), [250, 375, 500, 625])
      for (const frame of frames) {
        assert.isBelow(maxError(frame), tolerance)
        assert.closeTo(frame.ambient, 30, 15)
        assert.closeTo(frame.vdd, 3.3, 0.1)
      }
      assert.deepStrictEqual(yield* counters(sensor), {
        errors: 0,
        timeouts: 0,
        corruptFrames: 0,
        retries: 0,
        reinitialisations: 0,
        restarts: 0
      })
    }))

  it.scoped("works in interleaved mode and at another resolution", () =>
    Effect.gen(function*() {
      const { emulator, sensor } = yield* setup({ pattern: "interleaved", resolutionBits: 19, refreshRateHz: 4 })
      assert.deepStrictEqual(settingsOf(yield* emulator.control), {
        refreshRateHz: 4,
        resolutionBits: 19,
        pattern: "interleaved"
      })
      const [frame] = yield* takeFrames(sensor, 1, "250 millis")
      assert.isBelow(maxError(frame!), tolerance)
    }))

  it.scoped("the emulated kind says so in its model", () =>
    Effect.gen(function*() {
      const { sensor } = yield* setup({ kind: "emulated" })
      assert.strictEqual(sensor.info.kind, "emulated")
      assert.strictEqual(sensor.info.model, "MLX90640 (emulated)")
    }))

  it.scoped("retries bus errors and keeps delivering, counting them", () =>
    Effect.gen(function*() {
      const { emulator, sensor } = yield* setup()
      yield* takeFrames(sensor, 1)
      yield* emulator.inject(new BusError({ code: "EIO", transactions: 3 }))
      const frames = yield* takeFrames(sensor, 3)
      assert.strictEqual(frames.length, 3)
      const seen = yield* counters(sensor)
      assert.strictEqual(seen.errors, 3)
      assert.strictEqual(seen.retries, 3)
      assert.strictEqual(seen.reinitialisations, 0)
      const diagnostics = yield* sensor.diagnostics!
      assert.include(diagnostics.lastError?.message, "EIO")
      assert.include(diagnostics.lastError?.message, "bus 1, device 0x33")
    }))

  it.scoped("a transfer that never answers times out and is retried", () =>
    Effect.gen(function*() {
      const { emulator, sensor } = yield* setup()
      yield* takeFrames(sensor, 1)
      yield* emulator.inject(new Timeout({ transactions: 1 }))
      yield* takeFrames(sensor, 2)
      const diagnostics = yield* sensor.diagnostics!
      assert.strictEqual(diagnostics.counters["errors"], 1)
      assert.include(diagnostics.lastError?.message, "(ETIMEDOUT): no answer in time")
    }))

  it.scoped("rejects sub-pages with unwritten (0x7FFF) words and carries on", () =>
    Effect.gen(function*() {
      const { emulator, sensor } = yield* setup()
      yield* takeFrames(sensor, 1)
      yield* emulator.inject(new CorruptFrames({ measurements: 2 }))
      const frames = yield* takeFrames(sensor, 4)
      for (const frame of frames) assert.isBelow(maxError(frame), tolerance, "no 0x7FFF word reached a frame")
      const seen = yield* counters(sensor)
      assert.strictEqual(seen.corruptFrames, 2)
      assert.strictEqual(seen.reinitialisations, 0)
    }))

  it.scoped("a stuck data-ready bit times out, and the watchdog re-initialises the sensor", () =>
    Effect.gen(function*() {
      const { emulator, sensor } = yield* setup()
      const [before] = yield* takeFrames(sensor, 1)
      yield* emulator.inject(new StuckDataReady())
      const [after] = yield* takeFrames(sensor, 1, "100 millis")
      const gap = after!.capturedAt - before!.capturedAt
      // data-ready deadline 750 ms; re-initialised after 5 s of failures; then two fresh sub-pages
      assert.isAbove(gap, Duration.toMillis(timingFor(8).watchdog))
      assert.isBelow(gap, 8_000)
      const seen = yield* counters(sensor)
      assert.isAtLeast(seen.timeouts!, 3)
      assert.strictEqual(seen.reinitialisations, 1)
      assert.strictEqual((yield* emulator.stats).resets, 1)
      assert.isBelow(maxError(after!), tolerance)
    }))

  it.scoped("a sensor that stays unreachable is re-initialised again and again, and the stream never fails", () =>
    Effect.gen(function*() {
      const { emulator, sensor } = yield* setup()
      yield* takeFrames(sensor, 1)
      yield* emulator.inject(new BusError({ code: "ENXIO", transactions: 1_000_000 }))
      const fiber = yield* sensor.frames.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
      yield* TestClock.adjust("2 minutes")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "no frame, and no failure either")
      const seen = yield* counters(sensor)
      assert.isAtLeast(seen.reinitialisations!, 2)
      assert.include((yield* sensor.diagnostics!).lastError?.message, "ENXIO")

      yield* emulator.clearFaults
      for (let i = 0; i < 40 && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust("1 second")
      const frames = yield* Fiber.join(fiber)
      assert.isBelow(maxError(Chunk.unsafeHead(frames)), tolerance)
    }))

  it.scoped("a sensor that restarted by itself (settings lost) is configured again", () =>
    Effect.gen(function*() {
      const { bus, emulator, sensor } = yield* setup()
      yield* takeFrames(sensor, 1)
      // a general-call reset from elsewhere: the control register is back to the EEPROM's 2 Hz
      yield* bus.generalReset
      assert.strictEqual(settingsOf(yield* emulator.control).refreshRateHz, 2)
      const frames = yield* takeFrames(sensor, 2)
      assert.strictEqual(settingsOf(yield* emulator.control).refreshRateHz, 8)
      for (const frame of frames) assert.isBelow(maxError(frame), tolerance)
      assert.strictEqual((yield* counters(sensor)).reinitialisations, 0)
    }))

  it.scoped("a second consumer starts from a fresh image", () =>
    Effect.gen(function*() {
      const { sensor } = yield* setup()
      yield* takeFrames(sensor, 2)
      const frames = yield* takeFrames(sensor, 1)
      assert.isBelow(maxError(frames[0]!), tolerance)
      assert.strictEqual((yield* counters(sensor)).restarts, 1)
    }))
})

/** A bus whose EEPROM is `eeprom` and that accepts everything else (for start-up checks). */
const fakeBus = (eeprom: () => ReadonlyArray<number>, control = { value: 0x1901, sticky: false }): I2cBusShape => ({
  bus: 1,
  address: 0x33,
  read: (register, words) =>
    Effect.sync(() => {
      if (register === 0x2400) return Uint16Array.from(eeprom())
      if (register === CONTROL) return Uint16Array.of(control.value)
      return new Uint16Array(words)
    }),
  write: (register, value) =>
    Effect.sync(() => {
      if (register === CONTROL && !control.sticky) control.value = value
    }),
  generalReset: Effect.void
})

const startFailure = (bus: I2cBusShape) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(make(bus, driverOptions))
    if (Exit.isSuccess(exit)) return assert.fail("start-up should fail")
    return Option.getOrThrow(Cause.failureOption(exit.cause)) as SensorError | I2cError
  })

describe("Mlx90640Sensor start-up", () => {
  it.effect("no device at the address: the I²C error, after a few quick retries", () =>
    Effect.gen(function*() {
      let attempts = 0
      const bus: I2cBusShape = {
        ...fakeBus(() => example.eeprom),
        read: () =>
          Effect.suspend(() => {
            attempts++
            return new I2cError({ operation: "read", code: "ENXIO", message: "no acknowledgement" })
          })
      }
      const fiber = yield* Effect.fork(startFailure(bus))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "I2cError")
      assert.strictEqual((error as I2cError).code, "ENXIO")
      assert.strictEqual(attempts, 4)
    }))

  it.effect("a permission error is not retried", () =>
    Effect.gen(function*() {
      let attempts = 0
      const bus: I2cBusShape = {
        ...fakeBus(() => example.eeprom),
        read: () =>
          Effect.suspend(() => {
            attempts++
            return new I2cError({ operation: "read", code: "EACCES", message: "permission denied" })
          })
      }
      const error = yield* startFailure(bus)
      assert.strictEqual((error as I2cError).code, "EACCES")
      assert.strictEqual(attempts, 1)
    }))

  it.effect("a blank EEPROM: is it an MLX90640 at all?", () =>
    Effect.gen(function*() {
      const ones = yield* startFailure(fakeBus(() => new Array(832).fill(0xffff)))
      assert.strictEqual(ones.message, "the EEPROM reads all 0xFFFF: is the device at I2C_ADDRESS really an MLX90640?")
      const zeros = yield* startFailure(fakeBus(() => new Array(832).fill(0)))
      assert.include(zeros.message, "reads all 0x0000")
    }))

  it.effect("an EEPROM that reads differently every time points to the bus", () =>
    Effect.gen(function*() {
      let n = 0
      const error = yield* startFailure(fakeBus(() => example.eeprom.map((w, i) => i === 100 ? (w + n++) & 0xffff : w)))
      assert.strictEqual((error as SensorError).reason, "Calibration")
      assert.include(error.message, "the EEPROM reads differently every time")
      assert.strictEqual(n, 5)
    }))

  it.effect("an EEPROM whose calibration is unusable gives the reference's status and its meaning", () =>
    Effect.gen(function*() {
      // five broken pixels (pixel words 0) are more than the reference accepts
      const eeprom = example.eeprom.map((w, i) => [64, 70, 200, 300, 400].includes(i) ? 0 : w)
      const error = yield* startFailure(fakeBus(() => eeprom))
      assert.strictEqual((error as SensorError).reason, "Calibration")
      assert.match(error.message, /^the EEPROM's calibration cannot be used \(status -3: .+\)$/)
    }))

  it.effect("a control register that does not take the settings", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(startFailure(fakeBus(() => example.eeprom, { value: 0x1901, sticky: true })))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.message, "the control register reads back 0x1901 after writing 0x1a01")
    }))

  it.effect("reads the settings it needs from STATUS only after configuring", () =>
    Effect.gen(function*() {
      const writes: Array<readonly [number, number]> = []
      const base = fakeBus(() => example.eeprom)
      const bus: I2cBusShape = {
        ...base,
        write: (register, value) =>
          Effect.zipRight(Effect.sync(() => writes.push([register, value])), base.write(register, value))
      }
      yield* make(bus, driverOptions)
      assert.deepStrictEqual(writes, [[CONTROL, 0x1a01], [STATUS, 0x0030]])
    }))
})
