import { NodeContext } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it, vi } from "@effect/vitest"
import { freePort } from "@ircam/test-support/Port"
import { killAll, runToExit, start, stop, waitUntilAnswering } from "@ircam/test-support/Process"
import { ConfigProvider, Effect } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { run } from "../src/Cli.js"
import { normalizeArgs } from "../src/Commands.js"
import { table } from "../src/ZonesCommand.js"

let dir = ""
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ircam-zones-cli-"))
})
afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

const envFor = (name: string, extra: Record<string, string> = {}) => ({
  DATABASE_PATH: join(dir, name, "ircam.db"),
  NO_COLOR: "1",
  ...extra
})
const zones = (args: ReadonlyArray<string>, env: Record<string, string>) => runToExit(["zones", ...args], env, dir)

describe("ircam zones", () => {
  it("adds, lists, updates and removes zones with the API's validation", { timeout: 240_000 }, async () => {
    const env = envFor("crud")
    const added = await zones(["add", "--x", "1", "--y", "2", "--width", "3", "--height", "4", "--name", "oven"], env)
    assert.strictEqual(added.code, 0, added.stderr)
    assert.include(added.stdout, "added zone 1 \"oven\"")

    const second = await zones(["add", "-x", "0", "--y", "0", "--width", "32", "--height", "24"], env)
    assert.strictEqual(second.code, 0, second.stderr)

    const full = await zones(["add", "--x", "0", "--y", "0", "--width", "1", "--height", "1"], env)
    assert.strictEqual(full.code, 1)
    assert.strictEqual(
      full.stderr.trim(),
      "ircam: ZoneLimitReached: at most 2 zones may exist (MAX_ZONES); delete one first"
    )

    const listed = await zones(["list"], env)
    assert.strictEqual(listed.code, 0)
    assert.include(listed.stdout, "ID  NAME")
    assert.include(listed.stdout, "oven")
    const json = await zones(["list", "--json"], env)
    assert.deepStrictEqual(JSON.parse(json.stdout), [
      { id: 1, name: "oven", color: "#ff4136", x: 1, y: 2, width: 3, height: 4 },
      { id: 2, name: "Zone 2", color: "#0074d9", x: 0, y: 0, width: 32, height: 24 }
    ])

    const updated = await zones(["update", "1", "--x", "10", "--color", "#000000"], env)
    assert.strictEqual(updated.code, 0, updated.stderr)
    assert.include(updated.stdout, "updated zone 1 \"oven\" #000000 at x=10 y=2")

    const outside = await zones(["update", "1", "--x", "30"], env)
    assert.strictEqual(outside.code, 1)
    assert.match(outside.stderr.trim(), /^ircam: ZoneOutOfBounds: [^\n]*32×24/)

    const removed = await zones(["remove", "2"], env)
    assert.strictEqual(removed.code, 0)
    assert.include(removed.stdout, "removed zone 2")
    const missing = await zones(["remove", "2"], env)
    assert.strictEqual(missing.code, 1)
    assert.strictEqual(missing.stderr.trim(), "ircam: ZoneNotFound: no zone with id 2")
    const unknown = await zones(["update", "7", "--x", "1"], env)
    assert.strictEqual(unknown.code, 1)
    assert.strictEqual(unknown.stderr.trim(), "ircam: ZoneNotFound: no zone with id 7")
  })

  it("refuses bad options in one line, exit 1", { timeout: 240_000 }, async () => {
    const env = envFor("bad", { MAX_ZONES: "4" })
    const rect = ["--x", "0", "--y", "0", "--width", "2", "--height", "2"]
    const color = await zones(["add", ...rect, "--color", "red"], env)
    assert.strictEqual(color.code, 1)
    assert.match(color.stderr.trim(), /^ircam: InvalidZoneOption: --color: [^\n]*#rrggbb/)
    const name = await zones(["add", ...rect, "--name", "   "], env)
    assert.strictEqual(name.code, 1)
    assert.match(name.stderr.trim(), /^ircam: InvalidZoneOption: --name: [^\n]*$/)
    const width = await zones(["add", "--x", "0", "--y", "0", "--width", "0", "--height", "2"], env)
    assert.strictEqual(width.code, 1)
    assert.match(width.stderr.trim(), /^ircam: InvalidZoneOption: --width: [^\n]*$/)
    const empty = await zones(["list"], env)
    assert.strictEqual(empty.stdout.trim(), "no zones")
  })

  it("has --help with an example", { timeout: 240_000 }, async () => {
    const helps = await Promise.all(
      [[], ["list"], ["add"], ["update"], ["remove"]].map((sub) => zones([...sub, "--help"], envFor("help")))
    )
    for (const help of helps) {
      assert.strictEqual(help.code, 0)
      assert.include(help.stdout, "Example: ircam zones")
    }
  })

  it("a zone added with the CLI appears in the running server's API", { timeout: 240_000 }, async () => {
    const port = await freePort()
    const env = envFor("live", { PORT: String(port), HOST: "127.0.0.1", SENSOR: "simulated", LOG_FORMAT: "json" })
    const server = start(["serve"], env, dir)
    const base = `http://127.0.0.1:${port}`
    await waitUntilAnswering(server, `${base}/health`)
    const before = await (await fetch(`${base}/api/v1/zones`)).json()
    assert.deepStrictEqual(before, [])

    const added = await zones(["add", "--x", "3", "--y", "4", "--width", "5", "--height", "6", "--name", "press"], env)
    assert.strictEqual(added.code, 0, added.stderr)
    const addedAt = Date.now()
    let seen: Array<{ name: string }> = []
    while (Date.now() - addedAt < 2_500) {
      seen = await (await fetch(`${base}/api/v1/zones`)).json() as Array<{ name: string }>
      if (seen.length > 0) break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.deepStrictEqual(seen.map((zone) => zone.name), ["press"])
    assert.isBelow(Date.now() - addedAt, 2_500)
    assert.strictEqual(await stop(server), 0)
  })
})

describe("ZonesCommand helpers", () => {
  it("normalizeArgs turns --x/--y into -x/-y after zones only", () => {
    assert.deepStrictEqual(normalizeArgs(["node", "ircam", "zones", "add", "--x", "1", "--y=2", "--width", "3"]), [
      "node",
      "ircam",
      "zones",
      "add",
      "-x",
      "1",
      "-y=2",
      "--width",
      "3"
    ])
    assert.deepStrictEqual(normalizeArgs(["node", "ircam", "serve", "--x"]), ["node", "ircam", "serve", "--x"])
  })

  it("table aligns the columns", () => {
    assert.strictEqual(table([]), "ID  NAME  COLOR  X  Y  WIDTH  HEIGHT")
  })
})

// the same commands in this process, so their code counts for coverage
describe("ircam zones (in process)", () => {
  const inProcess = (args: ReadonlyArray<string>, name: string) =>
    run(["node", "ircam", "zones", ...args]).pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_PATH", join(dir, name, "ircam.db")]]))),
      Effect.provide(NodeContext.layer)
    )

  it.live("add, list, update, remove and their errors", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
        lines.push(String(line))
      })
      yield* inProcess(["add", "--x", "1", "--y", "1", "--width", "2", "--height", "2", "--name", "a"], "inproc")
      yield* inProcess([
        "update",
        "1",
        "--y",
        "3",
        "--width",
        "4",
        "--height",
        "5",
        "--name",
        "b",
        "--color",
        "#00ff00"
      ], "inproc")
      yield* inProcess(["list"], "inproc")
      yield* inProcess(["list", "--json"], "inproc")
      const bad = yield* Effect.flip(
        inProcess(["add", "--x", "1", "--y", "1", "--width", "2", "--height", "2", "--color", "x"], "inproc")
      )
      const badWidth = yield* Effect.flip(
        inProcess(["add", "--x", "1", "--y", "1", "--width", "99", "--height", "2"], "inproc")
      )
      yield* inProcess(["remove", "1"], "inproc")
      spy.mockRestore()
      assert.include(lines[0], "added zone 1 \"a\"")
      assert.include(lines[1], "updated zone 1 \"b\" #00ff00 at x=1 y=3, 4×5")
      assert.include(lines[2], "ID  NAME")
      assert.deepStrictEqual(JSON.parse(lines[3]!), [{
        id: 1,
        name: "b",
        color: "#00ff00",
        x: 1,
        y: 3,
        width: 4,
        height: 5
      }])
      assert.strictEqual(bad._tag, "InvalidZoneOption")
      assert.strictEqual(badWidth._tag, "InvalidZoneOption")
      assert.include(lines[4], "removed zone 1")
    }), 60_000)
})
