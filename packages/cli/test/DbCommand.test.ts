import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { runToExit } from "@ircam/test-support/Process"
import { ConfigProvider, Effect, Either, Exit } from "effect"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { run } from "../src/Cli.js"
import * as CliStorage from "../src/CliStorage.js"
import { parseDuration } from "../src/DbCommand.js"

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

const ircam = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  run(["node", "ircam", ...args]).pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.provide(NodeContext.layer),
    Effect.exit
  )

const tempDir = () => mkdtempSync(join(tmpdir(), "ircam-db-"))

describe("ircam db", () => {
  it("parses durations", () => {
    assert.deepStrictEqual(parseDuration("30d"), Either.right(30 * 86_400_000))
    assert.deepStrictEqual(parseDuration("12h"), Either.right(12 * 3_600_000))
    assert.isTrue(Either.isLeft(parseDuration("soon")))
  })

  it.live("migrate, status, integrity, vacuum, backup, prune", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const env = { DATABASE_PATH: join(dir, "ircam.db") }
      const lines = captureLogs()
      assert.isTrue(Exit.isSuccess(yield* ircam(["db", "migrate"], env)))
      assert.match(lines.join("\n"), /schema version \d+ .* migration\(s\) applied now/)

      // two events, one old, one recent, with frames
      const now = Date.now()
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        for (const [id, at] of [[1, now - 40 * 86_400_000], [2, now - 3_600_000]] as const) {
          yield* sql`INSERT INTO events (id, kind, status, triggered_at, window_end, frame_count)
            VALUES (${id}, 'manual', 'complete', ${at}, ${at}, 1)`
          yield* sql`INSERT INTO event_frames (event_id, captured_at, sequence, ambient, temperatures)
            VALUES (${id}, ${at}, 1, 20, ${new Uint8Array(4096)})`
        }
      }).pipe(
        Effect.provide(CliStorage.layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )

      lines.length = 0
      assert.isTrue(Exit.isSuccess(yield* ircam(["db", "status", "--json"], env)))
      const status = JSON.parse(lines.join("\n"))
      assert.strictEqual(status.path, env.DATABASE_PATH)
      assert.strictEqual(status.journalMode, "wal")
      assert.deepStrictEqual(status.rows, { zones: 0, events: 2, event_frames: 2, alarms: 0, outbox: 0 })
      lines.length = 0
      yield* ircam(["db", "status"], env)
      assert.include(lines.join("\n"), "events:         2")

      lines.length = 0
      assert.isTrue(Exit.isSuccess(yield* ircam(["db", "integrity"], env)))
      assert.include(lines.join("\n"), "integrity ok")
      assert.isUndefined(process.exitCode)

      lines.length = 0
      assert.isTrue(Exit.isSuccess(yield* ircam(["db", "vacuum"], env)))
      assert.include(lines.join("\n"), "may take a while")

      const copy = join(dir, "copy.db")
      assert.isTrue(Exit.isSuccess(yield* ircam(["db", "backup", copy], env)))
      assert.isTrue(existsSync(copy))
      assert.isTrue(Exit.isFailure(yield* ircam(["db", "backup", copy], env)))
      assert.isTrue(Exit.isSuccess(yield* ircam(["db", "backup", "--force", copy], env)))

      assert.isTrue(Exit.isFailure(yield* ircam(["db", "prune", "--older-than", "soon"], env)))
      lines.length = 0
      assert.isTrue(Exit.isSuccess(yield* ircam(["db", "prune"], env))) // 30 days by default
      assert.include(lines.join("\n"), "deleted 1 event(s)")
      lines.length = 0
      assert.isTrue(Exit.isSuccess(yield* ircam(["db", "prune", "--older-than", "10m"], env)))
      assert.include(lines.join("\n"), "deleted 1 event(s)")

      // the copy still has both
      lines.length = 0
      yield* ircam(["db", "status", "--json"], { DATABASE_PATH: copy })
      assert.strictEqual(JSON.parse(lines.join("\n")).rows.events, 2)
    }), 60_000)

  it.live("integrity fails with exit code 1 on a broken foreign key", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const env = { DATABASE_PATH: join(dir, "ircam.db") }
      const lines = captureLogs()
      yield* ircam(["db", "migrate"], env)
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`PRAGMA foreign_keys = OFF`
        yield* sql`INSERT INTO event_frames (event_id, captured_at, sequence, ambient, temperatures)
          VALUES (99, 0, 1, 20, ${new Uint8Array(4)})`
      }).pipe(
        Effect.provide(CliStorage.layer),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
      )
      lines.length = 0
      yield* ircam(["db", "integrity"], env)
      assert.strictEqual(process.exitCode, 1)
      assert.include(lines.join("\n"), "event_frames row")
    }))

  it.live("as a process: status of a new database, a one-line error for a bad path", () =>
    Effect.promise(async () => {
      const dir = tempDir()
      const ok = await runToExit(["db", "status"], { DATABASE_PATH: join(dir, "x.db") }, dir)
      assert.strictEqual(ok.code, 0, ok.stderr)
      assert.include(ok.stdout, "schema version")
      writeFileSync(join(dir, "file"), "")
      const bad = await runToExit(["db", "status"], { DATABASE_PATH: join(dir, "file", "x.db") }, dir)
      assert.strictEqual(bad.code, 1)
      assert.strictEqual(bad.stderr.trim().split("\n").length, 1, bad.stderr)
      assert.include(bad.stderr, "ircam:")
    }), 60_000)
})
