/**
 * What watching costs the server: the real server in a child process at 16 frames/s, its CPU
 * time (from /proc) over 10 s with no client (the reference), with one live stream (what an open
 * web page holds) and with eight; and the bytes of the page itself. Each stream client counts
 * the frames it received, to show it kept up.
 */
import { freePort } from "@ircam/test-support/Port"
import { stop } from "@ircam/test-support/Process"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cpuSeconds, rssMb, serve, untilAnswering } from "./Server.js"

const refreshRateHz = 16 // as `serve` starts it
const seconds = 10

const sequence = (port: number) =>
  fetch(`http://127.0.0.1:${port}/api/v1/thermal/real-time`).then(async (r) =>
    (await r.json() as { sequence: number }).sequence
  )

/** Reads a frame stream, counting its frame messages, until aborted. */
const watch = (url: string, signal: AbortSignal) => {
  const counter = { frames: 0 }
  const done = fetch(url, { signal }).then(async (response) => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      counter.frames += value.split("event: frame\n").length - 1
    }
  }).catch(() => undefined)
  return { counter, done }
}

/** Server CPU as % of one core, and what each of `streams` clients received, over `seconds`. */
const measure = async (pid: number, port: number, streams: number) => {
  const controller = new AbortController()
  const watchers = Array.from(
    { length: streams },
    () => watch(`http://127.0.0.1:${port}/api/v1/thermal/stream`, controller.signal)
  )
  await new Promise((resolve) => setTimeout(resolve, 1000)) // connected and flowing
  const before = cpuSeconds(pid)
  const firstSequence = await sequence(port)
  for (const watcher of watchers) watcher.counter.frames = 0
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  const cpu = (cpuSeconds(pid) - before) / seconds * 100
  const produced = await sequence(port) - firstSequence
  const received = watchers.map((w) => w.counter.frames / produced)
  controller.abort()
  await Promise.all(watchers.map((w) => w.done))
  return { cpu, received, rss: rssMb(pid) }
}

export const run = Effect.promise(async () => {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-"))
  const port = await freePort()
  const server = serve(dir, port)
  try {
    await untilAnswering(server, port)
    const page = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())
    const assets = [...page.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!)
    let bytes = page.length
    for (const asset of new Set(assets)) {
      bytes += (await fetch(`http://127.0.0.1:${port}${asset}`).then((r) => r.arrayBuffer())).byteLength
    }
    console.log(`live view: the page is ${assets.length + 1} files linked from /, ${Math.round(bytes / 1024)} KB`)

    const pid = server.child.pid!
    const idle = await measure(pid, port, 0)
    const one = await measure(pid, port, 1)
    const eight = await measure(pid, port, 8)
    const perStream = (eight.cpu - idle.cpu) / 8
    const percent = (ratio: number) => `${Math.round(ratio * 100)} %`
    const line = (name: string, { cpu, received, rss }: typeof idle) =>
      `  ${name}: server CPU ${cpu.toFixed(1)} % of a core, RSS ${rss.toFixed(0)} MB` +
      (received.length === 0 ? "" : `, each client got ${percent(Math.min(...received))}–` +
        `${percent(Math.max(...received))} of the frames`)
    console.log(`live streams at ${refreshRateHz} frames/s, ${seconds} s each:`)
    console.log(line("reference, no client", idle))
    console.log(line("1 stream (an open page)", one))
    console.log(line("8 streams", eight))
    console.log(`  one stream costs about ${perStream.toFixed(2)} % of a core`)
  } finally {
    await stop(server)
    rmSync(dir, { recursive: true, force: true })
  }
})
