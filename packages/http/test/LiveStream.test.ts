/**
 * The live streams (Server-Sent Events) on the simulated sensor and the TestClock: frames as they
 * arrive, every n-th, alarm transitions and recordings; the cap on open streams; a slow client.
 * Frame `k` is captured at `start + k × 125 ms` (8 Hz).
 */
import { HttpClient, type HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { AlarmJson } from "@ircam/core/Alarm"
import type { AppConfigShape } from "@ircam/core/AppConfig"
import { EventJson } from "@ircam/core/Event"
import { FrameJson } from "@ircam/core/Frame"
import { Health } from "@ircam/core/Health"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Chunk, Duration, Effect, Exit, Fiber, Layer, Option, Queue, Schema, Scope, Stream, TestClock } from "effect"
import { LiveStream } from "../src/LiveStream.js"
import { messages, type SseMessage } from "./support/Sse.js"
import { appLayer, errorOf, jsonOf, send } from "./support/TestApp.js"

const start = Date.UTC(2026, 10, 24, 8, 0, 0)
const periodMs = 125

const inApp = (config: Partial<AppConfigShape> = {}) => <A, E, R>(test: Effect.Effect<A, E, R>) =>
  TestClock.setTime(start).pipe(
    Effect.zipRight(
      Effect.provide(test, appLayer(SimulatedSensor.layer(), { refreshRateHz: 1000 / periodMs, ...config }))
    )
  )

/** Runs the clock on by `n` frame periods. */
const frames = (n: number) => TestClock.adjust(Duration.millis(n * periodMs))

/** Opens a stream: its messages arrive in the queue until the scope closes. */
const open = (path: string) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.get(path)
    const received = yield* Queue.unbounded<SseMessage>()
    yield* messages(response.stream).pipe(
      Stream.runForEach((message) => Queue.offer(received, message)),
      Effect.forkScoped
    )
    return { response, received }
  })

const FrameBody = Schema.parseJson(FrameJson)
const AlarmMessage = Schema.parseJson(Schema.Struct({ transition: Schema.String, alarm: AlarmJson }))
const RecordingMessage = Schema.parseJson(Schema.Struct({ transition: Schema.String, event: EventJson }))

/** The next message, which must be of `event`. */
const next = (received: Queue.Dequeue<SseMessage>, event: string) =>
  Effect.map(Queue.take(received), (message) => {
    assert.strictEqual(message.event, event, message.data.slice(0, 200))
    return message.data
  })

const nextFrame = (received: Queue.Dequeue<SseMessage>) =>
  Effect.map(next(received, "frame"), Schema.decodeUnknownSync(FrameBody))

const streamsHealth = Effect.flatMap(Health, (health) => health.report).pipe(
  Effect.map((report) => report.checks["streams"]!.details as Record<string, number>)
)

/** Waits, in real time, until the server saw the streams close (the client's end travels over a socket). */
const eventuallyOpen = (expected: number) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 500; attempt++) {
      if ((yield* streamsHealth)["open"] === expected) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 10)))
    }
    assert.fail(`the server still counts streams other than ${expected}`)
  })

const isEventStream = (response: HttpClientResponse.HttpClientResponse) => {
  assert.strictEqual(response.status, 200)
  assert.strictEqual(response.headers["content-type"], "text/event-stream")
  assert.strictEqual(response.headers["cache-control"], "no-cache")
}

describe("GET /api/v1/thermal/stream", () => {
  it.scoped("sends the latest frame at once, then every frame, as GET /thermal/real-time answers it", () =>
    inApp()(Effect.gen(function*() {
      yield* frames(3)
      const { received, response } = yield* open("/api/v1/thermal/stream")
      isEventStream(response)
      const first = yield* nextFrame(received)
      const realTime = yield* send("GET", "/api/v1/thermal/real-time")
      assert.deepStrictEqual(first, jsonOf(realTime))
      assert.strictEqual(first.sequence, 3)
      yield* frames(4)
      const sequences: Array<number> = []
      for (let i = 0; i < 4; i++) sequences.push((yield* nextFrame(received)).sequence)
      assert.deepStrictEqual(sequences, [4, 5, 6, 7])
      const last = (yield* send("GET", "/api/v1/thermal/real-time")).text
      assert.strictEqual(Schema.decodeUnknownSync(FrameBody)(last).sequence, 7)
    })))

  it.scoped("?every=3 sends every third frame", () =>
    inApp()(Effect.gen(function*() {
      const { received } = yield* open("/api/v1/thermal/stream?every=3")
      assert.strictEqual((yield* nextFrame(received)).sequence, 0)
      yield* frames(9)
      const sequences: Array<number> = []
      for (let i = 0; i < 3; i++) sequences.push((yield* nextFrame(received)).sequence)
      assert.deepStrictEqual(sequences, [3, 6, 9])
    })))

  it.scoped("refuses an every outside 1–1000 with a 400 naming it", () =>
    inApp()(Effect.gen(function*() {
      for (const every of ["0", "1001", "2.5", "often"]) {
        const answer = yield* send("GET", `/api/v1/thermal/stream?every=${every}`)
        assert.strictEqual(answer.status, 400, every)
        assert.include(answer.text, "every")
      }
    })))

  it.scoped("sends alarm transitions and recordings on the same stream", () =>
    inApp()(Effect.gen(function*() {
      const { received } = yield* open("/api/v1/thermal/stream?every=1000")
      yield* nextFrame(received)
      // the scene is always warmer than 30 °C somewhere: raised on the next frame
      const rule = yield* send("POST", "/api/v1/alarms/rules", {
        json: { name: "warm", metric: "max", direction: "above", threshold: 30, severity: "warning" }
      })
      assert.strictEqual(rule.status, 201, rule.text)
      yield* frames(1)
      const started = Schema.decodeUnknownSync(RecordingMessage)(yield* next(received, "recording"))
      assert.strictEqual(started.transition, "started")
      assert.strictEqual(started.event.kind, "alarm")
      const raised = Schema.decodeUnknownSync(AlarmMessage)(yield* next(received, "alarm"))
      assert.strictEqual(raised.transition, "raised")
      assert.strictEqual(raised.alarm.eventId, started.event.id)

      const ack = yield* send("POST", `/api/v1/alarms/${raised.alarm.id}/ack`)
      assert.strictEqual(ack.status, 200, ack.text)
      const acknowledged = Schema.decodeUnknownSync(AlarmMessage)(yield* next(received, "alarm"))
      assert.strictEqual(acknowledged.transition, "acknowledged")
      assert.isNotNull(acknowledged.alarm.acknowledgedAt)

      const removed = yield* send("DELETE", `/api/v1/alarms/rules/${(jsonOf(rule) as { id: number }).id}`)
      assert.strictEqual(removed.status, 204)
      const cleared = Schema.decodeUnknownSync(AlarmMessage)(yield* next(received, "alarm"))
      assert.strictEqual(cleared.transition, "cleared")

      // the event's window passes (PRE 5 s + POST 10 s by default): completed, then deleted
      yield* TestClock.adjust(Duration.seconds(15))
      const completed = Schema.decodeUnknownSync(RecordingMessage)(yield* next(received, "recording"))
      assert.strictEqual(completed.transition, "completed")
      assert.strictEqual(completed.event.status, "complete")
      assert.isAbove(completed.event.frameCount, 0)
      yield* send("DELETE", `/api/v1/events/${completed.event.id}`)
      assert.deepStrictEqual(JSON.parse(yield* next(received, "recording")), {
        transition: "deleted",
        id: completed.event.id
      })
    })))

  it.scoped("a slow client misses frames instead of queueing them, and the monitor does not wait for it", () =>
    inApp()(Effect.gen(function*() {
      const live = yield* LiveStream
      const response = yield* live.respond({ every: Option.some(1) })
      assert.strictEqual(response.body._tag, "Stream")
      if (response.body._tag !== "Stream") return
      // pulled by hand: nothing is read while the clock runs on by 100 frames
      const pull = yield* Stream.toPull(messages(response.body.stream))
      // the next messages (a chunk may hold none, such as the one of `retry:`)
      const take = Effect.map(pull, Chunk.toReadonlyArray).pipe(
        Effect.repeat({ until: (chunk) => chunk.length > 0 })
      )
      assert.strictEqual(JSON.parse((yield* take)[0]!.data).sequence, 0)
      yield* frames(100)
      const latest = Schema.decodeUnknownSync(FrameBody)((yield* send("GET", "/api/v1/thermal/real-time")).text)
      assert.strictEqual(latest.sequence, 100, "the monitor processed every frame")
      const after: Array<number> = []
      while (after.length === 0 || after[after.length - 1]! < 100) {
        for (const message of yield* take) after.push(JSON.parse(message.data).sequence)
      }
      // at most the two frames in the answer's pipeline, then the newest two: no backlog of 100
      assert.isAtMost(after.length, 4, `${after}`)
      assert.deepStrictEqual(after.slice(-2), [99, 100])
      assert.isAtLeast((yield* streamsHealth)["framesSkipped"]!, 95)
    })))

  it.scoped("sends a keep-alive comment every 15 s", () =>
    inApp({ refreshRateHz: 0.5 })(Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get("/api/v1/alarms/stream")
      const text = yield* Queue.unbounded<string>()
      yield* response.stream.pipe(
        Stream.decodeText(),
        Stream.runForEach((chunk) => Queue.offer(text, chunk)),
        Effect.forkScoped
      )
      assert.strictEqual(yield* Queue.take(text), "retry: 2000\n\n")
      yield* TestClock.adjust(Duration.seconds(15))
      assert.strictEqual(yield* Queue.take(text), ": keep-alive\n\n")
    })))
})

describe("GET /api/v1/alarms/stream", () => {
  it.scoped("sends alarms and recordings but no frames", () =>
    inApp()(Effect.gen(function*() {
      const { received, response } = yield* open("/api/v1/alarms/stream")
      isEventStream(response)
      yield* frames(10)
      const triggered = yield* send("POST", "/api/v1/events", { json: { label: "by hand" } })
      assert.strictEqual(triggered.status, 202)
      const started = Schema.decodeUnknownSync(RecordingMessage)(yield* next(received, "recording"))
      assert.strictEqual(started.event.label, "by hand")
      yield* send("POST", "/api/v1/events", { json: { label: "again" } })
      const extended = Schema.decodeUnknownSync(RecordingMessage)(yield* next(received, "recording"))
      assert.strictEqual(extended.transition, "extended")
      assert.strictEqual(extended.event.id, started.event.id)
      assert.isTrue(Option.isNone(yield* Queue.poll(received)), "no frame message")
    })))
})

describe("MAX_STREAMS", () => {
  it.scoped("caps the open streams: one more is a 503 until one closes", () =>
    inApp({ maxStreams: 2 })(Effect.gen(function*() {
      const first = yield* Scope.make()
      const one = yield* Scope.extend(open("/api/v1/thermal/stream"), first)
      yield* nextFrame(one.received)
      const two = yield* open("/api/v1/alarms/stream")
      isEventStream(two.response)

      const refused = yield* send("GET", "/api/v1/thermal/stream")
      assert.strictEqual(refused.status, 503)
      const error = errorOf(refused)
      assert.strictEqual(error._tag, "TooManyStreams")
      assert.include(error.message, "MAX_STREAMS")
      assert.deepInclude(yield* streamsHealth, { open: 2, max: 2, opened: 2, refused: 1 })

      yield* Scope.close(first, Exit.void)
      yield* eventuallyOpen(1)
      const again = yield* open("/api/v1/thermal/stream")
      isEventStream(again.response)
      yield* nextFrame(again.received)
    })))

  it.live("the streams end when the server stops, so that stopping does not wait for their clients", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const app = yield* Layer.buildWithScope(appLayer(SimulatedSensor.layer(), { refreshRateHz: 8 }), scope)
      const client = yield* Effect.provide(HttpClient.HttpClient, app)
      const response = yield* client.get("/api/v1/thermal/stream").pipe(Scope.extend(scope))
      const reader = yield* messages(response.stream).pipe(Stream.runDrain, Effect.either, Effect.fork)
      // a Node server closes once its connections end: an endless answer would hold it for ever
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.timeoutOption("5 seconds"))
      assert.isTrue(Option.isSome(closed), "the server stopped")
      assert.isTrue(Option.isSome(yield* Fiber.join(reader).pipe(Effect.timeoutOption("5 seconds"))))
    }))
})
