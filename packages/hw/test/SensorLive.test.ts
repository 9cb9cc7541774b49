import { assert, describe, it } from "@effect/vitest"
import { AppConfig, type AppConfigShape } from "@ircam/core/AppConfig"
import { Sensor, SensorError } from "@ircam/core/Sensor"
import { Cause, Chunk, ConfigProvider, Effect, Exit, Fiber, Layer, Logger, Option, Stream, TestClock } from "effect"
import { make as makeDevice } from "../src/EmulatedMlx90640.js"
import { I2cBus, I2cError, make as makeBus } from "../src/I2cBus.js"
import { type BusOpener, layer, makeLayer } from "../src/SensorLive.js"

/** The emulated device at 0x33 on bus 1, addressed at I2C_ADDRESS. */
const emulatedBus: BusOpener = (config) =>
  Layer.effect(
    I2cBus,
    Effect.map(makeDevice(), (device) => makeBus(device.transport, { bus: 1, address: config.i2cAddress }))
  )

const failingBus = (code: string): BusOpener => () =>
  Layer.fail(new I2cError({ operation: "open", code, message: `the bus failed with ${code}` })) as Layer.Layer<
    I2cBus,
    I2cError
  >

interface LogEntry {
  readonly level: string
  readonly message: string
}

/** Builds `SensorLive.layer` for `sensor` and runs `use` with it, collecting what was logged. */
const withSensor = <A, E>(
  config: Partial<AppConfigShape>,
  use: Effect.Effect<A, E, Sensor>,
  openBus?: BusOpener
) =>
  Effect.gen(function*() {
    const logs: Array<LogEntry> = []
    const capture = Logger.make(({ logLevel, message }) => {
      logs.push({ level: logLevel.label, message: [message].flat().map(String).join(" ") })
    })
    const exit = yield* use.pipe(
      Effect.provide((openBus === undefined ? layer : makeLayer(openBus)).pipe(
        Layer.provide(AppConfig.layerWith(config))
      )),
      Effect.provide(Logger.add(capture)),
      Effect.exit
    )
    return { exit, logs }
  })

const info = Effect.map(Sensor, (sensor) => sensor.info)

describe("SensorLive.layer", () => {
  it.effect("SENSOR=simulated gives the simulated scene without a note", () =>
    Effect.gen(function*() {
      const { exit, logs } = yield* withSensor({ sensor: "simulated", simulationSeed: 5, refreshRateHz: 2 }, info)
      assert.deepStrictEqual(Exit.getOrElse(exit, () => assert.fail("the layer failed")), {
        kind: "simulated",
        model: "simulated MLX90640 scene",
        serial: "simulated-5",
        refreshRateHz: 2
      })
      assert.deepStrictEqual(logs, [{ level: "INFO", message: "sensor: simulated scene" }])
    }))

  it.effect("SENSOR=auto falls back to the simulated scene when no bus opens, and says why in the info and the log", () =>
    Effect.gen(function*() {
      const { exit, logs } = yield* withSensor({ sensor: "auto", i2cBus: 250 }, info)
      const sensorInfo = Exit.getOrElse(exit, () => assert.fail("the layer failed"))
      assert.strictEqual(sensorInfo.kind, "simulated")
      assert.match(
        sensorInfo.note!,
        /^SENSOR=auto: no MLX90640 answered on I²C bus 250 at 0x33 \(.*\/dev\/i2c-250 does not exist.*\); serving the simulated scene$/
      )
      assert.deepStrictEqual(logs, [{ level: "WARN", message: sensorInfo.note! }])
    }))

  it.effect("SENSOR=auto uses the MLX90640 when it answers", () =>
    Effect.gen(function*() {
      const { exit } = yield* withSensor(
        { sensor: "auto" },
        Effect.gen(function*() {
          const sensor = yield* Sensor
          const fiber = yield* sensor.frames.pipe(Stream.take(1), Stream.runCollect, Effect.fork)
          yield* TestClock.adjust("1 second")
          return { info: sensor.info, frames: yield* Fiber.join(fiber) }
        }),
        emulatedBus
      )
      const { frames, info: sensorInfo } = Exit.getOrElse(exit, () => assert.fail("the layer failed"))
      assert.strictEqual(sensorInfo.kind, "mlx90640")
      assert.strictEqual(sensorInfo.note, "SENSOR=auto: the MLX90640 answered")
      assert.strictEqual(Chunk.size(frames), 1)
    }))

  it.effect("the simulated fallback delivers frames at the configured rate", () =>
    Effect.gen(function*() {
      const { exit } = yield* withSensor(
        { sensor: "auto", refreshRateHz: 4 },
        Effect.gen(function*() {
          const sensor = yield* Sensor
          const fiber = yield* sensor.frames.pipe(Stream.take(3), Stream.runCollect, Effect.fork)
          yield* TestClock.adjust("500 millis")
          return Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        }),
        failingBus("ENOENT")
      )
      const frames = Exit.getOrElse(exit, () => assert.fail("the layer failed"))
      assert.deepStrictEqual(frames.map((f) => [f.sequence, f.capturedAt]), [[0, 0], [1, 250], [2, 500]])
      assert.strictEqual(frames[0]?.temperatures.length, 768)
    }))

  const expectUnavailable = (exit: Exit.Exit<unknown, unknown>) => {
    if (Exit.isSuccess(exit)) return assert.fail("start-up should fail")
    const failure = Cause.failureOption(exit.cause)
    assert.isTrue(Option.isSome(failure), "a typed failure, not a defect")
    const error = Option.getOrThrow(failure)
    assert.instanceOf(error, SensorError)
    assert.strictEqual(error.reason, "Unavailable")
    return error.message
  }

  const checks = {
    enabled: "is I²C enabled (sudo raspi-config → Interface Options → I2C, or dtparam=i2c_arm=on",
    bus: "is I2C_BUS=1 the bus the sensor is on (ls /dev/i2c-*)?",
    permissions: "may this user open /dev/i2c-1 (sudo usermod -aG i2c $USER, then log in again)?",
    address: "does the sensor answer at I2C_ADDRESS=0x33 (i2cdetect -y 1;"
  }

  for (
    const [code, first] of [
      ["ENOENT", checks.enabled],
      ["EACCES", checks.permissions],
      ["ENXIO", checks.address],
      ["EREMOTEIO", checks.address],
      ["ENOSYS", checks.enabled]
    ] as const
  ) {
    it.effect(`SENSOR=mlx90640 stops start-up on ${code}, saying what to check, most likely first`, () =>
      Effect.gen(function*() {
        const { exit } = yield* withSensor({ sensor: "mlx90640" }, info, failingBus(code))
        const message = expectUnavailable(exit)
        assert.match(message, new RegExp(`^SENSOR=mlx90640: no working MLX90640 on I²C bus 1 at 0x33: .*${code}`))
        for (const check of Object.values(checks)) assert.include(message, check)
        assert.strictEqual(message.indexOf("Check: ") + "Check: ".length, message.indexOf(first))
      }))
  }

  it.effect("SENSOR=mlx90640 on a bus that does not exist names the device file", () =>
    Effect.gen(function*() {
      const { exit } = yield* withSensor({ sensor: "mlx90640", i2cBus: 250 }, info)
      const message = expectUnavailable(exit)
      assert.include(message, "/dev/i2c-250")
      assert.include(message, "is I2C_BUS=250 the bus the sensor is on")
    }))

  it.effect("SENSOR=mlx90640 at an address where nothing answers", () =>
    Effect.gen(function*() {
      // the probe is retried a few times (50, 100, 200 ms) before start-up gives up
      const fiber = yield* Effect.fork(withSensor({ sensor: "mlx90640", i2cAddress: 0x34 }, info, emulatedBus))
      yield* TestClock.adjust("1 second")
      const { exit } = yield* Fiber.join(fiber)
      const message = expectUnavailable(exit)
      assert.include(message, "no working MLX90640 on I²C bus 1 at 0x34: I²C read of 1 word(s) at 0x800D")
      assert.include(message, "failed (ENXIO)")
      assert.include(message, "Check: does the sensor answer at I2C_ADDRESS=0x34 (i2cdetect -y 1;")
    }))

  it.effect("SENSOR=emulated runs the real driver on the emulated device, and says it is not a measurement", () =>
    Effect.gen(function*() {
      const { exit, logs } = yield* withSensor(
        { sensor: "emulated", emulatorFaultRate: 0.05, refreshRateHz: 16 },
        Effect.gen(function*() {
          const sensor = yield* Sensor
          const fiber = yield* sensor.frames.pipe(Stream.take(20), Stream.runCollect, Effect.fork)
          for (let i = 0; i < 200 && Option.isNone(yield* Fiber.poll(fiber)); i++) yield* TestClock.adjust("100 millis")
          return { info: sensor.info, frames: yield* Fiber.join(fiber), diagnostics: yield* sensor.diagnostics! }
        })
      )
      const { diagnostics, frames, info: sensorInfo } = Exit.getOrElse(exit, () => assert.fail("the layer failed"))
      assert.strictEqual(sensorInfo.kind, "emulated")
      assert.strictEqual(sensorInfo.model, "MLX90640 (emulated)")
      assert.include(sensorInfo.note, "not a measurement")
      assert.deepStrictEqual(logs.filter((l) => l.level === "WARN"), [{ level: "WARN", message: sensorInfo.note! }])
      assert.strictEqual(Chunk.size(frames), 20)
      assert.isAbove(diagnostics.counters["errors"]!, 0, "the injected faults happened and were recovered from")
    }))

  it.effect("MOCK_SENSOR=1 read from the environment overrides SENSOR=mlx90640", () =>
    Effect.gen(function*() {
      const sensorInfo = yield* info.pipe(
        Effect.provide(layer),
        Effect.provide(AppConfig.layer),
        Effect.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
          new Map([["SENSOR", "mlx90640"], ["MOCK_SENSOR", "1"]])
        )))
      )
      assert.strictEqual(sensorInfo.kind, "simulated")
      assert.isUndefined(sensorInfo.note)
    }))
})
