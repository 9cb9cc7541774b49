/**
 * `ircam sensor …`: maintenance of the MLX90640 itself: is it answering (`probe`), its
 * calibration (`dump-eeprom`), and raw frames for bug reports (`capture`, replayable with
 * `ircam mlx90640 decode`). `--emulated` runs against the emulated MLX90640 (no hardware).
 *
 * Exit codes: 0 fine, 1 bad usage or an error, 2 no working sensor.
 */
import { Command, Options } from "@effect/cli"
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
import { Console, Context, Data, Effect, Layer, Option, ParseResult, Schema } from "effect"

/** No MLX90640 answers (or it is not one): what to check. Exit code 2. */
export class SensorUnavailable extends Data.TaggedError("SensorUnavailable")<{ readonly message: string }> {
  readonly exitCode = 2
}

/** The sensor answered but something went wrong on the way (a timeout, a write). Exit code 1. */
export class SensorCommandError extends Data.TaggedError("SensorCommandError")<{ readonly message: string }> {}

const Address = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (text, _, ast) => {
    const t = text.trim()
    const value = /^0x[0-9a-f]{1,2}$/i.test(t) ? parseInt(t, 16) : /^[0-9]{1,3}$/.test(t) ? Number(t) : NaN
    return value >= 0x08 && value <= 0x77
      ? ParseResult.succeed(value)
      : ParseResult.fail(
        new ParseResult.Type(ast, text, `--address must be a 7-bit I²C address 0x08..0x77 (like 0x33), got "${text}"`)
      )
  },
  encode: (n) => ParseResult.succeed(hex(n, 2))
})

const target = {
  bus: Options.integer("bus").pipe(
    Options.withSchema(Schema.Int.pipe(Schema.between(0, 255))),
    Options.optional,
    Options.withDescription("I²C bus number, /dev/i2c-N (default: I2C_BUS, else 1)")
  ),
  address: Options.text("address").pipe(
    Options.withSchema(Address),
    Options.optional,
    Options.withDescription("the sensor's 7-bit address, 0x33 or 51 (default: I2C_ADDRESS, else 0x33)")
  ),
  emulated: Options.boolean("emulated").pipe(
    Options.withDescription("use the emulated MLX90640 instead of the hardware (no I²C needed)")
  )
}

interface Target {
  readonly bus: Option.Option<number>
  readonly address: Option.Option<number>
  readonly emulated: boolean
}

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
const open = (options: Target) =>
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

const outOption = (what: string) =>
  Options.file("out").pipe(
    Options.withAlias("o"),
    Options.optional,
    Options.withDescription(`write the ${what} to this file instead of stdout`)
  )

const probe = Command.make("probe", {
  ...target,
  json: Options.boolean("json").pipe(Options.withDescription("print JSON"))
}, ({ json, ...options }) =>
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
  }))).pipe(
    Command.withDescription(
      "Check that an MLX90640 answers; print its serial number and the settings in its control register.\n" +
        "Exit 2 (with what to check) when none answers.\n" +
        "Examples: ircam sensor probe | ircam sensor probe --bus 1 --address 0x33 --json | ircam sensor probe --emulated"
    )
  )

const dumpEeprom = Command.make(
  "dump-eeprom",
  { ...target, out: outOption("EEPROM") },
  ({ out, ...options }) =>
    Effect.scoped(Effect.gen(function*() {
      const { eeprom } = yield* open(options)
      yield* output(out, JSON.stringify({ serial: Registers.serialOf(eeprom), eeprom: Array.from(eeprom) }))
    }))
).pipe(
  Command.withDescription(
    "Print the 832 EEPROM (calibration) words as JSON {serial, eeprom}, read until two reads agree.\n" +
      "Examples: ircam sensor dump-eeprom | ircam sensor dump-eeprom --out eeprom.json"
  )
)

const Frames = Schema.Int.pipe(
  Schema.between(1, 10_000),
  Schema.annotations({ message: () => "-n must be a whole number of frames from 1 to 10000" })
)

/** Tries per sub-page: a read with unwritten words (or a missed sub-page) is read again. */
const SUBPAGE_ATTEMPTS = 4

const capture = Command.make("capture", {
  ...target,
  frames: Options.integer("frames").pipe(
    Options.withAlias("n"),
    Options.withSchema(Frames),
    Options.withDefault(2),
    Options.withDescription("how many sub-pages to record (2 make one full image)")
  ),
  out: outOption("dump")
}, ({ frames: count, out, ...options }) =>
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
  }))).pipe(
    Command.withDescription(
      "Record the raw EEPROM and sub-pages as a dump {eeprom, frames} (834 words each: RAM 0x0400..0x073F, " +
        "control, sub-page), for bug reports; replay with `ircam mlx90640 decode`. Progress goes to stderr.\n" +
        "Examples: ircam sensor capture -n 4 --out dump.json | ircam sensor capture --emulated -n 2 -o dump.json"
    )
  )

const isBusTransient = (error: SensorError): boolean =>
  typeof error.cause === "object" && error.cause !== null && "_tag" in error.cause &&
  error.cause._tag === "I2cError" && isTransient(error.cause as I2cError)

export const command = Command.make("sensor").pipe(
  Command.withDescription("MLX90640 maintenance: probe, dump-eeprom, capture (add --emulated to try without hardware)"),
  Command.withSubcommands([probe, dumpEeprom, capture])
)
