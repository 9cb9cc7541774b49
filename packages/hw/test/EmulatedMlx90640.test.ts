/**
 * The emulated MLX90640, driven the way the driver drives a real one: through `I2cBus` (built by
 * `EmulatedMlx90640.layer`), with time from the TestClock. Pixel RAM is checked by decoding it
 * with the real calibration math from the EEPROM the device serves.
 */
import { assert, describe, it } from "@effect/vitest"
import { renderScene } from "@ircam/core/SimulatedSensor"
import { Cause, Effect, Exit, Fiber, Option, TestClock } from "effect"
import { readFileSync } from "node:fs"
import {
  BusError,
  CorruptFrames,
  EmulatedMlx90640,
  layer,
  make,
  type Options,
  StuckDataReady,
  Timeout
} from "../src/EmulatedMlx90640.js"
import { I2cBus, type I2cError, make as makeBus } from "../src/I2cBus.js"
import { FRAME_WORDS, makeDecoder } from "../src/Mlx90640Frame.js"
import { extractParameters } from "../src/Mlx90640Parameters.js"
import {
  AUX_START,
  CONTROL,
  EEPROM_START,
  EEPROM_WORDS,
  hasUnwrittenWords,
  type Pattern,
  PIXEL_WORDS,
  RAM_START,
  RAM_WORDS,
  settingsOf,
  STATUS,
  STATUS_CLEAR,
  subPageOfPixel,
  UNWRITTEN,
  withSettings
} from "../src/Mlx90640Registers.js"

interface Fixture {
  readonly eeprom: ReadonlyArray<number>
  readonly frames: ReadonlyArray<ReadonlyArray<number>>
}

const example: Fixture = JSON.parse(
  readFileSync(new URL("./fixtures/mlx90640/melexis-example.json", import.meta.url), "utf8")
)
const decoder = makeDecoder(extractParameters(example.eeprom).params)
const POWER_ON_CONTROL = 0x1901 // the example EEPROM's: chess, 18 bit, 2 Hz
const PERIOD_2HZ = 500

/**
 * Round trip scene → raw words → decoded temperature: each pixel word is the best one (its
 * decoded temperature is at least as close to the scene as its neighbours' words), so the error
 * is at most half the temperature step of one raw count there. For this EEPROM that step is
 * 0.3–0.45 °C around room temperature; the largest error measured for the default scene
 * (emissivity 0.95, all rates, resolutions and both patterns) was 0.187 °C.
 */
const ROUND_TRIP_BOUND = 0.2

const run = <A, E>(options: Options, body: Effect.Effect<A, E, I2cBus | EmulatedMlx90640>) =>
  Effect.provide(body, layer(options))

const readWord = (register: number) => Effect.flatMap(I2cBus, (bus) => Effect.map(bus.read(register, 1), (w) => w[0]!))
const writeWord = (register: number, value: number) => Effect.flatMap(I2cBus, (bus) => bus.write(register, value))
const stats = Effect.flatMap(EmulatedMlx90640, (device) => device.stats)

/** What the driver reads: the status, all RAM, the control register, as a frame for the decoder. */
const readFrame = Effect.gen(function*() {
  const bus = yield* I2cBus
  const status = yield* readWord(STATUS)
  const ram = yield* bus.read(RAM_START, RAM_WORDS)
  const control = yield* readWord(CONTROL)
  const frame = new Uint16Array(FRAME_WORDS)
  frame.set(ram)
  frame[FRAME_WORDS - 2] = control
  frame[FRAME_WORDS - 1] = status & 1
  return { status, ram, control, subPage: (status & 1) as 0 | 1, frame }
})

/**
 * Decodes the frame's sub-page as the driver does (tr = Ta − 8) and compares it with `target`:
 * the largest error, and the pixels whose word is not the closest one.
 */
const roundTrip = (frame: Uint16Array, target: Float32Array, emissivity = 0.95) => {
  const subPage = frame[FRAME_WORDS - 1]! as 0 | 1
  const pattern: Pattern = settingsOf(frame[FRAME_WORDS - 2]!).pattern
  const tr = decoder.ta(frame) - 8
  const decode = (words: Uint16Array) => {
    const to = new Float32Array(PIXEL_WORDS).fill(Number.NaN)
    decoder.calculateTo(words, emissivity, tr, to)
    return to
  }
  const to = decode(frame)
  const up = decode(frame.map((w, i) => i < PIXEL_WORDS ? w + 1 : w))
  const down = decode(frame.map((w, i) => i < PIXEL_WORDS ? w - 1 : w))
  let maxError = 0
  let pixels = 0
  const notClosest: Array<number> = []
  for (let p = 0; p < PIXEL_WORDS; p++) {
    if (subPageOfPixel(p, pattern) !== subPage) {
      assert.isTrue(Number.isNaN(to[p]!))
      continue
    }
    pixels++
    const error = Math.abs(to[p]! - target[p]!)
    maxError = Math.max(maxError, error)
    if (!(error <= Math.abs(up[p]! - target[p]!) && error <= Math.abs(down[p]! - target[p]!))) notClosest.push(p)
  }
  return { maxError, pixels, notClosest }
}

const sceneOf = (seed: number, measurement: number, rate: number) => {
  const out = new Float32Array(PIXEL_WORDS)
  renderScene(seed, measurement, rate, out)
  return out
}

const failure = <A, R>(effect: Effect.Effect<A, I2cError, R>) => Effect.map(Effect.flip(effect), (error) => error.code)

describe("EmulatedMlx90640", () => {
  describe("registers", () => {
    it.effect("EEPROM reads back exactly; power-on control, I²C config, unmapped registers; writes ignored", () =>
      run(
        {},
        Effect.gen(function*() {
          const bus = yield* I2cBus
          assert.strictEqual(bus.bus, 1)
          assert.strictEqual(bus.address, 0x33)
          assert.deepStrictEqual(Array.from(yield* bus.read(EEPROM_START, EEPROM_WORDS)), example.eeprom)
          assert.strictEqual(yield* readWord(CONTROL), POWER_ON_CONTROL)
          assert.strictEqual(yield* readWord(STATUS), 0)
          assert.strictEqual(yield* readWord(0x800f), example.eeprom[0x0d])
          for (const unmapped of [0x0000, 0x03ff, 0x0740, 0x2740, 0x8001, 0xffff]) {
            assert.strictEqual(yield* readWord(unmapped), 0)
          }
          // RAM says "unwritten" until the first measurement
          assert.isTrue((yield* bus.read(RAM_START, RAM_WORDS)).every((w) => w === UNWRITTEN))
          // EEPROM, RAM and unmapped registers ignore writes; the I²C config keeps what is written
          yield* writeWord(EEPROM_START + 5, 0x1234)
          yield* writeWord(RAM_START, 0x1234)
          yield* writeWord(0x8001, 0x1234)
          yield* writeWord(0x800f, 0x0002)
          assert.strictEqual(yield* readWord(EEPROM_START + 5), example.eeprom[5])
          assert.strictEqual(yield* readWord(RAM_START), UNWRITTEN)
          assert.strictEqual(yield* readWord(0x8001), 0)
          assert.strictEqual(yield* readWord(0x800f), 0x0002)
          // one read runs across the end of the EEPROM into unmapped space, and wraps at 0xFFFF
          assert.deepStrictEqual(Array.from(yield* bus.read(0x273e, 3)), [...example.eeprom.slice(830), 0])
          assert.deepStrictEqual(Array.from(yield* bus.read(0xffff, 2)), [0, 0])
        })
      ))

    it.effect("a long read is split into blocks of maxReadBytes, each its own transaction", () =>
      run(
        { maxReadBytes: 64 },
        Effect.gen(function*() {
          const bus = yield* I2cBus
          assert.deepStrictEqual(Array.from(yield* bus.read(EEPROM_START, EEPROM_WORDS)), example.eeprom)
          assert.strictEqual((yield* stats).transactions, Math.ceil((EEPROM_WORDS * 2) / 64))
        })
      ))

    it.effect("the raw transport: too long a read fails with EINVAL, odd lengths and malformed messages", () =>
      Effect.gen(function*() {
        const device = yield* make({ maxReadBytes: 64 })
        const { transport } = device
        assert.strictEqual(transport.maxReadBytes, 64)
        const tooLong = yield* Effect.flip(transport.writeRead(0x33, Uint8Array.of(0x24, 0x00), new Uint8Array(66)))
        assert.strictEqual(tooLong.code, "EINVAL")
        assert.strictEqual(tooLong.operation, "read")
        // exactly the limit works; an odd length ends with the high byte of the last word
        yield* transport.writeRead(0x33, Uint8Array.of(0x24, 0x00), new Uint8Array(64))
        const odd = new Uint8Array(3)
        yield* transport.writeRead(0x33, Uint8Array.of(0x24, 0x00), odd)
        assert.deepStrictEqual(Array.from(odd), [0x00, 0xae, 0x49])
        // a register write is 4 bytes; a read starts with 2 address bytes
        assert.strictEqual((yield* Effect.flip(transport.write(0x33, Uint8Array.of(0x80, 0x0d)))).code, "EINVAL")
        assert.strictEqual(
          (yield* Effect.flip(transport.writeRead(0x33, Uint8Array.of(0x24), new Uint8Array(2)))).code,
          "EINVAL"
        )
        assert.deepStrictEqual(yield* device.stats, {
          measurements: 0,
          transactions: 5,
          failedTransactions: 3,
          resets: 0
        })
      }))

    it.effect("no ACK (ENXIO) at another address; the general call only takes the reset byte", () =>
      Effect.gen(function*() {
        const device = yield* make({ address: 0x34 })
        const right = makeBus(device.transport, { bus: 1, address: 0x34 })
        const wrong = makeBus(device.transport, { bus: 1, address: 0x33 })
        assert.strictEqual((yield* right.read(CONTROL, 1))[0], POWER_ON_CONTROL)
        assert.strictEqual(yield* failure(wrong.read(CONTROL, 1)), "ENXIO")
        assert.strictEqual(yield* failure(wrong.write(CONTROL, 0)), "ENXIO")
        assert.strictEqual(yield* failure(device.transport.write(0x00, Uint8Array.of(0x04))), "ENXIO")
        assert.strictEqual(
          yield* failure(device.transport.writeRead(0x00, Uint8Array.of(0x80, 0x00), new Uint8Array(2))),
          "ENXIO"
        )
        yield* right.generalReset
        assert.deepStrictEqual(yield* device.stats, {
          measurements: 0,
          transactions: 6,
          failedTransactions: 4,
          resets: 1
        })
      }))

    it.effect("invalid options are defects", () =>
      Effect.gen(function*() {
        for (
          const options of [{ faultRate: 1.5 }, { faultRate: Number.NaN }, { maxReadBytes: 1 }, { maxReadBytes: 2.5 }]
        ) {
          const exit = yield* Effect.exit(make(options))
          assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause), JSON.stringify(options))
        }
      }))
  })

  describe("timing", () => {
    it.effect("sub-pages alternate at the refresh rate; data-ready sets and clears", () =>
      run(
        {},
        Effect.gen(function*() {
          const device = yield* EmulatedMlx90640
          yield* writeWord(STATUS, STATUS_CLEAR) // overwrite on, as the driver does
          assert.strictEqual(yield* readWord(STATUS), 0x0010)
          yield* TestClock.adjust(PERIOD_2HZ - 1)
          assert.strictEqual(yield* readWord(STATUS), 0x0010)
          yield* TestClock.adjust(1)
          assert.strictEqual(yield* readWord(STATUS), 0x0018) // sub-page 0, new data
          assert.strictEqual(yield* device.status, 0x0018)
          // bit 3 written as 1 leaves data-ready; written as 0 clears it; the sub-page bit is read-only
          yield* writeWord(STATUS, 0x0019)
          assert.strictEqual(yield* readWord(STATUS), 0x0018)
          yield* writeWord(STATUS, STATUS_CLEAR)
          assert.strictEqual(yield* readWord(STATUS), 0x0010)
          yield* TestClock.adjust(PERIOD_2HZ)
          assert.strictEqual(yield* readWord(STATUS), 0x0019) // sub-page 1
          yield* writeWord(STATUS, STATUS_CLEAR)
          yield* TestClock.adjust(PERIOD_2HZ)
          assert.strictEqual(yield* readWord(STATUS), 0x0018)
          assert.strictEqual((yield* stats).measurements, 3)
        })
      ))

    it.effect("a control write with another rate restarts the timing at that rate; the same rate does not", () =>
      run(
        {},
        Effect.gen(function*() {
          const device = yield* EmulatedMlx90640
          yield* writeWord(STATUS, STATUS_CLEAR)
          yield* TestClock.adjust(300)
          const eightHz = withSettings(POWER_ON_CONTROL, { refreshRateHz: 8, resolutionBits: 18, pattern: "chess" })
          yield* writeWord(CONTROL, eightHz)
          assert.strictEqual(yield* device.control, eightHz)
          yield* TestClock.adjust(124) // t = 424 ms: the 8 Hz period (125 ms) from 300 ms is not over
          assert.strictEqual((yield* stats).measurements, 0)
          yield* TestClock.adjust(1)
          assert.strictEqual((yield* stats).measurements, 1)
          // the pattern changes, the rate does not: the timing goes on (next at 550 ms)
          yield* TestClock.adjust(100)
          yield* writeWord(
            CONTROL,
            withSettings(eightHz, { refreshRateHz: 8, resolutionBits: 18, pattern: "interleaved" })
          )
          yield* TestClock.adjust(25)
          assert.strictEqual((yield* stats).measurements, 2)
          // 0.5 Hz: a 2 s period
          yield* writeWord(CONTROL, withSettings(eightHz, { refreshRateHz: 0.5, resolutionBits: 18, pattern: "chess" }))
          yield* TestClock.adjust(1999)
          assert.strictEqual((yield* stats).measurements, 2)
          yield* TestClock.adjust(1)
          assert.strictEqual((yield* stats).measurements, 3)
        })
      ))

    it.effect("with overwrite off, unread data stays: later measurements are dropped until data-ready is cleared", () => {
      const measured: Array<number> = []
      const scene = (measurement: number, _rate: number, out: Float32Array) => {
        measured.push(measurement)
        out.fill(20 + measurement)
      }
      return run(
        { scene },
        Effect.gen(function*() {
          const bus = yield* I2cBus
          // power-on status: overwrite off. Three periods pass; only the first lands (sub-page 0).
          yield* TestClock.adjust(3 * PERIOD_2HZ)
          assert.strictEqual(yield* readWord(STATUS), 0x0008)
          assert.deepStrictEqual(measured, [0])
          const first = yield* bus.read(RAM_START, RAM_WORDS)
          yield* TestClock.adjust(PERIOD_2HZ)
          assert.deepStrictEqual(Array.from(yield* bus.read(RAM_START, RAM_WORDS)), Array.from(first))
          assert.strictEqual((yield* stats).measurements, 4)
          // cleared (overwrite still off): measurement 4 (sub-page 0 again) lands
          yield* writeWord(STATUS, 0x0000)
          yield* TestClock.adjust(PERIOD_2HZ)
          assert.strictEqual(yield* readWord(STATUS), 0x0008)
          assert.deepStrictEqual(measured, [0, 4])
          yield* writeWord(STATUS, 0x0000)
          yield* TestClock.adjust(PERIOD_2HZ)
          assert.strictEqual(yield* readWord(STATUS), 0x0009)
          assert.deepStrictEqual(measured, [0, 4, 5])
        })
      )
    })

    it.effect("after a long pause only the last measurement of each sub-page is computed", () => {
      const measured: Array<readonly [number, number]> = []
      const scene = (measurement: number, rate: number, out: Float32Array) => {
        measured.push([measurement, rate])
        out.fill(25)
      }
      return run(
        { scene },
        Effect.gen(function*() {
          yield* writeWord(
            CONTROL,
            withSettings(POWER_ON_CONTROL, { refreshRateHz: 64, resolutionBits: 18, pattern: "chess" })
          )
          yield* writeWord(STATUS, STATUS_CLEAR)
          yield* TestClock.adjust("1 hours")
          const { frame, status } = yield* readFrame
          assert.strictEqual((yield* stats).measurements, 64 * 3600)
          assert.strictEqual(status, 0x0019) // an even number: the last one is sub-page 1
          assert.deepStrictEqual(measured, [[64 * 3600 - 2, 64], [64 * 3600 - 1, 64]])
          assert.isFalse(hasUnwrittenWords(frame, 0))
          assert.isFalse(hasUnwrittenWords(frame, 1))
        })
      )
    })
  })

  describe("RAM", () => {
    const checkPattern = (pattern: Pattern, refreshRateHz: number, resolutionBits: number) =>
      run(
        { seed: 7 },
        Effect.gen(function*() {
          const control = withSettings(POWER_ON_CONTROL, { refreshRateHz, resolutionBits, pattern })
          yield* writeWord(CONTROL, control)
          yield* writeWord(STATUS, STATUS_CLEAR)
          for (let measurement = 0; measurement < 4; measurement++) {
            yield* TestClock.adjust(1000 / refreshRateHz)
            const { control: read, frame, ram, subPage } = yield* readFrame
            yield* writeWord(STATUS, STATUS_CLEAR)
            assert.strictEqual(read, control)
            assert.strictEqual(subPage, measurement % 2)
            // the auxiliary words are the example's for this sub-page
            assert.deepStrictEqual(
              Array.from(ram.subarray(AUX_START - RAM_START)),
              example.frames[subPage]!.slice(PIXEL_WORDS, RAM_WORDS)
            )
            assert.isFalse(hasUnwrittenWords(ram, subPage))
            // before the first sub-page 1 measurement its pixels are still unwritten
            if (measurement === 0) assert.isTrue(hasUnwrittenWords(ram, 1))
            const { maxError, notClosest, pixels } = roundTrip(frame, sceneOf(7, measurement, refreshRateHz))
            assert.strictEqual(pixels, PIXEL_WORDS / 2)
            assert.deepStrictEqual(notClosest, [])
            assert.isBelow(maxError, ROUND_TRIP_BOUND)
          }
        })
      )

    it.effect("chess pattern, 2 Hz, 18 bit: the decoded scene is within the bound, both sub-pages", () =>
      checkPattern("chess", 2, 18))
    it.effect("interleaved pattern, 16 Hz, 19 bit: the decoded scene is within the bound, both sub-pages", () =>
      checkPattern("interleaved", 16, 19))

    it.effect("a custom scene and emissivity: cold, room and hot targets, and the extremes clamp", () => {
      // rows 0–5 −20 °C, 6–11 room, 12–17 150 °C, 18–22 a ramp to 400 °C, row 23 beyond the word range
      const scene = (_: number, __: number, out: Float32Array) => {
        for (let p = 0; p < PIXEL_WORDS; p++) {
          const row = p >> 5
          out[p] = row < 6 ? -20 : row < 12 ? 24 : row < 18 ? 150 : row < 23 ? 100 + 15 * (p & 31) : 5000
        }
      }
      return run(
        { scene, emissivity: 0.8 },
        Effect.gen(function*() {
          yield* writeWord(STATUS, STATUS_CLEAR)
          const target = new Float32Array(PIXEL_WORDS)
          scene(0, 2, target)
          for (const subPage of [0, 1]) {
            yield* TestClock.adjust(PERIOD_2HZ)
            const { frame, ram } = yield* readFrame
            yield* writeWord(STATUS, STATUS_CLEAR)
            assert.strictEqual(frame[FRAME_WORDS - 1], subPage)
            const inRange = Float32Array.from(target, (t, p) => (p >> 5) === 23 ? Number.NaN : t)
            const { notClosest } = roundTrip(frame, inRange, 0.8)
            // row 23 (NaN target) is the only place a word is "not closest"
            assert.isTrue(notClosest.every((p) => p >> 5 === 23))
            // a target beyond the hottest word gets that word (0x7FFE), never the "unwritten" 0x7FFF
            for (let col = 0; col < 32; col++) {
              if (subPageOfPixel(23 * 32 + col, "chess") === subPage) assert.strictEqual(ram[23 * 32 + col], 0x7ffe)
            }
          }
        })
      )
    })
  })

  describe("faults", () => {
    it.effect("BusError: the next n transfers fail with its code, then the bus works again", () =>
      run(
        {},
        Effect.gen(function*() {
          const device = yield* EmulatedMlx90640
          yield* device.inject(new BusError({ code: "EREMOTEIO", transactions: 2 }))
          yield* device.inject(new BusError({ code: "EIO" }))
          assert.strictEqual(yield* failure(readWord(CONTROL)), "EREMOTEIO")
          assert.strictEqual(yield* failure(writeWord(STATUS, STATUS_CLEAR)), "EREMOTEIO")
          assert.strictEqual(yield* failure(readWord(CONTROL)), "EIO")
          assert.strictEqual(yield* readWord(CONTROL), POWER_ON_CONTROL)
          // the failed write did not happen
          assert.strictEqual(yield* readWord(STATUS), 0)
          // clearFaults drops pending ones
          yield* device.inject(new BusError({ code: "ENXIO", transactions: 5 }))
          assert.strictEqual(yield* failure(readWord(CONTROL)), "ENXIO")
          yield* device.clearFaults
          assert.strictEqual(yield* readWord(CONTROL), POWER_ON_CONTROL)
          assert.deepStrictEqual(yield* device.stats, {
            measurements: 0,
            transactions: 7,
            failedTransactions: 4,
            resets: 0
          })
        })
      ))

    it.effect("Timeout: the transfer never answers; I2cBus gives ETIMEDOUT after its timeout", () =>
      run(
        {},
        Effect.gen(function*() {
          const device = yield* EmulatedMlx90640
          yield* device.inject(new Timeout({}))
          const fiber = yield* Effect.fork(failure(readWord(CONTROL)))
          yield* TestClock.adjust("499 millis")
          assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
          yield* TestClock.adjust("1 millis")
          assert.strictEqual(yield* Fiber.join(fiber), "ETIMEDOUT")
          assert.strictEqual(yield* readWord(CONTROL), POWER_ON_CONTROL)
        })
      ))

    it.effect("StuckDataReady: data-ready never sets, RAM goes on; a general-call reset clears it", () =>
      run(
        {},
        Effect.gen(function*() {
          const device = yield* EmulatedMlx90640
          const bus = yield* I2cBus
          yield* device.inject(new StuckDataReady())
          // overwrite off, and still every measurement lands: data-ready never blocks them
          yield* TestClock.adjust(PERIOD_2HZ)
          assert.strictEqual(yield* readWord(STATUS), 0x0000)
          yield* TestClock.adjust(PERIOD_2HZ)
          const { ram, status } = yield* readFrame
          assert.strictEqual(status, 0x0001)
          assert.isFalse(hasUnwrittenWords(ram, 0))
          assert.isFalse(hasUnwrittenWords(ram, 1))
          yield* writeWord(STATUS, STATUS_CLEAR)
          yield* writeWord(
            CONTROL,
            withSettings(POWER_ON_CONTROL, { refreshRateHz: 4, resolutionBits: 18, pattern: "chess" })
          )
          // the reset: control from EEPROM, status cleared, RAM unwritten, timing from now
          yield* TestClock.adjust(100)
          yield* bus.generalReset
          assert.strictEqual(yield* readWord(CONTROL), POWER_ON_CONTROL)
          assert.strictEqual(yield* readWord(STATUS), 0)
          assert.isTrue((yield* bus.read(RAM_START, RAM_WORDS)).every((w) => w === UNWRITTEN))
          yield* TestClock.adjust(PERIOD_2HZ - 1)
          assert.strictEqual(yield* readWord(STATUS), 0)
          yield* TestClock.adjust(1)
          assert.strictEqual(yield* readWord(STATUS), 0x0008) // sub-page 0 first again, data-ready works
          assert.strictEqual((yield* device.stats).resets, 1)
          // clearFaults also ends it
          yield* device.inject(new StuckDataReady())
          yield* device.clearFaults
          yield* writeWord(STATUS, 0x0000)
          yield* TestClock.adjust(PERIOD_2HZ)
          assert.strictEqual(yield* readWord(STATUS), 0x0009)
        })
      ))

    it.effect("CorruptFrames: the next n measurements leave 0x7FFF where the reference checks", () =>
      run(
        {},
        Effect.gen(function*() {
          const device = yield* EmulatedMlx90640
          yield* writeWord(STATUS, STATUS_CLEAR)
          yield* device.inject(new CorruptFrames({ measurements: 2 }))
          const corrupt: Array<boolean> = []
          for (let i = 0; i < 4; i++) {
            yield* TestClock.adjust(PERIOD_2HZ)
            const { ram, subPage } = yield* readFrame
            yield* writeWord(STATUS, STATUS_CLEAR)
            assert.strictEqual(subPage, i % 2)
            corrupt.push(hasUnwrittenWords(ram, subPage))
          }
          assert.deepStrictEqual(corrupt, [true, true, false, false])
          // measurements that elapse unread still use up the count
          yield* device.inject(new CorruptFrames({ measurements: 2 }))
          yield* TestClock.adjust(4 * PERIOD_2HZ)
          const { ram } = yield* readFrame
          assert.isFalse(hasUnwrittenWords(ram, 0))
          assert.isFalse(hasUnwrittenWords(ram, 1))
          // clearFaults ends it
          yield* device.inject(new CorruptFrames({}))
          yield* device.clearFaults
          yield* TestClock.adjust(PERIOD_2HZ)
          const after = yield* readFrame
          assert.isFalse(hasUnwrittenWords(after.ram, after.subPage))
        })
      ))

    it.effect("Fault constructors validate their counts", () =>
      Effect.sync(() => {
        assert.throws(() => new BusError({ code: "EIO", transactions: 0 }))
        assert.throws(() => new CorruptFrames({ measurements: 1.5 }))
        assert.strictEqual(new Timeout({}).transactions, 1)
      }))

    const outcomes = (options: Options) =>
      Effect.gen(function*() {
        const device = yield* make(options)
        const bus = makeBus(device.transport, { bus: 1, address: 0x33 })
        const codes: Array<string> = []
        for (let i = 0; i < 200; i++) {
          codes.push(
            yield* bus.read(CONTROL, 1).pipe(
              Effect.as("ok"),
              Effect.catchTag("I2cError", (e) => Effect.succeed(e.code))
            )
          )
        }
        return { codes, stats: yield* device.stats }
      })

    it.effect("faultRate: transient errors drawn from the seed, the same on every run", () =>
      Effect.gen(function*() {
        const a = yield* outcomes({ faultRate: 0.25, seed: 42 })
        const b = yield* outcomes({ faultRate: 0.25, seed: 42 })
        const c = yield* outcomes({ faultRate: 0.25, seed: 43 })
        assert.deepStrictEqual(a.codes, b.codes)
        assert.notDeepEqual(a.codes, c.codes)
        const failed = a.codes.filter((code) => code !== "ok")
        assert.strictEqual(a.stats.failedTransactions, failed.length)
        assert.isAbove(failed.length, 25)
        assert.isBelow(failed.length, 75)
        assert.sameMembers([...new Set(failed)], ["EIO", "ENXIO", "EREMOTEIO"])
        assert.isTrue((yield* outcomes({ faultRate: 1 })).codes.every((code) => code !== "ok"))
        assert.isTrue((yield* outcomes({ faultRate: 0 })).codes.every((code) => code === "ok"))
      }))
  })

  it.effect("layer: the I2cBus reaches the device at the given bus and address", () =>
    run(
      { bus: 3, address: 0x32 },
      Effect.gen(function*() {
        const bus = yield* I2cBus
        const device = yield* EmulatedMlx90640
        assert.strictEqual(bus.bus, 3)
        assert.strictEqual(bus.address, 0x32)
        assert.strictEqual(device.address, 0x32)
        assert.strictEqual(yield* readWord(CONTROL), POWER_ON_CONTROL)
      })
    ))
})
