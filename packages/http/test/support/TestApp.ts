/**
 * The composed HTTP application on a test server (random port, real clock), plus small helpers
 * to send raw requests and read their JSON answers.
 */
import { type Headers, HttpClient, HttpClientRequest, type HttpMethod } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { AppConfig, AppConfigShape } from "@ircam/core/AppConfig"
import type { Frame } from "@ircam/core/Frame"
import { Monitor } from "@ircam/core/Monitor"
import type { Sensor } from "@ircam/core/Sensor"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Clock, Duration, Effect, Layer, Logger, LogLevel, Schema, Stream, TestClock } from "effect"
import * as TestCore from "../../../core/test/support/TestCore.js"
import * as Server from "../../src/Server.js"

/**
 * `Server.AppLive` on `NodeHttpServer.layerTest`, with the core layers (exposed, so tests can reach
 * `Health`, `Monitor` and `ZoneRepo`), the given sensor (exposed too, with whatever its layer adds)
 * and an in-memory database.
 */
export const appLayer = <S>(
  sensor: Layer.Layer<Sensor | S, never, AppConfig>,
  config: Partial<AppConfigShape> = {}
) =>
  Server.AppLive.pipe(
    Layer.provideMerge(TestCore.withSensor(sensor, config)),
    Layer.provideMerge(NodeHttpServer.layerTest),
    // request logs would drown the test output; warnings and errors still show
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

/** The TestClock's time when an application started by `atStart` starts. */
export const start = Date.UTC(2026, 10, 24, 8, 0, 0)

/** Sets the TestClock to `start + ms`, running every sleep due until then (frames, the writers, retries …). */
export const advanceTo = (ms: number) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => TestClock.adjust(Duration.millis(start + ms - now)))

/** Runs a test in a fresh application (own database) built at `start` on the TestClock. */
export const atStart = <ROut, LE>(app: Layer.Layer<ROut, LE>) => <A, E, R>(test: Effect.Effect<A, E, R>) =>
  TestClock.setTime(start).pipe(Effect.zipRight(Effect.provide(test, app)))

export interface Answer {
  readonly status: number
  readonly headers: Headers.Headers
  readonly text: string
}

export interface SendOptions {
  /** a value sent as JSON */
  readonly json?: unknown
  /** a body sent as it is, with `contentType` (JSON by default) */
  readonly body?: string
  readonly contentType?: string
  /** sent as `Authorization: Bearer <token>` */
  readonly token?: string
  readonly headers?: Record<string, string>
}

/** Sends a request to the test server and reads the whole answer, whatever its status. */
export const send = (method: HttpMethod.HttpMethod, path: string, options: SendOptions = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(path)
    if (options.json !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, options.json)
    if (options.body !== undefined) {
      request = HttpClientRequest.bodyText(request, options.body, options.contentType ?? "application/json")
    }
    if (options.token !== undefined) request = HttpClientRequest.bearerToken(request, options.token)
    if (options.headers !== undefined) request = HttpClientRequest.setHeaders(request, options.headers)
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, text } satisfies Answer
  })

/** The JSON body of an answer, without assumptions about its shape. */
export const jsonOf = (answer: Answer): unknown => JSON.parse(answer.text)

/** Every error body: JSON with a machine-readable `_tag` and a human `message`. */
export const ErrorBody = Schema.Struct(
  { _tag: Schema.String, message: Schema.String },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/** The body of a 400 for a path, query or payload that does not decode. */
export const DecodeErrorBody = Schema.Struct({
  _tag: Schema.Literal("HttpApiDecodeError"),
  message: Schema.String,
  issues: Schema.NonEmptyArray(Schema.Struct({
    _tag: Schema.String,
    path: Schema.Array(Schema.Union(Schema.String, Schema.Number)),
    message: Schema.String
  }))
})

export const errorOf = (answer: Answer) => Schema.decodeUnknownSync(Schema.parseJson(ErrorBody))(answer.text)
export const decodeErrorOf = (answer: Answer) =>
  Schema.decodeUnknownSync(Schema.parseJson(DecodeErrorBody))(answer.text)

/** The first snapshot whose frame satisfies `predicate` (waits for the monitor; the real clock runs). */
export const awaitFrame = (predicate: (frame: Frame) => boolean = () => true) =>
  Effect.flatMap(Monitor, (monitor) =>
    Stream.unwrapScoped(monitor.changes).pipe(
      Stream.filter((snapshot) => predicate(snapshot.frame)),
      Stream.runHead,
      Effect.flatten,
      Effect.timeout("10 seconds"),
      Effect.orDie
    ))

/** Deletes every zone, so each test starts from an empty repository. */
export const deleteAllZones = Effect.gen(function*() {
  const repo = yield* ZoneRepo
  for (const zone of yield* repo.list) yield* Effect.orDie(repo.remove(zone.id))
})
