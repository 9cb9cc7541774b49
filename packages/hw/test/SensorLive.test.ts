import { assert, describe, it } from "@effect/vitest"
import { AppConfig, type AppConfigShape } from "@ircam/core/AppConfig"
import { Sensor, SensorError } from "@ircam/core/Sensor"
import { Cause, Chunk, ConfigProvider, Effect, Exit, Fiber, Layer, Logger, Option, Stream, TestClock } from "effect"
import { autoFallbackNote, layer } from "../src/SensorLive.js"

interface LogEntry {
  readonly level: string
  readonly message: string
}

/** Builds `SensorLive.layer` for `sensor` and runs `use` with it, collecting what was logged. */
const withSensor = <A, E>(
  config: Partial<AppConfigShape>,
  use: Effect.Effect<A, E, Sensor>
) =>
  Effect.gen(function*() {
    const logs: Array<LogEntry> = []
    const capture = Logger.make(({ logLevel, message }) => {
      logs.push({ level: logLevel.label, message: [message].flat().map(String).join(" ") })
    })
    const exit = yield* use.pipe(
      Effect.provide(layer.pipe(Layer.provide(AppConfig.layerWith(config)))),
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

  it.effect("SENSOR=auto falls back to the simulated scene and says so in the info and the log", () =>
    Effect.gen(function*() {
      const { exit, logs } = yield* withSensor({ sensor: "auto" }, info)
      const sensorInfo = Exit.getOrElse(exit, () => assert.fail("the layer failed"))
      assert.strictEqual(sensorInfo.kind, "simulated")
      assert.strictEqual(sensorInfo.note, autoFallbackNote)
      assert.include(autoFallbackNote, "SENSOR=auto")
      assert.deepStrictEqual(logs, [{ level: "WARN", message: autoFallbackNote }])
    }))

  it.effect("the auto sensor delivers frames at the configured rate", () =>
    Effect.gen(function*() {
      const { exit } = yield* withSensor(
        { sensor: "auto", refreshRateHz: 4 },
        Effect.gen(function*() {
          const sensor = yield* Sensor
          const fiber = yield* sensor.frames.pipe(Stream.take(3), Stream.runCollect, Effect.fork)
          yield* TestClock.adjust("500 millis")
          return Chunk.toReadonlyArray(yield* Fiber.join(fiber))
        })
      )
      const frames = Exit.getOrElse(exit, () => assert.fail("the layer failed"))
      assert.deepStrictEqual(frames.map((f) => [f.sequence, f.capturedAt]), [[0, 0], [1, 250], [2, 500]])
      assert.strictEqual(frames[0]?.temperatures.length, 768)
    }))

  it.effect("SENSOR=mlx90640 fails with a SensorError that points to auto or simulated", () =>
    Effect.gen(function*() {
      const { exit } = yield* withSensor({ sensor: "mlx90640" }, info)
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      const failure = Cause.failureOption(exit.cause)
      assert.isTrue(Option.isSome(failure), "a typed failure, not a defect")
      const error = Option.getOrThrow(failure)
      assert.instanceOf(error, SensorError)
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.message, "SENSOR=mlx90640")
      assert.include(error.message, "use SENSOR=auto or SENSOR=simulated")
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
