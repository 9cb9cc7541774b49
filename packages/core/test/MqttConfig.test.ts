/**
 * The MQTT settings as AppConfig reads them from the environment, and the device id and topics
 * derived from them and from the sensor.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Option, Redacted } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { AppConfig } from "../src/AppConfig.js"
import { brokerLabel, type MqttConfig } from "../src/MqttConfig.js"
import * as MqttDevice from "../src/MqttDevice.js"
import type { SensorInfo } from "../src/Sensor.js"
import * as TestMqtt from "./support/TestMqtt.js"

const load = (env: Record<string, string>) =>
  Effect.either(AppConfig.pipe(
    Effect.provide(
      AppConfig.layer.pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))))
    )
  ))

const mqttOf = (env: Record<string, string>) =>
  Effect.flatMap(load(env), (result) =>
    Either.isRight(result)
      ? Effect.succeed(result.right.mqtt)
      : Effect.dieMessage(`expected ${JSON.stringify(env)} to load: ${String(result.left)}`))

const refused = (env: Record<string, string>) =>
  Effect.flatMap(load(env), (result) =>
    Either.isLeft(result)
      ? Effect.succeed(String(result.left))
      : Effect.dieMessage(`expected ${JSON.stringify(env)} to be refused`))

const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

const info = (overrides: Partial<SensorInfo>): SensorInfo => ({
  kind: "mlx90640",
  model: "MLX90640",
  serial: "0A1B2C3D4E5F",
  refreshRateHz: 8,
  ...overrides
})

describe("MQTT settings", () => {
  it.effect("none without MQTT_URL; the defaults with it", () =>
    Effect.gen(function*() {
      assert.isTrue(Option.isNone(yield* mqttOf({})))
      assert.isTrue(Option.isNone(yield* mqttOf({ MQTT_URL: " ", MQTT_COMMANDS: "true" })))
      const mqtt = Option.getOrThrow(yield* mqttOf({ MQTT_URL: "mqtt://127.0.0.1:1883" }))
      const { url, ...rest } = mqtt
      assert.strictEqual(url.href, "mqtt://127.0.0.1:1883")
      assert.deepStrictEqual(rest, {
        ca: Option.none(),
        username: Option.none(),
        password: Option.none(),
        deviceId: Option.none(),
        deviceName: Option.none(),
        topicPrefix: Option.none(),
        stateIntervalSeconds: 5,
        imageIntervalSeconds: 10,
        imagePalette: "iron",
        imageScale: 10,
        discovery: true,
        discoveryPrefix: "homeassistant",
        commands: false
      })
    }))

  it.effect("reads every variable", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-mqtt-config-"))
      writeFileSync(join(dir, "ca.pem"), pem)
      const mqtt = Option.getOrThrow(
        yield* mqttOf({
          MQTT_URL: "mqtts://broker.example:8884",
          MQTT_CA_FILE: join(dir, "ca.pem"),
          MQTT_USERNAME: "kiln",
          MQTT_PASSWORD: "s3cret",
          DEVICE_ID: "kiln-1",
          DEVICE_NAME: "Kiln camera",
          MQTT_TOPIC_PREFIX: "site/a/kiln-1",
          MQTT_STATE_INTERVAL_SECONDS: "1",
          MQTT_IMAGE_INTERVAL_SECONDS: "0",
          MQTT_IMAGE_PALETTE: "grey",
          MQTT_IMAGE_SCALE: "4",
          MQTT_DISCOVERY: "false",
          MQTT_DISCOVERY_PREFIX: "ha",
          MQTT_COMMANDS: "true"
        })
      )
      assert.deepStrictEqual(Option.getOrThrow(mqtt.ca), { file: join(dir, "ca.pem"), pem })
      assert.strictEqual(Redacted.value(Option.getOrThrow(mqtt.password)), "s3cret")
      assert.notInclude(String(mqtt.password), "s3cret")
      assert.deepStrictEqual(
        [
          mqtt.username,
          mqtt.deviceId,
          mqtt.deviceName,
          mqtt.topicPrefix,
          mqtt.stateIntervalSeconds,
          mqtt.imageIntervalSeconds,
          mqtt.imagePalette,
          mqtt.imageScale,
          mqtt.discovery,
          mqtt.discoveryPrefix,
          mqtt.commands
        ],
        [
          Option.some("kiln"),
          Option.some("kiln-1"),
          Option.some("Kiln camera"),
          Option.some("site/a/kiln-1"),
          1,
          0,
          "grey",
          4,
          false,
          "ha",
          true
        ]
      )
      assert.strictEqual(brokerLabel(mqtt.url), "mqtts://broker.example:8884")
    }))

  it.effect("refuses bad values, naming the variable and what is allowed", () =>
    Effect.gen(function*() {
      const url = { MQTT_URL: "mqtt://h" }
      const cases: ReadonlyArray<readonly [Record<string, string>, string, string]> = [
        [{ MQTT_URL: "http://h" }, "MQTT_URL", "mqtt:// or mqtts://"],
        [{ MQTT_URL: "mqtt://" }, "MQTT_URL", "mqtt:// or mqtts://"],
        [{ ...url, DEVICE_ID: "Kiln 1" }, "DEVICE_ID", "lower-case letters, digits"],
        [{ ...url, MQTT_TOPIC_PREFIX: "site/#" }, "MQTT_TOPIC_PREFIX", "without wildcards"],
        [{ ...url, MQTT_TOPIC_PREFIX: "site/" }, "MQTT_TOPIC_PREFIX", "without wildcards"],
        [{ ...url, MQTT_DISCOVERY_PREFIX: "/ha" }, "MQTT_DISCOVERY_PREFIX", "without wildcards"],
        [{ ...url, MQTT_STATE_INTERVAL_SECONDS: "0.5" }, "MQTT_STATE_INTERVAL_SECONDS", "between 1 and"],
        [{ ...url, MQTT_IMAGE_INTERVAL_SECONDS: "0.5" }, "MQTT_IMAGE_INTERVAL_SECONDS", "0 (no image)"],
        [{ ...url, MQTT_IMAGE_PALETTE: "jet" }, "MQTT_IMAGE_PALETTE", "iron"],
        [{ ...url, MQTT_IMAGE_SCALE: "21" }, "MQTT_IMAGE_SCALE", "between 1 and 20"],
        [{ ...url, MQTT_COMMANDS: "maybe" }, "MQTT_COMMANDS", ""],
        [{ ...url, DEVICE_NAME: "x".repeat(65) }, "DEVICE_NAME", "at most 64"],
        [{ ...url, MQTT_CA_FILE: "/nonexistent/ca.pem" }, "MQTT_CA_FILE", "cannot read /nonexistent/ca.pem"]
      ]
      for (const [env, variable, message] of cases) {
        const error = yield* refused(env)
        assert.include(error, variable, JSON.stringify(env))
        assert.include(error, message, JSON.stringify(env))
      }
      const dir = mkdtempSync(join(tmpdir(), "ircam-mqtt-config-"))
      writeFileSync(join(dir, "not.pem"), "hello")
      writeFileSync(join(dir, "ca.pem"), pem)
      assert.include(
        yield* refused({ MQTT_URL: "mqtts://h", MQTT_CA_FILE: join(dir, "not.pem") }),
        "no PEM certificate"
      )
      // a CA verifies TLS, which mqtt:// does not have
      assert.include(yield* refused({ MQTT_URL: "mqtt://h", MQTT_CA_FILE: join(dir, "ca.pem") }), "MQTT_CA_FILE")
    }))
})

describe("MQTT device", () => {
  const config = (overrides: Partial<MqttConfig> = {}) => TestMqtt.config("mqtt://h", overrides)

  it("the id: the MLX90640's serial, else the host name; reduced to [a-z0-9_-]", () => {
    assert.strictEqual(MqttDevice.defaultId(info({}), "pi"), "0a1b2c3d4e5f")
    assert.strictEqual(MqttDevice.defaultId(info({ kind: "emulated", serial: "00AB" }), "pi"), "00ab")
    assert.strictEqual(
      MqttDevice.defaultId(info({ kind: "simulated", serial: "simulated-1" }), "Kiln.Local"),
      "kiln-local"
    )
    assert.strictEqual(MqttDevice.defaultId(info({ kind: "simulated" }), "--"), "ircam")
    assert.strictEqual(MqttDevice.sanitize(" Hall / Oven #2 "), "hall-oven-2")
    assert.strictEqual(MqttDevice.sanitize("a".repeat(63) + "-b"), "a".repeat(63))
  })

  it("the name and the topics", () => {
    const device = MqttDevice.make(config(), info({}), "pi")
    assert.deepStrictEqual(
      { id: device.id, name: device.name, prefix: device.prefix, model: device.model, serial: device.serial },
      {
        id: "0a1b2c3d4e5f",
        name: "ircam 0a1b2c3d4e5f",
        prefix: "ircam/0a1b2c3d4e5f",
        model: "MLX90640",
        serial: "0A1B2C3D4E5F"
      }
    )
    const named = MqttDevice.make(
      config({ deviceId: Option.some("kiln"), deviceName: Option.some("Kiln"), topicPrefix: Option.some("site/kiln") }),
      info({}),
      "pi"
    )
    assert.strictEqual(named.name, "Kiln")
    assert.deepStrictEqual(
      [
        named.topics.status,
        named.topics.state,
        named.topics.image,
        named.topics.events,
        named.topics.alarm(3),
        named.topics.commands.record,
        named.topics.commands.acknowledge,
        named.topics.commands.result
      ],
      [
        "site/kiln/status",
        "site/kiln/state",
        "site/kiln/image",
        "site/kiln/events",
        "site/kiln/alarm/3",
        "site/kiln/commands/record",
        "site/kiln/commands/acknowledge",
        "site/kiln/commands/result"
      ]
    )
    assert.strictEqual(MqttDevice.make(config({ deviceId: Option.some("kiln") }), info({}), "pi").prefix, "ircam/kiln")
  })
})
