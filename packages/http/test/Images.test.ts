/**
 * The heat-map image endpoints through the whole HTTP application: the latest frame as PNG (known
 * frames fed to a test sensor), the palettes, the frames of recorded events (simulated sensor on the
 * TestClock), and the errors of each.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it, layer } from "@effect/vitest"
import type { AppConfigShape } from "@ircam/core/AppConfig"
import { type Frame, HEIGHT, WIDTH } from "@ircam/core/Frame"
import { legendHeight } from "@ircam/core/HeatmapImage"
import { luts, noData, type PaletteName } from "@ircam/core/Palette"
import { Sensor } from "@ircam/core/Sensor"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, Schema, Stream } from "effect"
import { decode } from "fast-png"
import * as TestCore from "../../core/test/support/TestCore.js"
import * as TestFrames from "../../core/test/support/TestFrames.js"
import { EventFrameJson } from "../src/EventsApi.js"
import { palettes } from "../src/ImagesHandlers.js"
import {
  advanceTo,
  appLayer,
  atStart,
  awaitFrame,
  decodeErrorOf,
  deleteAllZones,
  errorOf,
  jsonOf,
  send
} from "./support/TestApp.js"

/** GETs `path` and reads the body as bytes. */
const getBytes = (path: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(HttpClientRequest.get(path))
    const bytes = new Uint8Array(yield* response.arrayBuffer)
    return { status: response.status, headers: response.headers, bytes }
  })

/** GETs a PNG: 200, `image/png`, decoded (RGB, 8 bits). */
const getPng = (path: string) =>
  Effect.gen(function*() {
    const answer = yield* getBytes(path)
    assert.strictEqual(answer.status, 200, new TextDecoder().decode(answer.bytes))
    assert.strictEqual(answer.headers["content-type"], "image/png")
    const png = decode(answer.bytes)
    assert.strictEqual(png.channels, 3)
    assert.strictEqual(png.depth, 8)
    const rgb = (x: number, y: number) => {
      const o = (y * png.width + x) * 3
      return Array.from(png.data.subarray(o, o + 3))
    }
    return { ...answer, png, rgb }
  })

const entry = (palette: PaletteName, i: number) => Array.from(luts[palette].subarray(i * 3, i * 3 + 3))

/** Every pixel of a scale-1 grey image is the temperature's place in [min, max], within rounding. */
const assertGreyScale1 = (
  rgb: (x: number, y: number) => ReadonlyArray<number>,
  temperatures: ArrayLike<number | null>,
  range?: { readonly min: number; readonly max: number }
) => {
  const values = Array.from(temperatures).filter((t): t is number => t !== null && Number.isFinite(t))
  const min = range?.min ?? Math.min(...values)
  const max = range?.max ?? Math.max(...values)
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const t = temperatures[y * WIDTH + x]
      const [r, g, b] = rgb(x, y)
      if (t === null || t === undefined || !Number.isFinite(t)) {
        assert.deepStrictEqual([r, g, b], [...noData.grey], `(${x}, ${y})`)
        continue
      }
      const expected = Math.min(255, Math.max(0, ((t - min) / (max - min)) * 255))
      assert.closeTo(r!, expected, 0.51, `(${x}, ${y}) ${t} °C`)
      assert.isTrue(r === g && g === b)
    }
  }
}

/** Runs a test in a fresh application on the simulated sensor: frames every 125 ms. */
const inApp = (config: Partial<AppConfigShape> = {}) =>
  atStart(appLayer(SimulatedSensor.layer(), { preEventSeconds: 2, postEventSeconds: 3, refreshRateHz: 8, ...config }))

const FramesBody = Schema.parseJson(Schema.Array(EventFrameJson))
const frameCountOf = (path: string) =>
  Effect.map(send("GET", path), (answer) => (jsonOf(answer) as { frameCount: number }).frameCount)

// first: `layer` below re-points the shared `it.effect` at its own runtime (without the TestClock)
describe("GET /events/{id}/frames/{n}.png", () => {
  it.effect("draws a stored frame; a complete event's may be cached", () =>
    inApp()(Effect.gen(function*() {
      yield* advanceTo(10_050)
      const created = yield* send("POST", "/api/v1/events", { json: { label: "images" } })
      assert.strictEqual(created.status, 202, created.text)
      // while it records, its images are not to be kept
      const recording = yield* getPng("/api/v1/events/1/frames/0.png")
      assert.strictEqual(recording.headers["cache-control"], "no-cache")
      yield* advanceTo(10_050 + 3_000 + 550)

      const frames = Schema.decodeUnknownSync(FramesBody)((yield* send("GET", "/api/v1/events/1/frames")).text)
      const frameCount = yield* frameCountOf("/api/v1/events/1")
      assert.lengthOf(frames, frameCount)
      assert.isAbove(frameCount, 30)

      for (const n of [0, 7, frameCount - 1]) {
        const { headers, png, rgb } = yield* getPng(`/api/v1/events/1/frames/${n}.png?palette=grey&scale=1`)
        assert.deepStrictEqual([png.width, png.height], [32, 24])
        assert.strictEqual(headers["cache-control"], "public, max-age=3600")
        assertGreyScale1(rgb, frames[n]!.temperatures)
      }
      const big = yield* getPng("/api/v1/events/1/frames/3.png?legend=true")
      assert.deepStrictEqual([big.png.width, big.png.height], [320, 240 + legendHeight(10)])
      // with zones, the image follows the zones of the moment
      const zoned = yield* getPng("/api/v1/events/1/frames/3.png?zones=true")
      assert.strictEqual(zoned.headers["cache-control"], "no-cache")

      const past = yield* send("GET", `/api/v1/events/1/frames/${frameCount}.png`)
      assert.strictEqual(past.status, 404)
      assert.deepStrictEqual(jsonOf(past), {
        _tag: "FrameNotFound",
        message: `event 1 has no frame ${frameCount}: it has ${frameCount} frames, numbered from 0 to ${frameCount - 1}`
      })
    })))

  it.effect("is a 404 for an unknown event or a frame not stored yet, a 400 for a bad n", () =>
    // without a pre-event window, an event has no frame until the writer stores the first after it
    inApp({ preEventSeconds: 0, refreshRateHz: 1 })(Effect.gen(function*() {
      yield* advanceTo(1_050)
      const created = yield* send("POST", "/api/v1/events")
      assert.strictEqual(created.status, 202, created.text)
      const none = yield* send("GET", "/api/v1/events/1/frames/0.png")
      assert.strictEqual(none.status, 404)
      assert.deepStrictEqual(jsonOf(none), {
        _tag: "FrameNotFound",
        message: "event 1 has no frame 0: it has no frames yet"
      })
      // the frame of 2 s, stored at 2.5 s
      yield* advanceTo(2_600)
      assert.strictEqual(yield* frameCountOf("/api/v1/events/1"), 1)
      yield* getPng("/api/v1/events/1/frames/0.png")
      assert.strictEqual(
        errorOf(yield* send("GET", "/api/v1/events/1/frames/1.png")).message,
        "event 1 has no frame 1: it has 1 frame, numbered from 0 to 0"
      )

      const unknown = yield* send("GET", "/api/v1/events/99/frames/0.png")
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(errorOf(unknown)._tag, "EventNotFound")

      for (const path of ["/api/v1/events/1/frames/-1.png", "/api/v1/events/1/frames/1.5.png"]) {
        const bad = yield* send("GET", path)
        assert.strictEqual(bad.status, 400, path)
        assert.strictEqual(errorOf(bad)._tag, "HttpApiDecodeError")
      }
      const badParams = yield* send("GET", "/api/v1/events/1/frames/0.png?palette=jet")
      assert.strictEqual(badParams.status, 400)
      assert.deepStrictEqual(decodeErrorOf(badParams).issues[0]!.path, ["palette"])
    })))
})

describe("images before the first frame", () => {
  layer(appLayer(Sensor.layerTest(Stream.never)), { excludeTestServices: true })((it) => {
    it.effect("GET /thermal/real-time.png is a 503 NoFrameYet", () =>
      Effect.gen(function*() {
        const answer = yield* send("GET", "/api/v1/thermal/real-time.png")
        assert.strictEqual(answer.status, 503)
        assert.match(answer.headers["content-type"] ?? "", /application\/json/)
        assert.deepStrictEqual(jsonOf(answer), {
          _tag: "NoFrameYet",
          message: "no frame has been received from the sensor yet"
        })
      }))

    it.effect("GET /thermal/palettes lists every palette's 256 colours", () =>
      Effect.gen(function*() {
        const answer = yield* send("GET", "/api/v1/thermal/palettes")
        assert.strictEqual(answer.status, 200)
        const body = jsonOf(answer) as ReadonlyArray<{ name: string; colors: ReadonlyArray<string> }>
        assert.deepStrictEqual(body, JSON.parse(JSON.stringify(palettes)))
        assert.deepStrictEqual(body.map((p) => p.name), ["iron", "rainbow", "grey"])
        for (const palette of body) {
          assert.lengthOf(palette.colors, 256)
          assert.isTrue(palette.colors.every((c) => /^#[0-9a-f]{6}$/.test(c)))
        }
        assert.deepStrictEqual([body[0]!.colors[0], body[0]!.colors[255]], ["#000000", "#ffffff"])
        assert.deepStrictEqual([body[1]!.colors[0], body[1]!.colors[255]], ["#0000ff", "#ff0000"])
        assert.strictEqual(body[2]!.colors[128], "#808080")
      }))
  })
})

// pixel (col, row) reads 20 + col + row / 10 °C: 20 °C top left, 53.3 °C bottom right
const knownFrame = (sequence: number, edit: (temperatures: Float32Array) => void = () => {}): Frame => {
  const frame = TestFrames.make({
    sequence,
    at: Date.UTC(2026, 0, 2, 3, 4, 5, 600),
    temperatures: (i) => 20 + (i % WIDTH) + Math.floor(i / WIDTH) / 10,
    ambient: 25.5
  })
  edit(frame.temperatures)
  return frame
}

/** Feeds a frame and waits until the monitor has it. */
const feed = (frame: Frame) =>
  Effect.gen(function*() {
    yield* TestCore.push(frame)
    yield* awaitFrame((f) => f.sequence === frame.sequence)
  })

describe("GET /thermal/real-time.png", () => {
  layer(appLayer(TestCore.fedSensor()), { excludeTestServices: true })((it) => {
    it.effect("draws the latest frame: 320×240 in iron by default, never cached", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        yield* feed(knownFrame(1))
        const { headers, png, rgb } = yield* getPng("/api/v1/thermal/real-time.png")
        assert.strictEqual(png.width, 320)
        assert.strictEqual(png.height, 240)
        assert.strictEqual(headers["cache-control"], "no-store")
        assert.deepStrictEqual(rgb(0, 0), entry("iron", 0))
        assert.deepStrictEqual(rgb(319, 239), entry("iron", 255))

        const grey = yield* getPng("/api/v1/thermal/real-time.png?palette=grey&scale=1")
        assert.deepStrictEqual([grey.png.width, grey.png.height], [32, 24])
        assertGreyScale1(grey.rgb, knownFrame(1).temperatures)

        const next = knownFrame(2, (t) => t.forEach((v, i) => (t[i] = 100 - v)))
        yield* feed(next)
        const mirrored = yield* getPng("/api/v1/thermal/real-time.png?palette=grey&scale=1")
        assertGreyScale1(mirrored.rgb, next.temperatures)
        assert.deepStrictEqual(mirrored.rgb(0, 0), [255, 255, 255])
      }))

    it.effect("takes scale, palette, a fixed range, a legend and the zones", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        yield* feed(knownFrame(3))
        const scaled = yield* getPng("/api/v1/thermal/real-time.png?scale=3&palette=rainbow")
        assert.deepStrictEqual([scaled.png.width, scaled.png.height], [96, 72])
        assert.deepStrictEqual(scaled.rgb(0, 0), entry("rainbow", 0))
        assert.deepStrictEqual(scaled.rgb(95, 71), entry("rainbow", 255))

        const fixed = yield* getPng("/api/v1/thermal/real-time.png?palette=grey&scale=1&min=0&max=100")
        assertGreyScale1(fixed.rgb, knownFrame(3).temperatures, { min: 0, max: 100 })
        assert.deepStrictEqual(fixed.rgb(0, 0), [51, 51, 51]) // 20 °C of 0–100
        const clamped = yield* getPng("/api/v1/thermal/real-time.png?palette=grey&scale=1&min=30&max=40")
        assert.deepStrictEqual(clamped.rgb(0, 0), [0, 0, 0])
        assert.deepStrictEqual(clamped.rgb(31, 0), [255, 255, 255])

        const legend = yield* getPng("/api/v1/thermal/real-time.png?scale=5&legend=true")
        assert.deepStrictEqual([legend.png.width, legend.png.height], [160, 120 + legendHeight(5)])
        const noLegend = yield* getPng("/api/v1/thermal/real-time.png?scale=5&legend=0")
        assert.strictEqual(noLegend.png.height, 120)

        const zone = yield* send("POST", "/api/v1/zones", {
          json: { x: 1, y: 2, width: 3, height: 2, color: "#00ff00", name: "bench" }
        })
        assert.strictEqual(zone.status, 201, zone.text)
        const withZones = yield* getPng("/api/v1/thermal/real-time.png?scale=10&palette=grey&zones=1")
        assert.deepStrictEqual(withZones.rgb(10, 20), [0, 255, 0])
        assert.deepStrictEqual(withZones.rgb(39, 39), [0, 255, 0])
        const withoutZones = yield* getPng("/api/v1/thermal/real-time.png?scale=10&palette=grey")
        assert.notDeepEqual(withoutZones.rgb(10, 20), [0, 255, 0])
      }))

    it.effect("shows a pixel without a value in the neutral colour", () =>
      Effect.gen(function*() {
        const frame = knownFrame(4, (t) => (t[5 * WIDTH + 5] = Number.NaN))
        yield* feed(frame)
        const { rgb } = yield* getPng("/api/v1/thermal/real-time.png?palette=grey&scale=1")
        assert.deepStrictEqual(rgb(5, 5), [...noData.grey])
        assertGreyScale1(rgb, frame.temperatures)
      }))

    it.effect("answers the same image to the same request, and any number of different ones", () =>
      Effect.gen(function*() {
        yield* feed(knownFrame(5))
        const first = yield* getBytes("/api/v1/thermal/real-time.png?scale=2")
        const second = yield* getBytes("/api/v1/thermal/real-time.png?scale=2")
        assert.deepStrictEqual(second.bytes, first.bytes)
        for (let scale = 1; scale <= 20; scale++) {
          const { png } = yield* getPng(`/api/v1/thermal/real-time.png?scale=${scale}&palette=grey`)
          assert.deepStrictEqual([png.width, png.height], [32 * scale, 24 * scale])
        }
        const again = yield* getBytes("/api/v1/thermal/real-time.png?scale=2")
        assert.deepStrictEqual(again.bytes, first.bytes)
      }))

    it.effect("refuses bad parameters with a 400 naming them", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [string, string]> = [
          ["scale=0", "scale"],
          ["scale=21", "scale"],
          ["scale=1.5", "scale"],
          ["scale=big", "scale"],
          ["palette=jet", "palette"],
          ["min=5&max=1", "min"],
          ["min=3&max=3", "min"],
          ["max=hot", "max"],
          ["zones=maybe", "zones"],
          ["legend=yes", "legend"]
        ]
        for (const [query, field] of cases) {
          const answer = yield* send("GET", `/api/v1/thermal/real-time.png?${query}`)
          assert.strictEqual(answer.status, 400, query)
          assert.match(answer.headers["content-type"] ?? "", /application\/json/)
          const error = decodeErrorOf(answer)
          assert.deepStrictEqual(error.issues[0]!.path, [field], query)
        }
        assert.match(decodeErrorOf(yield* send("GET", "/api/v1/thermal/real-time.png?min=5&max=1")).message, /below/)
      }))
  })
})
