/**
 * The core test kit: the core's layers on an in-memory database, on whatever clock the test
 * runs (the TestClock in `it.effect`). Build them fresh for each test with `Effect.provide`, or
 * once for a block with @effect/vitest's `layer`.
 */
import { Context, Effect, Layer, Queue, Stream } from "effect"
import { AppConfig, type AppConfigShape } from "../../src/AppConfig.js"
import * as Core from "../../src/Core.js"
import * as Database from "../../src/Database.js"
import type { Frame } from "../../src/Frame.js"
import { Sensor, type SensorInfo } from "../../src/Sensor.js"
import * as Storage from "../../src/Storage.js"

/** The defaults, an in-memory database, and `overrides`. */
export const config = (overrides: Partial<AppConfigShape> = {}): Layer.Layer<AppConfig> =>
  AppConfig.layerWith({ databasePath: Database.memory, ...overrides })

/** The database and its repositories, and the AppConfig. */
export const storage = (overrides: Partial<AppConfigShape> = {}) =>
  Storage.layer.pipe(Layer.provideMerge(config(overrides)), Layer.orDie)

/** Where the test pushes the frames the sensor delivers (`push`). */
export class FrameFeed extends Context.Tag("@ircam/core/test/FrameFeed")<FrameFeed, Queue.Queue<Frame>>() {}

/** A sensor delivering the frames the test pushes, at `REFRESH_RATE_HZ` as far as health is concerned. */
export const fedSensor = (info: Partial<SensorInfo> = {}): Layer.Layer<Sensor | FrameFeed, never, AppConfig> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const { refreshRateHz } = yield* AppConfig
    const queue = yield* Queue.unbounded<Frame>()
    return Layer.merge(
      Sensor.layerTest(Stream.fromQueue(queue), { refreshRateHz, ...info }),
      Layer.succeed(FrameFeed, queue)
    )
  }))

/** Hands frames to the sensor of `fed`. */
export const push = (...frames: ReadonlyArray<Frame>) =>
  Effect.flatMap(FrameFeed, (feed) => Queue.offerAll(feed, frames))

/** The whole core (every service running) on `sensor`, with the AppConfig and whatever `sensor` adds. */
export const withSensor = <S>(
  sensor: Layer.Layer<Sensor | S, never, AppConfig>,
  overrides: Partial<AppConfigShape> = {}
) => Core.layer.pipe(Layer.provideMerge(sensor), Layer.provideMerge(config(overrides)), Layer.orDie)

/** The whole core on a sensor the test feeds with `push`. */
export const fed = (overrides: Partial<AppConfigShape> = {}) => withSensor(fedSensor(), overrides)
