/**
 * The live streams over real HTTP: `ircam serve` as a child process on the simulated sensor,
 * read as a browser's EventSource reads them; the cap on open streams; stopping the server
 * while clients are connected.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { freePort } from "@ircam/test-support/Port"
import { killAll, serverEnv, start, stop, waitUntilAnswering } from "@ircam/test-support/Process"
import { once } from "node:events"
import { mkdtemp, rm } from "node:fs/promises"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

interface Message {
  readonly event: string
  readonly data: string
}

/** An open event stream: its messages one at a time, and a way to close it. */
interface Subscription {
  readonly status: number
  readonly contentType: string | null
  readonly next: () => Promise<Message>
  readonly close: () => void
}

/** Reads a `text/event-stream` answer message by message (comments and `retry:` dispatch nothing). */
const subscribe = async (url: string): Promise<Subscription> => {
  const controller = new AbortController()
  const response = await fetch(url, { signal: controller.signal })
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ""
  const next = async (): Promise<Message> => {
    for (;;) {
      const end = buffer.indexOf("\n\n")
      if (end !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const lines = block.split("\n")
        const data = lines.filter((line) => line.startsWith("data: ")).map((line) => line.slice(6))
        if (data.length === 0) continue
        const event = lines.find((line) => line.startsWith("event: "))?.slice(7) ?? "message"
        return { event, data: data.join("\n") }
      }
      const { done, value } = await reader.read()
      if (done) throw new Error("the stream ended")
      buffer += value
    }
  }
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    next,
    close: () => controller.abort()
  }
}

let dir = ""
let port = 0
let env: Record<string, string> = {}
const base = () => `http://127.0.0.1:${port}/api/v1`

const streamsHealth = async () => {
  const report = await (await fetch(`${base()}/health`)).json() as {
    checks: { streams: { details: Record<string, number> } }
  }
  return report.checks.streams.details
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ircam-live-"))
  port = await freePort()
  env = serverEnv(dir, port, { REFRESH_RATE_HZ: "16", MAX_STREAMS: "2" })
})

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

describe("live streams over HTTP", () => {
  it("stream frames, every n-th, alarms and recordings; cap the open streams; end when the server stops", async () => {
    const ircam = start(["serve"], env, dir)
    await waitUntilAnswering(ircam, `${base()}/health`)

    const frames = await subscribe(`${base()}/thermal/stream`)
    assert.strictEqual(frames.status, 200)
    assert.strictEqual(frames.contentType, "text/event-stream")
    const sequences: Array<number> = []
    for (let i = 0; i < 5; i++) {
      const message = await frames.next()
      assert.strictEqual(message.event, "frame")
      const frame = JSON.parse(message.data) as { temperatures: Array<number>; width: number; sequence: number }
      assert.strictEqual(frame.temperatures.length, 768)
      assert.strictEqual(frame.width, 32)
      sequences.push(frame.sequence)
    }
    // consecutive frames (a client that keeps up misses none)
    for (let i = 1; i < sequences.length; i++) assert.strictEqual(sequences[i], sequences[i - 1]! + 1, `${sequences}`)

    const everyFourth = await subscribe(`${base()}/thermal/stream?every=4`)
    const first = JSON.parse((await everyFourth.next()).data).sequence as number
    const second = JSON.parse((await everyFourth.next()).data).sequence as number
    assert.strictEqual(second - first, 4)

    // two are open: a third is refused with a JSON body
    const refused = await fetch(`${base()}/alarms/stream`)
    assert.strictEqual(refused.status, 503)
    assert.strictEqual((await refused.json() as { _tag: string })._tag, "TooManyStreams")
    everyFourth.close()
    for (let attempt = 0; (await streamsHealth())["open"] !== 1; attempt++) {
      assert.isBelow(attempt, 200, "the closed stream's slot was given back")
      await new Promise((resolve) => setTimeout(resolve, 25))
    }

    const alarms = await subscribe(`${base()}/alarms/stream`)
    assert.strictEqual(alarms.status, 200)
    const triggered = await fetch(`${base()}/events`, { method: "POST" })
    assert.strictEqual(triggered.status, 202)
    const started = await alarms.next()
    assert.strictEqual(started.event, "recording")
    assert.strictEqual(JSON.parse(started.data).transition, "started")
    // the frames stream carries it too, between frames
    let seen: Message
    do seen = await frames.next()
    while (seen.event === "frame")
    assert.strictEqual(seen.event, "recording")

    // stopping the server ends the streams instead of waiting for their clients, and does not wait
    // for a connection that a browser opened ahead and has sent nothing on either
    const idle = connect(port, "127.0.0.1")
    await once(idle, "connect")
    const stopping = Date.now()
    assert.strictEqual(await stop(ircam), 0)
    assert.isBelow(Date.now() - stopping, 10_000)
    await assertEnds(frames)
    await assertEnds(alarms)
    idle.destroy()
  }, 60_000)
})

const assertEnds = async (subscription: Subscription) => {
  const error = await (async () => {
    for (;;) await subscription.next()
  })().catch((e: unknown) => e)
  assert.instanceOf(error, Error)
}
