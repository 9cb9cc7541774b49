import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it, layer } from "@effect/vitest"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { ZoneId } from "@ircam/core/Zone"
import { Effect, Option, Redacted, Schema } from "effect"
import { IrcamApi } from "../src/Api.js"
import { tokensMatch } from "../src/AuthorizationLive.js"
import { isLoopback } from "../src/Server.js"
import { type Answer, appLayer, deleteAllZones, errorOf, send } from "./support/TestApp.js"

const zone = { x: 0, y: 0, width: 2, height: 2 }
const ZoneBody = Schema.parseJson(Schema.Struct({ id: Schema.Number, name: Schema.String }))

const assertUnauthorized = (answer: Answer, message: string) => {
  assert.strictEqual(answer.status, 401, answer.text)
  const error = errorOf(answer)
  assert.strictEqual(error._tag, "Unauthorized")
  assert.include(error.message, message)
  assert.strictEqual(answer.headers["www-authenticate"], "Bearer realm=\"ircam\"")
}

describe("with API_TOKEN", () => {
  layer(appLayer(SimulatedSensor.layer(), { apiToken: Option.some(Redacted.make("t0ken")) }), {
    excludeTestServices: true
  })((it) => {
    it.effect("POST, PUT and DELETE without a token, or with a wrong one, are a 401 saying how to authenticate", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const { id } = Schema.decodeUnknownSync(ZoneBody)(
          (yield* send("POST", "/api/v1/zones", { json: zone, token: "t0ken" })).text
        )
        const changes = [
          ["POST", "/api/v1/zones", zone],
          ["PUT", `/api/v1/zones/${id}`, zone],
          ["DELETE", `/api/v1/zones/${id}`, undefined]
        ] as const
        for (const [method, path, json] of changes) {
          assertUnauthorized(yield* send(method, path, { json }), "Authorization: Bearer")
          for (const token of ["wrong", "t0ke", " t0ken", "T0KEN", "t0kent0ken"]) {
            assertUnauthorized(yield* send(method, path, { json, token }), "not valid")
          }
        }
        // a token in another scheme is no bearer token (the platform takes what follows the first 7 characters)
        const basic = yield* send("POST", "/api/v1/zones", {
          json: zone,
          headers: { authorization: `Basic ${Buffer.from("user:t0ken").toString("base64")}` }
        })
        assertUnauthorized(basic, "not valid")

        // nothing changed
        const list = yield* send("GET", "/api/v1/zones")
        assert.strictEqual(list.status, 200)
        assert.lengthOf(JSON.parse(list.text), 1)
      }))

    it.effect("with the right token POST, PUT and DELETE succeed", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const created = yield* send("POST", "/api/v1/zones", { json: { ...zone, name: "a" }, token: "t0ken" })
        assert.strictEqual(created.status, 201)
        const { id } = Schema.decodeUnknownSync(ZoneBody)(created.text)
        const updated = yield* send("PUT", `/api/v1/zones/${id}`, { json: { ...zone, name: "b" }, token: "t0ken" })
        assert.strictEqual(updated.status, 200)
        assert.strictEqual(Schema.decodeUnknownSync(ZoneBody)(updated.text).name, "b")
        assert.strictEqual((yield* send("DELETE", `/api/v1/zones/${id}`, { token: "t0ken" })).status, 204)

        // the typed client, with the token on every request
        const client = yield* HttpApiClient.make(IrcamApi, {
          transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken("t0ken"))
        })
        const typed = yield* client.zones.create({
          payload: { id: undefined, name: "typed", color: undefined, x: 1, y: 1, width: 1, height: 1 }
        })
        yield* client.zones.remove({ path: { id: ZoneId.make(typed.id) } })
        const denied = yield* Effect.flip(
          (yield* HttpApiClient.make(IrcamApi)).zones.remove({ path: { id: ZoneId.make(typed.id) } })
        )
        assert.strictEqual(denied._tag, "Unauthorized")
      }))

    it.effect("reads stay open", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const { id } = Schema.decodeUnknownSync(ZoneBody)(
          (yield* send("POST", "/api/v1/zones", { json: zone, token: "t0ken" })).text
        )
        for (
          const path of [
            "/api/v1/zones",
            `/api/v1/zones/${id}`,
            "/api/v1/health",
            "/api/v1/openapi.json",
            "/docs"
          ]
        ) {
          const answer = yield* send("GET", path)
          assert.strictEqual(answer.status, 200, path)
          assert.isUndefined(answer.headers["www-authenticate"], path)
        }
        // real-time and average answer 200 or, before the first frame, 503: never 401
        for (const path of ["/api/v1/thermal/real-time", `/api/v1/zones/${id}/average`]) {
          assert.include([200, 503], (yield* send("GET", path)).status, path)
        }
        // the wrong token on a read is not held against it
        assert.strictEqual((yield* send("GET", "/api/v1/zones", { token: "wrong" })).status, 200)
      }))

    it.effect("the OpenAPI document declares the bearer scheme on the guarded endpoints", () =>
      Effect.gen(function*() {
        const document = JSON.parse((yield* send("GET", "/api/v1/openapi.json")).text)
        assert.deepNestedInclude(document, { "components.securitySchemes.bearer": { type: "http", scheme: "bearer" } })
        assert.deepStrictEqual(document.paths["/api/v1/zones"].post.security, [{ bearer: [] }])
        assert.deepStrictEqual(document.paths["/api/v1/zones"].get.security, [])
      }))
  })
})

describe("without API_TOKEN", () => {
  layer(appLayer(SimulatedSensor.layer()), { excludeTestServices: true })((it) => {
    it.effect("everything is open, with or without a token", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const created = yield* send("POST", "/api/v1/zones", { json: zone })
        assert.strictEqual(created.status, 201)
        const { id } = Schema.decodeUnknownSync(ZoneBody)(created.text)
        assert.strictEqual((yield* send("PUT", `/api/v1/zones/${id}`, { json: zone, token: "anything" })).status, 200)
        assert.strictEqual((yield* send("DELETE", `/api/v1/zones/${id}`)).status, 204)
      }))
  })
})

describe("tokensMatch", () => {
  it("is true only for the same token", () => {
    assert.isTrue(tokensMatch("t0ken", "t0ken"))
    assert.isTrue(tokensMatch("", ""))
    assert.isTrue(tokensMatch("ünïcødé ✓", "ünïcødé ✓"))
    assert.isFalse(tokensMatch("t0ken", "t0ke"))
    assert.isFalse(tokensMatch("t0ke", "t0ken"))
    assert.isFalse(tokensMatch("", "t0ken"))
    assert.isFalse(tokensMatch("T0KEN", "t0ken"))
    assert.isFalse(tokensMatch("t0ken ", "t0ken"))
    assert.isFalse(tokensMatch("x".repeat(10_000), "t0ken"))
  })
})

describe("isLoopback", () => {
  it("recognises the addresses that serve this machine only", () => {
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "::1"]) assert.isTrue(isLoopback(host), host)
    for (const host of ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1", "example.com", "128.0.0.1"]) {
      assert.isFalse(isLoopback(host), host)
    }
  })
})
