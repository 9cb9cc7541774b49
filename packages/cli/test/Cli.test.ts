import { NodeContext } from "@effect/platform-node"
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { freePort } from "@ircam/test-support/Port"
import { runToExit } from "@ircam/test-support/Process"
import { Cause, ConfigProvider, Effect, Exit, Fiber, Option, Schedule, Schema } from "effect"
import { tmpdir } from "node:os"
import { run } from "../src/Cli.js"
import { describe as describeCause } from "../src/ErrorReport.js"

const runBinWith = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.promise(() => runToExit(args, env, tmpdir(), 60_000))

const runBin = (args: ReadonlyArray<string>) => runBinWith(args, {})

describe("bin/ircam.js", () => {
  it.live("--help lists the commands", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runBin(["--help"])
      assert.strictEqual(code, 0)
      assert.include(stdout, "serve")
      assert.include(stdout, "Run the monitor and the HTTP API")
    }))

  it.live("--help lists every command group", () =>
    Effect.gen(function*() {
      const { stdout } = yield* runBin(["--help"])
      for (
        const command of [
          "serve",
          "health",
          "config check",
          "db backup",
          "zones add",
          "events export",
          "history export",
          "sensor capture"
        ]
      ) {
        assert.include(stdout, command)
      }
    }))

  it.live("an error is one line, or the whole cause with --verbose", () =>
    Effect.gen(function*() {
      // a path SQLite cannot open
      const args = ["db", "status"]
      const env = { DATABASE_PATH: "/proc/ircam-cannot-be-here.db" }
      const quiet = yield* runBinWith(args, env)
      assert.strictEqual(quiet.code, 1)
      assert.lengthOf(quiet.stderr.trim().split("\n"), 1)
      assert.match(quiet.stderr, /^ircam: DatabaseError: cannot open/)
      const verbose = yield* runBinWith([...args, "--verbose"], env)
      assert.strictEqual(verbose.code, 1)
      assert.match(verbose.stderr, /^ircam: DatabaseError: cannot open/)
      assert.include(verbose.stderr, "\n    at ", "with the stack")
    }))

  it.live("--version prints the version", () =>
    Effect.gen(function*() {
      const { code, stdout } = yield* runBin(["--version"])
      assert.strictEqual(code, 0)
      assert.include(stdout, "0.1.0")
    }))
})

// `ircam serve` in this process: the configuration from a map, the log lines (LOG_FORMAT=json) from console.log
const serve = (env: Record<string, string>) =>
  run(["node", "ircam", "serve"]).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.provide(NodeContext.layer)
  )

const LogLine = Schema.parseJson(Schema.Struct({
  message: Schema.Union(Schema.String, Schema.Array(Schema.String)),
  logLevel: Schema.String,
  annotations: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}))

const captureLogs = () => {
  const lines: Array<string> = []
  vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    lines.push(String(line))
  })
  return lines
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe("ircam serve", () => {
  it.live("serves the API until it is interrupted, then closes the database", () =>
    Effect.gen(function*() {
      const lines = captureLogs()
      const port = yield* Effect.promise(freePort)
      const fiber = yield* Effect.fork(
        serve({
          PORT: String(port),
          HOST: "127.0.0.1",
          DATABASE_PATH: ":memory:",
          SENSOR: "simulated",
          LOG_FORMAT: "json"
        })
      )
      const address = yield* Effect.suspend(() => {
        const listening = lines.map((line) => /Listening on (http:\/\/[\d.:]+)/.exec(line)?.[1]).find(Boolean)
        return listening === undefined ? Effect.fail("not listening yet") : Effect.succeed(listening)
      }).pipe(Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 200 }))

      const health = yield* Effect.promise(() => fetch(`${address}/api/v1/health`))
      assert.strictEqual(health.status, 200)
      assert.strictEqual(address, `http://127.0.0.1:${port}`)

      yield* Fiber.interrupt(fiber)
      const logs = lines.map((line) => Schema.decodeUnknownSync(LogLine)(line))
      const messages = logs.map((log) => log.message)
      // "started" only once the server listens
      const started = messages.indexOf("ircam started")
      const listening = messages.findIndex((message) => String(message).startsWith("Listening on"))
      assert.isAbove(started, listening)
      assert.isAbove(listening, -1)
      assert.deepStrictEqual(logs[started]?.annotations, { database: ":memory:", refreshRateHz: 8 })
      assert.include(messages, "sensor: simulated scene")
      assert.strictEqual(messages.at(-1), "ircam stopped; database closed")
      yield* Effect.promise(() =>
        fetch(`${address}/api/v1/health`).then(
          () => assert.fail("the server still answers"),
          () => undefined
        )
      )
    }))

  it.live("stops with a one-line reason naming the variable when the configuration is invalid", () =>
    Effect.gen(function*() {
      captureLogs()
      const exit = yield* Effect.exit(serve({ PORT: "abc", DATABASE_PATH: ":memory:" }))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      const report = describeCause(exit.cause)
      assert.include(report, "PORT")
      assert.notInclude(report, "\n")
    }))

  it.live("refuses SENSOR=mlx90640 in this version", () =>
    Effect.gen(function*() {
      const lines = captureLogs()
      const exit = yield* Effect.exit(
        serve({
          PORT: String(yield* Effect.promise(freePort)),
          HOST: "127.0.0.1",
          DATABASE_PATH: ":memory:",
          SENSOR: "mlx90640",
          LOG_FORMAT: "json"
        })
      )
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isSuccess(exit)) return
      const failure = Cause.failureOption(exit.cause)
      assert.isTrue(Option.isSome(failure))
      const report = describeCause(exit.cause)
      assert.match(report, /^SensorError: SENSOR=mlx90640/)
      assert.notInclude(report, "\n")
      // it never started, so it does not claim to have stopped either
      assert.isFalse(lines.some((line) => line.includes("ircam started") || line.includes("ircam stopped")))
    }))
})
