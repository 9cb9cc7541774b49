import { HttpServerError } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { config } from "@ircam/core/AppConfig"
import { SensorError } from "@ircam/core/Sensor"
import { ZoneNotFound } from "@ircam/core/ZoneRepo"
import { Cause, ConfigProvider, Data, Effect } from "effect"
import { describe as describeCause } from "../src/ErrorReport.js"

const configErrorFor = (env: Record<string, string>) =>
  config.pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.flip,
    Effect.runSync
  )

const isOneLine = (text: string) => !text.includes("\n")

describe("ErrorReport.describe", () => {
  it("names the variable of a configuration error", () => {
    const port = describeCause(Cause.fail(configErrorFor({ PORT: "abc" })))
    assert.isTrue(isOneLine(port), port)
    assert.match(port, /^invalid configuration: /)
    assert.include(port, "PORT")
    assert.include(port, "abc")

    const zones = describeCause(Cause.fail(configErrorFor({ MAX_ZONES: "99" })))
    assert.include(zones, "MAX_ZONES")
    assert.include(zones, "between 1 and 16")
  })

  it("gives the tag and the message of a tagged error", () => {
    assert.strictEqual(describeCause(Cause.fail(ZoneNotFound.of(3))), "ZoneNotFound: no zone with id 3")
    const sensor = describeCause(
      Cause.fail(new SensorError({ reason: "Unavailable", message: "SENSOR=mlx90640: no driver" }))
    )
    assert.strictEqual(sensor, "SensorError: SENSOR=mlx90640: no driver")
  })

  it("gives the message of an untagged error", () => {
    assert.strictEqual(describeCause(Cause.fail(new Error("disk full"))), "disk full")
    assert.strictEqual(describeCause(Cause.fail("plain text")), "plain text")
  })

  it("says the HTTP server could not start, and why", () => {
    const inUse = new HttpServerError.ServeError({
      cause: new Error("listen EADDRINUSE: address already in use 127.0.0.1:8000")
    })
    assert.strictEqual(
      describeCause(Cause.fail(inUse)),
      "cannot start the HTTP server: listen EADDRINUSE: address already in use 127.0.0.1:8000"
    )
    const odd = describeCause(Cause.fail(new HttpServerError.ServeError({ cause: "EACCES" })))
    assert.strictEqual(odd, "cannot start the HTTP server: EACCES")
  })

  it("falls back to the error's text when it has no message", () => {
    class Quiet extends Data.TaggedError("Quiet") {}
    const quiet = describeCause(Cause.fail(new Quiet()))
    assert.isNotEmpty(quiet)
    assert.isTrue(isOneLine(quiet), quiet)
    const odd = { _tag: "Odd", message: 42, toString: () => "odd failure" }
    assert.strictEqual(describeCause(Cause.fail(odd)), "odd failure")
  })

  it("shows a defect in full, with its stack", () => {
    const report = describeCause(Cause.die(new Error("a bug")))
    assert.include(report, "a bug")
    assert.match(report, /\n\s+at /)
  })
})
