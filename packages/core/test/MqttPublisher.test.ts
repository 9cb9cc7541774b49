/**
 * What ircam publishes on MQTT, checked by a subscriber on a real broker (Mosquitto with a
 * password file and an ACL): Home Assistant discovery for every entity, validated against the
 * keys and types the MQTT integration documents, following zones and rules (and cleaning up
 * configs left by an earlier run); the state and the heat map; alarm transitions once each and in
 * order, per-rule alarm states, recordings; alarm transitions made while the broker is down, or
 * before ircam restarts, delivered once it is back; commands when enabled, nothing when not.
 *
 * The whole core runs on a sensor the test feeds, on the real clock (the broker's sockets are
 * real); the intervals are shortened.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Mosquitto from "@ircam/test-support/Mosquitto"
import { type Received, subscribe, type Subscriber } from "@ircam/test-support/MqttSubscriber"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { RuleInput } from "../src/Alarm.js"
import { AlarmEngine } from "../src/AlarmEngine.js"
import type { AppConfigShape } from "../src/AppConfig.js"
import { EventStore } from "../src/EventStore.js"
import { Health } from "../src/Health.js"
import { MqttSettings } from "../src/Mqtt.js"
import type { MqttConfig } from "../src/MqttConfig.js"
import { Notifier } from "../src/Notifier.js"
import { ZoneRepo } from "../src/ZoneRepo.js"
import * as TestCore from "./support/TestCore.js"
import * as TestFrames from "./support/TestFrames.js"
import * as TestLogs from "./support/TestLogs.js"
import * as TestMqtt from "./support/TestMqtt.js"

const unavailable = await Mosquitto.unavailable()
if (unavailable !== undefined) {
  console.warn(`packages/core/test/MqttPublisher.test.ts: skipped, Mosquitto is not available: ${unavailable}`)
}

const users = { ircam: "ircam-secret", watcher: "watcher-secret" }
// ircam may use its own topics and Home Assistant's; the watcher (Home Assistant, a dashboard) all
const acl = [
  "user ircam",
  "topic readwrite ircam/#",
  "topic readwrite homeassistant/#",
  "user watcher",
  "topic readwrite #"
].join("\n") + "\n"

let broker: Mosquitto.Broker

beforeAll(async () => {
  if (unavailable === undefined) broker = await Mosquitto.start({ users, acl })
})
afterAll(async () => {
  await broker?.close()
})

/** The whole core, publishing to the broker as device `id`. */
const core = (id: string, mqtt: Partial<MqttConfig> = {}, overrides: Partial<AppConfigShape> = {}) =>
  TestCore.fed({
    mqtt: Option.some(TestMqtt.config(broker.url, {
      username: Option.some("ircam"),
      password: Option.some(Redacted.make(users.ircam)),
      deviceId: Option.some(id),
      deviceName: Option.some(`Camera ${id}`),
      stateIntervalSeconds: 1,
      imageIntervalSeconds: 1,
      imageScale: 4,
      ...mqtt
    })),
    preEventSeconds: 0,
    postEventSeconds: 1,
    maxZones: 4,
    publicUrl: Option.some(new URL("http://ircam.local:8000/")),
    ...overrides
  }).pipe(Layer.provide(Layer.succeed(MqttSettings, TestMqtt.fast)))

const watch = (filters: ReadonlyArray<string>, session?: string) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      subscribe(broker.url, filters, {
        username: "watcher",
        password: users.watcher,
        ...(session === undefined ? {} : { session })
      })
    ),
    (watcher) => Effect.promise(() => watcher.close())
  )

const waitFor = (watcher: Subscriber, matches: (message: Received) => boolean, from = 0) =>
  Effect.promise(() => watcher.waitFor(matches, 10_000, from))

const oven = { name: "Oven", x: 0, y: 0, width: 4, height: 4 }
const hot: RuleInput = {
  name: "Oven too hot",
  zoneId: null,
  metric: "max",
  direction: "above",
  threshold: 50,
  hysteresis: 1,
  delaySeconds: 0,
  severity: "critical",
  enabled: true
}

const frame = (temperatures: number) =>
  Effect.flatMap(TestFrames.now({ temperatures: TestFrames.withRect(oven, temperatures, 20) }), (f) => TestCore.push(f))

const json = (message: Received) => JSON.parse(message.text) as Record<string, unknown>

// --- Home Assistant's documented keys, per component (https://www.home-assistant.io/integrations/mqtt/)

const strict = { parseOptions: { onExcessProperty: "error" as const } }
const common = {
  name: Schema.String,
  unique_id: Schema.String,
  availability_topic: Schema.String,
  device: Schema.Struct({
    identifiers: Schema.NonEmptyArray(Schema.String),
    name: Schema.String,
    manufacturer: Schema.String,
    model: Schema.String,
    serial_number: Schema.String,
    sw_version: Schema.String,
    configuration_url: Schema.optional(Schema.String)
  }).annotations(strict),
  origin: Schema.Struct({ name: Schema.String, sw_version: Schema.optional(Schema.String) }).annotations(strict),
  icon: Schema.optional(Schema.String.pipe(Schema.startsWith("mdi:"))),
  entity_category: Schema.optional(Schema.Literal("diagnostic", "config")),
  json_attributes_topic: Schema.optional(Schema.String)
}
const Template = Schema.String.pipe(Schema.pattern(/^\{\{ .* \}\}$/))
const components: Record<string, Schema.Schema.AnyNoContext> = {
  sensor: Schema.Struct({
    ...common,
    state_topic: Schema.String,
    value_template: Template,
    device_class: Schema.optional(Schema.Literal("temperature", "enum")),
    state_class: Schema.optional(Schema.Literal("measurement", "total_increasing")),
    unit_of_measurement: Schema.optional(Schema.String),
    suggested_display_precision: Schema.optional(Schema.NonNegativeInt),
    options: Schema.optional(Schema.Array(Schema.String))
  }).pipe(
    Schema.filter((c) =>
      c.device_class !== "temperature" || (c.unit_of_measurement === "°C" && c.state_class === "measurement") ||
      "a temperature is in °C, a measurement"
    ),
    Schema.filter((c) => (c.device_class === "enum") === (c.options !== undefined) || "an enum lists its options")
  ).annotations(strict),
  binary_sensor: Schema.Struct({
    ...common,
    state_topic: Schema.String,
    value_template: Template,
    device_class: Schema.Literal("heat", "cold")
  }).annotations(strict),
  image: Schema.Struct({ ...common, image_topic: Schema.String, content_type: Schema.Literal("image/png") })
    .annotations(strict),
  button: Schema.Struct({ ...common, command_topic: Schema.String, payload_press: Schema.String }).annotations(strict)
}

/** The configs on the device's config topics as the broker has them now (the latest message of each topic). */
const configsOf = (watcher: Subscriber, id: string) => {
  const latest = new Map<string, Received>()
  for (const message of watcher.messages) {
    if (new RegExp(`^homeassistant/[a-z_]+/${id}/[a-z0-9_]+/config$`).test(message.topic)) {
      latest.set(message.topic, message)
    }
  }
  return new Map([...latest].filter(([, message]) => message.text !== ""))
}

const objectIds = (configs: ReadonlyMap<string, Received>) =>
  [...configs.keys()].map((topic) => topic.split("/")[3]).sort()

describe.skipIf(unavailable !== undefined)("MqttPublisher", () => {
  it.scopedLive(
    "discovery: every entity as documented; zones and rules followed; leftovers removed; again for Home Assistant",
    () =>
      Effect.gen(function*() {
        const watcher = yield* watch(["homeassistant/#", "ircam/disc/#"])
        // a zone deleted while ircam was stopped left its config on the broker
        yield* Effect.promise(() =>
          watcher.publish("homeassistant/sensor/disc/zone_9_max/config", JSON.stringify({ name: "gone" }), {
            retain: true
          })
        )
        yield* Effect.gen(function*() {
          const zones = yield* ZoneRepo
          const engine = yield* AlarmEngine
          yield* waitFor(watcher, (m) => m.topic === "homeassistant/sensor/disc/zone_9_max/config" && m.text === "")

          const zone = yield* zones.create(oven)
          const above = yield* engine.createRule({ ...hot, zoneId: zone.id })
          const below = yield* engine.createRule({ ...hot, name: "Oven cold", direction: "below", threshold: 5 })
          yield* waitFor(watcher, (m) => m.topic === `homeassistant/binary_sensor/disc/rule_${below.id}/config`)
          const configs = configsOf(watcher, "disc")
          assert.deepStrictEqual(objectIds(configs), [
            "acknowledge_alarms",
            "ambient",
            "frame_max",
            "frame_mean",
            "frame_min",
            "frame_rate",
            "heat_map",
            "record_event",
            `rule_${above.id}`,
            `rule_${below.id}`,
            "sensor_errors",
            "sensor_status",
            `zone_${zone.id}_average`,
            `zone_${zone.id}_max`,
            `zone_${zone.id}_min`
          ])
          const uniqueIds = new Set<string>()
          for (const [topic, message] of configs) {
            const config = json(message)
            const decoded = Schema.decodeUnknownEither(components[topic.split("/")[1]!]!)(config)
            assert.isTrue(decoded._tag === "Right", `${topic}: ${String(decoded._tag === "Left" ? decoded.left : "")}`)
            uniqueIds.add(config["unique_id"] as string)
            assert.strictEqual(config["availability_topic"], "ircam/disc/status")
            assert.deepStrictEqual(config["device"], {
              identifiers: ["ircam_disc"],
              name: "Camera disc",
              manufacturer: "ircam",
              model: "test frames",
              serial_number: "test",
              sw_version: "0.1.0",
              configuration_url: "http://ircam.local:8000/"
            })
          }
          assert.strictEqual(uniqueIds.size, configs.size)
          const config = (objectId: string) =>
            json([...configs].find(([topic]) => topic.split("/")[3] === objectId)![1])
          assert.include(config(`zone_${zone.id}_average`), {
            name: "Oven average",
            state_topic: "ircam/disc/state",
            value_template: `{{ value_json.zones['${zone.id}'].average }}`
          })
          assert.include(config(`rule_${above.id}`), {
            device_class: "heat",
            state_topic: `ircam/disc/alarm/${above.id}`
          })
          assert.include(config(`rule_${below.id}`), { device_class: "cold" })
          assert.include(config("heat_map"), { image_topic: "ircam/disc/image", content_type: "image/png" })
          assert.include(config("record_event"), { command_topic: "ircam/disc/commands/record" })
          assert.include(config("acknowledge_alarms"), {
            command_topic: "ircam/disc/commands/acknowledge",
            payload_press: "{\"all\":true}"
          })

          // renamed: its entities at once
          let from = watcher.messages.length
          yield* zones.update(zone.id, { ...oven, name: "Kiln" })
          const renamed = yield* waitFor(watcher, (m) => m.topic.endsWith(`zone_${zone.id}_average/config`), from)
          assert.strictEqual(json(renamed)["name"], "Kiln average")

          // deleted, with the rule watching it: their configs emptied, the rule's alarm state cleared
          from = watcher.messages.length
          yield* zones.remove(zone.id)
          for (const objectId of [`zone_${zone.id}_average`, `zone_${zone.id}_min`, `zone_${zone.id}_max`]) {
            yield* waitFor(
              watcher,
              (m) => m.topic === `homeassistant/sensor/disc/${objectId}/config` && m.text === "",
              from
            )
          }
          yield* waitFor(
            watcher,
            (m) => m.topic === `homeassistant/binary_sensor/disc/rule_${above.id}/config` && m.text === "",
            from
          )
          yield* waitFor(watcher, (m) => m.topic === `ircam/disc/alarm/${above.id}` && m.text === "", from)
          assert.notInclude(objectIds(configsOf(watcher, "disc")), `rule_${below.id}` + "x")
          assert.include(objectIds(configsOf(watcher, "disc")), `rule_${below.id}`)

          // Home Assistant (re)started: everything again
          from = watcher.messages.length
          yield* Effect.promise(() => watcher.publish("homeassistant/status", "online"))
          yield* waitFor(watcher, (m) => m.topic === "homeassistant/sensor/disc/frame_max/config", from)
          yield* waitFor(watcher, (m) => m.topic === `ircam/disc/alarm/${below.id}`, from)
        }).pipe(Effect.provide(core("disc", { commands: true })))
      }).pipe(TestMqtt.quietly),
    30_000
  )

  it.scopedLive(
    "the state and the heat map, retained; without discovery nothing under homeassistant/",
    () =>
      Effect.gen(function*() {
        const watcher = yield* watch(["homeassistant/+/state/#", "ircam/state/#"])
        yield* Effect.gen(function*() {
          const zone = yield* (yield* ZoneRepo).create(oven)
          yield* frame(42.5)
          const state = json(yield* waitFor(watcher, (m) => m.topic === "ircam/state/state" && json(m)["max"] === 42.5))
          assert.deepStrictEqual(
            { ...state, capturedAt: typeof state["capturedAt"] },
            {
              capturedAt: "string",
              sequence: 0,
              min: 20,
              max: 42.5,
              mean: 20.47,
              ambient: 25,
              zones: { [zone.id]: { name: "Oven", average: 42.5, min: 42.5, max: 42.5 } },
              sensor: { status: "ok", frameRate: null, errors: 0 }
            }
          )
          const image = yield* waitFor(watcher, (m) => m.topic === "ircam/state/image")
          // a PNG (its signature), 32·4 pixels wide, 24·4 high and a legend under it
          assert.deepStrictEqual([...image.payload.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10])
          assert.strictEqual(image.payload.readUInt32BE(16), 128)
          assert.isAbove(image.payload.readUInt32BE(20), 96)
          assert.isEmpty(watcher.messages.filter((m) => m.topic.startsWith("homeassistant/")))
        }).pipe(Effect.provide(core("state", { discovery: false })))
        // retained: a subscriber arriving later gets them at once
        const late = yield* watch(["ircam/state/#"])
        for (const topic of ["ircam/state/state", "ircam/state/image", "ircam/state/status"]) {
          assert.isTrue((yield* waitFor(late, (m) => m.topic === topic)).retain, topic)
        }
        assert.strictEqual(late.on("ircam/state/status")[0]!.text, "offline")
      }).pipe(TestMqtt.quietly),
    30_000
  )

  it.scopedLive(
    "alarm transitions once each and in order, the rule's state on change, recordings",
    () =>
      Effect.gen(function*() {
        const watcher = yield* watch(["ircam/alarms/#"])
        yield* Effect.gen(function*() {
          const engine = yield* AlarmEngine
          const zone = yield* (yield* ZoneRepo).create(oven)
          const rule = yield* engine.createRule({ ...hot, zoneId: zone.id })
          const slow = yield* engine.createRule({ ...hot, name: "slow", zoneId: zone.id, delaySeconds: 3600 })
          const states = (ruleId: number) =>
            watcher.on(`ircam/alarms/alarm/${ruleId}`).map((m) => json(m)).map(({ acknowledged, state, value }) => ({
              state,
              acknowledged,
              value
            }))
          yield* waitFor(watcher, (m) => m.topic === `ircam/alarms/alarm/${slow.id}`)

          yield* frame(60)
          const raised = yield* waitFor(
            watcher,
            (m) => m.topic === "ircam/alarms/events" && json(m)["type"] === "alarm.raised"
          )
          const alarmId = (json(raised)["data"] as { alarm: { id: number } }).alarm.id
          yield* engine.acknowledge(alarmId as never)
          yield* waitFor(watcher, (m) => m.topic === "ircam/alarms/events" && json(m)["type"] === "alarm.acknowledged")
          yield* frame(20)
          yield* waitFor(watcher, (m) => m.topic === "ircam/alarms/events" && json(m)["type"] === "alarm.cleared")
          yield* waitFor(watcher, (m) => m.topic === "ircam/alarms/events" && json(m)["type"] === "recording.completed")
          yield* TestMqtt.pause(500)

          const events = watcher.on("ircam/alarms/events").map(json)
          const alarms = events.filter((e) => String(e["type"]).startsWith("alarm."))
          assert.deepStrictEqual(alarms.map((e) => e["type"]), ["alarm.raised", "alarm.acknowledged", "alarm.cleared"])
          assert.strictEqual(new Set(alarms.map((e) => e["id"])).size, 3)
          for (const event of alarms) {
            assert.match(String(event["id"]), /^msg_/)
            assert.deepInclude(event["data"], { rule: { ...(event["data"] as { rule: object }).rule, id: rule.id } })
          }
          const recordings = events.filter((e) => String(e["type"]).startsWith("recording."))
          assert.deepStrictEqual(recordings.map((e) => [e["type"], e["id"]]), [
            ["recording.started", "rec_1_started"],
            ["recording.completed", "rec_1_completed"]
          ])
          assert.include((recordings[1]!["data"] as { event: object }).event, {
            id: 1,
            kind: "alarm",
            status: "complete"
          })

          assert.deepStrictEqual(states(rule.id), [
            { state: "ok", acknowledged: false, value: null },
            { state: "active", acknowledged: false, value: 60 },
            { state: "active", acknowledged: true, value: 60 },
            { state: "ok", acknowledged: false, value: null }
          ])
          assert.deepStrictEqual(states(slow.id), [
            { state: "ok", acknowledged: false, value: null },
            { state: "pending", acknowledged: false, value: 60 },
            { state: "ok", acknowledged: false, value: null }
          ])
          const delivered = yield* (yield* Notifier).deliveries({ channel: "mqtt", limit: 10 })
          assert.deepStrictEqual(delivered.map((d) => [d.type, d.status]), [
            ["alarm.cleared", "delivered"],
            ["alarm.acknowledged", "delivered"],
            ["alarm.raised", "delivered"]
          ])
        }).pipe(Effect.provide(core("alarms")))
      }).pipe(TestMqtt.quietly),
    30_000
  )

  it.scopedLive(
    "a broker stopped while an alarm is raised and cleared, and ircam restarted: nothing lost, in order",
    () =>
      Effect.gen(function*() {
        // a persistent session: the broker keeps what arrives while the watcher is cut off too
        const watcher = yield* watch(["ircam/outage/events"], "outage-watcher")
        // the broker running again for the tests after this one, whatever happens here
        yield* Effect.addFinalizer(() => Effect.promise(() => broker.start()))
        const dir = mkdtempSync(join(tmpdir(), "ircam-mqtt-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
        const onDisk = core("outage", {}, { databasePath: join(dir, "ircam.db") })

        const events = (type: string) => watcher.on("ircam/outage/events").filter((m) => json(m)["type"] === type)
        const pending = (n: number) =>
          Effect.flatMap(Health, (health) =>
            TestMqtt.eventually(
              health.report,
              (report) => report.checks["notifier"]!.details["pending"] === n,
              `${n} pending notifications`
            ))

        yield* Effect.gen(function*() {
          const engine = yield* AlarmEngine
          const zone = yield* (yield* ZoneRepo).create(oven)
          yield* engine.createRule({ ...hot, zoneId: zone.id })
          // the broker away while an alarm is raised and cleared: both wait in the outbox …
          yield* Effect.promise(() => broker.stop())
          yield* frame(60)
          yield* frame(20)
          yield* pending(2)
          // the health check tells it once the client has seen the connection close
          yield* TestMqtt.eventually(
            (yield* Health).report,
            (report) => report.checks["mqtt"]!.status === "degraded",
            "the mqtt check degraded"
          )
          // … and go out once it is back
          yield* Effect.promise(() => broker.start())
          yield* waitFor(watcher, () => events("alarm.cleared").length === 1)
          yield* pending(0)
          // away again, an alarm raised, and ircam stopped
          yield* Effect.promise(() => broker.stop())
          yield* frame(60)
          yield* pending(1)
        }).pipe(Effect.provide(onDisk))

        // the broker comes back, then ircam: what waited goes out first, then what happens next
        yield* Effect.promise(() => broker.start())
        yield* Effect.gen(function*() {
          yield* waitFor(watcher, () => events("alarm.raised").length === 2)
          yield* frame(20)
          yield* waitFor(watcher, () => events("alarm.cleared").length === 2)
          yield* TestMqtt.pause(500)
        }).pipe(Effect.provide(onDisk))
        const received = watcher.on("ircam/outage/events").filter((m) => String(json(m)["type"]).startsWith("alarm."))
        // at least once: a copy the broker gives the watcher again (QoS 1, its PUBACK lost in an
        // outage) is the same message, with the same id
        const byId = new Map<unknown, string>()
        for (const m of received) {
          const id = json(m)["id"]
          if (byId.has(id)) assert.strictEqual(m.text, byId.get(id), `the copy of ${String(id)}`)
          else byId.set(id, m.text)
        }
        assert.deepStrictEqual([...byId.values()].map((text) => JSON.parse(text)["type"]), [
          "alarm.raised",
          "alarm.cleared",
          "alarm.raised",
          "alarm.cleared"
        ])
      }).pipe(TestMqtt.quietly),
    30_000
  )

  it.scopedLive(
    "commands: done when enabled, answered on commands/result; ignored when not",
    () =>
      TestLogs.capture((logs) =>
        Effect.gen(function*() {
          const watcher = yield* watch(["ircam/cmd/commands/result", "ircam/off/commands/result"])
          const result = (requestId: string) =>
            Effect.map(
              waitFor(watcher, (m) => m.topic === "ircam/cmd/commands/result" && json(m)["requestId"] === requestId),
              json
            )
          const send = (command: string, payload: string) =>
            Effect.promise(() => watcher.publish(`ircam/cmd/commands/${command}`, payload))
          yield* Effect.gen(function*() {
            const engine = yield* AlarmEngine
            const zone = yield* (yield* ZoneRepo).create(oven)
            yield* engine.createRule({ ...hot, zoneId: zone.id })
            yield* TestMqtt.pause(200)

            yield* send("record", JSON.stringify({ label: "door opened", requestId: "r1" }))
            const recorded = yield* result("r1")
            assert.include(recorded, { command: "record", ok: true })
            assert.include(recorded["event"], { kind: "manual", label: "door opened" })

            yield* frame(60)
            const [alarm] = yield* TestMqtt.eventually(engine.active, (active) => active.length > 0, "the alarm")
            yield* send("acknowledge", JSON.stringify({ alarmId: alarm!.id, requestId: "a1" }))
            const acknowledged = yield* result("a1")
            assert.include(acknowledged, { command: "acknowledge", ok: true })
            assert.strictEqual(
              (acknowledged["alarms"] as Array<{ acknowledgedAt: unknown }>)[0]!.acknowledgedAt !== null,
              true
            )
            yield* send("acknowledge", JSON.stringify({ all: true, requestId: "a2" }))
            assert.deepStrictEqual((yield* result("a2"))["alarms"], [])

            const refusals: ReadonlyArray<readonly [string, string, string, string]> = [
              ["acknowledge", "{not json", "InvalidCommand", "not JSON"],
              ["acknowledge", JSON.stringify({ alarmId: "x", requestId: "b2" }), "InvalidCommand", "alarmId"],
              ["acknowledge", JSON.stringify({ alarmId: 999, requestId: "b3" }), "AlarmNotFound", "999"],
              ["record", JSON.stringify({ label: "", requestId: "b4" }), "InvalidCommand", "label"],
              ["record", JSON.stringify({ lable: "typo", requestId: "b5" }), "InvalidCommand", "lable"]
            ]
            const from = watcher.messages.length
            for (const [command, payload] of refusals) yield* send(command, payload)
            const answers = yield* Effect.promise(async () => {
              await watcher.waitFor(() => watcher.messages.length - from >= refusals.length)
              return watcher.messages.slice(from).map(json)
            })
            for (const [i, [command, , tag, mentions]] of refusals.entries()) {
              const answer = answers[i]!
              assert.include(answer, { command, ok: false })
              assert.strictEqual((answer["error"] as { _tag: string })._tag, tag)
              assert.include((answer["error"] as { message: string }).message, mentions)
            }
            assert.strictEqual(answers[1]!["requestId"], "b2")
            // and logged
            assert.strictEqual(
              logs.filter((entry) => entry.level === "WARN" && entry.message.startsWith("MQTT command")).length,
              refusals.length
            )
            // still taking commands after all that
            yield* send("record", "")
            yield* waitFor(watcher, (m) => json(m)["ok"] === true && json(m)["requestId"] === undefined, from)
          }).pipe(Effect.provide(core("cmd", { commands: true })))

          yield* Effect.gen(function*() {
            yield* TestMqtt.pause(200)
            yield* Effect.promise(() => watcher.publish("ircam/off/commands/record", JSON.stringify({ label: "x" })))
            yield* TestMqtt.pause(1000)
            assert.isEmpty(watcher.on("ircam/off/commands/result"))
            assert.isEmpty(yield* (yield* EventStore).list({ limit: 10 }))
          }).pipe(Effect.provide(core("off")))
        })
      ).pipe(TestMqtt.quietly),
    30_000
  )
})
