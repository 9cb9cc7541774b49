import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import { FrameBuffer } from "../src/FrameBuffer.js"
import { Health } from "../src/Health.js"
import { Monitor } from "../src/Monitor.js"
import { ZoneRepo } from "../src/ZoneRepo.js"
import * as TestCore from "./support/TestCore.js"
import * as TestFrames from "./support/TestFrames.js"

describe("Core.layer", () => {
  it.scoped("wires every service together on one database and one health registry", () =>
    Effect.gen(function*() {
      const monitor = yield* Monitor
      const zones = yield* ZoneRepo
      const buffer = yield* FrameBuffer
      const sql = yield* SqlClient.SqlClient
      const health = yield* Health

      assert.strictEqual(buffer.capacity, 2)
      const zone = yield* zones.create({
        id: undefined,
        name: "all",
        color: undefined,
        x: 0,
        y: 0,
        width: 32,
        height: 24
      })
      // the repository writes to the SqlClient the layer exposes
      const rows = yield* sql<{ name: string }>`SELECT name FROM zones`
      assert.deepStrictEqual(rows, [{ name: "all" }])

      const changes = yield* monitor.changes
      yield* TestCore.push(
        ...[0, 1, 2].map((sequence) => TestFrames.make({ sequence, at: sequence * 125, temperatures: 30 }))
      )
      const snapshot = yield* changes.pipe(
        Stream.filter((s) => s.frame.sequence === 2),
        Stream.runHead,
        Effect.map(Option.getOrThrow)
      )
      assert.deepStrictEqual(snapshot.zones, [{ zoneId: zone.id, rect: zone, average: 30, min: 30, max: 30 }])
      assert.deepStrictEqual((yield* buffer.snapshot(0)).map((f) => f.sequence), [1, 2])

      const report = yield* health.report
      assert.deepStrictEqual(Object.keys(report.checks).sort(), [
        "alarms",
        "buffer",
        "clock",
        "database",
        "events",
        "history",
        "monitor",
        "notifier",
        "sensor"
      ])
      assert.strictEqual(report.checks["database"]?.status, "ok")
      assert.strictEqual(report.checks["buffer"]?.status, "ok")
      assert.strictEqual(report.checks["clock"]?.status, "ok")
      assert.deepStrictEqual(report.checks["monitor"]?.details, { framesProcessed: 3, zones: 1, lastSequence: 2 })
    }).pipe(Effect.provide(TestCore.fed({ frameBufferSeconds: 1, refreshRateHz: 2 }))))
})
