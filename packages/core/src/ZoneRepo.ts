/**
 * ZoneRepo: the zones, stored in SQLite and mirrored in memory so the monitor loop reads
 * them each frame without touching the database.
 */
import { SqlClient } from "@effect/sql"
import { Clock, Duration, Effect, Layer, Ref, Schema, SubscriptionRef } from "effect"
import { AppConfig } from "./AppConfig.js"
import * as Database from "./Database.js"
import * as Health from "./Health.js"
import { defaultColors, outOfBounds, Zone, ZoneId, type ZoneSpec } from "./Zone.js"

export class ZoneNotFound extends Schema.TaggedError<ZoneNotFound>()("ZoneNotFound", {
  id: Schema.Number,
  message: Schema.String
}) {
  static of(id: number) {
    return new ZoneNotFound({ id, message: `no zone with id ${id}` })
  }
}

export class ZoneLimitReached extends Schema.TaggedError<ZoneLimitReached>()("ZoneLimitReached", {
  limit: Schema.Number,
  message: Schema.String
}) {
  static of(limit: number) {
    return new ZoneLimitReached({
      limit,
      message: `at most ${limit} zones may exist (MAX_ZONES); delete one first`
    })
  }
}

export class ZoneIdTaken extends Schema.TaggedError<ZoneIdTaken>()("ZoneIdTaken", {
  id: Schema.Number,
  message: Schema.String
}) {
  static of(id: number) {
    return new ZoneIdTaken({ id, message: `a zone with id ${id} already exists` })
  }
}

/**
 * How often `list` and `get` ask SQLite whether another connection (the CLI, another process)
 * committed since the last look (`PRAGMA data_version`): at most one tiny query per interval,
 * never one per frame.
 */
export const externalCheckInterval = Duration.seconds(1)

/** The zone does not lie inside the 32×24 frame, or its fields contradict each other. */
export class ZoneOutOfBounds extends Schema.TaggedError<ZoneOutOfBounds>()("ZoneOutOfBounds", {
  field: Schema.String,
  message: Schema.String
}) {}

const ZoneRow = Schema.Struct({
  id: ZoneId,
  name: Schema.String,
  color: Schema.String,
  x: Schema.Int,
  y: Schema.Int,
  width: Schema.Int,
  height: Schema.Int
})

const checkBounds = (spec: ZoneSpec) => {
  const problem = outOfBounds(spec)
  return problem ? Effect.fail(new ZoneOutOfBounds(problem)) : Effect.void
}

export class ZoneRepo extends Effect.Service<ZoneRepo>()("@ircam/core/ZoneRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { maxZones } = yield* AppConfig
    const decodeRows = Schema.decodeUnknown(Schema.Array(ZoneRow))
    // one writer at a time, so the limit check and the mirror stay consistent with the table
    const writeLock = yield* Effect.makeSemaphore(1)

    const load = sql`SELECT id, name, color, x, y, width, height FROM zones ORDER BY id`.pipe(
      Effect.flatMap(decodeRows),
      Effect.map((rows) => rows.map((row) => new Zone(row))),
      Effect.orDie
    )
    const mirror = yield* SubscriptionRef.make<ReadonlyArray<Zone>>(yield* load)
    const refresh = Effect.flatMap(load, (zones) => SubscriptionRef.set(mirror, zones))

    // PRAGMA data_version changes when another connection commits to the file (not on our own
    // writes, which refresh the mirror themselves); compared at most every externalCheckInterval
    const dataVersion = sql<{ dataVersion: number }>`PRAGMA data_version`.pipe(
      Effect.map((rows) => rows[0]?.dataVersion ?? 0),
      Effect.orDie
    )
    const seenVersion = yield* Ref.make(yield* dataVersion)
    const checkedAt = yield* Ref.make(yield* Clock.currentTimeMillis)
    const checkInterval = Duration.toMillis(externalCheckInterval)
    const refreshIfChangedElsewhere = Effect.gen(function*() {
      const nowMs = yield* Clock.currentTimeMillis
      if (nowMs - (yield* Ref.get(checkedAt)) < checkInterval) return
      yield* Ref.set(checkedAt, nowMs)
      const version = yield* dataVersion
      if (version === (yield* Ref.getAndSet(seenVersion, version))) return
      yield* refresh
    })

    const list = Effect.zipRight(refreshIfChangedElsewhere, SubscriptionRef.get(mirror))

    const get = (id: number) =>
      Effect.flatMap(list, (zones) => {
        const zone = zones.find((z) => z.id === id)
        return zone ? Effect.succeed(zone) : Effect.fail(ZoneNotFound.of(id))
      })

    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

    const create = (spec: ZoneSpec) =>
      Effect.gen(function*() {
        yield* checkBounds(spec)
        const at = yield* now
        const id = yield* Effect.gen(function*() {
          // the table, not the mirror, decides: another process (the CLI) may have written it
          const zones = yield* load
          if (spec.id !== undefined && zones.some((z) => z.id === spec.id)) return yield* ZoneIdTaken.of(spec.id)
          if (zones.length >= maxZones) return yield* ZoneLimitReached.of(maxZones)
          const usedColors = new Set(zones.map((z) => z.color.toLowerCase()))
          const color = spec.color ?? defaultColors.find((c) => !usedColors.has(c)) ?? defaultColors[0]
          const [row] = yield* sql<{ id: number }>`INSERT INTO zones ${
            sql.insert({
              ...(spec.id === undefined ? {} : { id: spec.id }),
              name: spec.name ?? "",
              color,
              x: spec.x,
              y: spec.y,
              width: spec.width,
              height: spec.height,
              createdAt: at,
              updatedAt: at
            })
          } RETURNING id`
          const id = row!.id
          if (spec.name === undefined) yield* sql`UPDATE zones SET name = ${`Zone ${id}`} WHERE id = ${id}`
          return id
        }).pipe(sql.withTransaction, Effect.catchTag("SqlError", Effect.die), Effect.ensuring(refresh))
        return yield* get(id).pipe(Effect.orDie)
      }).pipe(writeLock.withPermits(1), Effect.withSpan("ZoneRepo.create"))

    const update = (id: number, spec: ZoneSpec) =>
      Effect.gen(function*() {
        const current = yield* get(id)
        if (spec.id !== undefined && spec.id !== id) {
          return yield* new ZoneOutOfBounds({
            field: "id",
            message: `the id in the body (${spec.id}) differs from the id in the path (${id})`
          })
        }
        yield* checkBounds(spec)
        const at = yield* now
        yield* sql`UPDATE zones SET ${
          sql.update({
            name: spec.name ?? current.name,
            color: spec.color ?? current.color,
            x: spec.x,
            y: spec.y,
            width: spec.width,
            height: spec.height,
            updatedAt: at
          })
        } WHERE id = ${id}`.pipe(Effect.orDie)
        yield* refresh
        return yield* get(id).pipe(Effect.orDie)
      }).pipe(writeLock.withPermits(1), Effect.withSpan("ZoneRepo.update"))

    const remove = (id: number) =>
      Effect.gen(function*() {
        yield* get(id)
        yield* sql`DELETE FROM zones WHERE id = ${id}`.pipe(Effect.orDie)
        yield* refresh
      }).pipe(writeLock.withPermits(1), Effect.withSpan("ZoneRepo.remove"))

    return {
      /** the zones, ordered by id; read from memory */
      list,
      /** the zone list now and after every change */
      changes: mirror.changes,
      get,
      create,
      update,
      remove
    } as const
  })
}) {
  /** The test layer: the real repository on an in-memory database. */
  static readonly layerTest = (config: Parameters<typeof AppConfig.layerWith>[0] = {}) =>
    ZoneRepo.Default.pipe(
      Layer.provide(Database.layer),
      Layer.provide(Health.Health.layer),
      Layer.provide(AppConfig.layerWith({ ...config, databasePath: Database.memory }))
    )
}
