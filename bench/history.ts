/**
 * The temperature history on a database holding a year of it for two zones and the whole frame,
 * as retention leaves it with the defaults (seconds for the last 2 days, minutes for 90 days, hours
 * for the whole year), written in the order the writer writes it (the last 2 days through the
 * writer's own transactions), with the simulated plate's alarm every 90 s on zone 1 all year:
 * - its size by table: what a year of two zones takes of MAX_DB_MB;
 * - `GET /api/v1/history` from the real server (a child process on that file), JSON: a week at
 *   1 minute and a year at 1 hour for one zone, median and max of 20 after 3 warm-up requests;
 *   and the same queries in this process (HistoryQuery.read, no HTTP). Budget: ≤ 50 ms each;
 * - what recording costs: the aggregator per snapshot (the monitor loop never waits for it, but it
 *   shares the core), a writer's transaction (5 s of three targets), a retention pass.
 * `--json` prints one JSON object instead of text.
 */
import { SqlClient } from "@effect/sql"
import { AlarmRepo } from "@ircam/core/AlarmRepo"
import { AppConfig } from "@ircam/core/AppConfig"
import { summarize } from "@ircam/core/Frame"
import * as HistoryAggregator from "@ircam/core/HistoryAggregator"
import * as HistoryQuery from "@ircam/core/HistoryQuery"
import { HistoryRepo, type SecondRow } from "@ircam/core/HistoryRepo"
import type { Snapshot } from "@ircam/core/Monitor"
import { renderScene } from "@ircam/core/SimulatedSensor"
import * as Storage from "@ircam/core/Storage"
import { stats, type ZoneId } from "@ircam/core/Zone"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { freePort } from "@ircam/test-support/Port"
import { stop } from "@ircam/test-support/Process"
import { Effect, Layer, Logger, LogLevel, type Scope } from "effect"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { get } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { serve, untilAnswering } from "./Server.js"

const budgetMs = 50
const runs = 20
const warmUp = 3
const DAY = 86_400

const plate = { x: 24, y: 4, width: 4, height: 3 }
const bench = { x: 0, y: 12, width: 10, height: 12 }

/** The plate's temperature `s` seconds into its 90 s cycle, about as the simulated scene has it. */
const plateAt = (s: number) => {
  const phase = ((s % 90) + 90) % 90
  return phase < 20
    ? 22
    : phase < 35
    ? 22 + (phase - 20) * 3.9
    : phase < 50
    ? 80.5
    : Math.max(22, 80.5 - (phase - 50) * 2.2)
}

/** A bucket of each target over [t, t + width): plausible values for a chart to draw. */
const values = (target: number, t: number, width: number) => {
  if (target === 1) {
    const mean = width >= 90 ? 41 : plateAt(t + width / 2)
    return { min: width >= 90 ? 21.8 : mean - 0.6, max: width >= 90 ? 81.2 : mean + 0.9, mean }
  }
  const drift = Math.sin(t / 43_200) * 0.8
  return target === 2
    ? { min: 21.9 + drift, max: 23.4 + drift, mean: 22.6 + drift }
    : { min: 21.3 + drift, max: 81.2, mean: 22.9 + drift }
}

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Builds the database: a year of hours, 90 days of minutes, 2 days of seconds, a year of alarms. */
const build = (end: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* HistoryRepo
    const zones = yield* ZoneRepo
    const zone1 = yield* zones.create({ name: "hot plate", ...plate })
    const zone2 = yield* zones.create({ name: "bench", ...bench })
    const series = [
      yield* repo.insertSeries({ zoneId: null, rect: null, reason: "started", startedAt: (end - 365 * DAY) * 1000 }),
      yield* repo.insertSeries({
        zoneId: zone1.id,
        rect: plate,
        reason: "started",
        startedAt: (end - 365 * DAY) * 1000
      }),
      yield* repo.insertSeries({
        zoneId: zone2.id,
        rect: bench,
        reason: "started",
        startedAt: (end - 365 * DAY) * 1000
      })
    ]
    const centi = (celsius: number) => Math.round(celsius * 100)
    /** Rows of `table` for every bucket of `width` in [from, to), the three targets interleaved, as written. */
    const fill = (table: string, width: number, from: number, to: number, framesPerBucket: number) =>
      Effect.gen(function*() {
        let rows: Array<Record<string, number | null>> = []
        for (let t = from - (from % width); t < to; t += width) {
          series.forEach((id, target) => {
            const v = values(target, t, width)
            rows.push({
              seriesId: id,
              t,
              frames: framesPerBucket,
              min: centi(v.min),
              max: centi(v.max),
              mean: centi(v.mean),
              ambient: target === 0 ? 2510 : null
            })
          })
          if (rows.length >= 3000) {
            yield* sql`INSERT INTO ${sql(table)} ${sql.insert(rows)}`.pipe(sql.withTransaction)
            rows = []
          }
        }
        if (rows.length > 0) yield* sql`INSERT INTO ${sql(table)} ${sql.insert(rows)}`
      })
    const secondsFrom = end - 2 * DAY
    yield* fill("history_hours", 3600, end - 365 * DAY, secondsFrom - (secondsFrom % 3600), 28_800)
    yield* fill("history_minutes", 60, end - 90 * DAY, secondsFrom - (secondsFrom % 60), 480)
    // the last 2 days as the writer stores them: 5 s of each target in one transaction, rolled up
    for (let t = secondsFrom - (secondsFrom % 5); t < end; t += 5) {
      const rows: Array<SecondRow> = []
      for (let s = t; s < t + 5; s++) {
        series.forEach((id, target) =>
          rows.push({ seriesId: id, t: s, frames: 8, ...values(target, s, 1), ambient: target === 0 ? 25.1 : null })
        )
      }
      yield* repo.transaction("bench")(Effect.gen(function*() {
        yield* repo.writeSeconds(rows)
        for (const id of series) yield* repo.rollUp(id, t, t + 4)
      }))
    }
    // the plate's rule raised 32 s into each cycle and cleared 24 s later, all year
    let alarms: Array<Record<string, number | string | null>> = []
    for (let t = end - 365 * DAY; t < end - 60; t += 90) {
      alarms.push({
        ruleId: 1,
        zoneId: zone1.id,
        severity: "critical",
        state: "cleared",
        value: 61.2,
        raisedAt: (t + 32) * 1000,
        clearedAt: (t + 56) * 1000,
        eventId: null
      })
      if (alarms.length >= 3000) {
        yield* sql`INSERT INTO alarms ${sql.insert(alarms)}`
        alarms = []
      }
    }
    if (alarms.length > 0) yield* sql`INSERT INTO alarms ${sql.insert(alarms)}`
    yield* sql`PRAGMA wal_checkpoint(TRUNCATE)`
    return { zone1: zone1.id, zone2: zone2.id }
  })

const sizes = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ name: string; bytes: number }>`
    SELECT name, sum(pgsize) AS bytes FROM dbstat WHERE name LIKE 'history%' GROUP BY name`
  return Object.fromEntries(rows.map((row) => [row.name, row.bytes / 1024 / 1024]))
})

const time = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* effect
    return performance.now() - start
  })

const timeRuns = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < warmUp; i++) yield* effect
    const times: Array<number> = []
    for (let i = 0; i < runs; i++) times.push(yield* time(effect))
    return { medianMs: median(times), maxMs: Math.max(...times) }
  })

/** One GET over HTTP: its time and its size. */
const fetchOnce = (port: number, path: string) =>
  new Promise<{ ms: number; bytes: number }>((resolve, reject) => {
    const start = performance.now()
    get({ host: "127.0.0.1", port, path }, (response) => {
      let bytes = 0
      response.on("data", (chunk: Buffer) => (bytes += chunk.length))
      response.once("end", () =>
        response.statusCode === 200
          ? resolve({ ms: performance.now() - start, bytes })
          : reject(new Error(`${path}: status ${response.statusCode}`)))
    }).once("error", reject)
  })

const timeHttp = async (port: number, path: string) => {
  for (let i = 0; i < warmUp; i++) await fetchOnce(port, path)
  const results: Array<{ ms: number; bytes: number }> = []
  for (let i = 0; i < runs; i++) results.push(await fetchOnce(port, path))
  const times = results.map((r) => r.ms)
  return { medianMs: median(times), maxMs: Math.max(...times), kilobytes: results[0]!.bytes / 1024 }
}

/** The aggregator's cost per snapshot of a frame with two zones (µs). */
const aggregatorCost = () => {
  const temperatures = new Float32Array(768)
  renderScene(1, 0, 16, temperatures)
  const frame = { temperatures, capturedAt: 0, monotonicMs: 0, sequence: 0, ambient: 25, vdd: 3.3 }
  const summary = summarize(temperatures)
  const zones = [plate, bench].map((rect, i) => ({ zoneId: (i + 1) as ZoneId, rect, ...stats(frame, rect) }))
  const aggregator = HistoryAggregator.make([], 1_000_000)
  const count = 200_000
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    const snapshot: Snapshot = {
      frame: { ...frame, sequence: i, capturedAt: 1_795_507_200_000 + i * 62.5 },
      summary,
      zones
    }
    aggregator.add(snapshot)
    if (i % 1000 === 0) aggregator.written(aggregator.pending())
  }
  return (performance.now() - start) * 1000 / count
}

export interface Result {
  readonly benchmark: "history"
  readonly databaseMb: number
  readonly tablesMb: Readonly<Record<string, number>>
  readonly weekAtMinutes: {
    readonly http: { medianMs: number; maxMs: number; kilobytes: number }
    readonly query: { medianMs: number; maxMs: number }
  }
  readonly yearAtHours: {
    readonly http: { medianMs: number; maxMs: number; kilobytes: number }
    readonly query: { medianMs: number; maxMs: number }
  }
  readonly aggregatorMicrosPerSnapshot: number
  readonly writerTransactionMs: number
  readonly retentionPassMs: number
  readonly buildSeconds: number
}

const storageAt = (databasePath: string) =>
  Storage.layer.pipe(Layer.provideMerge(AppConfig.layerWith({ databasePath })))

export const measure = async (): Promise<Result> => {
  const dir = mkdtempSync(join(tmpdir(), "ircam-bench-history-"))
  const databasePath = join(dir, "bench.db")
  const storage = storageAt(databasePath)
  const quiet = <A, E>(effect: Effect.Effect<A, E, Layer.Layer.Success<typeof storage> | Scope.Scope>) =>
    Effect.runPromise(
      effect.pipe(Effect.provide(storage), Effect.scoped, Effect.orDie, Logger.withMinimumLogLevel(LogLevel.Error))
    )
  try {
    const end = Math.floor(Date.now() / 1000)
    const week = { from: (end - 7 * DAY) * 1000, to: end * 1000 }
    const year = { from: (end - 365 * DAY) * 1000, to: end * 1000 }
    const started = performance.now()
    const { zone1 } = await quiet(build(end))
    const buildSeconds = (performance.now() - started) / 1000
    const inProcess = await quiet(Effect.gen(function*() {
      const read = (range: { from: number; to: number }, step: "1m" | "1h") =>
        HistoryQuery.read({ zoneId: zone1, ...range, step })
      const weekQuery = yield* timeRuns(read(week, "1m"))
      const yearQuery = yield* timeRuns(read(year, "1h"))
      const repo = yield* HistoryRepo
      const answer = yield* read(year, "1h")
      if (answer.buckets.filter((b) => b.frames > 0).length < 8700) throw new Error("the year is not all there")
      const writerTransactionMs = median(
        yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => {
          const t = end + 10 + i * 5
          const rows = Array.from({ length: 15 }, (_, k): SecondRow => ({
            seriesId: 1 + (k % 3),
            t: t + Math.floor(k / 3),
            frames: 8,
            min: 21,
            max: 80,
            mean: 40,
            ambient: null
          }))
          return time(
            repo.transaction("bench")(Effect.gen(function*() {
              yield* repo.writeSeconds(rows)
              for (const id of [1, 2, 3]) yield* repo.rollUp(id, t, t + 4)
            }))
          )
        })
      )
      // what History's retention does every 10 minutes, with nothing old enough to go
      const retentionPassMs = yield* time(Effect.gen(function*() {
        for (const [step, days] of [["1s", 2], ["1m", 90], ["1h", 730]] as const) {
          yield* repo.deleteBefore(step, end - days * DAY)
        }
        yield* repo.deleteEmptySeries([1, 2, 3])
        yield* repo.bytes
      }))
      yield* Effect.flatMap(AlarmRepo, (alarms) => alarms.rules)
      return { weekQuery, yearQuery, writerTransactionMs, retentionPassMs, tablesMb: yield* sizes }
    }))
    const databaseMb = statSync(databasePath).size / 1024 / 1024

    const port = await freePort()
    const server = serve(dir, port, { DATABASE_PATH: databasePath })
    let http: { week: Awaited<ReturnType<typeof timeHttp>>; year: Awaited<ReturnType<typeof timeHttp>> }
    try {
      await untilAnswering(server, port)
      const path = (range: { from: number; to: number }, step: string) =>
        `/api/v1/history?zoneId=${zone1}&from=${new Date(range.from).toISOString()}&to=${
          new Date(range.to).toISOString()
        }&step=${step}`
      http = { week: await timeHttp(port, path(week, "1m")), year: await timeHttp(port, path(year, "1h")) }
    } finally {
      await stop(server)
    }
    return {
      benchmark: "history",
      databaseMb,
      tablesMb: inProcess.tablesMb,
      weekAtMinutes: { http: http.week, query: inProcess.weekQuery },
      yearAtHours: { http: http.year, query: inProcess.yearQuery },
      aggregatorMicrosPerSnapshot: aggregatorCost(),
      writerTransactionMs: inProcess.writerTransactionMs,
      retentionPassMs: inProcess.retentionPassMs,
      buildSeconds
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const verdict = (ms: number) => (ms <= budgetMs ? "ok" : "OVER BUDGET")

export const run = async () => {
  const result = await measure()
  const mb = (value: number) => `${value.toFixed(1)} MB`
  const tables = Object.entries(result.tablesMb).map(([name, value]) => `${name.replace("history_", "")} ${mb(value)}`)
  console.log(
    `history: a year of two zones and the whole frame (2 days of seconds, 90 days of minutes, a year of hours, ` +
      `an alarm every 90 s) takes ${mb(Object.values(result.tablesMb).reduce((a, b) => a + b, 0))} ` +
      `(${tables.join(", ")}); the whole database file ${mb(result.databaseMb)} with the alarms ` +
      `(built in ${result.buildSeconds.toFixed(0)} s)`
  )
  for (
    const [what, figures] of [["a week at 1 minute", result.weekAtMinutes], [
      "a year at 1 hour",
      result.yearAtHours
    ]] as const
  ) {
    console.log(
      `history: ${what} for one zone: GET ${figures.http.medianMs.toFixed(1)} ms (max ${
        figures.http.maxMs.toFixed(1)
      }, ` +
        `${figures.http.kilobytes.toFixed(0)} KB of JSON), the query alone ${figures.query.medianMs.toFixed(1)} ms ` +
        `(max ${figures.query.maxMs.toFixed(1)}); budget ≤ ${budgetMs} ms: ${verdict(figures.http.medianMs)}`
    )
  }
  console.log(
    `history recording: ${result.aggregatorMicrosPerSnapshot.toFixed(2)} µs a snapshot (frame and two zones), ` +
      `${result.writerTransactionMs.toFixed(2)} ms a writer transaction (5 s of three targets, every 5 s), ` +
      `${result.retentionPassMs.toFixed(0)} ms a retention pass (every 10 minutes)`
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ;(process.argv.includes("--json") ? measure().then((r) => console.log(JSON.stringify(r))) : run()).catch(
    (error: unknown) => {
      console.error(error)
      process.exitCode = 1
    }
  )
}
