/**
 * Alarm evidence through the whole HTTP application on the simulated sensor (TestClock, frames
 * every 125 ms): an event as an animated GIF (decoded back), the frame that raised an alarm as a
 * PNG, and the links of a webhook's payload under PUBLIC_URL, each fetched from the test server.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { AlarmRepo } from "@ircam/core/AlarmRepo"
import type { AppConfigShape } from "@ircam/core/AppConfig"
import { EventId } from "@ircam/core/Event"
import { EventRepo } from "@ircam/core/EventRepo"
import { legendHeight } from "@ircam/core/HeatmapImage"
import { NotifierSettings } from "@ircam/core/NotifierSettings"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Duration, Effect, Layer, Option } from "effect"
import { decode as decodePng } from "fast-png"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as Gif from "../../core/test/support/Gif.js"
import { advanceTo, appLayer, atStart, decodeErrorOf, errorOf, jsonOf, send, start } from "./support/TestApp.js"

/** Runs a test in a fresh application on the simulated sensor at 8 Hz. */
const inApp = (config: Partial<AppConfigShape> = {}) =>
  atStart(
    appLayer(SimulatedSensor.layer(), { preEventSeconds: 2, postEventSeconds: 3, refreshRateHz: 8, ...config }).pipe(
      // no attempt times out: an attempt is real I/O, which the TestClock does not wait for
      Layer.provide(Layer.succeed(NotifierSettings, {
        ...NotifierSettings.defaultValue(),
        webhookTimeout: Duration.hours(1)
      }))
    )
  )

/** GETs `path` and reads the body as bytes. */
const getBytes = (path: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(HttpClientRequest.get(path).pipe(HttpClientRequest.setHeaders(headers)))
    const bytes = new Uint8Array(yield* response.arrayBuffer)
    return { status: response.status, headers: response.headers, bytes }
  })

const getGif = (path: string) =>
  Effect.gen(function*() {
    const answer = yield* getBytes(path)
    assert.strictEqual(answer.status, 200, new TextDecoder().decode(answer.bytes))
    assert.strictEqual(answer.headers["content-type"], "image/gif")
    return { ...answer, gif: Gif.decode(answer.bytes) }
  })

const frameCountOf = (id: number) =>
  Effect.map(send("GET", `/api/v1/events/${id}`), (answer) => (jsonOf(answer) as { frameCount: number }).frameCount)

describe("GET /events/{id}/animation.gif", () => {
  it.effect("the event's frames at their pace; cached with an ETag once complete, without zones", () =>
    inApp()(Effect.gen(function*() {
      yield* advanceTo(10_050)
      assert.strictEqual((yield* send("POST", "/api/v1/events", { json: { label: "gif" } })).status, 202)
      // while it records: what is stored so far, not to be kept
      const recording = yield* getGif("/api/v1/events/1/animation.gif?scale=2")
      assert.strictEqual(recording.headers["cache-control"], "no-cache")
      assert.isUndefined(recording.headers["etag"])
      assert.strictEqual(recording.gif.frames.length, yield* frameCountOf(1))

      yield* advanceTo(10_050 + 3_000 + 550)
      const frameCount = yield* frameCountOf(1)
      assert.isAbove(frameCount, 30)
      const { gif, headers } = yield* getGif("/api/v1/events/1/animation.gif?scale=8&legend=true")
      assert.deepStrictEqual([gif.width, gif.height], [256, 192 + legendHeight(8)])
      assert.lengthOf(gif.frames, frameCount)
      assert.isTrue(gif.frames.every((f) => f.delayCs === 12 || f.delayCs === 13), "8 fps")
      assert.strictEqual(headers["cache-control"], "public, max-age=3600")
      assert.strictEqual(headers["content-disposition"], "inline; filename=\"event-1.gif\"")
      assert.match(headers["etag"]!, /^"[\w-]{20}"$/)
      assert.isUndefined(headers["content-length"], "streamed")

      const again = yield* getBytes("/api/v1/events/1/animation.gif?scale=8&legend=true", {
        "if-none-match": headers["etag"]!
      })
      assert.strictEqual(again.status, 304)
      assert.lengthOf(again.bytes, 0)
      const other = yield* getBytes("/api/v1/events/1/animation.gif?scale=8", { "if-none-match": headers["etag"]! })
      assert.strictEqual(other.status, 200, "another drawing, another tag")

      const fast = yield* getGif("/api/v1/events/1/animation.gif?scale=1&speed=2&palette=grey&min=10&max=90")
      assert.isTrue(fast.gif.frames.every((f) => f.delayCs === 6 || f.delayCs === 7))
      const zoned = yield* getGif("/api/v1/events/1/animation.gif?scale=1&zones=true")
      assert.strictEqual(zoned.headers["cache-control"], "no-cache", "the zones of the moment")
    })))

  it.effect("a 404 for an unknown event or one without frames, a 400 naming a bad parameter", () =>
    inApp({ preEventSeconds: 0, refreshRateHz: 1 })(Effect.gen(function*() {
      yield* advanceTo(1_050)
      assert.strictEqual((yield* send("POST", "/api/v1/events")).status, 202)
      const none = yield* send("GET", "/api/v1/events/1/animation.gif")
      assert.strictEqual(none.status, 404)
      assert.deepStrictEqual(jsonOf(none), {
        _tag: "FrameNotFound",
        message: "event 1 has no frames yet: there is nothing to animate"
      })
      const unknown = yield* send("GET", "/api/v1/events/9/animation.gif")
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(errorOf(unknown)._tag, "EventNotFound")
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["speed=0", "speed"],
        ["speed=fast", "speed"],
        ["scale=21", "scale"],
        ["min=5&max=1", "min"]
      ]
      for (const [query, field] of cases) {
        const bad = yield* send("GET", `/api/v1/events/1/animation.gif?${query}`)
        assert.strictEqual(bad.status, 400, query)
        assert.deepStrictEqual(decodeErrorOf(bad).issues[0]!.path, [field], query)
      }
    })))
})

/** A webhook receiver on loopback keeping the bodies it received. */
const receiver = Effect.acquireRelease(
  Effect.async<{ readonly url: URL; readonly received: Array<string>; readonly close: () => Promise<void> }>(
    (resume) => {
      const received: Array<string> = []
      const server = createServer((request, response) => {
        let body = ""
        request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => {
          received.push(body)
          response.end()
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({
          url: new URL(`http://127.0.0.1:${port}/hook`),
          received,
          close: () =>
            new Promise<void>((resolve) => {
              server.closeAllConnections()
              server.close(() => resolve())
            })
        }))
      })
    }
  ),
  ({ close }) => Effect.promise(close)
)

/** Waits in real time (up to 5 s) for what real I/O does. */
const eventually = <A>(check: () => A | undefined) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 500; attempt++) {
      const result = check()
      if (result !== undefined) return result
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
    }
    return assert.fail("gave up waiting")
  })

describe("the frame that raised an alarm, and the links of its webhook", () => {
  it.scoped("the payload's links, under PUBLIC_URL, answer 200 with their content types", () =>
    Effect.gen(function*() {
      const webhook = yield* receiver
      yield* Effect.gen(function*() {
        yield* advanceTo(1_000)
        const rule = { name: "warm", metric: "max", direction: "above", threshold: 30, severity: "warning" }
        assert.strictEqual((yield* send("POST", "/api/v1/alarms/rules", { json: rule })).status, 201)
        yield* advanceTo(1_500)
        const body = yield* eventually(() => webhook.received[0])
        const { links } = JSON.parse(body).data as { links: Record<string, string> }
        assert.deepStrictEqual(Object.keys(links), ["alarm", "frame", "event", "animation"])
        const expected: Record<string, string> = {
          alarm: "application/json",
          frame: "image/png",
          event: "application/json",
          animation: "image/gif"
        }
        for (const [name, link] of Object.entries(links)) {
          assert.isTrue(link.startsWith("https://ircam.example/lab/api/v1/"), link)
          const answer = yield* getBytes(link.slice("https://ircam.example/lab".length))
          assert.strictEqual(answer.status, 200, `${name}: ${new TextDecoder().decode(answer.bytes)}`)
          assert.strictEqual(answer.headers["content-type"]!.split(";")[0], expected[name], name)
        }
        // the frame that raised it, as the PNGs are drawn
        const frame = yield* getBytes("/api/v1/alarms/1/frame.png?scale=2")
        const png = decodePng(frame.bytes)
        assert.deepStrictEqual([png.width, png.height], [64, 48])
        assert.strictEqual(frame.headers["cache-control"], "no-cache", "its event still records")
        yield* advanceTo(1_500 + 5_000)
        const cached = yield* getBytes("/api/v1/alarms/1/frame.png")
        assert.strictEqual(cached.headers["cache-control"], "public, max-age=3600")
      }).pipe(
        inApp({ webhookUrl: Option.some(webhook.url), publicUrl: Option.some(new URL("https://ircam.example/lab/")) })
      )
    }))

  it.effect("a 404 saying why when an alarm has no frame to show", () =>
    inApp()(Effect.gen(function*() {
      const alarms = yield* AlarmRepo
      const rule = yield* alarms.insertRule({
        name: "r",
        zoneId: null,
        metric: "max",
        direction: "above",
        threshold: 30,
        hysteresis: 1,
        delaySeconds: 0,
        severity: "warning",
        enabled: true
      })
      const alarm = (eventId: number | null, triggerFrame: { sequence: number; capturedAt: number } | null) =>
        alarms.insertAlarm({
          ruleId: rule.id,
          zoneId: null,
          severity: "warning",
          value: 31,
          raisedAt: start,
          eventId: eventId === null ? null : EventId.make(eventId),
          triggerFrame
        })
      const events = yield* EventRepo
      const recording = yield* events.insert({
        kind: "alarm",
        label: null,
        triggeredAt: start,
        windowEnd: start,
        zoneId: null
      })
      const complete = yield* events.insert({
        kind: "alarm",
        label: null,
        triggeredAt: start,
        windowEnd: start,
        zoneId: null
      })
      yield* events.complete(complete)
      const cases: ReadonlyArray<readonly [number | null, boolean, string]> = [
        [null, true, "alarm 1 has no event, so no frame was stored"],
        [recording, false, "alarm 2 was raised before ircam recorded which frame raised it"],
        [99, true, "event 99 of alarm 3 was deleted, and its frames with it"],
        [recording, true, `event ${recording} has not stored the frame that raised alarm 4 yet; try again in a second`],
        [complete, true, `event ${complete} did not store the frame that raised alarm 5`]
      ]
      for (const [eventId, withFrame, message] of cases) {
        const { id } = yield* alarm(eventId, withFrame ? { sequence: 3, capturedAt: start } : null)
        const answer = yield* send("GET", `/api/v1/alarms/${id}/frame.png`)
        assert.strictEqual(answer.status, 404)
        assert.deepStrictEqual(jsonOf(answer), { _tag: "FrameNotFound", message })
      }
      const unknown = yield* send("GET", "/api/v1/alarms/77/frame.png")
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(errorOf(unknown)._tag, "AlarmNotFound")
      const bad = yield* send("GET", "/api/v1/alarms/1/frame.png?palette=jet")
      assert.deepStrictEqual(decodeErrorOf(bad).issues[0]!.path, ["palette"])
    })))
})
