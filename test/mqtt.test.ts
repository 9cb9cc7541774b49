/**
 * MQTT end to end: the built `ircam serve` (simulated sensor) publishing to a real Mosquitto with
 * a password file and an ACL, watched by a subscriber as Home Assistant or a dashboard would be:
 * online and retained state at the configured interval, discovery following a zone added and
 * deleted through the API, offline published by ircam itself on SIGTERM (a clean disconnection,
 * so not the will), and the last will when ircam is killed with SIGKILL. `ircam config check`
 * masks the MQTT password. The connection shows in health and in the metrics. Every payload the
 * README shows has the shape of one ircam publishes.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as Mosquitto from "@ircam/test-support/Mosquitto"
import { subscribe, type Subscriber } from "@ircam/test-support/MqttSubscriber"
import { freePort } from "@ircam/test-support/Port"
import { killAll, runToExit, serverEnv, start, stop, waitUntilAnswering } from "@ircam/test-support/Process"
import { readFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { hostname, tmpdir } from "node:os"
import { join } from "node:path"
import { sanitize } from "../packages/core/src/MqttDevice.js"

const unavailable = await Mosquitto.unavailable()
if (unavailable !== undefined) {
  console.warn(`test/mqtt.test.ts: skipped, Mosquitto is not available: ${unavailable}`)
}

const users = { ircam: "ircam-secret", ha: "ha-secret" }
// one user per device, writing only under its own prefix and its own Home Assistant configs
const device = sanitize(hostname()) || "ircam"
const acl = [
  "user ircam",
  `topic readwrite ircam/${device}/#`,
  `topic readwrite homeassistant/+/${device}/#`,
  "topic read homeassistant/status",
  "user ha",
  "topic readwrite #"
].join("\n") + "\n"

let broker: Mosquitto.Broker
let dir = ""
let port = 0
let env: Record<string, string> = {}
let watcher: Subscriber
const prefix = `ircam/${device}`

beforeAll(async () => {
  if (unavailable !== undefined) return
  broker = await Mosquitto.start({ users, acl })
  dir = await mkdtemp(join(tmpdir(), "ircam-mqtt-e2e-"))
  port = await freePort()
  env = serverEnv(dir, port, {
    MQTT_URL: broker.url,
    MQTT_USERNAME: "ircam",
    MQTT_PASSWORD: users.ircam,
    MQTT_STATE_INTERVAL_SECONDS: "1",
    MQTT_IMAGE_INTERVAL_SECONDS: "2"
  })
  watcher = await subscribe(broker.url, [`${prefix}/#`, `homeassistant/+/${device}/#`], {
    username: "ha",
    password: users.ha
  })
})

afterAll(async () => {
  await killAll()
  await watcher?.close()
  await broker?.close()
  if (dir !== "") await rm(dir, { recursive: true, force: true })
})

/** The JSON examples of the README's MQTT section, each with the topic the text before it names. */
const readmeExamples = () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
  const section = readme.slice(readme.indexOf("## MQTT and Home Assistant"), readme.indexOf("## The simulated sensor"))
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)]
  return blocks.map((block, i) => {
    const previous = blocks[i - 1]
    // the paragraph right before the block names the topic first
    const before = section.slice(previous === undefined ? 0 : previous.index + previous[0].length, block.index)
      .trim().split("\n\n").at(-1)!
    const topic = [...before.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]!)
      .find((text) => text.startsWith("<prefix>/") || text.startsWith("homeassistant/"))
    return { topic: topic ?? "(none)", example: JSON.parse(block[1]!) as Record<string, unknown> }
  })
}

/** The same keys at every level (an array's elements like its first); values may differ. */
const assertShape = (actual: unknown, shown: unknown, context: string): void => {
  if (typeof shown !== "object" || shown === null) {
    assert.strictEqual(typeof actual, typeof shown, context)
    return
  }
  assert.isTrue(typeof actual === "object" && actual !== null, `${context}: ${JSON.stringify(actual)}`)
  if (Array.isArray(shown)) {
    assert.isTrue(Array.isArray(actual), context)
    if (shown.length > 0 && (actual as Array<unknown>).length > 0) {
      assertShape((actual as Array<unknown>)[0], shown[0], `${context}[0]`)
    }
    return
  }
  assert.sameMembers(Object.keys(actual as object), Object.keys(shown), context)
  for (const [key, value] of Object.entries(shown)) {
    // what may be null (no zone, not yet cleared) is compared only when both have a value
    const got = (actual as Record<string, unknown>)[key]
    if (value !== null && got !== null) assertShape(got, value, `${context}.${key}`)
  }
}

const call = (method: string, path: string, body?: unknown) =>
  fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
  })

describe.skipIf(unavailable !== undefined)("ircam serve with MQTT_URL", () => {
  it("status, state every second, discovery following the API's zones; offline on SIGTERM", async () => {
    const ircam = start(["serve"], env, dir)
    await waitUntilAnswering(ircam, `http://127.0.0.1:${port}/api/v1/health`)
    await watcher.waitFor((m) => m.topic === `${prefix}/status` && m.text === "online")
    // every second (the first, at connection, may come sooner)
    const states = await watcher.waitFor(() => watcher.on(`${prefix}/state`).length >= 4, 10_000)
      .then(() => watcher.on(`${prefix}/state`).map((m) => JSON.parse(m.text) as { capturedAt: string; max: number }))
    for (const i of [2, 3]) {
      const apart = Date.parse(states[i]!.capturedAt) - Date.parse(states[i - 1]!.capturedAt)
      assert.isAtLeast(apart, 700)
      assert.isAtMost(apart, 1600)
    }
    assert.isAbove(states[3]!.max, 20)
    const image = await watcher.waitFor((m) => m.topic === `${prefix}/image`)
    assert.strictEqual(image.payload.subarray(1, 4).toString(), "PNG")
    await watcher.waitFor((m) => m.topic === `homeassistant/sensor/${device}/frame_max/config`)

    const health = await (await call("GET", "/health")).json() as {
      checks: { mqtt: { status: string; details: Record<string, unknown> } }
    }
    assert.strictEqual(health.checks.mqtt.status, "ok")
    assert.include(health.checks.mqtt.details, { broker: broker.url, deviceId: device, connected: true })
    // and in the metrics
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const sample = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(metrics)?.[1])
    assert.include(metrics, `ircam_mqtt_connected{broker="${broker.url}"} 1\n`)
    assert.strictEqual(sample("ircam_mqtt_connections_total"), 1)
    assert.isAbove(sample("ircam_mqtt_messages_published_total"), 4)

    // a zone through the API: its three sensors appear; deleted: they go
    let from = watcher.messages.length
    const created = await call("POST", "/zones", { name: "Hot plate", x: 24, y: 4, width: 4, height: 3 })
    assert.strictEqual(created.status, 201)
    const zone = await created.json() as { id: number }
    for (const stat of ["average", "min", "max"]) {
      const config = await watcher.waitFor(
        (m) => m.topic === `homeassistant/sensor/${device}/zone_${zone.id}_${stat}/config` && m.text !== "",
        10_000,
        from
      )
      assert.include(JSON.parse(config.text), { name: `Hot plate ${stat}`, state_topic: `${prefix}/state` })
    }
    const withZone = await watcher.waitFor((m) => m.topic === `${prefix}/state` && m.text.includes("Hot plate"))
    const stats = JSON.parse(withZone.text).zones[String(zone.id)]
    assert.isTrue(stats.min <= stats.average && stats.average <= stats.max, withZone.text)
    from = watcher.messages.length
    assert.strictEqual((await call("DELETE", `/zones/${zone.id}`)).status, 204)
    for (const stat of ["average", "min", "max"]) {
      await watcher.waitFor(
        (m) => m.topic === `homeassistant/sensor/${device}/zone_${zone.id}_${stat}/config` && m.text === "",
        10_000,
        from
      )
    }

    from = watcher.messages.length
    assert.strictEqual(await stop(ircam), 0)
    const offline = await watcher.waitFor((m) => m.topic === `${prefix}/status`, 10_000, from)
    assert.strictEqual(offline.text, "offline")
    // a clean disconnection, which the broker answers without the will: the offline was ircam's own
    assert.match(broker.log(), new RegExp(`Client ircam_${device} disconnected\\.`))
  }, 60_000)

  it("killed with SIGKILL: the broker publishes the last will, a retained offline", async () => {
    const from = watcher.messages.length
    const ircam = start(["serve"], env, dir)
    await watcher.waitFor((m) => m.topic === `${prefix}/status` && m.text === "online", 20_000, from)
    const killedAt = watcher.messages.length
    ircam.child.kill("SIGKILL")
    await ircam.exited
    const will = await watcher.waitFor((m) => m.topic === `${prefix}/status`, 10_000, killedAt)
    assert.strictEqual(will.text, "offline")
    // retained: whoever subscribes later sees the device unavailable
    const late = await subscribe(broker.url, [`${prefix}/status`], { username: "ha", password: users.ha })
    const retained = await late.waitFor(() => true)
    await late.close()
    assert.deepInclude(retained, { text: "offline", retain: true })
  }, 60_000)

  it("every payload the README shows has the shape of one ircam publishes", async () => {
    const readmeDir = await mkdtemp(join(tmpdir(), "ircam-mqtt-readme-"))
    const ircam = start(["serve"], {
      ...env,
      DATABASE_PATH: join(readmeDir, "ircam.db"),
      MQTT_COMMANDS: "true",
      PUBLIC_URL: "http://ircam.local:8000",
      PRE_EVENT_SECONDS: "1",
      POST_EVENT_SECONDS: "1"
    }, readmeDir)
    try {
      await waitUntilAnswering(ircam, `http://127.0.0.1:${port}/api/v1/health`)
      const from = watcher.messages.length
      await call("POST", "/zones", { name: "hot plate", x: 24, y: 4, width: 4, height: 3 })
      // a rule that holds at once: raised, acknowledged, and its recording completes a second later
      await call("POST", "/alarms/rules", {
        name: "plate too hot",
        zoneId: 1,
        metric: "max",
        direction: "above",
        threshold: 0,
        severity: "critical"
      })
      await watcher.waitFor((m) => m.topic === `${prefix}/events` && m.text.includes("alarm.raised"), 10_000, from)
      await call("POST", "/alarms/1/ack")
      await watcher.waitFor((m) => m.text.includes("recording.completed"), 10_000, from)
      await watcher.publish(`${prefix}/commands/record`, JSON.stringify({ label: "door opened", requestId: "r1" }))
      await watcher.publish(`${prefix}/commands/acknowledge`, JSON.stringify({ alarmId: 99 }))
      await watcher.waitFor((m) => m.topic === `${prefix}/commands/result` && m.text.includes("AlarmNotFound"))
      await watcher.waitFor((m) => m.topic === `${prefix}/state` && m.text.includes("hot plate"), 10_000, from)

      const examples = readmeExamples()
      assert.sameMembers(examples.map(({ topic }) => topic), [
        "<prefix>/state",
        "<prefix>/alarm/1",
        "<prefix>/events",
        "<prefix>/events",
        "<prefix>/commands/result",
        "<prefix>/commands/result",
        "homeassistant/sensor/<DEVICE_ID>/zone_1_max/config"
      ])
      for (const { example, topic } of examples) {
        const real = topic.replace("<prefix>", prefix).replace("<DEVICE_ID>", device)
        const published = watcher.messages.slice(from).filter((m) => m.topic === real).map((m) => JSON.parse(m.text))
          .filter((json) =>
            ["type", "command", "ok", "state"].every((key) => !(key in example) || json[key] === example[key])
          )
        assert.isNotEmpty(published, `nothing like the README's ${topic} ${JSON.stringify(example).slice(0, 80)}`)
        assertShape(published.at(-1), example, topic)
      }
    } finally {
      await stop(ircam)
      await rm(readmeDir, { recursive: true, force: true })
    }
  }, 60_000)

  it("config check masks the MQTT password and the URL's credentials", async () => {
    const result = await runToExit(["config", "check", "--json"], {
      ...env,
      MQTT_URL: "mqtt://someone:url-secret@broker.example:1883"
    }, dir)
    assert.strictEqual(result.code, 0, result.stderr)
    const values = JSON.parse(result.stdout)
    assert.include(values, {
      MQTT_URL: "mqtt://***:***@broker.example:1883",
      MQTT_USERNAME: "ircam",
      MQTT_PASSWORD: "***",
      MQTT_STATE_INTERVAL_SECONDS: 1,
      MQTT_COMMANDS: "false"
    })
    assert.notInclude(result.stdout, users.ircam)
    assert.notInclude(result.stdout, "url-secret")
  }, 60_000)
})
