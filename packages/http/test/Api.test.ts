import { HttpApiClient } from "@effect/platform"
import { assert, describe, layer } from "@effect/vitest"
import { type Frame, HEIGHT, PIXELS, WIDTH } from "@ircam/core/Frame"
import { Health } from "@ircam/core/Health"
import { Sensor } from "@ircam/core/Sensor"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { ZoneId } from "@ircam/core/Zone"
import { Effect, Queue, Schema, Stream } from "effect"
import * as TestCore from "../../core/test/support/TestCore.js"
import * as TestFrames from "../../core/test/support/TestFrames.js"
import { IrcamApi } from "../src/Api.js"
import { ZoneAverage } from "../src/ZonesApi.js"
import {
  appLayer,
  awaitFrame,
  decodeErrorOf,
  deleteAllZones,
  ErrorBody,
  errorOf,
  jsonOf,
  send
} from "./support/TestApp.js"

const isIsoTime = (value: unknown) => typeof value === "string" && new Date(value).toISOString() === value

const FrameBody = Schema.parseJson(Schema.Struct({
  temperatures: Schema.Array(Schema.Number),
  width: Schema.Number,
  height: Schema.Number,
  min: Schema.Number,
  max: Schema.Number,
  mean: Schema.Number,
  ambient: Schema.Number,
  capturedAt: Schema.String,
  sequence: Schema.Number
}))

const ZoneBody = Schema.parseJson(Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  color: Schema.String,
  x: Schema.Number,
  y: Schema.Number,
  width: Schema.Number,
  height: Schema.Number
}))

const HealthBody = Schema.parseJson(Schema.Struct({
  status: Schema.Literal("ok", "degraded", "down"),
  checkedAt: Schema.String,
  uptimeSeconds: Schema.Number,
  checks: Schema.Record({
    key: Schema.String,
    value: Schema.Struct({ status: Schema.String, message: Schema.optional(Schema.String) })
  })
}))

const canonical = { x: 0, y: 0, width: 4, height: 3 }

describe("API with the simulated sensor", () => {
  layer(appLayer(SimulatedSensor.layer(), { refreshRateHz: 32 }), { excludeTestServices: true })((it) => {
    it.effect("GET /thermal/real-time answers the latest frame, and a new one later", () =>
      Effect.gen(function*() {
        yield* awaitFrame()
        const first = yield* send("GET", "/api/v1/thermal/real-time")
        assert.strictEqual(first.status, 200)
        assert.match(first.headers["content-type"] ?? "", /application\/json/)
        const frame = Schema.decodeUnknownSync(FrameBody)(first.text)
        assert.lengthOf(frame.temperatures, PIXELS)
        assert.strictEqual(frame.width, 32)
        assert.strictEqual(frame.height, 24)
        assert.isAtMost(frame.min, frame.mean)
        assert.isAtMost(frame.mean, frame.max)
        assert.strictEqual(frame.min, Math.min(...frame.temperatures))
        assert.strictEqual(frame.max, Math.max(...frame.temperatures))
        assert.isTrue(frame.temperatures.every((t) => t > 10 && t < 100 && Math.round(t * 100) / 100 === t))
        assert.isTrue(isIsoTime(frame.capturedAt), frame.capturedAt)

        yield* awaitFrame((f) => f.sequence > frame.sequence)
        const next = Schema.decodeUnknownSync(FrameBody)((yield* send("GET", "/api/v1/thermal/real-time")).text)
        assert.isAbove(next.sequence, frame.sequence)
        assert.notDeepEqual(next.temperatures, frame.temperatures)
      }))

    it.effect("the typed client decodes the frame", () =>
      Effect.gen(function*() {
        yield* awaitFrame()
        const client = yield* HttpApiClient.make(IrcamApi)
        const frame = yield* client.thermal.realTime()
        assert.lengthOf(frame.temperatures, WIDTH * HEIGHT)
        assert.isTrue(frame.sequence >= 0)
      }))

    it.effect("POST /zones creates zones in the canonical and the corner form; GET lists and reads them", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const created = yield* send("POST", "/api/v1/zones", { json: canonical })
        assert.strictEqual(created.status, 201)
        const first = Schema.decodeUnknownSync(ZoneBody)(created.text)
        assert.deepStrictEqual({ ...first, id: 0 }, {
          id: 0,
          name: `Zone ${first.id}`,
          color: "#ff4136",
          ...canonical
        })

        // corner form: (x1, y1) and (x2, y2) are both inclusive
        const corner = yield* send("POST", "/api/v1/zones", {
          json: { x1: 2, y1: 3, x2: 5, y2: 4, name: "  press  ", color: "#00FF00" }
        })
        assert.strictEqual(corner.status, 201)
        const second = Schema.decodeUnknownSync(ZoneBody)(corner.text)
        assert.deepStrictEqual(second, {
          id: second.id,
          name: "press",
          color: "#00FF00",
          x: 2,
          y: 3,
          width: 4,
          height: 2
        })
        assert.notStrictEqual(second.id, first.id)

        const list = yield* send("GET", "/api/v1/zones")
        assert.strictEqual(list.status, 200)
        assert.deepStrictEqual(jsonOf(list), [first, second])

        const one = yield* send("GET", `/api/v1/zones/${second.id}`)
        assert.strictEqual(one.status, 200)
        assert.deepStrictEqual(jsonOf(one), second)

        const client = yield* HttpApiClient.make(IrcamApi)
        const typed = yield* client.zones.get({ path: { id: ZoneId.make(first.id) } })
        assert.strictEqual(typed.name, first.name)
        assert.lengthOf(yield* client.zones.list(), 2)
      }))

    it.effect("a zone beyond MAX_ZONES, or with an id in use, is a 409", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        assert.strictEqual((yield* send("POST", "/api/v1/zones", { json: { ...canonical, id: 7 } })).status, 201)

        const taken = yield* send("POST", "/api/v1/zones", { json: { ...canonical, id: 7 } })
        assert.strictEqual(taken.status, 409)
        const takenBody = errorOf(taken)
        assert.strictEqual(takenBody._tag, "ZoneIdTaken")
        assert.strictEqual(takenBody.id, 7)
        assert.include(takenBody.message, "7")

        assert.strictEqual((yield* send("POST", "/api/v1/zones", { json: canonical })).status, 201)
        const third = yield* send("POST", "/api/v1/zones", { json: canonical })
        assert.strictEqual(third.status, 409)
        const thirdBody = errorOf(third)
        assert.strictEqual(thirdBody._tag, "ZoneLimitReached")
        assert.strictEqual(thirdBody.limit, 2)
        assert.include(thirdBody.message, "MAX_ZONES")
        assert.lengthOf(jsonOf(yield* send("GET", "/api/v1/zones")) as ReadonlyArray<unknown>, 2)
      }))

    it.effect("PUT /zones/{id} replaces the rectangle and keeps name and colour when omitted", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const zone = Schema.decodeUnknownSync(ZoneBody)(
          (yield* send("POST", "/api/v1/zones", { json: { ...canonical, name: "door", color: "#123456" } })).text
        )
        const moved = yield* send("PUT", `/api/v1/zones/${zone.id}`, { json: { x1: 10, y1: 10, x2: 12, y2: 11 } })
        assert.strictEqual(moved.status, 200)
        assert.deepStrictEqual(jsonOf(moved), {
          id: zone.id,
          name: "door",
          color: "#123456",
          x: 10,
          y: 10,
          width: 3,
          height: 2
        })

        const renamed = yield* send("PUT", `/api/v1/zones/${zone.id}`, {
          json: { ...canonical, name: "window", color: "#abcdef", id: zone.id }
        })
        assert.strictEqual(renamed.status, 200)
        assert.deepStrictEqual(jsonOf(renamed), { id: zone.id, name: "window", color: "#abcdef", ...canonical })
        assert.deepStrictEqual(jsonOf(yield* send("GET", `/api/v1/zones/${zone.id}`)), jsonOf(renamed))

        const otherId = yield* send("PUT", `/api/v1/zones/${zone.id}`, { json: { ...canonical, id: zone.id + 1 } })
        assert.strictEqual(otherId.status, 422)
        assert.strictEqual(errorOf(otherId)._tag, "ZoneOutOfBounds")
        assert.strictEqual(errorOf(otherId).field, "id")

        const outside = yield* send("PUT", `/api/v1/zones/${zone.id}`, { json: { x: 0, y: 20, width: 1, height: 5 } })
        assert.strictEqual(outside.status, 422)
        assert.strictEqual(errorOf(outside).field, "height")

        const unknown = yield* send("PUT", "/api/v1/zones/999", { json: canonical })
        assert.strictEqual(unknown.status, 404)
        assert.strictEqual(errorOf(unknown)._tag, "ZoneNotFound")

        const garbage = yield* send("PUT", `/api/v1/zones/${zone.id}`, { json: { x: "left" } })
        assert.strictEqual(garbage.status, 400)
        assert.deepStrictEqual(decodeErrorOf(garbage).issues[0].path, ["x"])
      }))

    it.effect("DELETE /zones/{id} answers 204, then the zone is gone (404)", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const zone = Schema.decodeUnknownSync(ZoneBody)(
          (yield* send("POST", "/api/v1/zones", { json: canonical })).text
        )
        const deleted = yield* send("DELETE", `/api/v1/zones/${zone.id}`)
        assert.strictEqual(deleted.status, 204)
        assert.strictEqual(deleted.text, "")

        for (const method of ["GET", "DELETE"] as const) {
          const gone = yield* send(method, `/api/v1/zones/${zone.id}`)
          assert.strictEqual(gone.status, 404, method)
          assert.deepStrictEqual(jsonOf(gone), {
            _tag: "ZoneNotFound",
            id: zone.id,
            message: `no zone with id ${zone.id}`
          })
        }
        assert.strictEqual((yield* send("GET", `/api/v1/zones/${zone.id}/average`)).status, 404)
        assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/zones")), [])
      }))

    it.effect("GET /zones/{id}/average gives the zone's statistics on the latest frame", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const zone = Schema.decodeUnknownSync(ZoneBody)(
          (yield* send("POST", "/api/v1/zones", { json: { x: 8, y: 8, width: 8, height: 8 } })).text
        )
        yield* awaitFrame()
        const answer = yield* send("GET", `/api/v1/zones/${zone.id}/average`)
        assert.strictEqual(answer.status, 200)
        const average = Schema.decodeUnknownSync(Schema.parseJson(ZoneAverage))(answer.text)
        assert.strictEqual(average.zoneId, zone.id)
        assert.isAtMost(average.min, average.average)
        assert.isAtMost(average.average, average.max)
        assert.isAbove(average.min, 10)
        assert.isBelow(average.max, 100)
        assert.isTrue(isIsoTime(average.capturedAt), average.capturedAt)

        const client = yield* HttpApiClient.make(IrcamApi)
        const typed = yield* client.zones.average({ path: { id: ZoneId.make(zone.id) } })
        assert.strictEqual(typed.zoneId, zone.id)
      }))

    it.effect("invalid bodies are a 400 naming the field", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const cases: ReadonlyArray<readonly [body: unknown, field: string, tag: string]> = [
          [{ ...canonical, x: "a" }, "x", "Type"],
          [{ ...canonical, width: true }, "width", "Type"],
          [{ x: 1, y: 1, width: 4 }, "height", "Missing"],
          [{ x1: 1, y1: 1, x2: 4 }, "y2", "Missing"],
          [{ ...canonical, x2: 4 }, "x", "Type"], // both forms at once
          [{ x1: 5, y1: 0, x2: 2, y2: 3 }, "x2", "Type"], // right of left
          [{ ...canonical, x: 1.5 }, "x", "Refinement"],
          [{ ...canonical, x: -1 }, "x", "Refinement"],
          [{ ...canonical, width: 0 }, "width", "Refinement"],
          [{ ...canonical, name: "   " }, "name", "Refinement"],
          [{ ...canonical, name: "n".repeat(65) }, "name", "Refinement"],
          [{ ...canonical, color: "red" }, "color", "Refinement"],
          [{ ...canonical, id: 0 }, "id", "Refinement"],
          [{ ...canonical, id: "7" }, "id", "Type"],
          [{ ...canonical, colour: "#ff0000" }, "colour", "Unexpected"]
        ]
        for (const [body, field, tag] of cases) {
          const answer = yield* send("POST", "/api/v1/zones", { json: body })
          const label = JSON.stringify(body)
          assert.strictEqual(answer.status, 400, label)
          const error = decodeErrorOf(answer)
          assert.deepStrictEqual(error.issues[0].path, [field], label)
          assert.strictEqual(error.issues[0]._tag, tag, label)
          assert.isNotEmpty(error.issues[0].message, label)
        }
        const missing = decodeErrorOf(yield* send("POST", "/api/v1/zones", { json: { x: 1, y: 1, width: 4 } }))
        assert.include(missing.issues[0].message, "height is required")

        for (const body of ["{garbage", "", "{\"x\": 1,}"]) {
          const answer = yield* send("POST", "/api/v1/zones", { body })
          assert.strictEqual(answer.status, 400, body)
          assert.include(["MalformedBody", "HttpApiDecodeError"], errorOf(answer)._tag, body)
        }
        const malformed = errorOf(yield* send("POST", "/api/v1/zones", { body: "{garbage" }))
        assert.strictEqual(malformed._tag, "MalformedBody")
        assert.include(malformed.message, "JSON")

        assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/zones")), [], "nothing was created")
      }))

    it.effect("zones outside the 32×24 frame are a 422 naming the field", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const cases: ReadonlyArray<readonly [body: unknown, field: string]> = [
          [{ x: 30, y: 0, width: 4, height: 1 }, "width"],
          [{ x: 0, y: 20, width: 1, height: 5 }, "height"],
          [{ x: 0, y: 0, width: 32, height: 24, name: "whole frame" }, ""] // fits: 201
        ]
        for (const [body, field] of cases) {
          const answer = yield* send("POST", "/api/v1/zones", { json: body })
          if (field === "") {
            assert.strictEqual(answer.status, 201, answer.text)
            continue
          }
          assert.strictEqual(answer.status, 422, JSON.stringify(body))
          const error = errorOf(answer)
          assert.strictEqual(error._tag, "ZoneOutOfBounds")
          assert.strictEqual(error.field, field)
          assert.include(error.message, "32×24")
        }
      }))

    it.effect("bad path ids are a 400, unknown ids a 404, unknown routes a JSON 404", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        for (const id of ["abc", "0", "-1", "1.5", "NaN", "%20"]) {
          const answer = yield* send("GET", `/api/v1/zones/${id}`)
          assert.strictEqual(answer.status, 400, id)
          assert.deepStrictEqual(decodeErrorOf(answer).issues[0].path, ["id"], id)
        }
        const unknown = yield* send("GET", "/api/v1/zones/4242")
        assert.strictEqual(unknown.status, 404)
        assert.deepStrictEqual(jsonOf(unknown), { _tag: "ZoneNotFound", id: 4242, message: "no zone with id 4242" })

        for (const [method, path] of [["GET", "/nope"], ["GET", "/api/v1/zone"], ["PATCH", "/api/v1/zone"]] as const) {
          const answer = yield* send(method, path)
          assert.strictEqual(answer.status, 404, path)
          const error = errorOf(answer)
          assert.strictEqual(error._tag, "RouteNotFound")
          assert.include(error.message, path)
        }
      }))

    it.effect("GET /health reports every subsystem", () =>
      Effect.gen(function*() {
        yield* awaitFrame()
        const answer = yield* send("GET", "/api/v1/health")
        assert.strictEqual(answer.status, 200)
        const report = Schema.decodeUnknownSync(HealthBody)(answer.text)
        assert.strictEqual(report.status, "ok")
        assert.includeMembers(Object.keys(report.checks), ["sensor", "database", "buffer", "monitor"])
        for (const check of Object.values(report.checks)) assert.strictEqual(check.status, "ok")
        assert.isTrue(isIsoTime(report.checkedAt))

        const client = yield* HttpApiClient.make(IrcamApi)
        assert.strictEqual((yield* client.health.health()).status, "ok")
      }))

    it.effect("GET /api/v1/openapi.json documents every path; /docs is HTML; / leads to /docs", () =>
      Effect.gen(function*() {
        const answer = yield* send("GET", "/api/v1/openapi.json")
        assert.strictEqual(answer.status, 200)
        const document = Schema.decodeUnknownSync(Schema.parseJson(Schema.Struct({
          openapi: Schema.String,
          info: Schema.Struct({ title: Schema.String, version: Schema.String }),
          paths: Schema.Record({
            key: Schema.String,
            value: Schema.Record({ key: Schema.String, value: Schema.Unknown })
          })
        })))(answer.text)
        assert.match(document.openapi, /^3\./)
        assert.strictEqual(document.info.title, "ircam")
        assert.includeMembers(Object.keys(document.paths), [
          "/api/v1/thermal/real-time",
          "/api/v1/zones",
          "/api/v1/zones/{id}",
          "/api/v1/zones/{id}/average",
          "/api/v1/health"
        ])
        assert.includeMembers(Object.keys(document.paths["/api/v1/zones/{id}"] ?? {}), ["get", "put", "delete"])

        const docs = yield* send("GET", "/docs")
        assert.strictEqual(docs.status, 200)
        assert.match(docs.headers["content-type"] ?? "", /text\/html/)
        assert.match(docs.text, /<html/i)

        const root = yield* send("GET", "/")
        assert.strictEqual(root.status, 200)
        assert.match(root.headers["content-type"] ?? "", /text\/html/)
        assert.include(root.text, "href=\"/docs\"", "the page links the API docs")
      }))

    it.effect("nothing a client sends is answered with a 5xx", () =>
      Effect.gen(function*() {
        yield* deleteAllZones
        const bodies = [
          "null",
          "[]",
          "\"zone\"",
          "42",
          "true",
          "{}",
          "{\"x\":1e309,\"y\":0,\"width\":1,\"height\":1}",
          "{\"id\":9007199254740993,\"x\":0,\"y\":0,\"width\":1,\"height\":1}",
          "{\"__proto__\":{\"x\":1},\"y\":0,\"width\":1,\"height\":1}",
          "{\"constructor\":{\"prototype\":{}}}",
          "{\"x1\":0,\"y1\":0,\"x2\":99,\"y2\":99}",
          "[".repeat(5000) + "]".repeat(5000),
          "{\"name\":\"\\u0000\",\"x\":0}",
          "\u00ff\u00fe"
        ]
        const requests: Array<readonly [method: "POST" | "PUT", path: string, body: string, contentType?: string]> = []
        for (const body of bodies) {
          requests.push(["POST", "/api/v1/zones", body], ["PUT", "/api/v1/zones/1", body])
        }
        requests.push(
          ["POST", "/api/v1/zones", "x=1&y=2&width=3&height=4", "application/x-www-form-urlencoded"],
          ["POST", "/api/v1/zones", "{\"x\":1,\"y\":2,\"width\":3,\"height\":4}", "text/plain"],
          ["POST", "/api/v1/zones", "\u0000\u0001", "application/octet-stream"],
          ["POST", "/api/v1/zones", "--b\r\n\r\n--b--", "multipart/form-data; boundary=b"],
          [
            "POST",
            "/api/v1/zones",
            "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--",
            "multipart/form-data; boundary=b"
          ],
          ["PUT", "/api/v1/zones/abc", "{}"]
        )
        for (const [method, path, body, contentType] of requests) {
          const answer = yield* send(method, path, contentType === undefined ? { body } : { body, contentType })
          const label = `${method} ${path} ${contentType ?? ""} ${body.slice(0, 60)}`
          assert.isBelow(answer.status, 500, label)
          assert.isAtLeast(answer.status, 400, label)
          assert.isString(Schema.decodeUnknownSync(Schema.parseJson(ErrorBody))(answer.text)._tag, label)
        }
        const paths = [
          "/api/v1/zones/%ZZ",
          "/api/v1/zones/99999999999999999999",
          "/api/v1/zones/1%2F2",
          "/api/v1/zones/1/average/x",
          "/api/v1/zones/-5/average",
          "/api/v1/thermal/real-time/x",
          "/api/v1/" + "a/".repeat(200),
          "/api/v1/health/..%2F..%2Fetc%2Fpasswd",
          "/..%2F..%2Fetc%2Fpasswd"
        ]
        for (const path of paths) {
          for (const method of ["GET", "DELETE"] as const) {
            const answer = yield* send(method, path)
            assert.isBelow(answer.status, 500, `${method} ${path}`)
            assert.isAtLeast(answer.status, 400, `${method} ${path}`)
            assert.isString(errorOf(answer)._tag, `${method} ${path}`)
          }
        }
        assert.deepStrictEqual(jsonOf(yield* send("GET", "/api/v1/zones")), [], "nothing was created")
      }))
  })
})

describe("API before the first frame", () => {
  layer(appLayer(Sensor.layerTest(Stream.never)), { excludeTestServices: true })((it) => {
    it.effect("GET /thermal/real-time and /zones/{id}/average are a 503 NoFrameYet", () =>
      Effect.gen(function*() {
        const realTime = yield* send("GET", "/api/v1/thermal/real-time")
        assert.strictEqual(realTime.status, 503)
        assert.deepStrictEqual(jsonOf(realTime), {
          _tag: "NoFrameYet",
          message: "no frame has been received from the sensor yet"
        })

        const zone = Schema.decodeUnknownSync(ZoneBody)(
          (yield* send("POST", "/api/v1/zones", { json: canonical })).text
        )
        const average = yield* send("GET", `/api/v1/zones/${zone.id}/average`)
        assert.strictEqual(average.status, 503)
        assert.strictEqual(errorOf(average)._tag, "NoFrameYet")

        const client = yield* HttpApiClient.make(IrcamApi)
        const error = yield* Effect.flip(client.thermal.realTime())
        assert.strictEqual(error._tag, "NoFrameYet")
      }))

    it.effect("GET /health is a 503 while a check is down", () =>
      Effect.gen(function*() {
        const health = yield* Health
        const before = yield* send("GET", "/api/v1/health")
        assert.strictEqual(before.status, 200)

        yield* health.register("disk", Effect.succeed({ status: "down", message: "disk full", details: {} }))
        const down = yield* send("GET", "/api/v1/health")
        assert.strictEqual(down.status, 503)
        const report = Schema.decodeUnknownSync(HealthBody)(down.text)
        assert.strictEqual(report.status, "down")
        assert.deepStrictEqual(report.checks["disk"], { status: "down", message: "disk full" })
        assert.includeMembers(Object.keys(report.checks), ["sensor", "database", "buffer", "monitor", "disk"])

        const client = yield* HttpApiClient.make(IrcamApi)
        const error = yield* Effect.flip(client.health.health())
        if ("_tag" in error) return assert.fail(`expected the down report, got ${error._tag}`)
        assert.strictEqual(error.status, "down")

        yield* health.register("disk", Effect.succeed({ status: "degraded", message: "disk 95% full", details: {} }))
        const degraded = yield* send("GET", "/api/v1/health")
        assert.strictEqual(degraded.status, 200)
        assert.strictEqual(Schema.decodeUnknownSync(HealthBody)(degraded.text).status, "degraded")
      }))
  })
})

// pixel (col, row) reads 20 + col + row / 10 °C, plus `offset`
const knownFrame = (sequence: number, offset = 0): Frame =>
  TestFrames.make({
    sequence,
    at: Date.UTC(2026, 0, 2, 3, 4, 5, 600),
    temperatures: (i) => 20 + (i % WIDTH) + Math.floor(i / WIDTH) / 10 + offset,
    ambient: 25.5
  })

describe("API with known frames", () => {
  layer(appLayer(TestCore.fedSensor()), { excludeTestServices: true })((it) => {
    it.effect("real-time and zone statistics match the frame", () =>
      Effect.gen(function*() {
        const feed = yield* TestCore.FrameFeed
        const before = Schema.decodeUnknownSync(ZoneBody)(
          (yield* send("POST", "/api/v1/zones", { json: { x1: 1, y1: 2, x2: 3, y2: 3 } })).text
        )
        yield* Queue.offer(feed, knownFrame(0))
        yield* awaitFrame((frame) => frame.sequence === 0)

        const frame = Schema.decodeUnknownSync(FrameBody)((yield* send("GET", "/api/v1/thermal/real-time")).text)
        assert.strictEqual(frame.sequence, 0)
        assert.strictEqual(frame.capturedAt, "2026-01-02T03:04:05.600Z")
        assert.strictEqual(frame.ambient, 25.5)
        assert.strictEqual(frame.min, 20)
        assert.strictEqual(frame.max, 53.3)
        assert.closeTo(frame.mean, 36.65, 0.005)
        assert.strictEqual(frame.temperatures[0], 20)
        assert.strictEqual(frame.temperatures[WIDTH + 1], 21.1)
        assert.strictEqual(frame.temperatures[PIXELS - 1], 53.3)

        // cols 1..3 and rows 2..3: 20 + 2 + 0.25 on average
        const expected = { average: 22.25, min: 21.2, max: 23.3, capturedAt: "2026-01-02T03:04:05.600Z" }
        assert.deepStrictEqual(jsonOf(yield* send("GET", `/api/v1/zones/${before.id}/average`)), {
          zoneId: before.id,
          ...expected
        })

        // a zone drawn after the latest frame is measured on that frame right away
        const after = Schema.decodeUnknownSync(ZoneBody)(
          (yield* send("POST", "/api/v1/zones", { json: { x: 1, y: 2, width: 3, height: 2 } })).text
        )
        assert.deepStrictEqual(jsonOf(yield* send("GET", `/api/v1/zones/${after.id}/average`)), {
          zoneId: after.id,
          ...expected
        })

        yield* Queue.offer(feed, knownFrame(1, 10))
        yield* awaitFrame((frame) => frame.sequence === 1)
        assert.deepStrictEqual(jsonOf(yield* send("GET", `/api/v1/zones/${after.id}/average`)), {
          zoneId: after.id,
          average: 32.25,
          min: 31.2,
          max: 33.3,
          capturedAt: expected.capturedAt
        })
      }))
  })
})
