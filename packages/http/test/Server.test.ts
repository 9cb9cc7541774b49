import { assert, describe, it } from "@effect/vitest"
import { AppConfig, type AppConfigShape } from "@ircam/core/AppConfig"
import * as Core from "@ircam/core/Core"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import * as Server from "../src/Server.js"

const serve = (config: Partial<AppConfigShape>) =>
  Effect.gen(function*() {
    const logged: Array<string> = []
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => {
        logged.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
      })
    )
    const layer = Server.layer.pipe(
      Layer.provide(Core.layer),
      Layer.provide(SimulatedSensor.layer()),
      Layer.provide(AppConfig.layerWith({ databasePath: ":memory:", port: 0, ...config })),
      Layer.provide(capture)
    )
    yield* Layer.build(layer)
    const address = logged.map((line) => /Listening on (http:\/\/\S+)/.exec(line)?.[1]).find((url) => url !== undefined)
    assert.isDefined(address, logged.join("\n"))
    return { logged, address: address! }
  })

const fetchStatus = (url: string) => Effect.promise(() => fetch(url).then((response) => response.status))

const warning = (logged: ReadonlyArray<string>) => logged.filter((line) => line.startsWith("WARN"))

describe("Server.layer", () => {
  it.live("listens on HOST:PORT and logs the address", () =>
    Effect.gen(function*() {
      const { address, logged } = yield* serve({ host: "127.0.0.1" })
      assert.match(address, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(yield* fetchStatus(`${address}/api/v1/health`), 200)
      assert.strictEqual(yield* fetchStatus(`${address}/api/v1/nope`), 404)
      assert.deepStrictEqual(warning(logged), [])
    }).pipe(Effect.scoped))

  it.live("warns when it is reachable from the network without API_TOKEN", () =>
    Effect.gen(function*() {
      const { address, logged } = yield* serve({ host: "0.0.0.0" })
      const port = new URL(address).port
      assert.strictEqual(yield* fetchStatus(`http://127.0.0.1:${port}/api/v1/health`), 200)
      const warnings = warning(logged)
      assert.lengthOf(warnings, 1)
      assert.include(warnings[0], "without API_TOKEN")
      assert.include(warnings[0], "HOST=127.0.0.1")
    }).pipe(Effect.scoped))

  it.live("does not warn when a token guards the changes", () =>
    Effect.gen(function*() {
      const { logged } = yield* serve({ host: "0.0.0.0", apiToken: Option.some(Redacted.make("t")) })
      assert.deepStrictEqual(warning(logged), [])
    }).pipe(Effect.scoped))

  it.live("logs each request only at LOG_LEVEL=debug or below", () =>
    Effect.gen(function*() {
      const requestLines = (logged: ReadonlyArray<string>) =>
        logged.filter((line) => line.includes("Sent HTTP response"))
      const quiet = yield* serve({ host: "127.0.0.1" })
      assert.strictEqual(yield* fetchStatus(`${quiet.address}/api/v1/zones`), 200)
      assert.deepStrictEqual(requestLines(quiet.logged), [])

      const chatty = yield* serve({ host: "127.0.0.1", logLevel: LogLevel.Debug })
      assert.strictEqual(yield* fetchStatus(`${chatty.address}/api/v1/zones`), 200)
      assert.lengthOf(requestLines(chatty.logged), 1)
    }).pipe(Effect.scoped))
})
