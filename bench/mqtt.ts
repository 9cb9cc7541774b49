/**
 * What MQTT costs. In this process: building and serialising one state message, and drawing and
 * encoding one heat-map PNG as the publisher does (the default palette and scale, the zones and
 * the legend). Then the real server at 16 frames/s against a local Mosquitto: its CPU time and
 * RSS over 20 s without MQTT (the reference), with MQTT at the defaults (state every 5 s, an image
 * every 10 s) and with MQTT at its busiest (both every second), and whether the frames kept
 * flowing; then the memory benchmark's load with MQTT at its busiest. Nothing of it is per frame:
 * the publisher reads the latest snapshot at its own intervals.
 */
import { type Frame, PIXELS, summarize } from "@ircam/core/Frame"
import * as HeatmapImage from "@ircam/core/HeatmapImage"
import type { Snapshot } from "@ircam/core/Monitor"
import * as MqttMessages from "@ircam/core/MqttMessages"
import { renderScene } from "@ircam/core/SimulatedSensor"
import { stats, Zone, type ZoneId } from "@ircam/core/Zone"
import * as Mosquitto from "@ircam/test-support/Mosquitto"
import { subscribe } from "@ircam/test-support/MqttSubscriber"
import { freePort } from "@ircam/test-support/Port"
import { stop } from "@ircam/test-support/Process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Memory from "./memory.js"
import { cpuSeconds, rssMb, serve, untilAnswering } from "./Server.js"

const seconds = 20
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Mean time of `f` in ms over `n` calls, after a warm-up. */
const time = (n: number, f: () => unknown) => {
  for (let i = 0; i < 20; i++) f()
  const start = performance.now()
  for (let i = 0; i < n; i++) f()
  return (performance.now() - start) / n
}

const micro = () => {
  const temperatures = new Float32Array(PIXELS)
  renderScene(1, 300, 16, temperatures)
  const frame: Frame = { temperatures, capturedAt: 0, monotonicMs: 0, sequence: 300, ambient: 25, vdd: 3.3 }
  const zones = [
    new Zone({ id: 1 as ZoneId, name: "hot plate", color: "#ff4136", x: 24, y: 4, width: 4, height: 3 }),
    new Zone({ id: 2 as ZoneId, name: "bench", color: "#0074d9", x: 2, y: 2, width: 10, height: 8 })
  ]
  const snapshot: Snapshot = {
    frame,
    summary: summarize(temperatures),
    zones: zones.map((zone) => ({ zoneId: zone.id, rect: zone, ...stats(frame, zone) }))
  }
  const sensor = { status: "ok" as const, frameRate: 16, errors: 0 }
  const stateMs = time(10_000, () => JSON.stringify(MqttMessages.state(snapshot, zones, sensor)))
  let bytes = 0
  const imageMs = time(200, () => {
    bytes = HeatmapImage.toPng(HeatmapImage.render(temperatures, { palette: "iron", scale: 10, zones, legend: true }))
      .length
  })
  console.log(
    `MQTT in process: a state message ${(stateMs * 1000).toFixed(1)} µs to build and serialise; a heat map ` +
      `(iron, scale 10, 2 zones, legend) ${imageMs.toFixed(2)} ms to draw and encode, ${(bytes / 1024).toFixed(0)} KB`
  )
}

/** The server for `seconds` with `settings`: its CPU % of a core, its RSS at the end, frames it delivered per second. */
const load = async (settings: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-mqtt-"))
  const port = await freePort()
  const server = serve(dir, port, settings)
  try {
    await untilAnswering(server, port)
    await sleep(2000)
    const sequence = () =>
      fetch(`http://127.0.0.1:${port}/api/v1/thermal/real-time`).then(async (r) =>
        (await r.json() as { sequence: number }).sequence
      )
    const pid = server.child.pid!
    const [cpu, first, started] = [cpuSeconds(pid), await sequence(), Date.now()]
    await sleep(seconds * 1000)
    const elapsed = (Date.now() - started) / 1000
    return {
      cpuPercent: (cpuSeconds(pid) - cpu) / elapsed * 100,
      rssMb: rssMb(pid),
      framesPerSecond: (await sequence() - first) / elapsed
    }
  } finally {
    await stop(server)
    rmSync(dir, { recursive: true, force: true })
  }
}

export const run = async (minutes: number) => {
  micro()
  const unavailable = await Mosquitto.unavailable()
  if (unavailable !== undefined) {
    console.log(`MQTT server figures skipped: Mosquitto is not available (${unavailable})`)
    return
  }
  const broker = await Mosquitto.start()
  const watcher = await subscribe(broker.url, ["ircam/#", "homeassistant/#"])
  try {
    const busiest = { MQTT_URL: broker.url, MQTT_STATE_INTERVAL_SECONDS: "1", MQTT_IMAGE_INTERVAL_SECONDS: "1" }
    const runs = [
      ["without MQTT", {}],
      ["MQTT at the defaults (state 5 s, image 10 s)", { MQTT_URL: broker.url }],
      ["MQTT at its busiest (state and image every second)", busiest]
    ] as const
    for (const [what, settings] of runs) {
      const before = watcher.messages.length
      const figures = await load(settings)
      console.log(
        `server at 16 frames/s for ${seconds} s, ${what}: CPU ${figures.cpuPercent.toFixed(1)} % of a core, RSS ` +
          `${figures.rssMb.toFixed(0)} MB, ${figures.framesPerSecond.toFixed(1)} frames/s delivered, ` +
          `${watcher.messages.length - before} messages received by a subscriber`
      )
    }
    console.log(`the memory benchmark's load for ${minutes} min, with MQTT at its busiest:`)
    Memory.report(await Memory.measure(minutes, busiest))
  } finally {
    await watcher.close()
    await broker.close()
  }
}
