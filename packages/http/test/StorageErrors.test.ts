/**
 * Every route that writes answers 503 `StorageError` with the cause when the database cannot be
 * written, and the rest of the API goes on. Two failures, on a database file with a zone, a rule,
 * an event and an active alarm in it:
 * - read-only: the application's own connection is switched to `query_only`, as a file system
 *   remounted read-only would leave it;
 * - full: the database lives on a small tmpfs of its own, which the test fills once the
 *   application has started: every write fails with ENOSPC, as on a full disk. Mounting needs
 *   root (or password-less sudo); without it that test is skipped, saying so.
 */
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { advanceTo, appLayer, atStart, errorOf, send, type SendOptions } from "./support/TestApp.js"

const dir = mkdtempSync(join(tmpdir(), "ircam-storage-errors-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** How to run `mount`: as root, through sudo, or not at all. */
const mountable = ((): ReadonlyArray<string> | undefined => {
  if (process.getuid?.() === 0) return []
  try {
    execFileSync("sudo", ["-n", "true"], { stdio: "ignore" })
    return ["sudo", "-n"]
  } catch {
    return undefined
  }
})()

const run = (command: ReadonlyArray<string>) => {
  const [program, ...args] = [...(mountable ?? []), ...command]
  execFileSync(program!, args, { stdio: "ignore" })
}
const mountTmpfs = (at: string, size: string) => {
  execFileSync("mkdir", ["-p", at])
  run(["mount", "-t", "tmpfs", "-o", `size=${size}`, "tmpfs", at])
}
const unmount = (at: string) => run(["umount", at])

const inApp = (databasePath: string) =>
  atStart(appLayer(SimulatedSensor.layer(), { databasePath, preEventSeconds: 1, postEventSeconds: 1 }))

const json = (value: unknown): SendOptions => ({ json: value })
const zone = { name: "plate", x: 24, y: 4, width: 4, height: 3 }
// always true: its alarm stays active
const rule = { name: "warm", zoneId: 1, metric: "max", direction: "above", threshold: 0, severity: "warning" }

/** A database with zone 1, rule 1, its active alarm 1 and the complete event 1 recorded for it. */
const seeded = (name: string) =>
  Effect.gen(function*() {
    const databasePath = join(dir, `${name}.db`)
    yield* Effect.gen(function*() {
      assert.strictEqual((yield* send("POST", "/api/v1/zones", json(zone))).status, 201)
      assert.strictEqual((yield* send("POST", "/api/v1/alarms/rules", json(rule))).status, 201)
      yield* advanceTo(5000)
      const alarm = JSON.parse((yield* send("GET", "/api/v1/alarms/1")).text) as { state: string; eventId: number }
      assert.deepStrictEqual([alarm.state, alarm.eventId], ["active", 1])
      const event = JSON.parse((yield* send("GET", "/api/v1/events/1")).text) as { status: string }
      assert.strictEqual(event.status, "complete")
    }).pipe(inApp(databasePath), Effect.scoped)
    return databasePath
  })

/** Every write route, and what it writes. */
const writes: ReadonlyArray<readonly [method: "POST" | "PUT" | "DELETE", path: string, options?: SendOptions]> = [
  ["POST", "/api/v1/zones", json({ ...zone, name: "another" })],
  ["PUT", "/api/v1/zones/1", json({ x: 0, y: 0, width: 2, height: 2 })],
  ["DELETE", "/api/v1/zones/1"],
  ["POST", "/api/v1/alarms/rules", json({ ...rule, name: "another" })],
  ["PUT", "/api/v1/alarms/rules/1", json({ ...rule, threshold: 600 })],
  ["DELETE", "/api/v1/alarms/rules/1"],
  ["POST", "/api/v1/alarms/1/ack"],
  ["POST", "/api/v1/events", json({ label: "now" })],
  ["DELETE", "/api/v1/events/1"]
]

const everyWriteFails = (cause: RegExp) =>
  Effect.gen(function*() {
    for (const [method, path, options] of writes) {
      const answer = yield* send(method, path, options)
      assert.strictEqual(answer.status, 503, `${method} ${path}: ${answer.text}`)
      const error = errorOf(answer)
      assert.strictEqual(error._tag, "StorageError", `${method} ${path}`)
      assert.match(error.message, cause, `${method} ${path}`)
    }
    // nothing changed, and reads go on
    const zones = JSON.parse((yield* send("GET", "/api/v1/zones")).text) as ReadonlyArray<{ name: string }>
    assert.deepStrictEqual(zones.map((z) => z.name), ["plate"])
    assert.strictEqual((yield* send("GET", "/api/v1/alarms/rules/1")).status, 200)
    assert.strictEqual((yield* send("GET", "/api/v1/events/1")).status, 200)
    assert.strictEqual((yield* send("GET", "/api/v1/thermal/real-time")).status, 200)
  })

describe("a database that cannot be written", () => {
  it.effect("read-only: every write route answers 503 StorageError naming the cause", () =>
    Effect.gen(function*() {
      const databasePath = yield* seeded("read-only")
      yield* Effect.gen(function*() {
        yield* advanceTo(100)
        const sql = yield* SqlClient.SqlClient
        yield* sql`PRAGMA query_only = ON`
        yield* everyWriteFails(/readonly/)
      }).pipe(inApp(databasePath), Effect.scoped)
    }))

  it.effect.skipIf(mountable === undefined)(
    `full: every write route answers 503 StorageError naming the cause${
      mountable === undefined ? " (skipped: mounting a tmpfs needs root or password-less sudo)" : ""
    }`,
    () =>
      Effect.gen(function*() {
        const disk = join(dir, "disk")
        yield* Effect.acquireRelease(Effect.sync(() => mountTmpfs(disk, "4m")), () => Effect.sync(() => unmount(disk)))
        const databasePath = yield* seeded("disk/full")
        yield* Effect.gen(function*() {
          yield* advanceTo(100)
          // what is left of the file system, taken by another file
          const { bavail, bsize } = statfsSync(disk)
          writeFileSync(join(disk, "filler"), Buffer.alloc(bavail * bsize))
          yield* everyWriteFails(/full/)
        }).pipe(inApp(databasePath), Effect.scoped)
      }).pipe(Effect.scoped)
  )
})
