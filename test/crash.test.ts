/**
 * Crash safety of event recording: `ircam serve` as a child process, events triggered over HTTP,
 * the process killed with SIGKILL again and again at random moments (right after a trigger, while
 * recording, while recording an extended event, while idle). After every kill the database file
 * (with the WAL the dead process left) is checked directly: intact, and every event's row
 * describes exactly its stored frames. Each start-up must report the events the previous kill
 * interrupted, and a last start shows over the API that none is left `recording`.
 *
 * The moments come from a seeded PRNG; the seed is printed, and CRASH_SEED=<seed> runs the same
 * plan again (the server's own timing still varies a little from run to run).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { PIXELS } from "@ircam/core/Frame"
import * as FrameCodec from "@ircam/core/FrameCodec"
import { freePort } from "@ircam/test-support/Port"
import { type Ircam, killAll, start, stop, waitUntilAnswering } from "@ircam/test-support/Process"
import Database from "better-sqlite3"
import { copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

const seed = process.env["CRASH_SEED"] === undefined
  ? Math.floor(Math.random() * 2 ** 32)
  : Number(process.env["CRASH_SEED"])

/** mulberry32: a small PRNG, good enough to pick moments, reproducible from its seed. */
const prng = (state: number) => () => {
  state = (state + 0x6d2b79f5) | 0
  let t = Math.imul(state ^ (state >>> 15), 1 | state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const random = prng(seed)
/** a whole number of ms in [min, max] */
const between = (min: number, max: number) => Math.round(min + random() * (max - min))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const RATE = 16
const PRE_EVENT_SECONDS = 2
const POST_EVENT_SECONDS = 2

interface EventJson {
  readonly id: number
  readonly status: "recording" | "complete"
  readonly triggeredAt: string
  readonly startedAt: string | null
  readonly endedAt: string | null
  readonly frameCount: number
}
interface EventFrameJson {
  readonly capturedAt: string
  readonly sequence: number
  readonly temperatures: ReadonlyArray<number | null>
}
interface LogLine {
  readonly message: unknown
  readonly logLevel: string
  readonly annotations: Record<string, unknown>
}

/** An event row as found in the file after a kill. */
interface StoredEvent {
  readonly id: number
  readonly status: "recording" | "complete"
  readonly frameCount: number
  readonly startedAt: number | null
  readonly endedAt: number | null
}

let dir = ""
const databasePath = () => join(dir, "data", "ircam.db")
const environment = (port: number): Record<string, string> => ({
  PORT: String(port),
  HOST: "127.0.0.1",
  DATABASE_PATH: databasePath(),
  SENSOR: "simulated",
  REFRESH_RATE_HZ: String(RATE),
  PRE_EVENT_SECONDS: String(PRE_EVENT_SECONDS),
  POST_EVENT_SECONDS: String(POST_EVENT_SECONDS),
  LOG_FORMAT: "json"
})

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ircam-crash-"))
})

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

/**
 * Checks the database as the killed process left it (file and WAL), on a copy so that the next
 * start-up finds the files untouched: `integrity_check`, no orphan frames, and for every event
 * `frame_count`, `started_at`, `ended_at` and the peak exactly those of its frames, which decode,
 * are each stored once and have consecutive sequence numbers (no frame lost in between).
 */
const inspect = (where: string): ReadonlyArray<StoredEvent> => {
  const copy = join(dir, "inspect")
  rmSync(copy, { recursive: true, force: true })
  mkdirSync(copy)
  const file = join(copy, "ircam.db")
  copyFileSync(databasePath(), file)
  if (existsSync(`${databasePath()}-wal`)) copyFileSync(`${databasePath()}-wal`, `${file}-wal`)
  const db = new Database(file, { fileMustExist: true })
  try {
    assert.strictEqual(db.pragma("integrity_check", { simple: true }), "ok", where)
    assert.deepStrictEqual(db.pragma("foreign_key_check"), [], where)
    const orphans = db.prepare("SELECT count(*) AS n FROM event_frames WHERE event_id NOT IN (SELECT id FROM events)")
      .get() as { n: number }
    assert.strictEqual(orphans.n, 0, `${where}: frames without their event`)

    const events = db.prepare(
      "SELECT id, status, frame_count, started_at, ended_at, peak_temperature FROM events ORDER BY id"
    ).all() as Array<{
      id: number
      status: "recording" | "complete"
      frame_count: number
      started_at: number | null
      ended_at: number | null
      peak_temperature: number | null
    }>
    const framesOf = db.prepare(
      "SELECT captured_at, sequence, temperatures FROM event_frames WHERE event_id = ? ORDER BY captured_at, rowid"
    )
    for (const event of events) {
      const at = `${where}, event ${event.id} (${event.status})`
      const frames = framesOf.all(event.id) as Array<{ captured_at: number; sequence: number; temperatures: Buffer }>
      assert.strictEqual(event.frame_count, frames.length, `${at}: frame_count against its stored frames`)
      if (frames.length === 0) {
        assert.strictEqual(event.status, "recording", `${at}: only a recording may have no frame yet`)
        assert.isNull(event.started_at, at)
        assert.isNull(event.ended_at, at)
        assert.isNull(event.peak_temperature, at)
        continue
      }
      assert.strictEqual(event.started_at, frames[0]!.captured_at, `${at}: started_at = its first frame's time`)
      assert.strictEqual(event.ended_at, frames[frames.length - 1]!.captured_at, `${at}: ended_at = its last frame's`)
      let peak = -Infinity
      frames.forEach((frame, i) => {
        const temperatures = FrameCodec.decode(frame.temperatures)
        assert.lengthOf(temperatures, PIXELS, at)
        for (const t of temperatures) {
          assert.isTrue(t > 10 && t < 100, `${at}: frame ${frame.sequence} holds ${t} °C`)
          if (t > peak) peak = t
        }
        if (i > 0) {
          const previous = frames[i - 1]!
          assert.isAbove(frame.captured_at, previous.captured_at, `${at}: a frame stored twice, or two at one time`)
          assert.strictEqual(frame.sequence, previous.sequence + 1, `${at}: frames missing after ${previous.sequence}`)
        }
      })
      assert.approximately(event.peak_temperature!, peak, 0.005, `${at}: the peak of its frames`)
    }
    return events.map((event) => ({
      id: event.id,
      status: event.status,
      frameCount: event.frame_count,
      startedAt: event.started_at,
      endedAt: event.ended_at
    }))
  } finally {
    db.close()
  }
}

/** The complete JSON lines a (possibly killed) process printed. */
const logOf = (ircam: Ircam): ReadonlyArray<LogLine> => {
  const out = ircam.stdout()
  return out.slice(0, out.lastIndexOf("\n") + 1).split("\n").filter((line) => line !== "").map((line) =>
    JSON.parse(line) as LogLine
  )
}

const interruptedPattern =
  /^event (\d+) was interrupted (?:\(.*\); completed with its (\d+) stored frames|.*; deleted)$/

/**
 * What start-up reported about interrupted events: id → frames it kept (0: deleted). Nothing is
 * logged at error level, and the event store warns about nothing else (a failed write, say).
 */
const recoveredBy = (ircam: Ircam, where: string): Map<number, number> => {
  const recovered = new Map<number, number>()
  for (const line of logOf(ircam)) {
    const text = JSON.stringify(line)
    assert.notInclude(["ERROR", "FATAL"], line.logLevel, `${where}: ${text}`)
    const match = typeof line.message === "string" ? interruptedPattern.exec(line.message) : null
    if (match !== null) {
      assert.strictEqual(line.logLevel, "WARN", `${where}: ${text}`)
      assert.isFalse(recovered.has(Number(match[1])), `${where}: reported twice: ${text}`)
      recovered.set(Number(match[1]), Number(match[2] ?? 0))
    } else if (line.annotations["service"] === "EventStore") {
      assert.notStrictEqual(line.logLevel, "WARN", `${where}: unexpected warning ${text}`)
    }
  }
  return recovered
}

const expectedRecovery = (events: ReadonlyArray<StoredEvent>) =>
  new Map(events.filter((e) => e.status === "recording").map((e) => [e.id, e.frameCount]))

type Scenario = "after trigger" | "recording" | "extended" | "idle"
const CYCLES = 8

/** Two of each, in a random order. */
const plan = (): ReadonlyArray<Scenario> => {
  const scenarios: Array<Scenario> = ["after trigger", "recording", "extended", "idle"]
  const all = Array.from({ length: CYCLES }, (_, i) => scenarios[i % scenarios.length]!)
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[all[i], all[j]] = [all[j]!, all[i]!]
  }
  return all
}

const api = (port: number) => `http://127.0.0.1:${port}/api/v1`

const trigger = async (port: number): Promise<EventJson> => {
  const response = await fetch(`${api(port)}/events`, { method: "POST" })
  assert.strictEqual(response.status, 202)
  return (await response.json()) as EventJson
}

const getJson = async <A>(url: string): Promise<A> => {
  const response = await fetch(url)
  assert.strictEqual(response.status, 200, url)
  return (await response.json()) as A
}

describe("ircam serve killed at random moments", () => {
  it("never leaves an event whose row disagrees with its frames, and recovers every interrupted one", async () => {
    console.log(`crash test: seed ${seed} (run again with CRASH_SEED=${seed})`)
    try {
      const scenarios = plan()
      /** ids the server answered 202 for: each must survive (or be reported deleted at start-up) */
      const acknowledged = new Set<number>()
      const deleted = new Set<number>()
      let stored: ReadonlyArray<StoredEvent> = []
      let interrupted = 0

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const scenario = scenarios[cycle]!
        const where = `cycle ${cycle + 1} (${scenario})`
        const startedAt = performance.now()
        const port = await freePort()
        const ircam = start(["serve"], environment(port), dir)
        await waitUntilAnswering(ircam, `${api(port)}/health`)
        const startUp = performance.now() - startedAt
        // frames in the buffer before the trigger: from none to about PRE_EVENT_SECONDS
        await sleep(between(0, 600))

        let moment = ""
        let inFlight: Promise<{ readonly status: number; readonly event: EventJson } | undefined> | undefined
        if (scenario === "after trigger") {
          // killed while the trigger is being handled or just answered (then the answer must be 202)
          inFlight = fetch(`${api(port)}/events`, { method: "POST" }).then(
            async (response) => ({ status: response.status, event: (await response.json()) as EventJson }),
            () => undefined
          ).catch(() => undefined)
          const wait = between(0, 100)
          await sleep(wait)
          moment = `${wait} ms after sending a trigger`
        } else if (scenario === "recording") {
          acknowledged.add((await trigger(port)).id)
          const wait = between(50, 2000) // it completes 2.5–3 s after the trigger
          await sleep(wait)
          moment = `${wait} ms into a recording`
        } else if (scenario === "extended") {
          const first = await trigger(port)
          acknowledged.add(first.id)
          const gap = between(300, 1200)
          await sleep(gap)
          const second = await trigger(port)
          assert.strictEqual(second.id, first.id, `${where}: a trigger during a recording extends it`)
          const wait = between(0, 1800)
          await sleep(wait)
          moment = `${wait} ms after extending a recording (second trigger ${gap} ms after the first)`
        } else if (random() < 0.5) {
          const wait = between(100, 600)
          await sleep(wait)
          moment = `idle, no event, after ${wait} ms`
        } else {
          const event = await trigger(port)
          acknowledged.add(event.id)
          let current = event
          for (let attempt = 0; attempt < 100 && current.status === "recording"; attempt++) {
            await sleep(50)
            current = await getJson<EventJson>(`${api(port)}/events/${event.id}`)
          }
          assert.strictEqual(current.status, "complete", `${where}: the event completes`)
          assert.isAbove(
            Date.parse(current.endedAt!),
            Date.parse(current.triggeredAt) + POST_EVENT_SECONDS * 1000 - 1000 / RATE,
            `${where}: recorded to the end of its window`
          )
          const wait = between(0, 300)
          await sleep(wait)
          moment = `idle, ${wait} ms after event ${event.id} completed`
        }
        ircam.child.kill("SIGKILL")
        await ircam.exited
        const answered = await inFlight
        if (answered !== undefined) {
          assert.strictEqual(answered.status, 202, `${where}: ${JSON.stringify(answered.event)}`)
          acknowledged.add(answered.event.id)
        }
        console.log(
          `crash test: ${where}: killed ${moment} (start-up ${(startUp / 1000).toFixed(1)} s, ` +
            `cycle ${((performance.now() - startedAt) / 1000).toFixed(1)} s)`
        )

        assert.strictEqual(ircam.stderr(), "", where)
        // this start-up completed (or deleted) exactly what the previous kill left recording
        const recovered = recoveredBy(ircam, where)
        assert.deepStrictEqual(recovered, expectedRecovery(stored), `${where}: interrupted events reported`)
        for (const [id, frames] of recovered) if (frames === 0) deleted.add(id)

        stored = inspect(where)
        const ids = new Set(stored.map((e) => e.id))
        for (const id of acknowledged) {
          assert.isTrue(ids.has(id) || deleted.has(id), `${where}: event ${id} was acknowledged, then lost`)
        }
        const recording = stored.filter((e) => e.status === "recording")
        assert.isAtMost(recording.length, 1, `${where}: one recording at a time`)
        interrupted += recording.length
        if (scenario === "recording" || scenario === "extended") {
          assert.lengthOf(recording, 1, `${where}: killed during a recording`)
        }
      }
      assert.isAtLeast(interrupted, 4, "the kills interrupted recordings")

      // once more, and this time look over the API
      const port = await freePort()
      const ircam = start(["serve"], environment(port), dir)
      await waitUntilAnswering(ircam, `${api(port)}/health`)
      const events = await getJson<ReadonlyArray<EventJson>>(`${api(port)}/events?limit=1000`)
      const expected = expectedRecovery(stored)
      const kept = stored.filter((e) => e.status === "complete" || e.frameCount > 0)
      assert.deepStrictEqual(events.map((e) => e.id).sort((a, b) => a - b), kept.map((e) => e.id), "events served")
      for (const event of events) {
        const at = `after the last start-up, event ${event.id}`
        assert.strictEqual(event.status, "complete", `${at}: nothing is left recording`)
        const row = kept.find((e) => e.id === event.id)!
        assert.strictEqual(event.frameCount, row.frameCount, `${at}: the frames it had stored`)
        assert.isNotNull(event.startedAt, at)
        assert.isNotNull(event.endedAt, at)
        const startedAt = Date.parse(event.startedAt!)
        const endedAt = Date.parse(event.endedAt!)
        assert.deepStrictEqual([startedAt, endedAt], [row.startedAt, row.endedAt], `${at}: as stored`)
        const frames = await getJson<ReadonlyArray<EventFrameJson>>(`${api(port)}/events/${event.id}/frames`)
        assert.lengthOf(frames, event.frameCount, `${at}: frames served`)
        const times = frames.map((frame) => Date.parse(frame.capturedAt))
        assert.strictEqual(times[0], startedAt, `${at}: the first frame is at startedAt`)
        assert.strictEqual(times[times.length - 1], endedAt, `${at}: the last frame is at endedAt`)
        times.forEach((time, i) => {
          assert.isTrue(time >= startedAt && time <= endedAt, `${at}: frame ${i} outside [startedAt, endedAt]`)
          if (i > 0) assert.isAbove(time, times[i - 1]!, `${at}: frame times increase`)
        })
        for (const frame of frames) assert.lengthOf(frame.temperatures, PIXELS, at)
      }
      assert.strictEqual(await stop(ircam), 0, ircam.stderr())
      assert.deepStrictEqual(recoveredBy(ircam, "last start-up"), expected, "interrupted events reported")
      const final = inspect("after the last start-up")
      assert.deepStrictEqual(final.filter((e) => e.status === "recording"), [], "nothing is left recording")
      for (const id of acknowledged) {
        assert.isTrue(final.some((e) => e.id === id) || expected.get(id) === 0 || deleted.has(id), `event ${id} lost`)
      }
    } catch (error) {
      if (error instanceof Error) error.message = `[CRASH_SEED=${seed}] ${error.message}`
      throw error
    }
  }, 180_000)
})
