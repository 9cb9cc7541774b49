/**
 * `ircam history export` (the built executable) on a database file holding ten minutes of history
 * of a zone (deleted since) and of the whole frame, with a gap: its CSV and JSON are the API's
 * answers to the same question, byte for byte; bad options fail in one line.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { AppConfig } from "@ircam/core/AppConfig"
import { HistoryRepo, type SecondRow } from "@ircam/core/HistoryRepo"
import * as Storage from "@ircam/core/Storage"
import type { ZoneId } from "@ircam/core/Zone"
import { killAll, runToExit } from "@ircam/test-support/Process"
import { Effect } from "effect"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as TestCore from "../packages/core/test/support/TestCore.js"
import { appLayer, send } from "../packages/http/test/support/TestApp.js"

/** The hour before the last: recent enough that the server's retention (2 days of seconds) keeps it. */
const T0 = (Math.floor(Date.now() / 3_600_000) - 1) * 3_600_000
const at = (s: number) => new Date(T0 + s * 1000).toISOString()
const from = at(0)
const to = at(599)

let dir = ""
let env: Record<string, string> = {}
const history = (args: ReadonlyArray<string>) => runToExit(["history", "export", ...args], env, dir)

/** The API's answer (and its body) to `query`, from the server's code on the same database file. */
const api = (queries: ReadonlyArray<string>) =>
  Effect.runPromise(
    Effect.forEach(queries, (query) => Effect.map(send("GET", `/api/v1/history?${query}`), (answer) => answer.text))
      .pipe(
        Effect.provide(appLayer(TestCore.fedSensor(), { databasePath: env["DATABASE_PATH"]! })),
        Effect.scoped
      )
  )

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ircam-history-cli-"))
  env = { DATABASE_PATH: join(dir, "ircam.db"), NO_COLOR: "1" }
  const created = await runToExit(["db", "migrate"], env, dir)
  assert.strictEqual(created.code, 0, created.stderr)
  // ten minutes of seconds, the plate's cycle in them, nothing from 200 s to 299 s
  await Effect.runPromise(
    Effect.gen(function*() {
      const repo = yield* HistoryRepo
      const zone = yield* repo.insertSeries({
        zoneId: 1 as ZoneId,
        rect: { x: 24, y: 4, width: 4, height: 3 },
        reason: "started",
        startedAt: T0
      })
      const frame = yield* repo.insertSeries({ zoneId: null, rect: null, reason: "started", startedAt: T0 })
      const rows: Array<SecondRow> = []
      for (let s = 0; s < 600; s++) {
        if (s >= 200 && s < 300) continue
        const hot = 22 + 58 * Math.max(0, Math.sin((s / 90) * Math.PI))
        const t = T0 / 1000 + s
        rows.push({ seriesId: zone, t, frames: 8, min: 21.5, max: hot + 0.37, mean: hot, ambient: null })
        rows.push({ seriesId: frame, t, frames: 8, min: 20.25, max: hot + 0.37, mean: 22.5 + s / 1000, ambient: 25.1 })
      }
      yield* repo.writeSeconds(rows)
      yield* repo.rollUp(zone, T0 / 1000, T0 / 1000 + 599)
      yield* repo.rollUp(frame, T0 / 1000, T0 / 1000 + 599)
    }).pipe(Effect.provide(Storage.layer), Effect.provide(AppConfig.layerWith({ databasePath: env["DATABASE_PATH"]! })))
  )
}, 240_000)

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

describe("ircam history export", () => {
  it("writes the API's CSV and JSON, gaps included, to stdout or a file", { timeout: 240_000 }, async () => {
    const minutes = await history(["--zone", "1", "--from", from, "--to", to, "--step", "1m", "--format", "csv"])
    assert.strictEqual(minutes.code, 0, minutes.stderr)
    const rows = minutes.stdout.split("\r\n")
    assert.strictEqual(rows[0], "t,min,max,mean,frames")
    assert.lengthOf(rows, 12)
    assert.match(rows[1]!, new RegExp(`^${at(0)},21\\.5,80\\.37,\\d+\\.\\d+,480$`), "a minute: 60 seconds of 8 frames")
    assert.match(rows[4]!, new RegExp(`^${at(180)},21\\.5,[\\d.]+,[\\d.]+,160$`), "20 seconds before the gap")
    assert.strictEqual(rows[5], `${at(240)},,,,0`)
    const seconds = await history(["--zone", "1", "--from", from, "--to", to, "--step", "1s", "--format", "csv"])
    assert.strictEqual(seconds.stdout.split("\r\n")[201], `${at(200)},,,,0`, "a gap")
    const out = await history(["--from", from, "--to", to, "--out", "frame.json"])
    assert.strictEqual(out.code, 0, out.stderr)
    assert.match(out.stdout, /^wrote 10 buckets of 1m of the whole frame \(json\) to .*frame\.json\n$/)
    const json = await readFile(join(dir, "frame.json"), "utf8")

    const [apiMinutes, apiSeconds, apiJson] = await api([
      `zoneId=1&from=${from}&to=${to}&step=1m&format=csv`,
      `zoneId=1&from=${from}&to=${to}&step=1s&format=csv`,
      `from=${from}&to=${to}`
    ])
    assert.strictEqual(minutes.stdout, apiMinutes)
    assert.strictEqual(seconds.stdout, apiSeconds)
    assert.strictEqual(json, `${apiJson}\n`)
    assert.deepInclude(JSON.parse(json), { zoneId: null, step: "1m" })
  })

  it("fails in one line on an option it cannot use", { timeout: 240_000 }, async () => {
    const badTime = await history(["--from", "yesterday"])
    assert.strictEqual(badTime.code, 1)
    assert.strictEqual(
      badTime.stderr.trim(),
      "ircam: HistoryRangeInvalid: --from: expected an ISO-8601 date-time with a time zone, like " +
        "2026-11-24T08:00:00Z; got \"yesterday\""
    )
    const unknown = await history(["--zone", "2"])
    assert.strictEqual(unknown.code, 1)
    assert.include(unknown.stderr, "ZoneNotFound: there is no zone 2, and no history of one")
    const tooLong = await history(["--from", "2020-01-01T00:00:00Z", "--to", "2026-11-24T08:00:00Z"])
    assert.strictEqual(tooLong.code, 1)
    assert.include(tooLong.stderr, "HistoryRangeInvalid: from 2020-01-01T00:00:00.000Z")
    assert.include(tooLong.stderr, "more buckets than points=500")
  })
})
