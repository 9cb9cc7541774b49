/**
 * Heat-map images over real HTTP: `ircam serve` with the simulated sensor as a child process; the
 * live frame and a frame of a manual event fetched as PNG and decoded.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { legendHeight } from "@ircam/core/HeatmapImage"
import { freePort } from "@ircam/test-support/Port"
import { killAll, serverEnv, start, stop, waitUntilAnswering } from "@ircam/test-support/Process"
import { decode } from "fast-png"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

let dir = ""
let port = 0
let env: Record<string, string> = {}
const base = () => `http://127.0.0.1:${port}/api/v1`

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** GETs `path`, retrying (up to ~5 s) while the answer has status `retryOn`. */
const get = async (path: string, retryOn?: number) => {
  for (let attempt = 0;; attempt++) {
    const response = await fetch(`${base()}${path}`)
    const bytes = new Uint8Array(await response.arrayBuffer())
    if (response.status !== retryOn || attempt >= 100) {
      return { status: response.status, headers: response.headers, bytes }
    }
    await sleep(50)
  }
}

const json = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>

/** A PNG answer, decoded. */
const png = async (path: string, retryOn?: number) => {
  const answer = await get(path, retryOn)
  assert.strictEqual(answer.status, 200, new TextDecoder().decode(answer.bytes))
  assert.strictEqual(answer.headers.get("content-type"), "image/png")
  return { headers: answer.headers, image: decode(answer.bytes) }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ircam-images-"))
  port = await freePort()
  env = serverEnv(dir, port, { REFRESH_RATE_HZ: "16", PRE_EVENT_SECONDS: "1", POST_EVENT_SECONDS: "1" })
})

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

describe("heat-map images over HTTP", () => {
  it("serves the live frame and the frames of an event as PNG", async () => {
    const ircam = start(["serve"], env, dir)
    await waitUntilAnswering(ircam, `${base()}/health`)

    // 503 until the first frame, then 320×240 by default
    const live = await png("/thermal/real-time.png", 503)
    assert.deepStrictEqual([live.image.width, live.image.height], [320, 240])
    assert.strictEqual(live.headers.get("cache-control"), "no-store")
    const scaled = await png("/thermal/real-time.png?scale=4&legend=true&palette=rainbow&zones=true")
    assert.deepStrictEqual([scaled.image.width, scaled.image.height], [128, 96 + legendHeight(4)])

    const bad = await get("/thermal/real-time.png?scale=0")
    assert.strictEqual(bad.status, 400)
    assert.strictEqual(json(bad.bytes)["_tag"], "HttpApiDecodeError")

    const palettes = await get("/thermal/palettes")
    assert.strictEqual(palettes.status, 200)
    const list = JSON.parse(new TextDecoder().decode(palettes.bytes)) as ReadonlyArray<{ colors: Array<string> }>
    assert.lengthOf(list, 3)
    assert.isTrue(list.every((palette) => palette.colors.length === 256))

    // a manual event: its frames as PNG once it has some
    const created = await fetch(`${base()}/events`, { method: "POST" })
    assert.strictEqual(created.status, 202)
    const { id } = (await created.json()) as { id: number }
    let frameCount = 0
    for (let attempt = 0; attempt < 100 && frameCount === 0; attempt++) {
      frameCount = ((await (await fetch(`${base()}/events/${id}`)).json()) as { frameCount: number }).frameCount
      if (frameCount === 0) await sleep(50)
    }
    assert.isAbove(frameCount, 0)
    const frame = await png(`/events/${id}/frames/0.png?scale=2&palette=grey`)
    assert.deepStrictEqual([frame.image.width, frame.image.height], [64, 48])

    const past = await get(`/events/${id}/frames/100000.png`)
    assert.strictEqual(past.status, 404)
    assert.strictEqual(json(past.bytes)["_tag"], "FrameNotFound")
    const unknown = await get(`/events/${id + 1000}/frames/0.png`)
    assert.strictEqual(unknown.status, 404)
    assert.strictEqual(json(unknown.bytes)["_tag"], "EventNotFound")

    assert.strictEqual(await stop(ircam), 0, ircam.stderr())
  })
})
