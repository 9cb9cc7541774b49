import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Queue, Stream } from "effect"
import { AppConfig } from "../src/AppConfig.js"
import * as Core from "../src/Core.js"
import * as Database from "../src/Database.js"
import type { Frame } from "../src/Frame.js"
import { PIXELS } from "../src/Frame.js"
import { FrameBuffer } from "../src/FrameBuffer.js"
import { Health } from "../src/Health.js"
import { Monitor } from "../src/Monitor.js"
import { Sensor } from "../src/Sensor.js"
import { ZoneRepo } from "../src/ZoneRepo.js"

const frame = (sequence: number): Frame => ({
  temperatures: new Float32Array(PIXELS).fill(30),
  capturedAt: sequence * 125,
  sequence,
  ambient: 33,
  vdd: 3.3
})

describe("Core.layer", () => {
  it.scoped("wires every service together on one database and one health registry", () =>
    Effect.gen(function*() {
      const queue = yield* Queue.unbounded<Frame>()
      const context = yield* Layer.build(
        Core.layer.pipe(
          Layer.provide(Sensor.layerTest(Stream.fromQueue(queue))),
          Layer.provide(AppConfig.layerWith({ databasePath: Database.memory, frameBufferSeconds: 1, refreshRateHz: 2 }))
        )
      )
      const monitor = Context.get(context, Monitor)
      const zones = Context.get(context, ZoneRepo)
      const buffer = Context.get(context, FrameBuffer)
      const sql = Context.get(context, SqlClient.SqlClient)
      const health = Context.get(context, Health)

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

      yield* Queue.offerAll(queue, [frame(0), frame(1), frame(2)])
      const snapshot = yield* monitor.changes.pipe(
        Stream.filterMap((s) => Option.filter(s, (x) => x.frame.sequence === 2)),
        Stream.runHead,
        Effect.map(Option.getOrThrow)
      )
      assert.deepStrictEqual(snapshot.zones, [{ zoneId: zone.id, average: 30, min: 30, max: 30 }])
      assert.deepStrictEqual((yield* buffer.snapshot(0)).map((f) => f.sequence), [1, 2])

      const report = yield* health.report
      assert.deepStrictEqual(Object.keys(report.checks).sort(), [
        "alarms",
        "buffer",
        "database",
        "events",
        "monitor",
        "notifier",
        "sensor"
      ])
      assert.strictEqual(report.checks["database"]?.status, "ok")
      assert.strictEqual(report.checks["buffer"]?.status, "ok")
      assert.deepStrictEqual(report.checks["monitor"]?.details, { framesProcessed: 3, zones: 1, lastSequence: 2 })
    }))
})
