import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it, vi } from "@effect/vitest"
import { csvHeader, toCsv } from "@ircam/core/EventExport"
import * as FrameCodec from "@ircam/core/FrameCodec"
import { legendHeight } from "@ircam/core/HeatmapImage"
import { killAll, runToExit } from "@ircam/test-support/Process"
import Sqlite from "better-sqlite3"
import { ConfigProvider, Effect } from "effect"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Gif from "../../core/test/support/Gif.js"
import { run } from "../src/Cli.js"
import { progressThreshold } from "../src/EventsCommand.js"

let dir = ""
let env: Record<string, string> = {}
const pixels = (base: number) => Array.from({ length: 768 }, (_, i) => i === 5 ? Number.NaN : base + (i % 7) / 4)
const events = (args: ReadonlyArray<string>) => runToExit(["events", ...args], env, dir)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ircam-events-cli-"))
  env = { DATABASE_PATH: join(dir, "ircam.db"), NO_COLOR: "1" }
  // the CLI makes and migrates the database; the events are written like the server writes them
  const created = await events(["list"])
  assert.strictEqual(created.code, 0, created.stderr)
  assert.strictEqual(created.stdout.trim(), "no events")
  const db = new Sqlite(env.DATABASE_PATH!)
  const insertEvent = db.prepare(
    `INSERT INTO events (id, kind, label, status, triggered_at, window_end, started_at, ended_at, frame_count,
       zone_id, alarm_id, peak_temperature, peak_x, peak_y) VALUES (?, ?, ?, 'complete', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
  )
  const insertFrame = db.prepare(
    "INSERT INTO event_frames (event_id, captured_at, sequence, ambient, temperatures) VALUES (?, ?, ?, 25, ?)"
  )
  const t0 = Date.UTC(2026, 10, 24, 7, 0, 0)
  db.transaction(() => {
    insertEvent.run(1, "manual", "test run", t0, t0 + 1000, t0, t0 + 500, 3, null, null, 31.5, 4, 2)
    for (let i = 0; i < 3; i++) insertFrame.run(1, t0 + i * 250, 10 + i, FrameCodec.encode(pixels(20 + i)))
    const many = progressThreshold + 5
    insertEvent.run(2, "alarm", null, t0 + 5000, t0 + 6000, t0 + 5000, t0 + 5000 + many, many, 1, 7, 40, 1, 1)
    const bytes = FrameCodec.encode(pixels(30))
    for (let i = 0; i < many; i++) insertFrame.run(2, t0 + 5000 + i, i, bytes)
  })()
  db.close()
}, 240_000)

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

describe("ircam events", () => {
  it("lists events as a table and as the API's JSON", { timeout: 240_000 }, async () => {
    const text = await events(["list"])
    assert.strictEqual(text.code, 0, text.stderr)
    const lines = text.stdout.trim().split("\n")
    assert.match(lines[0]!, /^ID\s+KIND\s+STATUS/)
    assert.match(lines[1]!, /^2\s+alarm/)
    assert.match(lines[2]!, /^1\s+manual\s+complete\s+2026-11-24T07:00:00.000Z\s+3\s+31.5°C\s+-\s+test run$/)

    const json = await events(["list", "--json", "--limit", "1"])
    const parsed = JSON.parse(json.stdout) as Array<{ id: number; peak: unknown; zoneId: number }>
    assert.strictEqual(parsed.length, 1)
    assert.deepStrictEqual([parsed[0]!.id, parsed[0]!.zoneId, parsed[0]!.peak], [2, 1, { temperature: 40, x: 1, y: 1 }])

    const bad = await events(["list", "--limit", "0"])
    assert.strictEqual(bad.code, 1)
  })

  it("shows one event; an unknown id fails in one line", { timeout: 240_000 }, async () => {
    const shown = await events(["show", "1"])
    assert.strictEqual(shown.code, 0, shown.stderr)
    assert.include(shown.stdout, "label:     test run")
    assert.include(shown.stdout, "peak:      31.5°C at x=4 y=2")
    const json = await events(["show", "1", "--json"])
    assert.deepStrictEqual(JSON.parse(json.stdout), {
      id: 1,
      kind: "manual",
      label: "test run",
      status: "complete",
      triggeredAt: "2026-11-24T07:00:00.000Z",
      startedAt: "2026-11-24T07:00:00.000Z",
      endedAt: "2026-11-24T07:00:00.500Z",
      frameCount: 3,
      zoneId: null,
      alarmId: null,
      peak: { temperature: 31.5, x: 4, y: 2 }
    })
    const missing = await events(["show", "99"])
    assert.strictEqual(missing.code, 1)
    assert.strictEqual(missing.stderr.trim(), "ircam: EventNotFound: no event with id 99")
  })

  it("exports frames as the API's JSON and CSV, to stdout or a file", { timeout: 240_000 }, async () => {
    const json = await events(["export", "1"])
    assert.strictEqual(json.code, 0, json.stderr)
    const frames = JSON.parse(json.stdout) as Array<
      { capturedAt: string; sequence: number; temperatures: Array<number | null> }
    >
    assert.deepStrictEqual(frames.map((f) => [f.capturedAt, f.sequence]), [
      ["2026-11-24T07:00:00.000Z", 10],
      ["2026-11-24T07:00:00.250Z", 11],
      ["2026-11-24T07:00:00.500Z", 12]
    ])
    assert.strictEqual(frames[0]!.temperatures[5], null)
    assert.strictEqual(frames[0]!.temperatures[1], 20.25)

    const csv = await events(["export", "1", "--format", "csv"])
    assert.strictEqual(csv.code, 0, csv.stderr)
    const expected = toCsv([0, 1, 2].map((i) => ({
      capturedAt: Date.UTC(2026, 10, 24, 7, 0, 0) + i * 250,
      sequence: 10 + i,
      ambient: 25,
      temperatures: FrameCodec.decode(FrameCodec.encode(pixels(20 + i)))
    })))
    assert.strictEqual(csv.stdout, expected)
    assert.isTrue(csv.stdout.startsWith(csvHeader + "\r\n"))

    const out = join(dir, "event-2.csv")
    const written = await events(["export", "2", "--format", "csv", "--out", out])
    assert.strictEqual(written.code, 0, written.stderr)
    assert.include(written.stdout, `to ${out}`)
    assert.include(written.stderr, `exported ${progressThreshold + 5}/${progressThreshold + 5} frames`)
    const file = await readFile(out, "utf8")
    assert.strictEqual(file.split("\r\n").length, progressThreshold + 5 + 2)

    const missing = await events(["export", "99"])
    assert.strictEqual(missing.code, 1)
    assert.strictEqual(missing.stderr.trim(), "ircam: EventNotFound: no event with id 99")
  })

  it("exports an event as an animated GIF, to a file or a pipe", { timeout: 240_000 }, async () => {
    const out = join(dir, "event-1.gif")
    const written = await events(["export", "1", "--format", "gif", "--out", out])
    assert.strictEqual(written.code, 0, written.stderr)
    assert.match(written.stdout, new RegExp(`wrote event 1 as an animated GIF \\(3 frames, \\d+ KB\\) to ${out}`))
    const gif = Gif.decode(await readFile(out))
    assert.deepStrictEqual([gif.width, gif.height, gif.frames.length], [320, 240 + legendHeight(10), 3])
    assert.deepStrictEqual(gif.frames.map((f) => f.delayCs), [25, 25, 25], "4 fps, as recorded")
    const piped = await events(["export", "1", "--format", "gif"])
    assert.strictEqual(piped.code, 0, piped.stderr)
    assert.isTrue(piped.stdout.startsWith("GIF89a"))
  })

  it("has --help with an example", { timeout: 240_000 }, async () => {
    const helps = await Promise.all([[], ["list"], ["show"], ["export"]].map((sub) => events([...sub, "--help"])))
    for (const help of helps) {
      assert.strictEqual(help.code, 0)
      assert.include(help.stdout, "Example: ircam events")
    }
  })
})

// the same commands in this process, so their code counts for coverage
describe("ircam events (in process)", () => {
  const inProcess = (args: ReadonlyArray<string>) =>
    run(["node", "ircam", "events", ...args]).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_PATH", env.DATABASE_PATH!]]))),
      Effect.provide(NodeContext.layer)
    )

  it.live("list, show, export", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const errors: Array<string> = []
      const log = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
        lines.push(String(line))
      })
      const error = vi.spyOn(console, "error").mockImplementation((line: unknown) => {
        errors.push(String(line))
      })
      yield* inProcess(["list"])
      yield* inProcess(["list", "--json"])
      yield* inProcess(["show", "2"])
      yield* inProcess(["show", "2", "--json"])
      const out = join(dir, "inproc.json")
      yield* inProcess(["export", "2", "--out", out])
      yield* inProcess(["export", "1", "--format", "csv", "--out", join(dir, "inproc.csv")])
      yield* inProcess(["export", "1", "--format", "gif", "--out", join(dir, "inproc.gif")])
      const missing = yield* Effect.flip(inProcess(["show", "42"]))
      const unwritable = yield* Effect.flip(inProcess(["export", "1", "--out", join(dir, "no", "such", "dir", "x")]))
      log.mockRestore()
      error.mockRestore()
      assert.match(lines[0]!, /^ID/)
      assert.strictEqual((JSON.parse(lines[1]!) as Array<unknown>).length, 2)
      assert.include(lines[2], "zone:      1")
      assert.strictEqual((JSON.parse(lines[3]!) as { id: number }).id, 2)
      assert.include(lines[4], `to ${out}`)
      const exported = JSON.parse(yield* Effect.promise(() => readFile(out, "utf8"))) as Array<unknown>
      assert.strictEqual(exported.length, progressThreshold + 5)
      assert.isAbove(errors.length, 1)
      assert.strictEqual(missing._tag, "EventNotFound")
      assert.strictEqual(unwritable._tag, "StorageError")
      assert.lengthOf(Gif.decode(yield* Effect.promise(() => readFile(join(dir, "inproc.gif")))).frames, 3)
      const unwritableGif = yield* Effect.flip(
        inProcess(["export", "1", "--format", "gif", "--out", join(dir, "no", "such", "dir", "x.gif")])
      )
      assert.strictEqual(unwritableGif._tag, "StorageError")
      // an event without frames has nothing to animate
      const db = new Sqlite(env.DATABASE_PATH!)
      db.prepare(
        "INSERT INTO events (id, kind, status, triggered_at, window_end, frame_count) VALUES (3, 'manual', 'complete', 0, 0, 0)"
      ).run()
      db.close()
      const empty = yield* Effect.flip(inProcess(["export", "3", "--format", "gif", "--out", join(dir, "none.gif")]))
      assert.strictEqual(empty._tag, "CannotExport")
      assert.include(String(empty), "event 3 has no frames: there is nothing to animate")
    }), 60_000)
})
