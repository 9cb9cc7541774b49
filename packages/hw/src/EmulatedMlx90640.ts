/**
 * EmulatedMlx90640: an MLX90640 behind an `I2cTransport`, for CI and demos without the sensor.
 * It answers the bytes the real device answers, so the real driver runs unchanged on `I2cBus`.
 *
 * Modelled:
 * - Registers: EEPROM 0x2400..0x273F (a real sensor's: Melexis' example data; writes are
 *   ignored), RAM 0x0400..0x073F, status 0x8000, control 0x800D (power-on value from EEPROM
 *   0x240C), I²C configuration 0x800F (power-on value from EEPROM 0x240D; stored, no effect).
 *   Other addresses read 0 and ignore writes, as do RAM and EEPROM.
 * - Bytes: a register write is exactly 4 bytes (address, value; big-endian); a read is one
 *   combined transaction (2 address bytes, repeated START, any number of bytes up to
 *   `maxReadBytes`), auto-incrementing within the transaction only. No ACK (ENXIO) at any other
 *   address, except the general-call reset (byte 0x06 to address 0x00).
 * - Timing, on the monotonic time of Effect's `Clock` (a TestClock drives it; a step of the wall
 *   clock does not reach the device), advanced lazily at each transaction: sub-pages 0, 1, 0, …
 *   measured back to back at the control register's refresh rate (from power-on, a reset or a
 *   write that changes the rate). A measurement writes its sub-page's
 *   pixels and the auxiliary words, sets the status sub-page and data-ready bits, unless
 *   overwrite is off and data-ready is still set: then it is dropped. RAM reads 0x7FFF
 *   ("unwritten") after power-on and after a general-call reset until measurements write it.
 * - Pixel words: for each pixel of the measured sub-page (chess or interleaved, per the control
 *   register), the raw word whose temperature, decoded with the reference math as the driver
 *   decodes it (the device's EEPROM, emissivity 0.95 unless set, tr = Ta − 8), is closest to the
 *   scene's; found by bisection over all pixels at once, 17 decoder passes per measurement.
 * - Faults, injected (`inject`) or random (`faultRate`): see `Fault`.
 *
 * Not modelled: Ta and Vdd are fixed (the auxiliary words are the example's for each sub-page,
 * whatever the scene or the ADC resolution); the resolution only enters the decoding; step mode,
 * sub-page repeat and selection, and turning sub-pages off (the device always alternates); the
 * address stored in EEPROM 0x240F (the `address` option sets it); EEPROM writes and their timing;
 * bus speed, clock stretching, sensor noise beyond the scene's own.
 *
 * Longer than 350 lines on purpose: one device, its registers, timing and faults, which interact
 * (a fault or a reset changes what the next measurement and read see).
 */
import { renderScene } from "@ircam/core/SimulatedSensor"
import { monotonicMsOf } from "@ircam/core/Time"
import { Context, Effect, Layer, Schema, Utils } from "effect"
import * as I2cBus from "./I2cBus.js"
import * as Example from "./internal/melexisExampleDevice.js"
import { FRAME_WORDS, makeDecoder } from "./Mlx90640Frame.js"
import { extractParameters } from "./Mlx90640Parameters.js"
import {
  CONTROL,
  DEFAULT_ADDRESS,
  EEPROM_CONTROL_DEFAULT,
  EEPROM_START,
  EEPROM_WORDS,
  PIXEL_WORDS,
  RAM_START,
  RAM_WORDS,
  settingsOf,
  STATUS,
  STATUS_DATA_READY,
  STATUS_OVERWRITE,
  STATUS_SUBPAGE,
  subPageOfPixel,
  UNWRITTEN
} from "./Mlx90640Registers.js"

/** The I²C configuration register, and the EEPROM word (index from 0x2400) with its power-on value. */
const I2C_CONFIG = 0x800f
const EEPROM_I2C_CONFIG_DEFAULT = 0x000d

const GENERAL_CALL = 0x00
const GENERAL_RESET = 0x06

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

const Count = Schema.Int.pipe(Schema.positive())
const countOf = Schema.optionalWith(Count, { default: () => 1 })

/** The next `transactions` transfers fail with `code` (default one). */
export class BusError extends Schema.TaggedClass<BusError>()("BusError", {
  code: Schema.Literal("EIO", "ENXIO", "EREMOTEIO"),
  transactions: countOf
}) {}

/** The next `transactions` transfers never answer (`I2cBus`'s timeout turns that into ETIMEDOUT). */
export class Timeout extends Schema.TaggedClass<Timeout>()("Timeout", { transactions: countOf }) {}

/** Data-ready never sets again (RAM still updates) until a general-call reset or `clearFaults`. */
export class StuckDataReady extends Schema.TaggedClass<StuckDataReady>()("StuckDataReady", {}) {}

/**
 * The next `measurements` measurements written to RAM leave 0x7FFF in the first pixel word of
 * each of their sub-page's rows, which the reference's check (`hasUnwrittenWords`) rejects.
 */
export class CorruptFrames extends Schema.TaggedClass<CorruptFrames>()("CorruptFrames", {
  measurements: countOf
}) {}

export const Fault = Schema.Union(BusError, Timeout, StuckDataReady, CorruptFrames)
export type Fault = typeof Fault.Type

/** The errno codes of random transient faults. */
const randomCodes = ["EIO", "ENXIO", "EREMOTEIO"] as const

// ---------------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------------

/**
 * The temperature scene: writes the 768 object temperatures (°C, row-major, row·32 + col) seen
 * by measurement `measurement` (counted from 0 since the device was made) into `out`.
 */
export type Scene = (measurement: number, refreshRateHz: number, out: Float32Array) => void

export interface Options {
  /** 7-bit address the device answers at (default 0x33). */
  readonly address?: number
  /** Bus number of the `I2cBus` that `layer` provides (default 1). */
  readonly bus?: number
  /** Default: core's simulated scene (`SimulatedSensor.renderScene`) with `seed`. */
  readonly scene?: Scene
  /** Emissivity the pixel words are solved for (default 0.95, as the driver decodes). */
  readonly emissivity?: number
  /** Seeds the default scene and the random faults (default 1). */
  readonly seed?: number
  /** Probability (0..1) that a transfer fails with a transient bus error (default 0). */
  readonly faultRate?: number
  /** The most bytes one read message may carry (default 8192, as Linux i2c-dev). */
  readonly maxReadBytes?: number
}

export interface Stats {
  /** measurements completed since the device was made (dropped ones included) */
  readonly measurements: number
  readonly transactions: number
  readonly failedTransactions: number
  /** general-call resets */
  readonly resets: number
}

export interface EmulatedMlx90640Shape {
  readonly address: number
  readonly transport: I2cBus.I2cTransport
  readonly inject: (fault: Fault) => Effect.Effect<void>
  /** Ends every injected fault (random faults go on). */
  readonly clearFaults: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
  /** The status register now, as a read would return it (not a transaction). */
  readonly status: Effect.Effect<number>
  /** The control register now (not a transaction). */
  readonly control: Effect.Effect<number>
}

export class EmulatedMlx90640 extends Context.Tag("@ircam/hw/EmulatedMlx90640")<
  EmulatedMlx90640,
  EmulatedMlx90640Shape
>() {}

// ---------------------------------------------------------------------------------------------
// The device
// ---------------------------------------------------------------------------------------------

const SUBPAGE_PIXELS = PIXEL_WORDS / 2
// Raw pixel words are solved in MIN_RAW..MAX_RAW; 0x7FFF is left out, as it means "unwritten".
const MIN_RAW = -32768
const MAX_RAW = UNWRITTEN - 1
const BISECTION_STEPS = 16 // ⌈log2(MAX_RAW − MIN_RAW + 2)⌉

/** The pixels of each sub-page, per pattern: [interleaved 0, interleaved 1, chess 0, chess 1]. */
const pixelLists: ReadonlyArray<Uint16Array> = [0, 1, 2, 3].map((list) => {
  const pixels = new Uint16Array(SUBPAGE_PIXELS)
  const pattern = list < 2 ? "interleaved" : "chess"
  for (let p = 0, k = 0; p < PIXEL_WORDS; p++) if (subPageOfPixel(p, pattern) === (list & 1)) pixels[k++] = p
  return pixels
})

const auxOf = [Example.auxSubPage0, Example.auxSubPage1] as const

const periodOf = (control: number): number => 1000 / settingsOf(control).refreshRateHz

const error = (operation: I2cBus.I2cError["operation"], code: string, message: string) =>
  new I2cBus.I2cError({ operation, code, message })

const makeDevice = (options: Options, powerOnAt: number): EmulatedMlx90640Shape => {
  const address = options.address ?? DEFAULT_ADDRESS
  const seed = options.seed ?? 1
  const scene: Scene = options.scene ?? ((measurement, rate, out) => renderScene(seed, measurement, rate, out))
  const emissivity = options.emissivity ?? 0.95
  const faultRate = options.faultRate ?? 0
  const maxReadBytes = options.maxReadBytes ?? 8192
  if (!(faultRate >= 0 && faultRate <= 1)) throw new RangeError(`faultRate must be in 0..1, got ${faultRate}`)
  if (!(Number.isInteger(maxReadBytes) && maxReadBytes >= 2)) {
    throw new RangeError(`maxReadBytes must be an integer ≥ 2, got ${maxReadBytes}`)
  }

  const eeprom = Uint16Array.from(Example.eeprom)
  const decoder = makeDecoder(extractParameters(eeprom).params)
  const random = new Utils.PCGRandom(seed)

  // Registers
  const ram = new Uint16Array(RAM_WORDS)
  let status = 0
  let control = 0
  let i2cConfig = 0

  // Measurement timing: `done` measurements completed since `epoch` (ms), at the control's rate.
  let epoch = 0
  let done = 0
  let nextSubPage: 0 | 1 = 0

  // Statistics
  let measurements = 0
  let transactions = 0
  let failedTransactions = 0
  let resets = 0

  // Faults
  const pending: Array<{ readonly fault: BusError | Timeout; left: number }> = []
  let stuckDataReady = false
  let corruptLeft = 0

  // Scratch buffers of a measurement, reused.
  const target = new Float32Array(PIXEL_WORDS)
  const decoded = new Float32Array(PIXEL_WORDS)
  const frame = new Uint16Array(FRAME_WORDS)
  const lo = new Int32Array(SUBPAGE_PIXELS)
  const hi = new Int32Array(SUBPAGE_PIXELS)
  const decodedLo = new Float64Array(SUBPAGE_PIXELS)

  const powerOn = (now: number) => {
    control = eeprom[EEPROM_CONTROL_DEFAULT]!
    i2cConfig = eeprom[EEPROM_I2C_CONFIG_DEFAULT]!
    status = 0
    ram.fill(UNWRITTEN)
    epoch = now
    done = 0
    nextSubPage = 0
    stuckDataReady = false
  }

  /**
   * Sets the pixels of `subPage` in `frame` to the raw words whose decoded temperature is closest
   * to `target`. Bisection for the lowest word that decodes to at least the target (the decoded
   * temperature rises with the word), all pixels at once: one decoder pass per step, then one
   * for the final upper bound; the lower bound's value is kept from the pass that set it.
   */
  const solve = (pixels: Uint16Array, tr: number) => {
    lo.fill(MIN_RAW - 1)
    hi.fill(MAX_RAW)
    decodedLo.fill(Number.NaN)
    for (let step = 0; step < BISECTION_STEPS; step++) {
      for (let k = 0; k < SUBPAGE_PIXELS; k++) frame[pixels[k]!] = (lo[k]! + hi[k]!) >> 1
      decoder.calculateTo(frame, emissivity, tr, decoded)
      for (let k = 0; k < SUBPAGE_PIXELS; k++) {
        const p = pixels[k]!
        const mid = (lo[k]! + hi[k]!) >> 1
        if (decoded[p]! >= target[p]!) {
          hi[k] = mid
        } else { // below, or NaN (the word is far too low for the formula)
          lo[k] = mid
          decodedLo[k] = decoded[p]!
        }
      }
    }
    for (let k = 0; k < SUBPAGE_PIXELS; k++) frame[pixels[k]!] = hi[k]!
    decoder.calculateTo(frame, emissivity, tr, decoded)
    for (let k = 0; k < SUBPAGE_PIXELS; k++) {
      const p = pixels[k]!
      // NaN (no lower word evaluated) compares false: the upper bound wins
      if (Math.abs(decodedLo[k]! - target[p]!) < Math.abs(decoded[p]! - target[p]!)) frame[p] = lo[k]!
    }
  }

  /** Measurement number `index` of `subPage` into RAM. */
  const measure = (index: number, subPage: 0 | 1, corrupt: boolean) => {
    const pattern = settingsOf(control).pattern
    const pixels = pixelLists[(pattern === "chess" ? 2 : 0) + subPage]!
    scene(index, settingsOf(control).refreshRateHz, target)
    frame.set(auxOf[subPage], PIXEL_WORDS)
    frame[FRAME_WORDS - 2] = control
    frame[FRAME_WORDS - 1] = subPage
    solve(pixels, decoder.ta(frame) - 8)
    for (let k = 0; k < SUBPAGE_PIXELS; k++) ram[pixels[k]!] = frame[pixels[k]!]!
    ram.set(auxOf[subPage], PIXEL_WORDS)
    if (corrupt) { for (let row = subPage; row < 24; row += 2) ram[row * 32] = UNWRITTEN }
    status = (status & ~STATUS_SUBPAGE) | subPage
  }

  /**
   * Completes the measurements due by `now`. Only the last two that reach RAM are computed (one
   * per sub-page, each overwriting the previous of its sub-page); after a long pause that is
   * still two, whatever the number that elapsed.
   */
  const advance = (now: number) => {
    const due = Math.floor((now - epoch) / periodOf(control))
    const count = due - done
    if (count <= 0) return
    done = due
    const first = measurements
    const firstSubPage = nextSubPage
    measurements += count
    nextSubPage = ((firstSubPage + count) & 1) as 0 | 1
    const overwrite = (status & STATUS_OVERWRITE) !== 0
    if (!overwrite && (status & STATUS_DATA_READY) !== 0) return // the unread data stays
    // without overwrite only the first one lands: it sets data-ready (unless that is stuck)
    const written = overwrite || stuckDataReady ? count : 1
    for (let i = Math.max(0, written - 2); i < written; i++) {
      measure(first + i, ((firstSubPage + i) & 1) as 0 | 1, i < corruptLeft)
    }
    corruptLeft = Math.max(0, corruptLeft - written)
    if (!stuckDataReady) status |= STATUS_DATA_READY
  }

  const readRegister = (register: number): number => {
    if (register >= EEPROM_START && register < EEPROM_START + EEPROM_WORDS) return eeprom[register - EEPROM_START]!
    if (register >= RAM_START && register < RAM_START + RAM_WORDS) return ram[register - RAM_START]!
    switch (register) {
      case STATUS:
        return status
      case CONTROL:
        return control
      case I2C_CONFIG:
        return i2cConfig
      default:
        return 0
    }
  }

  const writeRegister = (register: number, value: number, now: number) => {
    switch (register) {
      case STATUS: {
        // the sub-page is read-only; data-ready can only be cleared; overwrite is as written
        status = (status & STATUS_SUBPAGE) | (status & value & STATUS_DATA_READY) | (value & STATUS_OVERWRITE)
        break
      }
      case CONTROL: {
        const before = periodOf(control)
        control = value
        if (periodOf(control) !== before) {
          epoch = now
          done = 0
        }
        break
      }
      case I2C_CONFIG: {
        i2cConfig = value
        break
      }
    }
  }

  /**
   * One transfer: the clock read once, due measurements completed, then the faults, then `run`
   * (which answers an error or nothing). Synchronous from the clock read on: transfers never
   * interleave.
   */
  const transfer = (
    operation: I2cBus.I2cError["operation"],
    run: (now: number) => I2cBus.I2cError | undefined
  ): Effect.Effect<void, I2cBus.I2cError> =>
    Effect.clockWith((clock) =>
      Effect.suspend(() => {
        const now = monotonicMsOf(clock)
        transactions++
        advance(now)
        const randomFault = faultRate > 0 && random.number() < faultRate
        const injected = pending[0]
        if (injected !== undefined) {
          if (--injected.left === 0) pending.shift()
          failedTransactions++
          return injected.fault._tag === "Timeout"
            ? Effect.never
            : Effect.fail(error(operation, injected.fault.code, "bus error (injected fault)"))
        }
        if (randomFault) {
          failedTransactions++
          return Effect.fail(error(operation, randomCodes[random.integer(randomCodes.length)]!, "bus error (random)"))
        }
        const failure = run(now)
        if (failure === undefined) return Effect.void
        failedTransactions++
        return Effect.fail(failure)
      })
    )

  const noAck = (operation: I2cBus.I2cError["operation"], to: number) =>
    error(operation, "ENXIO", `no device acknowledged address ${I2cBus.hex(to, 2)}`)

  const transport: I2cBus.I2cTransport = {
    maxReadBytes,
    write: (to, bytes) =>
      to === GENERAL_CALL
        ? transfer("reset", (now) => {
          if (bytes.length !== 1 || bytes[0] !== GENERAL_RESET) return noAck("reset", to)
          powerOn(now)
          resets++
        })
        : transfer("write", (now) => {
          if (to !== address) return noAck("write", to)
          if (bytes.length !== 4) {
            return error("write", "EINVAL", `a register write is 4 bytes (address, value), got ${bytes.length}`)
          }
          writeRegister((bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!, now)
        }),
    writeRead: (to, bytes, into) =>
      transfer("read", () => {
        if (into.length > maxReadBytes) {
          return error("read", "EINVAL", `a read message carries at most ${maxReadBytes} bytes, got ${into.length}`)
        }
        if (to !== address) return noAck("read", to)
        if (bytes.length !== 2) {
          return error("read", "EINVAL", `a read starts with 2 address bytes, got ${bytes.length}`)
        }
        const register = (bytes[0]! << 8) | bytes[1]!
        for (let i = 0; i < into.length; i++) {
          const word = readRegister((register + (i >> 1)) & 0xffff)
          into[i] = (i & 1) === 0 ? word >> 8 : word & 0xff
        }
      })
  }

  /** `f` on the device as it is now: the measurements due completed first. */
  const atNow = <A>(f: () => A): Effect.Effect<A> =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        advance(monotonicMsOf(clock))
        return f()
      })
    )

  powerOn(powerOnAt)

  return {
    address,
    transport,
    inject: (fault) =>
      atNow(() => {
        switch (fault._tag) {
          case "BusError":
          case "Timeout": {
            pending.push({ fault, left: fault.transactions })
            break
          }
          case "StuckDataReady": {
            stuckDataReady = true
            break
          }
          case "CorruptFrames": {
            corruptLeft += fault.measurements
            break
          }
        }
      }),
    clearFaults: atNow(() => {
      pending.length = 0
      stuckDataReady = false
      corruptLeft = 0
    }),
    stats: atNow((): Stats => ({ measurements, transactions, failedTransactions, resets })),
    status: atNow(() => status),
    control: atNow(() => control)
  }
}

/**
 * A powered-on emulated MLX90640 (measuring from now on, by the current `Clock`). Invalid
 * options (`faultRate` outside 0..1, `maxReadBytes` below 2) are defects.
 */
export const make = (options: Options = {}): Effect.Effect<EmulatedMlx90640Shape> =>
  Effect.clockWith((clock) => Effect.sync(() => makeDevice(options, monotonicMsOf(clock))))

/** An emulated MLX90640 and the `I2cBus` that reaches it (bus `options.bus`, default 1). */
export const layer = (options: Options = {}): Layer.Layer<I2cBus.I2cBus | EmulatedMlx90640> =>
  Layer.effectContext(
    Effect.map(make(options), (device) =>
      Context.make(EmulatedMlx90640, device).pipe(
        Context.add(I2cBus.I2cBus, I2cBus.make(device.transport, { bus: options.bus ?? 1, address: device.address }))
      ))
  )
