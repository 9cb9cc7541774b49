/**
 * The MQTT tests' kit: settings whose waits are short, an MQTT configuration with the defaults,
 * and what tests on the real clock need (the broker's sockets are real): waiting for a condition
 * in real time, and doing without Effect's default logger.
 */
import { Duration, Effect, Logger, Option } from "effect"
import { MqttSettings } from "../../src/Mqtt.js"
import { defaults, type MqttConfig } from "../../src/MqttConfig.js"

/** Reconnections within a fraction of a second, a confirmed publish waiting half a second for a connection. */
export const fast = MqttSettings.of({
  reconnectBase: Duration.millis(100),
  reconnectCap: Duration.millis(400),
  connectTimeout: Duration.seconds(5),
  keepalive: Duration.seconds(30),
  publishTimeout: Duration.seconds(5),
  connectWait: Duration.millis(500),
  stopTimeout: Duration.seconds(2)
})

/** The MQTT settings for the broker at `url`: the defaults (nothing optional set) and `overrides`. */
export const config = (url: string, overrides: Partial<MqttConfig> = {}): MqttConfig => ({
  url: new URL(url),
  ca: Option.none(),
  username: Option.none(),
  password: Option.none(),
  deviceId: Option.none(),
  deviceName: Option.none(),
  topicPrefix: Option.none(),
  ...defaults,
  ...overrides
})

/** `effect` again and again, in real time, until `until` likes its value; a defect (with the last value) after 10 s. */
export const eventually = <A, E, R>(effect: Effect.Effect<A, E, R>, until: (a: A) => boolean, what: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 10_000
    for (;;) {
      const value = yield* effect
      if (until(value)) return value
      if (Date.now() > deadline) {
        return yield* Effect.dieMessage(`timed out waiting for ${what}; the last value: ${JSON.stringify(value)}`)
      }
      yield* pause(20)
    }
  })

/** A pause in real time. */
export const pause = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

/** The test without Effect's default logger (tests on the real clock keep it): the core logs a lot. */
export const quietly = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, Logger.remove(Logger.defaultLogger))
