/**
 * A seeded property test of the whole API: requests derived from its own OpenAPI document, valid
 * ones and ones with a single thing wrong, for every operation, sent over HTTP to the running
 * application (simulated sensor, real clock). None may be answered with a 5xx; every 4xx is a
 * short JSON body with a `_tag` and a `message`, which names the field when a field was wrong;
 * and the server still serves new frames afterwards.
 */
import { HttpServer } from "@effect/platform"
import { assert, describe, layer } from "@effect/vitest"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, FastCheck as fc, Layer, Logger, LogLevel } from "effect"
import { request as httpRequest } from "node:http"
import { type OpenApiDocument, operations, type Request, requestOf } from "./support/OpenApiRequests.js"
import { appLayer, awaitFrame, jsonOf, send } from "./support/TestApp.js"

/** Requests a run sends; the seed makes every run send the same ones. */
const numRuns = 3000
const seed = 20261124

/** The largest error answer: a few KB whatever the request. */
const maxErrorBytes = 4096

interface Answer {
  readonly status: number
  readonly contentType: string
  readonly text: string
}

/** Sends `request` as it is (no header added but Host and Content-Length); a stream is closed once it answers. */
const sendRaw = (port: number, request: Request) =>
  new Promise<Answer>((resolve, reject) => {
    const body = request.body === undefined ? undefined : Buffer.from(request.body.text)
    const headers: Record<string, string | number> = {}
    if (body !== undefined) {
      headers["content-length"] = body.length
      if (request.body!.contentType !== "") headers["content-type"] = request.body!.contentType
    }
    const outgoing = httpRequest(
      { host: "127.0.0.1", port, method: request.method, path: request.url, headers },
      (response) => {
        const contentType = response.headers["content-type"] ?? ""
        if (contentType.startsWith("text/event-stream")) {
          response.destroy()
          return resolve({ status: response.statusCode!, contentType, text: "" })
        }
        const chunks: Array<Buffer> = []
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        response.on(
          "end",
          () => resolve({ status: response.statusCode!, contentType, text: Buffer.concat(chunks).toString("utf8") })
        )
        response.on("error", reject)
      }
    )
    outgoing.on("error", reject)
    outgoing.end(body)
  })

const describeRequest = (request: Request) =>
  `${request.method} ${request.url.slice(0, 200)}` +
  (request.body === undefined ? "" : ` [${request.body.contentType}] ${request.body.text.slice(0, 200)}`) +
  (request.mutation === undefined ? " (valid)" : ` (${request.mutation.kind} ${request.mutation.field ?? ""})`)

/** An error answer: short JSON with a `_tag` and a `message`, which for invalid input names a field of the request. */
const errorOf = (answer: Answer, context: string) => {
  assert.match(answer.contentType, /^application\/json/, context)
  assert.isBelow(answer.text.length, maxErrorBytes, context)
  const error = JSON.parse(answer.text) as {
    readonly _tag: string
    readonly message: string
    readonly issues?: ReadonlyArray<{ readonly path: ReadonlyArray<unknown> }>
  }
  assert.isString(error._tag, context)
  assert.isString(error.message, context)
  assert.isNotEmpty(error.message, context)
  if (error._tag === "HttpApiDecodeError") {
    const field = error.issues?.[0]?.path[0]
    assert.include(error.message, field === undefined ? "the request body" : String(field).slice(0, 40), context)
  }
  return error
}

describe("the API under generated requests", () => {
  // plenty of streams: each stream request is closed at once, but the server may count it a moment longer
  const app = appLayer(SimulatedSensor.layer(), { refreshRateHz: 16, maxStreams: 1000 }).pipe(
    // the rules created raise alarms, each a warning in the log: errors only
    Layer.provide(Logger.replace(
      Logger.defaultLogger,
      Logger.filterLogLevel(Logger.defaultLogger, LogLevel.greaterThanEqual(LogLevel.Error))
    ))
  )
  layer(app, { excludeTestServices: true })(
    (it) => {
      it.effect(
        "answers every valid or broken request of every operation without a 5xx, and keeps serving frames",
        () =>
          Effect.gen(function*() {
            yield* awaitFrame()
            const document = jsonOf(yield* send("GET", "/api/v1/openapi.json")) as OpenApiDocument
            const all = operations(document)
            assert.isAtLeast(all.length, 25)
            const address = (yield* HttpServer.HttpServer).address
            const port = address._tag === "TcpAddress" ? address.port : assert.fail("not a TCP server")

            // what each operation's valid requests came to: they must reach its handler, not only fail to decode
            const decoded = new Set<string>()
            const arbitrary = fc.oneof(...all.map((operation) => requestOf(document, operation)))
            yield* Effect.promise(() =>
              fc.assert(
                fc.asyncProperty(arbitrary, async (request) => {
                  const answer = await sendRaw(port, request)
                  const context = `${describeRequest(request)}\nanswered ${answer.status} ${answer.text.slice(0, 500)}`
                  assert.isBelow(answer.status, 500, context)
                  const error = answer.status < 400 ? undefined : errorOf(answer, context)
                  if (request.mutation === undefined) {
                    if (error?._tag !== "HttpApiDecodeError") decoded.add(`${request.method} ${request.operation.path}`)
                    return
                  }
                  if (error?._tag !== "HttpApiDecodeError" || request.mutation.field === undefined) return
                  // the field broken is named, if the request it was made from was valid
                  const base = await sendRaw(port, request.mutation.base)
                  assert.isBelow(base.status, 500, `${describeRequest(request.mutation.base)}\nanswered ${base.status}`)
                  if (base.status >= 400 && errorOf(base, context)._tag === "HttpApiDecodeError") return
                  assert.include(error.message, request.mutation.field, context)
                }),
                { seed, numRuns, endOnFailure: true }
              )
            )
            const undecoded = all.map((operation) => `${operation.method} ${operation.path}`).filter((key) =>
              !decoded.has(key)
            )
            assert.deepStrictEqual(undecoded, [], "operations none of whose valid requests got past decoding")

            // still serving: a newer frame than before, and a healthy report
            const before = JSON.parse((yield* send("GET", "/api/v1/thermal/real-time")).text) as {
              readonly sequence: number
            }
            yield* awaitFrame((frame) => frame.sequence > before.sequence)
            const after = yield* send("GET", "/api/v1/thermal/real-time")
            assert.strictEqual(after.status, 200)
            assert.isAbove((JSON.parse(after.text) as { readonly sequence: number }).sequence, before.sequence)
            assert.strictEqual((yield* send("GET", "/api/v1/health")).status, 200)
          }),
        120_000
      )
    }
  )
})
