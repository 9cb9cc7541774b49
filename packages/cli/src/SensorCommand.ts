/**
 * `ircam sensor …`: maintenance of the MLX90640 itself: is it answering (`probe`), its
 * calibration (`dump-eeprom`), and raw frames for bug reports (`capture`, replayable with
 * `ircam mlx90640 decode`). `--emulated` runs against the emulated MLX90640 (no hardware).
 *
 * Exit codes: 0 fine, 1 bad usage or an error, 2 no working sensor. (The options are in Commands.ts.)
 */
import { FileSystem } from "@effect/platform"
import { type AppConfigShape, config as appConfig } from "@ircam/core/AppConfig"
import type { SensorError } from "@ircam/core/Sensor"
import * as EmulatedMlx90640 from "@ircam/hw/EmulatedMlx90640"
import { hex, I2cBus, type I2cBusShape, type I2cError, isTransient } from "@ircam/hw/I2cBus"
import { subPageOf } from "@ircam/hw/Mlx90640Frame"
import * as Raw from "@ircam/hw/Mlx90640Raw"
import * as Registers from "@ircam/hw/Mlx90640Registers"
import { timingFor } from "@ircam/hw/Mlx90640Sensor"
import { explainUnavailable, linuxBus } from "@ircam/hw/SensorLive"
import { Console, Context, Data, Effect, Layer, Option } from "effect"
import type { CaptureOptions, DumpEepromOptions, ProbeOptions, SensorTarget } from "./Commands.js"

/** No MLX90640 answers (or it is not one): what to check. Exit code 2. */
export class SensorUnavailable extends Data.TaggedError("SensorUnavailable")<{ readonly message: string }> {
  readonly exitCode = 2
}

/** The sensor answered but something went wrong on the way (a timeout, a write). Exit code 1. */
export class SensorCommandError extends Data.TaggedError("SensorCommandError")<{ readonly message: string }> {}

interface Opened {
  readonly bus: I2cBusShape
  readonly config: AppConfigShape
  readonly model: string
  readonly eeprom: Uint16Array
}

const unavailable = (config: AppConfigShape, error: I2cError | SensorError) =>
  new SensorUnavailable({ message: explainUnavailable(config, error) })

/**
 * Opens the bus, makes the first transfer (the control register), and reads the EEPROM (until
 * two reads agree); any failure here is `SensorUnavailable`.
 */
const open = (options: SensorTarget) =>
  Effect.gen(function*() {
    const base = yield* appConfig
    const config: AppConfigShape = {
      ...base,
      i2cBus: Option.getOrElse(options.bus, () => base.i2cBus),
      i2cAddress: Option.getOrElse(options.address, () => base.i2cAddress)
    }
    const layer: Layer.Layer<I2cBus, I2cError> = options.emulated
      ? EmulatedMlx90640.layer({
        bus: config.i2cBus,
        address: config.i2cAddress,
        emissivity: config.emissivity,
        seed: config.simulationSeed
      })
      : linuxBus(config)
    const context = yield* Layer.build(layer).pipe(Effect.mapError((error) => unavailable(config, error)))
    const bus = Context.get(context, I2cBus)
    const eeprom = yield* Raw.readControl(bus).pipe(
      Effect.retry({ schedule: Raw.startupRetry, while: isTransient }),
      Effect.zipRight(Raw.readEeprom(bus)),
      Effect.mapError((error) => unavailable(config, error))
    )
    if (eeprom.every((word) => word === 0xffff) || eeprom.every((word) => word === 0)) {
      return yield* new SensorUnavailable({
        message: `the device on I²C bus ${config.i2cBus} at ${hex(config.i2cAddress, 2)} answers, but its EEPROM ` +
          `reads all ${eeprom[0] === 0 ? "0x0000" : "0xFFFF"}: is it really an MLX90640?`
      })
    }
    const model = options.emulated ? "MLX90640 (emulated)" : "MLX90640"
    return { bus, config, model, eeprom } satisfies Opened
  })

const fail = (error: I2cError | SensorError) => new SensorCommandError({ message: error.message })

const control = (bus: I2cBusShape) => Raw.readControl(bus).pipe(Effect.mapError(fail))

/** Writes `text` to `out`, or prints it when there is no `out`. */
const output = (out: Option.Option<string>, text: string) =>
  Option.match(out, {
    onNone: () => Console.log(text),
    onSome: (file) =>
      Effect.flatMap(FileSystem.FileSystem, (fs) => fs.writeFileString(file, `${text}\n`)).pipe(
        Effect.mapError((error) => new SensorCommandError({ message: `cannot write ${file}: ${error.message}` }))
      )
  })

/** `ircam sensor probe`. */
export const probe = ({ json, ...options }: ProbeOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const { bus, config, eeprom, model } = yield* open(options)
    const controlWord = yield* control(bus)
    const settings = Registers.settingsOf(controlWord)
    const report = {
      model,
      bus: config.i2cBus,
      address: hex(config.i2cAddress, 2),
      serial: Registers.serialOf(eeprom),
      control: hex(controlWord),
      refreshRateHz: settings.refreshRateHz,
      resolutionBits: settings.resolutionBits,
      pattern: settings.pattern
    }
    yield* Console.log(
      json ? JSON.stringify(report) : [
        `${model} on I²C bus ${report.bus} at ${report.address}`,
        `serial:       ${report.serial}`,
        `refresh rate: ${report.refreshRateHz} Hz (sub-pages per second)`,
        `resolution:   ${report.resolutionBits} bits`,
        `pattern:      ${report.pattern}`,
        `control:      ${report.control}`
      ].join("\n")
    )
  }))

/** `ircam sensor dump-eeprom`. */
export const dumpEeprom = ({ out, ...options }: DumpEepromOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const { eeprom } = yield* open(options)
    yield* output(out, JSON.stringify({ serial: Registers.serialOf(eeprom), eeprom: Array.from(eeprom) }))
  }))

/** Tries per sub-page: a read with unwritten words (or a missed sub-page) is read again. */
const SUBPAGE_ATTEMPTS = 4

/** `ircam sensor capture`. */
export const capture = ({ frames: count, out, ...options }: CaptureOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const { bus, eeprom } = yield* open(options)
    const timing = timingFor(Registers.settingsOf(yield* control(bus)).refreshRateHz)
    const frames: Array<ReadonlyArray<number>> = []
    for (let i = 0; i < count; i++) {
      const frame = yield* Raw.readSubPage(bus, timing).pipe(
        Effect.retry({
          times: SUBPAGE_ATTEMPTS - 1,
          while: (error) => error.reason !== "Bus" || isBusTransient(error)
        }),
        Effect.mapError(fail)
      )
      frames.push(Array.from(frame))
      yield* Console.error(`captured ${i + 1}/${count} (sub-page ${subPageOf(frame)})`)
    }
    yield* output(out, JSON.stringify({ eeprom: Array.from(eeprom), frames }))
  }))

const isBusTransient = (error: SensorError): boolean =>
  typeof error.cause === "object" && error.cause !== null && "_tag" in error.cause &&
  error.cause._tag === "I2cError" && isTransient(error.cause as I2cError)
