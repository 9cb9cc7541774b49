import { SqlClient } from "@effect/sql"
import { assert, describe, it, layer } from "@effect/vitest"
import Sqlite from "better-sqlite3"
import { Chunk, Context, Effect, Either, Layer, Stream, TestClock } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { StorageError } from "../src/StorageError.js"
import { defaultColors, Zone, ZoneId, type ZoneSpec } from "../src/Zone.js"
import { diff, ZoneIdTaken, ZoneLimitReached, ZoneNotFound, ZoneOutOfBounds, ZoneRepo } from "../src/ZoneRepo.js"
import { withSteppedClock } from "./support/SteppedClock.js"
import * as TestCore from "./support/TestCore.js"

const spec = (fields: Partial<ZoneSpec> = {}): ZoneSpec => ({
  id: undefined,
  name: undefined,
  color: undefined,
  x: 0,
  y: 0,
  width: 4,
  height: 3,
  ...fields
})

/** The fields of a repository error (errors carry spans and stacks that deep equality should not walk). */
const fields = (
  error: { readonly _tag: string; readonly message: string; readonly id?: number; readonly limit?: number }
) => ({
  _tag: error._tag,
  message: error.message,
  ...(error.id === undefined ? {} : { id: error.id }),
  ...(error.limit === undefined ? {} : { limit: error.limit })
})

const summary = (zone: Zone) => ({
  id: zone.id,
  name: zone.name,
  color: zone.color,
  x: zone.x,
  y: zone.y,
  width: zone.width,
  height: zone.height
})

describe("ZoneRepo", () => {
  it.effect("starts empty", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      assert.deepStrictEqual(yield* repo.list, [])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("creates a zone with a default name and colour", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const zone = yield* repo.create(spec({ x: 2, y: 3, width: 5, height: 6 }))
      assert.deepStrictEqual(summary(zone), {
        id: ZoneId.make(1),
        name: "Zone 1",
        color: defaultColors[0],
        x: 2,
        y: 3,
        width: 5,
        height: 6
      })
      assert.deepStrictEqual(yield* repo.list, [zone])
      assert.deepStrictEqual(yield* repo.get(1), zone)
      const second = yield* repo.create(spec())
      assert.strictEqual(second.id, 2)
      assert.strictEqual(second.name, "Zone 2")
      assert.strictEqual(second.color, defaultColors[1])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("keeps an explicit id, name and colour", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const zone = yield* repo.create(spec({ id: ZoneId.make(7), name: "oven", color: "#123456" }))
      assert.deepStrictEqual([zone.id, zone.name, zone.color], [7, "oven", "#123456"])
      // the next generated id follows the largest one
      const next = yield* repo.create(spec())
      assert.strictEqual(next.id, 8)
      assert.strictEqual(next.name, "Zone 8")
      assert.deepStrictEqual((yield* repo.list).map((z) => z.id), [7, 8])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("lists zones ordered by id", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      yield* repo.create(spec({ id: ZoneId.make(9) }))
      yield* repo.create(spec({ id: ZoneId.make(3) }))
      yield* repo.create(spec({ id: ZoneId.make(5) }))
      assert.deepStrictEqual((yield* repo.list).map((z) => z.id), [3, 5, 9])
    }).pipe(Effect.provide(TestCore.storage({ maxZones: 3 }))))

  it.effect("gives a default colour that no existing zone uses (ignoring case)", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      yield* repo.create(spec({ color: defaultColors[0].toUpperCase() }))
      yield* repo.create(spec({ color: defaultColors[2] }))
      const third = yield* repo.create(spec())
      assert.strictEqual(third.color, defaultColors[1])
      const fourth = yield* repo.create(spec())
      assert.strictEqual(fourth.color, defaultColors[3])
      // a freed colour is given again
      yield* repo.remove(third.id)
      assert.strictEqual((yield* repo.create(spec())).color, defaultColors[1])
    }).pipe(Effect.provide(TestCore.storage({ maxZones: 16 }))))

  it.effect("falls back to the first colour when every default colour is taken", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const colors: Array<string> = []
      for (let i = 0; i < defaultColors.length + 1; i++) colors.push((yield* repo.create(spec())).color)
      assert.deepStrictEqual(colors, [...defaultColors, defaultColors[0]])
    }).pipe(Effect.provide(TestCore.storage({ maxZones: 16 }))))

  it.effect("refuses a duplicate id with ZoneIdTaken", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      yield* repo.create(spec({ id: ZoneId.make(4), name: "first" }))
      const error = yield* Effect.flip(repo.create(spec({ id: ZoneId.make(4), name: "second" })))
      assert.instanceOf(error, ZoneIdTaken)
      assert.deepStrictEqual(fields(error), fields(ZoneIdTaken.of(4)))
      assert.include(error.message, "4")
      assert.deepStrictEqual((yield* repo.list).map((z) => z.name), ["first"])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("refuses more than MAX_ZONES zones with ZoneLimitReached (default 2)", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      yield* repo.create(spec())
      yield* repo.create(spec())
      const error = yield* Effect.flip(repo.create(spec()))
      assert.instanceOf(error, ZoneLimitReached)
      assert.strictEqual(error._tag, "ZoneLimitReached")
      if (error._tag !== "ZoneLimitReached") return
      assert.strictEqual(error.limit, 2)
      assert.include(error.message, "at most 2 zones")
      assert.strictEqual((yield* repo.list).length, 2)
      // deleting one makes room again
      yield* repo.remove(1)
      assert.strictEqual((yield* repo.create(spec())).id, 3)
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("honours maxZones: 3", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      for (let i = 0; i < 3; i++) yield* repo.create(spec())
      const error = yield* Effect.flip(repo.create(spec({ id: ZoneId.make(20) })))
      assert.deepStrictEqual(fields(error), fields(ZoneLimitReached.of(3)))
      assert.strictEqual((yield* repo.list).length, 3)
    }).pipe(Effect.provide(TestCore.storage({ maxZones: 3 }))))

  it.effect("refuses a zone outside the frame with ZoneOutOfBounds naming the field", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const wide = yield* Effect.flip(repo.create(spec({ x: 30, width: 3 })))
      assert.instanceOf(wide, ZoneOutOfBounds)
      if (!(wide instanceof ZoneOutOfBounds)) return
      assert.strictEqual(wide.field, "width")
      assert.include(wide.message, "32×24")
      const tall = yield* Effect.flip(repo.create(spec({ y: 22, height: 3 })))
      assert.instanceOf(tall, ZoneOutOfBounds)
      if (!(tall instanceof ZoneOutOfBounds)) return
      assert.strictEqual(tall.field, "height")
      assert.deepStrictEqual(yield* repo.list, [])
      // the whole frame fits
      const whole = yield* repo.create(spec({ x: 0, y: 0, width: 32, height: 24 }))
      assert.deepStrictEqual([whole.width, whole.height], [32, 24])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("get fails with ZoneNotFound for an unknown id", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const error = yield* Effect.flip(repo.get(42))
      assert.instanceOf(error, ZoneNotFound)
      assert.strictEqual(error.id, 42)
      assert.strictEqual(error.message, "no zone with id 42")
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("update replaces the rectangle and keeps name and colour when omitted", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const created = yield* repo.create(spec({ name: "press", color: "#abcdef" }))
      const moved = yield* repo.update(created.id, spec({ x: 10, y: 11, width: 2, height: 1 }))
      assert.deepStrictEqual(summary(moved), {
        id: created.id,
        name: "press",
        color: "#abcdef",
        x: 10,
        y: 11,
        width: 2,
        height: 1
      })
      assert.deepStrictEqual(yield* repo.get(created.id), moved)
      const renamed = yield* repo.update(created.id, spec({ id: created.id, name: "oven", color: "#000000" }))
      assert.deepStrictEqual([renamed.name, renamed.color, renamed.x], ["oven", "#000000", 0])
      assert.deepStrictEqual(yield* repo.list, [renamed])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("update refuses a body id that differs from the path id", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const zone = yield* repo.create(spec())
      const error = yield* Effect.flip(repo.update(zone.id, spec({ id: ZoneId.make(2), x: 5 })))
      assert.instanceOf(error, ZoneOutOfBounds)
      if (!(error instanceof ZoneOutOfBounds)) return
      assert.strictEqual(error.field, "id")
      assert.include(error.message, "(2)")
      assert.include(error.message, "(1)")
      assert.deepStrictEqual(yield* repo.get(zone.id), zone)
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("update refuses a rectangle outside the frame and leaves the zone alone", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const zone = yield* repo.create(spec())
      const error = yield* Effect.flip(repo.update(zone.id, spec({ x: 31, width: 2 })))
      assert.instanceOf(error, ZoneOutOfBounds)
      if (!(error instanceof ZoneOutOfBounds)) return
      assert.strictEqual(error.field, "width")
      assert.deepStrictEqual(yield* repo.get(zone.id), zone)
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("update of an unknown zone fails with ZoneNotFound", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const error = yield* Effect.flip(repo.update(3, spec()))
      assert.deepStrictEqual(fields(error), fields(ZoneNotFound.of(3)))
      assert.deepStrictEqual(yield* repo.list, [])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("remove deletes the zone; removing it again fails with ZoneNotFound", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const a = yield* repo.create(spec())
      const b = yield* repo.create(spec())
      yield* repo.remove(a.id)
      assert.deepStrictEqual(yield* repo.list, [b])
      assert.deepStrictEqual(fields(yield* Effect.flip(repo.get(a.id))), fields(ZoneNotFound.of(a.id)))
      assert.deepStrictEqual(fields(yield* Effect.flip(repo.remove(a.id))), fields(ZoneNotFound.of(a.id)))
      assert.deepStrictEqual(yield* repo.list, [b])
    }).pipe(Effect.provide(TestCore.storage())))

  it.scoped("changes tells every zone created, updated and deleted, with the zone", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const changes = yield* repo.changes
      const a = yield* repo.create(spec({ name: "a" }))
      const b = yield* repo.create(spec({ name: "b" }))
      const a2 = yield* repo.update(a.id, spec({ name: "a2" }))
      yield* repo.remove(b.id)
      // failed writes tell nothing
      yield* Effect.flip(repo.remove(99))
      yield* Effect.flip(repo.update(a.id, spec({ x: 31, width: 2 })))
      const c = yield* repo.create(spec({ name: "c" }))
      const seen = yield* changes.pipe(Stream.take(5), Stream.runCollect)
      assert.deepStrictEqual(Chunk.toReadonlyArray(seen), [
        { transition: "created", zone: a },
        { transition: "created", zone: b },
        { transition: "updated", zone: a2 },
        { transition: "deleted", zone: b },
        { transition: "created", zone: c }
      ])
    }).pipe(Effect.provide(TestCore.storage({ maxZones: 3 }))))

  it.scoped("changes tells only what happens after subscribing, to each subscriber", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      yield* repo.create(spec({ name: "before" }))
      const first = yield* repo.changes
      const after = yield* repo.create(spec({ name: "after" }))
      const second = yield* repo.changes
      yield* repo.remove(after.id)
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(yield* first.pipe(Stream.take(2), Stream.runCollect)).map((c) => c.transition),
        ["created", "deleted"]
      )
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(yield* second.pipe(Stream.take(1), Stream.runCollect)),
        [{ transition: "deleted", zone: after }]
      )
    }).pipe(Effect.provide(TestCore.storage())))

  it("diff names the zones created, updated and deleted between two lists", () => {
    const zone = (id: number, name: string) =>
      new Zone({ id: ZoneId.make(id), name, color: "#000000", x: 0, y: 0, width: 1, height: 1 })
    assert.deepStrictEqual(diff([zone(1, "a"), zone(2, "b")], [zone(1, "a"), zone(2, "b")]), [])
    assert.deepStrictEqual(diff([zone(1, "a"), zone(2, "b")], [zone(2, "b2"), zone(3, "c")]), [
      { transition: "updated", zone: zone(2, "b2") },
      { transition: "created", zone: zone(3, "c") },
      { transition: "deleted", zone: zone(1, "a") }
    ])
  })

  it.effect("concurrent creates never exceed the limit", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      // yield to the other fibers every few operations, so the creates really interleave (without the
      // repository's write lock this lets all 12 through)
      const results = yield* Effect.all(
        Array.from({ length: 12 }, () => Effect.either(repo.create(spec()))),
        { concurrency: "unbounded" }
      ).pipe(Effect.withMaxOpsBeforeYield(16))
      const created = results.filter(Either.isRight)
      const refused = results.filter(Either.isLeft)
      assert.strictEqual(created.length, 3)
      assert.strictEqual(refused.length, 9)
      for (const r of refused) assert.instanceOf(r.left, ZoneLimitReached)
      const zones = yield* repo.list
      assert.strictEqual(zones.length, 3)
      assert.deepStrictEqual(zones.map((z) => z.id), [1, 2, 3])
      assert.strictEqual(new Set(zones.map((z) => z.color)).size, 3, "each zone got its own default colour")
    }).pipe(Effect.provide(TestCore.storage({ maxZones: 3 }))))

  it.effect("concurrent creates with the same id: one wins, the others get ZoneIdTaken", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const results = yield* Effect.all(
        Array.from({ length: 5 }, (_, i) => Effect.either(repo.create(spec({ id: ZoneId.make(6), name: `n${i}` })))),
        { concurrency: "unbounded" }
      ).pipe(Effect.withMaxOpsBeforeYield(16))
      assert.strictEqual(results.filter(Either.isRight).length, 1)
      for (const r of results.filter(Either.isLeft)) assert.instanceOf(r.left, ZoneIdTaken)
      assert.strictEqual((yield* repo.list).length, 1)
    }).pipe(Effect.provide(TestCore.storage({ maxZones: 5 }))))
})

/** A fresh temporary directory, removed when the scope closes. */
const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** The rows of the zones table, as the repository's list gives them (ordered by id). */
const tableRows = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* sql<ReturnType<typeof summary>>`SELECT id, name, color, x, y, width, height FROM zones ORDER BY id`
})

describe("ZoneRepo storage", () => {
  layer(TestCore.storage())("with the SqlClient", (it) => {
    it.effect("stamps created_at and updated_at with the clock", () =>
      Effect.gen(function*() {
        const repo = yield* ZoneRepo
        const sql = yield* SqlClient.SqlClient
        yield* TestClock.setTime(Date.UTC(2026, 0, 2, 3, 4, 5))
        const zone = yield* repo.create(spec({ name: "stamped" }))
        yield* TestClock.adjust("1 hour")
        yield* repo.update(zone.id, spec({ x: 1 }))
        const [row] = yield* sql<{ createdAt: string; updatedAt: string; name: string }>`
          SELECT created_at, updated_at, name FROM zones WHERE id = ${zone.id}`
        assert.deepStrictEqual(row, {
          createdAt: "2026-01-02T03:04:05.000Z",
          updatedAt: "2026-01-02T04:04:05.000Z",
          name: "stamped"
        })
      }))

    it.effect("writes go to the table, not only to memory", () =>
      Effect.gen(function*() {
        const repo = yield* ZoneRepo
        const sql = yield* SqlClient.SqlClient
        const zone = yield* repo.create(spec({ x: 3, y: 4, width: 5, height: 6 }))
        const rows = yield* sql<{ id: number; name: string; x: number; width: number }>`
          SELECT id, name, x, width FROM zones WHERE id = ${zone.id}`
        assert.deepStrictEqual(rows, [{ id: zone.id, name: `Zone ${zone.id}`, x: 3, width: 5 }])
        yield* repo.remove(zone.id)
        assert.deepStrictEqual(yield* sql`SELECT id FROM zones WHERE id = ${zone.id}`, [])
      }))
  })

  it.scoped("zones persist in the DATABASE_PATH file when the layer is rebuilt", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("ircam-zones-test-")
      const onFile = () => TestCore.storage({ databasePath: join(dir, "zones.db"), maxZones: 3 })
      const written = yield* Effect.gen(function*() {
        const repo = yield* ZoneRepo
        yield* repo.create(spec({ name: "kept", color: "#010203", x: 1, y: 2, width: 3, height: 4 }))
        const gone = yield* repo.create(spec())
        yield* repo.create(spec({ id: ZoneId.make(9) }))
        yield* repo.remove(gone.id)
        return yield* repo.list
      }).pipe(Effect.provide(onFile()))
      assert.strictEqual(written.length, 2)

      const reread = yield* Effect.gen(function*() {
        const repo = yield* ZoneRepo
        const zones = yield* repo.list
        // the limit counts the stored zones, too
        yield* repo.create(spec())
        const error = yield* Effect.flip(repo.create(spec()))
        assert.instanceOf(error, ZoneLimitReached)
        return zones
      }).pipe(Effect.provide(onFile()))
      assert.deepStrictEqual(reread.map(summary), written.map(summary))
      assert.deepStrictEqual(summary(reread[0]!), {
        id: ZoneId.make(1),
        name: "kept",
        color: "#010203",
        x: 1,
        y: 2,
        width: 3,
        height: 4
      })
    }))
})

describe("ZoneRepo on a database it cannot write", () => {
  /** Asserts that `effect` fails with a StorageError whose message starts with `what` and names `reason`. */
  const storageFailure = <A, E, R>(effect: Effect.Effect<A, E, R>, what: string, reason: RegExp) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(effect)
      assert.instanceOf(error, StorageError)
      if (!(error instanceof StorageError)) return
      assert.match(error.message, new RegExp(`^${what}: `))
      assert.match(error.message, reason)
    })

  it.scoped("every write to a read-only database fails with StorageError; the zones stay as stored", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const sql = yield* SqlClient.SqlClient
      const kept = yield* repo.create(spec({ name: "kept" }))
      const changes = yield* repo.changes
      // what a read-only file (or a file system remounted read-only) does to every write
      yield* sql`PRAGMA query_only = ON`
      const readOnly = /readonly database/
      yield* storageFailure(repo.create(spec({ name: "new" })), "cannot store the zone", readOnly)
      yield* storageFailure(repo.update(kept.id, spec({ name: "renamed" })), "cannot store the zone", readOnly)
      yield* storageFailure(repo.remove(kept.id), "cannot delete the zone", readOnly)
      // the mirror is the table
      assert.deepStrictEqual(yield* repo.list, [kept])
      assert.deepStrictEqual(yield* tableRows, [summary(kept)])
      // writable again, everything works again; the failed writes told nothing
      yield* sql`PRAGMA query_only = OFF`
      const renamed = yield* repo.update(kept.id, spec({ name: "renamed" }))
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(yield* changes.pipe(Stream.take(1), Stream.runCollect)),
        [{ transition: "updated", zone: renamed }]
      )
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a write that needs space on a full database fails with StorageError; the zones stay as stored", () =>
    Effect.gen(function*() {
      const repo = yield* ZoneRepo
      const sql = yield* SqlClient.SqlClient
      const kept = yield* repo.create(spec({ name: "kept" }))
      // no page more than it has
      const [pages] = yield* sql<{ pageCount: number; pageSize: number; freelistCount: number }>`
        SELECT * FROM pragma_page_count, pragma_page_size, pragma_freelist_count`
      yield* sql.unsafe(`PRAGMA max_page_count = ${pages!.pageCount}`)
      // a name longer than the free pages can hold needs new pages (the API allows 64 characters; the
      // repository stores any)
      const long = "n".repeat((pages!.freelistCount + 2) * pages!.pageSize)
      const full = /full/
      yield* storageFailure(repo.create(spec({ name: long })), "cannot store the zone", full)
      yield* storageFailure(repo.update(kept.id, spec({ name: long })), "cannot store the zone", full)
      assert.deepStrictEqual(yield* repo.list, [kept])
      assert.deepStrictEqual(yield* tableRows, [summary(kept)])
      // what fits still works, and deleting gives space back
      const small = yield* repo.create(spec({ name: "small" }))
      yield* repo.remove(kept.id)
      assert.deepStrictEqual(yield* repo.list, [small])
      assert.deepStrictEqual(yield* tableRows, [summary(small)])
    }).pipe(Effect.provide(TestCore.storage())))
})

describe("ZoneRepo shared with another process", () => {
  it.scoped("checks the limit and ids against the table, which another writer may have changed", () =>
    Effect.gen(function*() {
      const onFile = TestCore.storage({ databasePath: join(yield* tempDir("ircam-zones-shared-"), "zones.db") })
      // two repositories on one file, like the server and the CLI; each built with an empty mirror
      const server = yield* Layer.build(onFile).pipe(Effect.map((context) => Context.get(context, ZoneRepo)))
      const cli = yield* Layer.build(Layer.fresh(onFile)).pipe(Effect.map((context) => Context.get(context, ZoneRepo)))
      yield* cli.create(spec({ id: ZoneId.make(5) }))

      const taken = yield* Effect.flip(server.create(spec({ id: ZoneId.make(5) })))
      assert.instanceOf(taken, ZoneIdTaken)
      // the failed attempt brought the server's mirror up to date
      assert.deepStrictEqual((yield* server.list).map((zone) => zone.id), [5])

      yield* cli.create(spec())
      const full = yield* Effect.flip(server.create(spec()))
      assert.instanceOf(full, ZoneLimitReached)
      assert.strictEqual((yield* server.list).length, 2)
    }))

  /** The repository on a file, and a plain better-sqlite3 handle on the same file: another process. */
  const serverAndOther = Effect.gen(function*() {
    const file = join(yield* tempDir("ircam-zones-external-"), "zones.db")
    const server = yield* Layer.build(TestCore.storage({ databasePath: file })).pipe(
      Effect.map((context) => Context.get(context, ZoneRepo))
    )
    const other = yield* Effect.acquireRelease(
      Effect.sync(() => new Sqlite(file)),
      (db) => Effect.sync(() => db.close())
    )
    const insert = (id: number, name: string) =>
      other.prepare(
        "INSERT INTO zones (id, name, color, x, y, width, height, created_at, updated_at) " +
          "VALUES (?, ?, '#ff0000', 1, 2, 3, 4, 'now', 'now')"
      ).run(id, name)
    return { server, other, insert }
  })

  it.scoped("notices a zone another connection committed, after the check interval, without a query per read", () =>
    Effect.gen(function*() {
      const { insert, other, server } = yield* serverAndOther
      assert.deepStrictEqual(yield* server.list, [])
      insert(4, "from the cli")

      // within the interval the mirror answers as before
      yield* TestClock.adjust("500 millis")
      assert.deepStrictEqual(yield* server.list, [])
      yield* TestClock.adjust("600 millis")
      assert.deepStrictEqual((yield* server.list).map((zone) => [zone.id, zone.name]), [[4, "from the cli"]])
      assert.strictEqual((yield* server.get(4)).name, "from the cli")

      // nothing changed: no reload; a delete elsewhere is noticed too
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual((yield* server.list).length, 1)
      other.prepare("DELETE FROM zones WHERE id = 4").run()
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(server.get(4))
      assert.instanceOf(error, ZoneNotFound)
    }))

  it.scoped("changes tells the zones another connection created, updated and deleted, noticed on list", () =>
    Effect.gen(function*() {
      const { insert, other, server } = yield* serverAndOther
      const changes = yield* server.changes
      insert(4, "from the cli")
      insert(6, "also from the cli")
      yield* TestClock.adjust("1 second")
      const [four, six] = yield* server.list
      other.prepare("UPDATE zones SET name = 'renamed', x = 0 WHERE id = 4").run()
      yield* TestClock.adjust("1 second")
      const [renamed] = yield* server.list
      other.prepare("DELETE FROM zones WHERE id = 6").run()
      yield* TestClock.adjust("1 second")
      yield* server.list
      const seen = Chunk.toReadonlyArray(yield* changes.pipe(Stream.take(4), Stream.runCollect))
      assert.deepStrictEqual(seen.map((change) => [change.transition, change.zone.id, change.zone.name]), [
        ["created", 4, "from the cli"],
        ["created", 6, "also from the cli"],
        ["updated", 4, "renamed"],
        ["deleted", 6, "also from the cli"]
      ])
      assert.deepStrictEqual(seen.map((change) => change.zone), [four, six, renamed, six])
      assert.strictEqual(renamed?.x, 0)
    }))

  it.scoped("the check interval is measured on the monotonic clock: a wall clock stepped back does not delay it", () =>
    withSteppedClock((clock) =>
      Effect.gen(function*() {
        const { insert, server } = yield* serverAndOther
        assert.deepStrictEqual(yield* server.list, [])
        yield* clock.step(-3_600_000)
        insert(4, "from the cli")
        yield* TestClock.adjust("1 second")
        assert.deepStrictEqual((yield* server.list).map((zone) => zone.id), [4])
      })
    ))
})
