import { assert, describe, it } from "@effect/vitest"
import type { Console } from "effect"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { AppConfig, type LogFormat } from "../src/AppConfig.js"
import * as Logging from "../src/Logging.js"

/**
 * Runs `program` with `Logging.layer` for the given format and level, and returns the lines the
 * loggers wrote to the console (every Effect logger writes through the `Console` service).
 */
const captureLogs = <A, E>(
  logFormat: LogFormat,
  logLevel: LogLevel.LogLevel,
  program: Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const base = yield* Effect.console
    const write = (...args: ReadonlyArray<unknown>) => {
      lines.push(args.map(String).join(" "))
    }
    const capturing: Console.Console = {
      ...base,
      unsafe: {
        ...base.unsafe,
        log: write,
        info: write,
        warn: write,
        error: write,
        debug: write,
        group: () => {},
        groupEnd: () => {}
      }
    }
    yield* program.pipe(
      Effect.withConsole(capturing),
      Effect.provide(Logging.layer.pipe(Layer.provide(AppConfig.layerWith({ logFormat, logLevel }))))
    )
    return lines
  })

const parse = (line: string | undefined): Record<string, unknown> => {
  assert.isDefined(line)
  const value: unknown = JSON.parse(line!)
  assert.isObject(value)
  return value as Record<string, unknown>
}

describe("Logging.layer", () => {
  it.effect("json: one JSON object per line with message, level and annotations", () =>
    Effect.gen(function*() {
      const lines = yield* captureLogs(
        "json",
        LogLevel.Info,
        Effect.logInfo("frame stored").pipe(Effect.annotateLogs({ zone: 3, service: "Monitor" }))
      )
      assert.strictEqual(lines.length, 1)
      const entry = parse(lines[0])
      assert.strictEqual(entry["message"], "frame stored")
      assert.strictEqual(entry["logLevel"], "INFO")
      assert.deepStrictEqual(entry["annotations"], { zone: 3, service: "Monitor" })
      assert.isString(entry["timestamp"])
    }))

  it.effect("json: drops messages below LOG_LEVEL", () =>
    Effect.gen(function*() {
      const lines = yield* captureLogs(
        "json",
        LogLevel.Warning,
        Effect.gen(function*() {
          yield* Effect.logDebug("debug")
          yield* Effect.logInfo("info")
          yield* Effect.logWarning("warning")
          yield* Effect.logError("error")
        })
      )
      assert.deepStrictEqual(lines.map((line) => [parse(line)["logLevel"], parse(line)["message"]]), [
        ["WARN", "warning"],
        ["ERROR", "error"]
      ])
    }))

  it.effect("json: LOG_LEVEL=Debug lets debug messages through", () =>
    Effect.gen(function*() {
      const lines = yield* captureLogs(
        "json",
        LogLevel.Debug,
        Effect.gen(function*() {
          yield* Effect.logTrace("trace")
          yield* Effect.logDebug("debug")
          yield* Effect.logInfo("info")
        })
      )
      assert.deepStrictEqual(lines.map((line) => parse(line)["message"]), ["debug", "info"])
    }))

  it.effect("LOG_LEVEL=None silences everything", () =>
    Effect.gen(function*() {
      const lines = yield* captureLogs("json", LogLevel.None, Effect.logFatal("fatal"))
      assert.deepStrictEqual(lines, [])
    }))

  it.effect("logfmt: key=value lines", () =>
    Effect.gen(function*() {
      const lines = yield* captureLogs(
        "logfmt",
        LogLevel.Info,
        Effect.gen(function*() {
          yield* Effect.logDebug("hidden")
          yield* Effect.logWarning("sensor failed").pipe(Effect.annotateLogs({ errors: 2 }))
        })
      )
      assert.strictEqual(lines.length, 1)
      assert.match(lines[0]!, /level=WARN/)
      assert.match(lines[0]!, /message="sensor failed"/)
      assert.match(lines[0]!, /errors=2/)
      assert.throws(() => JSON.parse(lines[0]!))
    }))

  it.effect("pretty: human-readable lines, not JSON", () =>
    Effect.gen(function*() {
      const lines = yield* captureLogs(
        "pretty",
        LogLevel.Info,
        Effect.gen(function*() {
          yield* Effect.logDebug("hidden")
          yield* Effect.logInfo("hello operator")
        })
      )
      assert.isAtLeast(lines.length, 1)
      assert.include(lines[0], "INFO")
      assert.include(lines[0], "hello operator")
      assert.notInclude(lines.join("\n"), "hidden")
      assert.throws(() => JSON.parse(lines[0]!))
    }))

  it.live("replaces Effect's default logger instead of adding a second one", () =>
    Effect.gen(function*() {
      const lines = yield* captureLogs("json", LogLevel.Info, Effect.logInfo("only once"))
      assert.strictEqual(lines.length, 1)
      assert.strictEqual(parse(lines[0])["message"], "only once")
    }))

  it.live("without the layer the default logger writes plain text (the capture sees real logger output)", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const base = yield* Effect.console
      const capturing: Console.Console = {
        ...base,
        unsafe: { ...base.unsafe, log: (...args: ReadonlyArray<unknown>) => lines.push(args.map(String).join(" ")) }
      }
      yield* Effect.logInfo("plain").pipe(Effect.withConsole(capturing))
      assert.strictEqual(lines.length, 1)
      assert.include(lines[0], "message=plain")
    }))
})

describe("Logging.layer under a runtime that added its own pretty logger", () => {
  it.effect("prints each line once, in the chosen format", () =>
    Effect.gen(function*() {
      const lines = yield* captureLogs("json", LogLevel.Info, Effect.logInfo("once"))
      assert.strictEqual(lines.length, 1)
      assert.strictEqual(parse(lines[0])["message"], "once")
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, Logger.prettyLoggerDefault))))
})
