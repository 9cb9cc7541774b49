import { NodeContext } from "@effect/platform-node"
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { freePort } from "@ircam/test-support/Port"
import { runToExit } from "@ircam/test-support/Process"
import { ConfigProvider, Effect } from "effect"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { run } from "../src/Cli.js"

const report = (status: string) => ({
  status,
  checkedAt: "2026-11-24T07:00:00.000Z",
  uptimeSeconds: 5,
  checks: {
    database: { status: "ok", details: {} },
    sensor: { status, ...(status === "ok" ? {} : { message: "sensor is slow" }), details: {} }
  }
})

// a tiny server answering canned health reports: /<status>/api/v1/health
const cannedServer = Effect.acquireRelease(
  Effect.async<{ server: Server; base: string }>((resume) => {
    const server = createServer((req, res) => {
      const status = req.url?.split("/")[1] ?? "ok"
      if (status === "garbage") return res.writeHead(200).end("not json")
      res.writeHead(status === "down" ? 503 : 200, { "content-type": "application/json" })
      res.end(JSON.stringify(report(status)))
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resume(Effect.succeed({ server, base: `http://127.0.0.1:${port}` }))
    })
  }),
  ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)

const captureLogs = () => {
  const lines: Array<string> = []
  vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)))
  vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)))
  return lines
}

afterEach(() => {
  vi.restoreAllMocks()
  process.exitCode = undefined
})

const ircam = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  run(["node", "ircam", ...args]).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.provide(NodeContext.layer)
  )

describe("ircam health", () => {
  it.scopedLive("prints the status and each check; exit code by status", () =>
    Effect.gen(function*() {
      const { base } = yield* cannedServer
      const lines = captureLogs()
      yield* ircam(["health", "--url", `${base}/ok`])
      assert.isUndefined(process.exitCode)
      assert.include(lines[0], "status: ok")
      assert.include(lines[0], "  sensor: ok")

      lines.length = 0
      yield* ircam(["health", "--url", `${base}/degraded`])
      assert.strictEqual(process.exitCode, 1)
      assert.include(lines[0], "sensor: degraded - sensor is slow")

      lines.length = 0
      yield* ircam(["health", "--json", "--url", `${base}/down/`])
      assert.strictEqual(process.exitCode, 2)
      assert.strictEqual(JSON.parse(lines[0]!).status, "down")

      lines.length = 0
      process.exitCode = undefined
      yield* ircam(["health", "--url", `${base}/garbage`])
      assert.strictEqual(process.exitCode, 2)
      assert.include(lines[0], "not a health report")
    }))

  it.live("unreachable: one line, exit code 2 (port from PORT)", () =>
    Effect.gen(function*() {
      const lines = captureLogs()
      const port = yield* Effect.promise(freePort)
      yield* ircam(["health"], { PORT: String(port) })
      assert.strictEqual(process.exitCode, 2)
      assert.strictEqual(lines.length, 1)
      assert.include(lines[0], `server unreachable at http://127.0.0.1:${port}/api/v1/health`)
    }))

  it.scopedLive("as a process against the canned server and nothing", () =>
    Effect.gen(function*() {
      const { base } = yield* cannedServer
      const degraded = yield* Effect.promise(() => runToExit(["health", "--url", `${base}/degraded`], {}, tmpdir()))
      assert.strictEqual(degraded.code, 1, degraded.stderr)
      assert.include(degraded.stdout, "status: degraded")
      const port = yield* Effect.promise(freePort)
      const none = yield* Effect.promise(() => runToExit(["health"], { PORT: String(port) }, tmpdir()))
      assert.strictEqual(none.code, 2)
      assert.strictEqual(none.stderr.trim().split("\n").length, 1)
      assert.include(none.stderr, "unreachable")
    }), 60_000)
})
