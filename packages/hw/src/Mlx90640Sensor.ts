/**
 * Mlx90640Sensor: the MLX90640 driver, a `Sensor` on an `I2cBus`.
 *
 * Start-up reads the EEPROM (until two reads agree, so a bus glitch cannot become a wrong
 * calibration), extracts the parameters and sets refresh rate, resolution and reading pattern.
 * Each sub-page is then: poll the status register until "new data" (with a deadline), clear it,
 * read the 832 RAM words and the control register, reject the read if it holds unwritten words
 * (0x7FFF), compute its 384 temperatures into the image. Once both sub-pages have been seen,
 * every sub-page yields a full frame (its half fresh, the other half one sub-page old), with the
 * EEPROM's broken and outlier pixels replaced from their neighbours. So `REFRESH_RATE_HZ` is
 * also the frame rate.
 *
 * Failures are expected: a failed sub-page is retried (capped, jittered exponential backoff); if
 * no sub-page succeeds for `watchdog` the sensor is re-initialised (general-call reset, settings
 * written again), and that is retried for ever. The frame stream itself never fails; what went
 * wrong is counted in `diagnostics`, which the `sensor` health check shows.
 */
import type { Frame } from "@ircam/core/Frame"
import { PIXELS } from "@ircam/core/Frame"
import { Sensor, type SensorDiagnostics, SensorError, type SensorInfo, type SensorShape } from "@ircam/core/Sensor"
import { monotonicMs } from "@ircam/core/Time"
import { Clock, Duration, Effect, Layer, Option, Schedule, Stream } from "effect"
import { I2cBus, type I2cBusShape, type I2cError, isTransient } from "./I2cBus.js"
import { explainStatus } from "./Mlx90640Dump.js"
import { correctBadPixels, FRAME_WORDS, makeDecoder, subPageOf } from "./Mlx90640Frame.js"
import { extractParameters, type Mlx90640Parameters } from "./Mlx90640Parameters.js"
import * as Raw from "./Mlx90640Raw.js"
import * as Registers from "./Mlx90640Registers.js"

export interface Options {
  /** sub-pages (and frames) per second, one of `Registers.refreshRates` */
  readonly refreshRateHz: number
  readonly emissivity: number
  /** ADC resolution in bits; default: the one the sensor was calibrated at (EEPROM) */
  readonly resolutionBits?: number
  /** default chess, the pattern the sensor is calibrated in */
  readonly pattern?: Registers.Pattern
  /** `emulated` when the bus is the emulated device */
  readonly kind?: "mlx90640" | "emulated"
  /** shown in health: how this sensor was chosen */
  readonly note?: string
}

/** Reflected temperature: the ambient minus 8 °C, the reference's choice for a sensor in open air. */
const TA_SHIFT = 8

/** Start-up transfers: a few quick retries (50, 100, 200 ms) of transient errors only. */
export const startupRetry = Raw.startupRetry

/** A failed sub-page: 20 ms, 40 ms … capped at 1 s, jittered. */
export const subPageRetry = Schedule.exponential("20 millis").pipe(
  Schedule.union(Schedule.spaced("1 second")),
  Schedule.jittered
)

/** Re-initialisation: 1 s, 2 s … capped at 30 s, jittered, for ever. */
export const reinitRetry = Schedule.exponential("1 second").pipe(
  Schedule.union(Schedule.spaced("30 seconds")),
  Schedule.jittered
)

/** Time the sensor gets after a general-call reset before it is configured (datasheet: 80 ms at power-on). */
const resetSettle = Duration.millis(80)

export interface Timing extends Raw.Timing {
  /** no good sub-page for this long re-initialises the sensor */
  readonly watchdog: Duration.Duration
}

export const timingFor = (refreshRateHz: number): Timing => {
  const period = 1000 / refreshRateHz
  const deadline = 2 * period + 500
  return {
    poll: Duration.millis(Math.min(50, Math.max(2, period / 8))),
    deadline: Duration.millis(deadline),
    watchdog: Duration.millis(Math.max(5000, 4 * deadline))
  }
}

/** The calibration parameters, or why the EEPROM cannot be used. */
const calibrate = (eeprom: Uint16Array): Effect.Effect<Mlx90640Parameters, SensorError> => {
  if (eeprom.every((word) => word === 0xffff) || eeprom.every((word) => word === 0)) {
    return new SensorError({
      reason: "Calibration",
      message: `the EEPROM reads all ${eeprom[0] === 0 ? "0x0000" : "0xFFFF"}: ` +
        "is the device at I2C_ADDRESS really an MLX90640?"
    })
  }
  const { params, status } = extractParameters(eeprom)
  return status === 0 ? Effect.succeed(params) : new SensorError({
    reason: "Calibration",
    message: `the EEPROM's calibration cannot be used (status ${status}: ${explainStatus(status)})`
  })
}

export const make = (bus: I2cBusShape, options: Options): Effect.Effect<SensorShape, SensorError | I2cError> =>
  Effect.gen(function*() {
    const control = Raw.readControl(bus)
    // the probe: the first transfer tells whether anything answers at all
    yield* control.pipe(Effect.retry({ schedule: startupRetry, while: isTransient }))
    const eeprom = yield* Raw.readEeprom(bus)
    const params = yield* calibrate(eeprom)
    const decoder = makeDecoder(params)
    const settings: Registers.Settings = {
      refreshRateHz: options.refreshRateHz,
      resolutionBits: options.resolutionBits ?? Registers.resolutions[params.resolutionEE]!,
      pattern: options.pattern ?? "chess"
    }
    const timing = timingFor(options.refreshRateHz)

    let configured = 0
    const configure = Effect.gen(function*() {
      const wanted = Registers.withSettings(yield* control, settings)
      yield* bus.write(Registers.CONTROL, wanted)
      const actual = yield* control
      if (actual !== wanted) {
        return yield* new SensorError({
          reason: "Bus",
          message: `the control register reads back 0x${actual.toString(16)} after writing 0x${wanted.toString(16)}`
        })
      }
      configured = wanted
      yield* bus.write(Registers.STATUS, Registers.STATUS_CLEAR)
    }).pipe(Effect.mapError((error) => error._tag === "I2cError" ? Raw.busError(error) : error))

    yield* configure.pipe(Effect.retry({ schedule: startupRetry }))

    // Diagnostics
    const counters = { errors: 0, timeouts: 0, corruptFrames: 0, retries: 0, reinitialisations: 0, restarts: 0 }
    let lastError: SensorDiagnostics["lastError"] = null
    const record = (error: SensorError) =>
      Effect.gen(function*() {
        counters.errors++
        if (error.reason === "Timeout") counters.timeouts++
        if (error.reason === "CorruptFrame") counters.corruptFrames++
        lastError = { at: yield* Clock.currentTimeMillis, message: error.message }
        yield* Effect.logDebug("MLX90640 sub-page failed", error.message)
      })

    // Frame state: reused buffers; `seen` marks the sub-pages folded into `image` since (re)start.
    const frame = new Uint16Array(FRAME_WORDS)
    const image = new Float32Array(PIXELS)
    let seen = 0
    let sequence = 0

    const readSubPage: Effect.Effect<Option.Option<Frame>, SensorError> = Effect.gen(function*() {
      const words = yield* Raw.readSubPageUnchecked(bus, timing)
      const subPage = subPageOf(words)
      const controlNow = words[FRAME_WORDS - 2]!
      if (controlNow !== configured) {
        // the sensor restarted (a brown-out resets its settings to the EEPROM's)
        yield* Effect.logWarning(`MLX90640 control register is 0x${controlNow.toString(16)}; configuring it again`)
        seen = 0
        yield* configure
        return yield* new SensorError({
          reason: "Bus",
          message: `the sensor's settings changed to 0x${controlNow.toString(16)} (did it restart?); configured again`
        })
      }
      frame.set(yield* Raw.checkWritten(words))
      const vdd = decoder.vdd(frame)
      const ta = decoder.ta(frame)
      decoder.calculateTo(frame, options.emissivity, Math.fround(ta - TA_SHIFT), image)
      seen |= 1 << subPage
      if (seen !== 3) return Option.none()
      const temperatures = image.slice()
      const mode = (controlNow & Registers.CONTROL_CHESS) !== 0 ? 1 : 0
      correctBadPixels(params.brokenPixels, temperatures, mode, params)
      correctBadPixels(params.outlierPixels, temperatures, mode, params)
      return Option.some<Frame>({
        temperatures,
        capturedAt: yield* Clock.currentTimeMillis,
        monotonicMs: yield* monotonicMs,
        sequence: sequence++,
        ambient: ta,
        vdd
      })
    })

    const reinitialise = Effect.gen(function*() {
      counters.reinitialisations++
      seen = 0
      // a device that does not acknowledge the general call is fine: the settings are written anyway
      yield* Effect.ignore(bus.generalReset)
      yield* Effect.sleep(resetSettle)
      yield* configure
      yield* Effect.logInfo("MLX90640 re-initialised")
    }).pipe(
      Effect.tapError(record),
      Effect.retry(reinitRetry),
      Effect.orDie // unreachable: reinitRetry never gives up
    )

    const nextSubPage: Effect.Effect<Option.Option<Frame>> = readSubPage.pipe(
      Effect.tapError(record),
      Effect.retry(
        subPageRetry.pipe(
          Schedule.upTo(timing.watchdog),
          Schedule.tapOutput(() => Effect.sync(() => counters.retries++))
        )
      ),
      Effect.catchAll((error) =>
        Effect.logWarning("MLX90640 failed for too long; re-initialising", error.message).pipe(
          Effect.zipRight(reinitialise),
          Effect.as(Option.none())
        )
      )
    )

    const info: SensorInfo = {
      kind: options.kind ?? "mlx90640",
      model: options.kind === "emulated" ? "MLX90640 (emulated)" : "MLX90640",
      serial: Registers.serialOf(eeprom),
      refreshRateHz: options.refreshRateHz,
      ...(options.note === undefined ? {} : { note: options.note })
    }
    yield* Effect.logInfo("MLX90640 ready").pipe(
      Effect.annotateLogs({ bus: bus.bus, address: `0x${bus.address.toString(16)}`, serial: info.serial })
    )

    return Sensor.of({
      info,
      frames: Stream.unwrap(Effect.sync(() => {
        // a new consumer starts from a fresh image
        if (sequence > 0 || seen !== 0) counters.restarts++
        seen = 0
        return Stream.repeatEffect(nextSubPage).pipe(Stream.filterMap((frame) => frame))
      })),
      diagnostics: Effect.sync(() => ({ lastError, counters: { ...counters } }))
    })
  }).pipe(Effect.annotateLogs({ service: "Mlx90640Sensor" }))

/** The driver as the `Sensor`, on the `I2cBus` in context. */
export const layer = (options: Options): Layer.Layer<Sensor, SensorError | I2cError, I2cBus> =>
  Layer.effect(Sensor, Effect.flatMap(I2cBus, (bus) => make(bus, options)))
