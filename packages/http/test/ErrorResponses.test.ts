import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiError,
  HttpApiGroup,
  HttpClient,
  HttpClientRequest,
  HttpClientResponse,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it, layer } from "@effect/vitest"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, Either, Layer, Logger, Schema, Stream } from "effect"
import * as ErrorResponses from "../src/ErrorResponses.js"
import { appLayer, decodeErrorOf, errorOf, jsonOf, send } from "./support/TestApp.js"

describe("jsonDepth", () => {
  it("counts how deeply arrays and objects nest, ignoring brackets in strings", () => {
    assert.strictEqual(ErrorResponses.jsonDepth(""), 0)
    assert.strictEqual(ErrorResponses.jsonDepth("42"), 0)
    assert.strictEqual(ErrorResponses.jsonDepth("{}"), 1)
    assert.strictEqual(ErrorResponses.jsonDepth("{\"a\":[1,{\"b\":[]}],\"c\":{}}"), 4)
    assert.strictEqual(ErrorResponses.jsonDepth("[[[]],[[[]]]]"), 4)
    assert.strictEqual(ErrorResponses.jsonDepth("{\"a\":\"[[[{{{\"}"), 1)
    assert.strictEqual(ErrorResponses.jsonDepth("{\"a\\\"[[\":\"\\\\\",\"b\":[[]]}"), 3)
    assert.strictEqual(ErrorResponses.jsonDepth("[".repeat(10_000)), 10_000)
  })
})

describe("decodeErrorResponse", () => {
  it("answers at most maxIssues issues, values cut to excerpts, and drops what only repeats", async () => {
    const long = "v".repeat(10_000)
    const issues = [
      { _tag: "Refinement" as const, path: ["from"], message: `not a date; got "${long}"` },
      { _tag: "Type" as const, path: ["from"], message: `Expected undefined, actual "${long}"` },
      { _tag: "Type" as const, path: ["until"], message: "Expected undefined, actual \"x\"" },
      ...Array.from({ length: 20 }, (_, i) => ({
        _tag: "Type" as const,
        path: Array.from({ length: 64 }, () => long).concat(String(i)),
        message: long
      }))
    ]
    const response = ErrorResponses.decodeErrorResponse(new HttpApiError.HttpApiDecodeError({ issues, message: long }))
    assert.strictEqual(response.status, 400)
    const body = JSON.parse(
      await Effect.runPromise(
        HttpClientResponse.fromWeb(
          HttpClientRequest.get("/"),
          HttpServerResponse.toWeb(response)
        ).text
      )
    ) as { message: string; issues: ReadonlyArray<{ path: ReadonlyArray<unknown>; message: string }> }
    assert.lengthOf(body.issues, ErrorResponses.maxIssues)
    assert.deepStrictEqual(body.issues.slice(0, 2).map((issue) => issue.path), [["from"], ["until"]])
    // a deep path keeps its end, which names the field
    assert.deepStrictEqual(body.issues[2]!.path, ["…", ...Array.from({ length: 4 }, () => `${"v".repeat(40)}…`), "0"])
    assert.strictEqual(body.issues[0]!.message, `not a date; got "${"v".repeat(40)}…"`)
    assert.isAtMost(body.issues[2]!.message.length, 201)
    assert.match(body.message, /^from: not a date; got "v{40}…"; until: Expected undefined, actual "x"; …/)
    assert.match(body.message, /; and 19 more$/)
    assert.isBelow(JSON.stringify(body).length, 4096)
  })
})

describe("bodies refused before decoding", () => {
  layer(appLayer(SimulatedSensor.layer()), { excludeTestServices: true })((it) => {
    it.effect("JSON nested deeper than maxJsonDepth is a 400 MalformedBody, not a stack overflow", () =>
      Effect.gen(function*() {
        const deep = (n: number) => `{"x":${"[".repeat(n)}${"]".repeat(n)}}`
        for (const body of [deep(ErrorResponses.maxJsonDepth), deep(5000), "[".repeat(30_000)]) {
          const answer = yield* send("POST", "/api/v1/zones", { body })
          assert.strictEqual(answer.status, 400)
          const error = errorOf(answer)
          assert.strictEqual(error._tag, "MalformedBody")
          assert.include(error.message, `${ErrorResponses.maxJsonDepth} levels`)
        }
        // without a content type the body is not read at all
        const untyped = yield* send("POST", "/api/v1/zones", { body: deep(5000), contentType: "" })
        assert.strictEqual(untyped.status, 415)

        // just within the limit, the body reaches the decoder, which names the field
        const within = yield* send("POST", "/api/v1/zones", { body: deep(ErrorResponses.maxJsonDepth - 1) })
        assert.strictEqual(within.status, 400)
        assert.deepStrictEqual(decodeErrorOf(within).issues[0].path, ["x"])
      }))

    it.effect("bodies larger than maxBodyBytes are a 413, with or without Content-Length", () =>
      Effect.gen(function*() {
        const big = JSON.stringify({ x: 0, y: 0, width: 1, height: 1, name: "n".repeat(ErrorResponses.maxBodyBytes) })
        const sized = yield* send("POST", "/api/v1/zones", { body: big })
        assert.strictEqual(sized.status, 413)
        assert.strictEqual(errorOf(sized)._tag, "PayloadTooLarge")
        assert.include(errorOf(sized).message, String(ErrorResponses.maxBodyBytes))

        // chunked: no Content-Length; the reader stops at the limit and the connection is dropped
        const client = yield* HttpClient.HttpClient
        const chunk = new TextEncoder().encode("[" + "1,".repeat(1000))
        const streamed = yield* client.execute(
          HttpClientRequest.post("/api/v1/zones").pipe(
            HttpClientRequest.bodyStream(Stream.make(...Array.from({ length: 40 }, () => chunk)), {
              contentType: "application/json"
            })
          )
        ).pipe(Effect.either)
        if (Either.isRight(streamed)) assert.isBelow(streamed.right.status, 500)

        // within the limit, bodies are read as usual
        const fits = yield* send("POST", "/api/v1/zones", { json: { x: 0, y: 0, width: 1, height: 1, name: "fits" } })
        assert.strictEqual(fits.status, 201)
      }))

    it.effect("multipart bodies are a 415", () =>
      Effect.gen(function*() {
        const answer = yield* send("POST", "/api/v1/zones", {
          body: "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n",
          contentType: "multipart/form-data; boundary=b"
        })
        assert.strictEqual(answer.status, 415)
        assert.strictEqual(errorOf(answer)._tag, "UnsupportedMediaType")
        assert.include(errorOf(answer).message, "application/json")
      }))
  })
})

// A small API whose handlers misbehave, to see what the error layer makes of it
class Faulty extends HttpApiGroup.make("faulty")
  .add(HttpApiEndpoint.get("die", "/die").addSuccess(Schema.String))
  .add(HttpApiEndpoint.get("interrupt", "/interrupt").addSuccess(Schema.String))
  .add(HttpApiEndpoint.get("fine", "/fine").addSuccess(Schema.String))
{}
class FaultyApi extends HttpApi.make("faulty").add(Faulty) {}

const FaultyLive = HttpApiBuilder.group(FaultyApi, "faulty", (handlers) =>
  handlers
    .handle("die", () => Effect.die(new Error("the handler has a bug")))
    .handle("interrupt", () => Effect.interrupt)
    .handle("fine", () => Effect.succeed("fine")))

const logged: Array<string> = []
const CaptureLogs = Logger.replace(
  Logger.defaultLogger,
  Logger.make(({ cause, message }) => {
    logged.push(`${String(message)} ${String(cause)}`)
  })
)

const FaultyApp = HttpApiBuilder.serve().pipe(
  Layer.provide(ErrorResponses.layer),
  Layer.provide(HttpApiBuilder.api(FaultyApi).pipe(Layer.provide(FaultyLive))),
  Layer.provideMerge(NodeHttpServer.layerTest),
  Layer.provide(CaptureLogs)
)

describe("defects", () => {
  layer(FaultyApp, { excludeTestServices: true })((it) => {
    it.effect("a defect is a JSON 500 without details, and its cause is logged", () =>
      Effect.gen(function*() {
        const answer = yield* send("GET", "/die")
        assert.strictEqual(answer.status, 500)
        assert.deepStrictEqual(jsonOf(answer), {
          _tag: "InternalError",
          message: "internal error; the server log has the details"
        })
        assert.notInclude(answer.text, "the handler has a bug")
        assert.isTrue(
          logged.some((line) => line.includes("request failed with a defect") && line.includes("the handler has a bug"))
        )
      }))

    it.effect("an interrupted handler is not reported as a defect", () =>
      Effect.gen(function*() {
        logged.length = 0
        const answer = yield* send("GET", "/interrupt")
        assert.notStrictEqual(answer.status, 500)
        assert.isFalse(logged.some((line) => line.includes("request failed with a defect")))
        assert.strictEqual((yield* send("GET", "/fine")).status, 200)
      }))
  })
})
