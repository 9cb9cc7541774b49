/**
 * ZoneRepo: the zones, stored in SQLite and mirrored in memory so the monitor loop reads
 * them each frame without touching the database. Writes by another process (the CLI) are
 * noticed within `externalCheckInterval` and told on `changes` like the repository's own.
 */
import { SqlClient, type SqlError, SqlSchema } from "@effect/sql"
import { Clock, Duration, Effect, Equal, Ref, Schema } from "effect"
import { AppConfig } from "./AppConfig.js"
import * as ChangeFeed from "./ChangeFeed.js"
import * as StorageError from "./StorageError.js"
import { iso, monotonicMs } from "./Time.js"
import { defaultColors, outOfBounds, Zone, type ZoneId, type ZoneSpec } from "./Zone.js"

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

/** What happened to a zone, as `ZoneRepo.changes` tells it (`deleted` carries the zone as it was). */
export interface ZoneChange {
  readonly transition: "created" | "updated" | "deleted"
  readonly zone: Zone
}

/** The changes that turn the list `before` into `after`. */
export const diff = (before: ReadonlyArray<Zone>, after: ReadonlyArray<Zone>): ReadonlyArray<ZoneChange> => {
  const changes: Array<ZoneChange> = []
  for (const zone of after) {
    const old = before.find((z) => z.id === zone.id)
    if (old === undefined) changes.push({ transition: "created", zone })
    else if (!Equal.equals(old, zone)) changes.push({ transition: "updated", zone })
  }
  for (const zone of before) {
    if (!after.some((z) => z.id === zone.id)) changes.push({ transition: "deleted", zone })
  }
  return changes
}

const checkBounds = (spec: ZoneSpec) => {
  const problem = outOfBounds(spec)
  return problem ? Effect.fail(new ZoneOutOfBounds(problem)) : Effect.void
}

export class ZoneRepo extends Effect.Service<ZoneRepo>()("@ircam/core/ZoneRepo", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const { maxZones } = yield* AppConfig
    // one writer at a time, so the limit check and the mirror stay consistent with the table
    const writeLock = yield* Effect.makeSemaphore(1)
    const feed = yield* ChangeFeed.make<ZoneChange>()

    const load = SqlSchema.findAll({
      Request: Schema.Void,
      Result: Zone,
      execute: () => sql`SELECT id, name, color, x, y, width, height FROM zones ORDER BY id`
    })(undefined).pipe(StorageError.mapError("cannot read the zones"))

    let mirror: ReadonlyArray<Zone> = yield* load
    /** The mirror from the table again; what changed is published. */
    const refresh = Effect.gen(function*() {
      const zones = yield* load
      const changes = diff(mirror, zones)
      mirror = zones
      for (const change of changes) yield* feed.publish(change)
    })

    // PRAGMA data_version changes when another connection commits to the file (not on our own
    // writes, which refresh the mirror themselves); compared at most every externalCheckInterval
    const dataVersion = sql<{ dataVersion: number }>`PRAGMA data_version`.pipe(
      Effect.map((rows) => rows[0]?.dataVersion ?? 0),
      StorageError.mapError("cannot read the database's data version")
    )
    const seenVersion = yield* Ref.make(yield* dataVersion)
    const checkedAt = yield* Ref.make(yield* monotonicMs)
    const checkInterval = Duration.toMillis(externalCheckInterval)
    const refreshIfChangedElsewhere = Effect.gen(function*() {
      const now = yield* monotonicMs
      if (now - (yield* Ref.get(checkedAt)) < checkInterval) return
      yield* Ref.set(checkedAt, now)
      const version = yield* dataVersion
      if (version === (yield* Ref.getAndSet(seenVersion, version))) return
      yield* writeLock.withPermits(1)(refresh)
    }).pipe(
      // the mirror stays as it is until the database answers again
      Effect.catchAll((error) => Effect.logWarning("cannot check for zones changed elsewhere", error.message))
    )

    /** The zones, ordered by id; from memory (the monitor loop reads them every frame). */
    const list = Effect.zipRight(refreshIfChangedElsewhere, Effect.sync(() => mirror))

    const get = (id: number) =>
      Effect.flatMap(list, (zones) => {
        const zone = zones.find((z) => z.id === id)
        return zone ? Effect.succeed(zone) : Effect.fail(ZoneNotFound.of(id))
      })

    const now = Effect.map(Clock.currentTimeMillis, iso)

    /** A write, then the mirror from the table (also when the write failed half-way). */
    const write = <A, E>(what: string, effect: Effect.Effect<A, E | SqlError.SqlError>) =>
      effect.pipe(
        StorageError.mapSqlError(what),
        Effect.ensuring(Effect.ignoreLogged(refresh)),
        writeLock.withPermits(1)
      )

    const create = (spec: ZoneSpec) =>
      Effect.gen(function*() {
        yield* checkBounds(spec)
        const at = yield* now
        const id = yield* write(
          "cannot store the zone",
          Effect.gen(function*() {
            // the table, not the mirror, decides: another process (the CLI) may have written it
            const zones = yield* load
            if (spec.id !== undefined && zones.some((z) => z.id === spec.id)) return yield* ZoneIdTaken.of(spec.id)
            if (zones.length >= maxZones) return yield* ZoneLimitReached.of(maxZones)
            const usedColors = new Set(zones.map((z) => z.color.toLowerCase()))
            const color = spec.color ?? defaultColors.find((c) => !usedColors.has(c)) ?? defaultColors[0]
            const [row] = yield* sql<{ id: ZoneId }>`INSERT INTO zones ${
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
          }).pipe(StorageError.transaction(sql, "cannot store the zone"))
        )
        return yield* get(id).pipe(Effect.orDie)
      }).pipe(Effect.withSpan("ZoneRepo.create"))

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
        yield* write(
          "cannot store the zone",
          sql`UPDATE zones SET ${
            sql.update({
              name: spec.name ?? current.name,
              color: spec.color ?? current.color,
              x: spec.x,
              y: spec.y,
              width: spec.width,
              height: spec.height,
              updatedAt: at
            })
          } WHERE id = ${id}`
        )
        return yield* get(id).pipe(Effect.orDie)
      }).pipe(Effect.withSpan("ZoneRepo.update"))

    const remove = (id: number) =>
      Effect.gen(function*() {
        yield* get(id)
        yield* write("cannot delete the zone", sql`DELETE FROM zones WHERE id = ${id}`)
      }).pipe(Effect.withSpan("ZoneRepo.remove"))

    return {
      list,
      /** Subscribes now (for the scope): every zone created, updated or deleted from then on, here or elsewhere. */
      changes: feed.changes,
      get,
      create,
      update,
      remove
    } as const
  })
}) {}
