/**
 * What no web page may do to the device, with or without API_TOKEN: reach it under a name of its
 * own (DNS rebinding), change anything from another site, send a body that is not JSON, frame
 * the page; and what every answer carries. Each application runs on the TestClock at `start`
 * with the simulated sensor at 8 Hz.
 */
import { assert, describe, it } from "@effect/vitest"
import type { AppConfigShape } from "@ircam/core/AppConfig"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, Option, Redacted } from "effect"
import { hostname, networkInterfaces } from "node:os"
import * as AllowedHosts from "../src/AllowedHosts.js"
import * as ErrorResponses from "../src/ErrorResponses.js"
import { refusal } from "../src/RequestGuard.js"
import { dataPolicy, pagePolicy } from "../src/SecurityHeaders.js"
import {
  advanceTo,
  type Answer,
  appLayer,
  atStart,
  errorOf,
  jsonOf,
  send,
  type SendOptions
} from "./support/TestApp.js"

const token = "s3cret"

const inApp = (config: Partial<AppConfigShape> = {}) =>
  atStart(appLayer(SimulatedSensor.layer(), { refreshRateHz: 8, ...config }))

const rule = { name: "anything warm", metric: "max", direction: "above", threshold: 0, severity: "warning" }

/** A rule, an alarm it raised (active, not acknowledged), a zone and an event, made as a client would. */
const setUp = Effect.gen(function*() {
  const auth = { token }
  assert.strictEqual(
    (yield* send("POST", "/api/v1/zones", { json: { x: 0, y: 0, width: 2, height: 2 }, ...auth })).status,
    201
  )
  assert.strictEqual((yield* send("POST", "/api/v1/alarms/rules", { json: rule, ...auth })).status, 201)
  yield* advanceTo(500)
  assert.strictEqual((yield* send("POST", "/api/v1/events", { ...auth })).status, 202)
  yield* advanceTo(1_000)
})

/** What the client can see of the state that the writes below would change. */
const state = Effect.gen(function*() {
  const read = (path: string) => Effect.map(send("GET", path), jsonOf)
  return {
    zones: yield* read("/api/v1/zones"),
    rules: yield* read("/api/v1/alarms/rules"),
    alarms: yield* read("/api/v1/alarms/1"),
    events: (yield* read("/api/v1/events") as Effect.Effect<ReadonlyArray<{ readonly id: number }>>).map((e) => e.id)
  }
})

/** Every write the page can make, with `options` added (and the token, when the server has one). */
const writes = (options: SendOptions) =>
  [
    ["POST", "/api/v1/events", { ...options, json: { label: "from elsewhere" } }],
    ["POST", "/api/v1/events", options],
    ["POST", "/api/v1/alarms/1/ack", options],
    ["PUT", "/api/v1/alarms/rules/1", { ...options, json: { ...rule, enabled: false } }],
    ["DELETE", "/api/v1/alarms/rules/1", options],
    ["DELETE", "/api/v1/zones/1", options],
    ["POST", "/api/v1/zones", { ...options, json: { x: 4, y: 4, width: 2, height: 2 } }]
  ] as const

const assertRefused = (answer: Answer, status: number, tag: string, says: string) => {
  assert.strictEqual(answer.status, status, answer.text)
  const error = errorOf(answer)
  assert.strictEqual(error._tag, tag)
  assert.include(error.message, says)
}

const crossSite: ReadonlyArray<readonly [string, SendOptions, string]> = [
  ["an Origin on another site", { headers: { origin: "http://evil.example" } }, "Origin \"http://evil.example\""],
  ["an Origin on another port of another site", { headers: { origin: "https://evil.example:8000" } }, "ALLOWED_HOSTS"],
  ["an opaque Origin", { headers: { origin: "null" } }, "Origin \"null\""],
  ["Sec-Fetch-Site: cross-site", { headers: { "sec-fetch-site": "cross-site" } }, "Sec-Fetch-Site: cross-site"]
]

describe("cross-site writes are refused with a 403, with or without API_TOKEN, and change nothing", () => {
  for (const apiToken of [Option.none(), Option.some(Redacted.make(token))]) {
    const withToken = Option.isSome(apiToken)
    it.effect(
      withToken ? "with API_TOKEN (and the right token sent)" : "without API_TOKEN",
      () =>
        Effect.gen(function*() {
          yield* setUp
          const before = yield* state
          for (const [why, options, says] of crossSite) {
            for (const [method, path, request] of writes({ ...options, token })) {
              const answer = yield* send(method, path, request)
              assertRefused(answer, 403, "CrossSiteRequest", says)
              assert.isString(answer.headers["x-content-type-options"], `${why}: the headers of every answer`)
            }
          }
          assert.deepStrictEqual(yield* state, before)

          // the page's own origin, any of the machine's names, and same-site marks are fine
          const ack = yield* send("POST", "/api/v1/alarms/1/ack", {
            token,
            headers: { origin: "http://localhost:8000", "sec-fetch-site": "same-origin" }
          })
          assert.strictEqual(ack.status, 200, ack.text)
        }).pipe(inApp({ apiToken }))
    )
  }

  it.effect("reads from another site are not writes: they are answered", () =>
    Effect.gen(function*() {
      const answer = yield* send("GET", "/api/v1/zones", {
        headers: { origin: "http://evil.example", "sec-fetch-site": "cross-site" }
      })
      assert.strictEqual(answer.status, 200)
    }).pipe(inApp()))
})

describe("bodies must be JSON: anything else is a 415, and changes nothing", () => {
  const bodies: ReadonlyArray<readonly [string, SendOptions]> = [
    ["an HTML form", { body: "label=x", contentType: "application/x-www-form-urlencoded" }],
    ["a form's text/plain", { body: "{\"label\":\"x\"}", contentType: "text/plain" }],
    ["multipart", {
      body: "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n",
      contentType: "multipart/form-data; boundary=b"
    }],
    ["an empty content type", { body: "{\"label\":\"x\"}", contentType: "" }],
    ["no content type", { body: "{\"label\":\"x\"}", headers: { "content-type": "" } }]
  ]
  for (const apiToken of [Option.none(), Option.some(Redacted.make(token))]) {
    it.effect(Option.isSome(apiToken) ? "with API_TOKEN" : "without API_TOKEN", () =>
      Effect.gen(function*() {
        yield* setUp
        const before = yield* state
        for (const [what, options] of bodies) {
          for (const path of ["/api/v1/events", "/api/v1/zones", "/api/v1/alarms/1/ack"]) {
            const answer = yield* send("POST", path, { ...options, token })
            assertRefused(answer, 415, "UnsupportedMediaType", "Content-Type: application/json")
            assert.include(answer.text, what.includes("content type") ? "got none" : "got \\\"", what)
          }
        }
        assert.deepStrictEqual(yield* state, before)
        // JSON with its parameters, and no body at all, are fine
        const labelled = yield* send("POST", "/api/v1/events", {
          body: "{\"label\":\"x\"}",
          contentType: "Application/JSON; charset=utf-8",
          token
        })
        assert.strictEqual(labelled.status, 202, labelled.text)
        assert.strictEqual((yield* send("POST", "/api/v1/alarms/1/ack", { token })).status, 200)
      }).pipe(inApp({ apiToken })))
  }
})

describe("the Host header", () => {
  const foreign = [
    "evil.example",
    "evil.example:8000",
    "127.0.0.1.evil.example",
    "localhost.evil.example",
    "[::2]:80",
    "pi:80:80"
  ]

  it.effect("a name the server does not have is a 421 naming ALLOWED_HOSTS, for reads and writes, and changes nothing", () =>
    Effect.gen(function*() {
      yield* setUp
      const before = yield* state
      for (const host of foreign) {
        for (
          const [method, path, request] of [...writes({ token, headers: { host } }), ["GET", "/api/v1/health", {
            headers: { host }
          }], ["GET", "/", { headers: { host } }]] as const
        ) {
          const answer = yield* send(method, path, request)
          assert.strictEqual(answer.status, 421, `${host}: ${method} ${path}`)
          assertRefused(answer, 421, "HostNotAllowed", "ALLOWED_HOSTS")
        }
      }
      assert.deepStrictEqual(yield* state, before)
      // refused before the body is read: a body too large is not what it is told
      const big = yield* send("POST", "/api/v1/zones", {
        body: "x".repeat(ErrorResponses.maxBodyBytes + 1),
        headers: { host: "evil.example" }
      })
      assert.strictEqual(big.status, 421)
    }).pipe(inApp()))

  it.effect("loopback, the machine's names and addresses and the listening address are allowed, on any port", () =>
    Effect.gen(function*() {
      const addresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []).map(({ address, family }) =>
        family === "IPv6" ? `[${address}]` : address
      ).filter((address) => !address.includes("%"))
      const short = hostname().split(".")[0]!
      const hosts = [
        "localhost",
        "LOCALHOST:8000",
        "app.localhost",
        "127.0.0.1:1",
        "127.8.9.10",
        "[::1]:8000",
        hostname(),
        `${short}.local:8000`,
        "0.0.0.0:8000",
        ...addresses
      ]
      for (const host of hosts) {
        const answer = yield* send("GET", "/api/v1/zones", { headers: { host } })
        assert.strictEqual(answer.status, 200, `${host}: ${answer.text}`)
      }
    }).pipe(inApp()))

  it.effect("ALLOWED_HOSTS adds names, and *.domain the names under it", () =>
    Effect.gen(function*() {
      const status = (host: string) => Effect.map(send("GET", "/api/v1/zones", { headers: { host } }), (a) => a.status)
      assert.strictEqual(yield* status("ircam.example.com:443"), 200)
      assert.strictEqual(yield* status("a.b.lab.example"), 200)
      assert.strictEqual(yield* status("lab.example"), 421)
      assert.strictEqual(yield* status("localhost"), 200)
      assert.strictEqual(yield* status("evil.example"), 421)
      const write = yield* send("POST", "/api/v1/events", { headers: { origin: "https://ircam.example.com" } })
      assert.strictEqual(write.status, 202, write.text)
    }).pipe(inApp({ allowedHosts: ["ircam.example.com", "*.lab.example"] })))

  it.effect("ALLOWED_HOSTS=* allows any", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* send("GET", "/api/v1/zones", { headers: { host: "evil.example" } })).status, 200)
    }).pipe(inApp({ allowedHosts: ["*"] })))
})

describe("AllowedHosts and refusal", () => {
  it("read Host and Origin headers", () => {
    assert.deepStrictEqual(AllowedHosts.hostOfHeader("Pi.Local:8000"), Option.some("pi.local"))
    assert.deepStrictEqual(AllowedHosts.hostOfHeader("[::1]:8000"), Option.some("[::1]"))
    assert.deepStrictEqual(AllowedHosts.hostOfHeader("::1"), Option.none())
    assert.deepStrictEqual(AllowedHosts.hostOfHeader("pi:"), Option.none())
    assert.deepStrictEqual(AllowedHosts.hostOfHeader("pi:80:80"), Option.none())
    assert.deepStrictEqual(AllowedHosts.hostOfHeader("evil.example/@127.0.0.1"), Option.none())
    assert.deepStrictEqual(AllowedHosts.hostOfOrigin("http://127.0.0.1:8000"), Option.some("127.0.0.1"))
    assert.deepStrictEqual(AllowedHosts.hostOfOrigin("https://[::1]"), Option.some("[::1]"))
    assert.deepStrictEqual(AllowedHosts.hostOfOrigin("null"), Option.none())
    assert.deepStrictEqual(AllowedHosts.hostOfOrigin("http://u@127.0.0.1"), Option.none())
    assert.deepStrictEqual(AllowedHosts.hostOfOrigin("http://127.0.0.1/x"), Option.none())
  })

  it("let requests without Host, Origin or Sec-Fetch-Site through (curl, scripts, HTTP/1.0)", () => {
    const isAllowed = AllowedHosts.make([], "0.0.0.0")
    assert.isTrue(Option.isNone(refusal(isAllowed, "POST", {})))
    assert.strictEqual(Option.getOrThrow(refusal(isAllowed, "GET", { host: "" })).status, 421)
    assert.isTrue(Option.isNone(refusal(isAllowed, "POST", { "content-length": "0", "content-type": "text/plain" })))
    assert.isTrue(Option.isNone(refusal(isAllowed, "GET", { "content-length": "3", "content-type": "text/plain" })))
    assert.strictEqual(
      Option.getOrThrow(refusal(isAllowed, "PATCH", { "transfer-encoding": "chunked" })).status,
      415
    )
  })
})

describe("security headers", () => {
  const common = (answer: Answer, what: string) => {
    assert.strictEqual(answer.headers["x-content-type-options"], "nosniff", what)
    assert.strictEqual(answer.headers["x-frame-options"], "DENY", what)
    assert.strictEqual(answer.headers["referrer-policy"], "no-referrer", what)
    assert.include(answer.headers["content-security-policy"], "frame-ancestors 'none'", what)
  }

  it.effect("the page and its files allow only their own origin and cannot be framed", () =>
    Effect.gen(function*() {
      for (const path of ["/", "/assets/app.js", "/assets/style.css"]) {
        const answer = yield* send("GET", path)
        assert.strictEqual(answer.status, 200)
        common(answer, path)
        const policy = answer.headers["content-security-policy"]!
        assert.strictEqual(policy, pagePolicy)
        assert.include(policy, "default-src 'self'")
        assert.notInclude(policy, "unsafe-inline")
        assert.notInclude(policy, "unsafe-eval")
        assert.strictEqual(answer.headers["cache-control"], "no-cache", "revalidated with its ETag")
      }
      // the page has no inline script for the policy to block
      assert.notMatch((yield* send("GET", "/")).text, /<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+=/i)
    }).pipe(inApp()))

  it.effect("API answers, errors included, allow nothing, and those that change are not stored", () =>
    Effect.gen(function*() {
      yield* advanceTo(500)
      const paths = [
        "/api/v1/thermal/real-time",
        "/api/v1/zones",
        "/api/v1/health",
        "/api/v1/zones/9",
        "/api/v1/nope",
        "/api/v1/thermal/real-time.png"
      ]
      for (const path of paths) {
        const answer = yield* send("GET", path)
        common(answer, path)
        assert.strictEqual(answer.headers["content-security-policy"], dataPolicy, path)
        assert.strictEqual(answer.headers["cache-control"], "no-store", path)
      }
      const refused = yield* send("POST", "/api/v1/events", { headers: { origin: "http://evil.example" } })
      common(refused, "a refusal")
      // the API docs keep their inline script, but cannot be framed either
      const docs = yield* send("GET", "/docs")
      common(docs, "/docs")
      assert.strictEqual(docs.headers["content-security-policy"], "frame-ancestors 'none'")
    }).pipe(inApp()))
})

describe("ids in paths", () => {
  it.effect("are decimal digits from 1 to 2^53 − 1, one spelling each; anything else is a 400 naming the parameter", () =>
    Effect.gen(function*() {
      yield* setUp
      const lenient = [
        "0x18",
        "0b11000",
        "+24",
        "24.0",
        "2.4e1",
        "024",
        "%2024",
        "24%20",
        "0",
        "-1",
        "9007199254740992",
        "1e400",
        "Infinity",
        "%E2%91%A0"
      ]
      for (const path of ["/api/v1/alarms/rules/", "/api/v1/zones/", "/api/v1/events/", "/api/v1/alarms/"]) {
        for (const id of lenient) {
          const answer = yield* send("GET", path + id)
          assert.strictEqual(answer.status, 400, `${path}${id}: ${answer.text}`)
          const error = errorOf(answer)
          assert.match(error.message, /^id: must be a whole number from 1 to 9007199254740991 in decimal digits/)
        }
        assert.strictEqual((yield* send("GET", `${path}9007199254740991`)).status, 404)
        assert.strictEqual((yield* send("GET", `${path}1`)).status, 200)
      }
      const frame = yield* send("GET", "/api/v1/events/1/frames/00.png")
      assert.match(errorOf(frame).message, /^n: must be a whole number from 0/)
      assert.strictEqual((yield* send("GET", "/api/v1/events/1/frames/0.png")).status, 200)
      const query = yield* send("GET", "/api/v1/events?zoneId=0x1")
      assert.match(errorOf(query).message, /^zoneId: must be a whole number/)
    }).pipe(inApp()))

  it.effect("a known path with a method it does not have is a 405 with Allow", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["PATCH", "/api/v1/alarms/rules/24", "GET, PUT, DELETE, HEAD"],
        ["POST", "/api/v1/zones/1", "GET, PUT, DELETE, HEAD"],
        ["DELETE", "/api/v1/zones", "GET, POST, HEAD"],
        ["PUT", "/api/v1/events/1/frames/0.png", "GET, HEAD"],
        ["GET", "/api/v1/alarms/1/ack", "POST"],
        ["POST", "/", "GET, HEAD"],
        ["OPTIONS", "/api/v1/health", "GET, HEAD"]
      ]
      for (const [method, path, allow] of cases) {
        const answer = yield* send(method as "PATCH", path, { token })
        assertRefused(answer, 405, "MethodNotAllowed", `${method} is not allowed on ${path}; allowed: ${allow}`)
        assert.strictEqual(answer.headers["allow"], allow)
      }
      assert.strictEqual((yield* send("PATCH", "/api/v1/nothing/here")).status, 404)
    }).pipe(inApp()))
})

describe("answers to invalid input are short", () => {
  it.effect("a large invalid body is a 400 of a few hundred bytes naming the field", () =>
    Effect.gen(function*() {
      yield* setUp
      const huge = "x".repeat(61_000)
      const big = "x".repeat(10_000)
      const bodies: ReadonlyArray<readonly [string, unknown, string]> = [
        ["/api/v1/alarms/rules/1", { ...rule, metric: huge }, "metric"],
        ["/api/v1/alarms/rules/1", { ...rule, [huge]: 1 }, "xxxxxxxx"],
        ["/api/v1/alarms/rules/1", { ...rule, threshold: Array.from({ length: 12_000 }, () => 1) }, "threshold"],
        ["/api/v1/zones/1", { x: big, y: big, width: big, height: big, name: big, color: big }, "x"],
        [
          "/api/v1/zones/1",
          Array.from({ length: 3_000 }, (_, i) => ({ [`k${i}`]: "xxxxx" })),
          "the request body"
        ]
      ]
      for (const [path, json, field] of bodies) {
        const answer = yield* send("PUT", path, { json, token })
        assert.strictEqual(answer.status, 400, `${JSON.stringify(json).length} ${answer.text.slice(0, 300)}`)
        assert.isBelow(answer.text.length, 4096, answer.text.slice(0, 300))
        assert.include(errorOf(answer).message, field)
      }
      const url = yield* send("GET", `/api/v1/${"y".repeat(8_000)}`)
      assert.strictEqual(url.status, 404)
      assert.isBelow(url.text.length, 1024)
      const query = yield* send("GET", `/api/v1/events?from=${"z".repeat(8_000)}&limit=${"9".repeat(8_000)}`)
      assert.strictEqual(query.status, 400)
      assert.isBelow(query.text.length, 2048)
      assert.include(errorOf(query).message, "from: ")
    }).pipe(inApp()))
})
