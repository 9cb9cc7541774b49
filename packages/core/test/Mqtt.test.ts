/**
 * The MQTT connection against a real broker (Debian's Mosquitto, started here on free ports with
 * a password file, an ACL and a TLS listener of a test CA): online and offline on the status
 * topic, publishing, subscriptions kept across a restart of the broker, refusals (credentials,
 * ACL, an unknown certificate) in health and the log, mqtts:// with MQTT_CA_FILE; a peer that
 * accepts the connection and then drops it or goes silent. The backoff between attempts runs on
 * the TestClock against a port where nothing listens.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Mosquitto from "@ircam/test-support/Mosquitto"
import { subscribe } from "@ircam/test-support/MqttSubscriber"
import { freePort } from "@ircam/test-support/Port"
import { Chunk, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Scope, Stream, TestClock } from "effect"
import { once } from "node:events"
import { readFileSync } from "node:fs"
import { type AddressInfo, createServer, type Socket } from "node:net"
import { AppConfig } from "../src/AppConfig.js"
import type { CheckResult } from "../src/Health.js"
import { Mqtt, MqttSettings } from "../src/Mqtt.js"
import type { MqttConfig } from "../src/MqttConfig.js"
import { Sensor } from "../src/Sensor.js"
import * as TestLogs from "./support/TestLogs.js"
import * as TestMqtt from "./support/TestMqtt.js"

const unavailable = await Mosquitto.unavailable()
if (unavailable !== undefined) {
  console.warn(`packages/core/test/Mqtt.test.ts: skipped, Mosquitto is not available: ${unavailable}`)
}

const users = { ircam: "ircam-secret", watcher: "watcher-secret" }
const acl = "user ircam\ntopic readwrite ircam/#\nuser watcher\ntopic readwrite #\n"

let broker: Mosquitto.Broker

beforeAll(async () => {
  if (unavailable === undefined) broker = await Mosquitto.start({ users, acl, tls: true })
})
afterAll(async () => {
  await broker?.close()
})

const config = (url: string, overrides: Partial<MqttConfig> = {}): MqttConfig =>
  TestMqtt.config(url, {
    username: Option.some("ircam"),
    password: Option.some(Redacted.make(users.ircam)),
    deviceId: Option.some("cam1"),
    ...overrides
  })

/** The Mqtt service alone (on a sensor without frames), for the scope in context. */
const build = (mqtt: MqttConfig, settings = TestMqtt.fast) =>
  Effect.map(
    Layer.build(
      Mqtt.Default.pipe(
        Layer.provide(AppConfig.layerWith({ mqtt: Option.some(mqtt) })),
        Layer.provide(Sensor.layerTest(Stream.never, { kind: "simulated" })),
        Layer.provide(Layer.succeed(MqttSettings, settings))
      )
    ),
    (context) => context.unsafeMap.get(Mqtt.key) as Mqtt
  )

/** Waits in real time (the sockets are real) until the check is what `until` wants. */
const healthUntil = (mqtt: Mqtt, until: (check: CheckResult) => boolean) =>
  TestMqtt.eventually(mqtt.health, until, "the health check")

const connected = (check: CheckResult) => check.details["connected"] === true

/** The next connection `changes` tells of (subscribed now). */
const nextConnection = (mqtt: Mqtt) =>
  Effect.flatMap(
    mqtt.changes,
    (changes) => changes.pipe(Stream.filter((change) => change.transition === "connected"), Stream.runHead, Effect.fork)
  )

describe.skipIf(unavailable !== undefined)("Mqtt", () => {
  it.scopedLive(
    "online, publishing, subscriptions across a broker restart, offline on a clean stop",
    () =>
      Effect.gen(function*() {
        const watcher = yield* Effect.promise(() =>
          subscribe(broker.url, ["ircam/cam1/#"], { username: "watcher", password: users.watcher })
        )
        yield* Effect.addFinalizer(() => Effect.promise(() => watcher.close()))
        const scope = yield* Scope.make()
        const mqtt = yield* build(config(broker.url)).pipe(Scope.extend(scope))
        const up = yield* healthUntil(mqtt, connected)
        assert.strictEqual(up.status, "ok")
        assert.include(up.details, { broker: broker.url, deviceId: "cam1", topicPrefix: "ircam/cam1", connections: 1 })
        yield* Effect.promise(() => watcher.waitFor((m) => m.topic === "ircam/cam1/status" && m.text === "online"))

        const inbox = yield* mqtt.messages
        const received = yield* inbox.pipe(
          Stream.filter((message) => message.topic === "ircam/cam1/in"),
          Stream.map((message) => message.payload.toString()),
          Stream.take(2),
          Stream.runCollect,
          Effect.fork
        )
        yield* mqtt.subscribe(["ircam/cam1/in"])
        yield* Effect.promise(() => watcher.publish("ircam/cam1/in", "first"))

        yield* mqtt.publishConfirmed("ircam/cam1/out", "confirmed")
        assert.isTrue(yield* mqtt.publish("ircam/cam1/out", new Uint8Array([104, 105]), { retain: true }))
        yield* Effect.promise(() => watcher.waitFor((m) => m.topic === "ircam/cam1/out" && m.text === "hi"))
        assert.deepStrictEqual(watcher.on("ircam/cam1/out").map((m) => m.text), ["confirmed", "hi"])

        // the broker running again for the tests after this one, whatever happens here
        yield* Effect.addFinalizer(() => Effect.promise(() => broker.start()))
        yield* Effect.promise(() => broker.stop())
        const down = yield* healthUntil(mqtt, (check) => !connected(check))
        assert.strictEqual(down.status, "degraded")
        assert.include(down.message, `not connected to ${broker.url}`)
        assert.isFalse(yield* mqtt.publish("ircam/cam1/out", "lost"))
        assert.strictEqual((yield* mqtt.health).details["dropped"], 1)
        const refused = yield* Effect.exit(mqtt.publishConfirmed("ircam/cam1/out", "lost"))
        assert.isTrue(Exit.isFailure(refused))
        assert.include(String(refused), `not connected to ${broker.url}`)

        const reconnection = yield* nextConnection(mqtt)
        yield* Effect.promise(() => broker.start())
        // "connected" is told once the subscriptions are made again
        assert.strictEqual(Option.getOrThrow(yield* Fiber.join(reconnection)).session, 2)
        yield* Effect.promise(() => watcher.publish("ircam/cam1/in", "second"))
        assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Fiber.join(received)), ["first", "second"])
        const again = yield* mqtt.health
        assert.include(again.details, { connected: true, connections: 2, received: 2 })

        const before = watcher.messages.length
        yield* Scope.close(scope, Exit.void)
        // the reconnection's `online` may reach the watcher late, but `offline` comes after it
        yield* Effect.promise(() =>
          watcher.waitFor((m) => m.topic === "ircam/cam1/status" && m.text === "offline", 5_000, before)
        )
        assert.strictEqual(watcher.on("ircam/cam1/status").at(-1)?.text, "offline")
      }).pipe(TestMqtt.quietly),
    30_000
  )

  it.scopedLive(
    "a wrong password: refused, in health and in the log, the password nowhere",
    () =>
      TestLogs.capture((logs) =>
        Effect.gen(function*() {
          const wrong = yield* build(config(broker.url, { password: Option.some(Redacted.make("wrong")) }))
          const refused = yield* healthUntil(wrong, (check) => check.details["lastError"] !== null)
          assert.strictEqual(refused.status, "degraded")
          assert.include(refused.message, "Not authorized")
          assert.notInclude(JSON.stringify(refused), "wrong")

          assert.isTrue(
            logs.some((entry) => entry.level === "WARN" && entry.message.includes("Not authorized")),
            JSON.stringify(logs.map((entry) => entry.message))
          )
        })
      ).pipe(TestMqtt.quietly),
    30_000
  )

  it.scopedLive(
    "mqtts:// verifies the broker's certificate: with MQTT_CA_FILE's CA it connects, without it not",
    () =>
      Effect.gen(function*() {
        const { caFile, url } = broker.tls!
        const trusted = yield* build(
          config(url, {
            ca: Option.some({ file: caFile, pem: readFileSync(caFile, "utf8") }),
            deviceId: Option.some("cam3")
          })
        )
        const up = yield* healthUntil(trusted, connected)
        assert.strictEqual(up.details["broker"], url)
        yield* trusted.publishConfirmed("ircam/cam3/out", "over TLS")

        const untrusted = yield* build(config(url, { deviceId: Option.some("cam4") }))
        const refused = yield* healthUntil(untrusted, (check) => check.details["lastError"] !== null)
        assert.strictEqual(refused.status, "degraded")
        assert.match(refused.message!, /certificate/)
      }).pipe(TestMqtt.quietly),
    30_000
  )

  it.scopedLive(
    "a broker that accepts the connection and then drops it, or never confirms `online`: noticed, connected again, stopped at once",
    () =>
      Effect.gen(function*() {
        // a peer that answers CONNECT with CONNACK (accepted) and then, at the first PUBLISH,
        // closes the socket (a broker going down) or says nothing more (a broker that hangs)
        const misbehaving = (onPublish: "close" | "ignore") =>
          Effect.acquireRelease(
            Effect.promise(async () => {
              const connections: Array<Socket> = []
              const server = createServer((socket) => {
                connections.push(socket)
                socket.on("error", () => {})
                socket.once("data", () => {
                  socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]))
                  socket.on("data", (chunk) => {
                    if (onPublish === "close" && chunk[0]! >> 4 === 3) socket.destroy()
                  })
                })
              })
              server.listen(0, "127.0.0.1")
              await once(server, "listening")
              return { server, connections, url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}` }
            }),
            ({ connections, server }) =>
              Effect.sync(() => {
                for (const socket of connections) socket.destroy()
                server.close()
              })
          )
        const settings = MqttSettings.of({ ...TestMqtt.fast, publishTimeout: Duration.millis(300) })
        for (
          const [behaviour, cause] of [["close", "the broker closed the connection"], [
            "ignore",
            "the broker did not confirm \"online\""
          ]] as const
        ) {
          const peer = yield* misbehaving(behaviour)
          const scope = yield* Scope.make()
          const mqtt = yield* build(config(peer.url), settings).pipe(Scope.extend(scope))
          // dropped and tried again, never taken for a connection that works
          const check = yield* healthUntil(mqtt, (check) => peer.connections.length >= 2 && !connected(check))
          assert.strictEqual(check.status, "degraded", behaviour)
          assert.include(check.message, cause, behaviour)
          assert.isFalse(yield* mqtt.isConnected)
          yield* Scope.close(scope, Exit.void).pipe(
            Effect.timeoutFail({
              duration: "5 seconds",
              onTimeout: () => new Error(`${behaviour}: no stop within 5 s`)
            })
          )
        }
      }).pipe(TestMqtt.quietly),
    30_000
  )

  it.scoped(
    "reconnection backoff: jittered, doubling from 1 s, capped at 1 min (TestClock)",
    () =>
      Effect.gen(function*() {
        // nothing listens there: every attempt is refused at once
        const port = yield* Effect.promise(() => freePort())
        const mqtt = yield* build(
          config(`mqtt://127.0.0.1:${port}`),
          MqttSettings.of({
            ...TestMqtt.fast,
            reconnectBase: Duration.seconds(1),
            reconnectCap: Duration.minutes(1)
          })
        )
        const details = Effect.map(mqtt.health, (check) => check.details)
        // the attempt made and refused, the service waiting for the next one
        const refused = (n: number) =>
          Effect.flatMap(
            healthUntil(mqtt, (check) => check.details["attempts"] === n && check.details["retry"] !== null),
            (check) => Effect.succeed(check.details["retry"] as { readonly backoffMs: number; readonly inMs: number })
          )
        for (let failures = 1; failures <= 9; failures++) {
          const retry = yield* refused(failures)
          const nominal = Math.min(60_000, 1000 * 2 ** (failures - 1))
          assert.isAtLeast(retry.backoffMs, nominal / 2, `after failure ${failures}`)
          assert.isAtMost(retry.backoffMs, nominal, `after failure ${failures}`)
          // not a moment before the wait is over …
          yield* TestClock.adjust(Duration.millis(retry.inMs - 1))
          yield* TestMqtt.pause(30)
          assert.strictEqual((yield* details)["attempts"], failures)
          // … and then at once
          yield* TestClock.adjust(Duration.millis(1))
        }
        yield* refused(10)
        const check = yield* mqtt.health
        assert.include(check.message, "ECONNREFUSED")
      }).pipe(TestMqtt.quietly),
    30_000
  )
})
