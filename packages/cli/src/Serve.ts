/**
 * `ircam serve`: the monitor and the HTTP API, composed from the core layers, the sensor
 * that `SENSOR` selects and the HTTP server.
 */
import { SqlClient } from "@effect/sql"
import { AppConfig } from "@ircam/core/AppConfig"
import * as Core from "@ircam/core/Core"
import * as Logging from "@ircam/core/Logging"
import * as Server from "@ircam/http/Server"
import * as SensorLive from "@ircam/hw/SensorLive"
import { Effect, Layer, Ref } from "effect"

/** SQLite's page cache of the server, in KiB: SQLite's own default. */
export const pageCacheKib = 2000

/**
 * better-sqlite3 builds SQLite with a 16 MB page cache, which a server filled with the frames it
 * records and never reads again: its RSS grew by 16 MB over the first hour, then stayed there.
 */
export const PageCacheLive = Layer.effectDiscard(
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(`PRAGMA cache_size = -${pageCacheKib}`))
)

/** The running server; needs an `AppConfig`. Logs "ircam started" once serving, "ircam stopped" once closed. */
export const ServerLive = Layer.unwrapScoped(
  Effect.gen(function*() {
    const config = yield* AppConfig
    const serving = yield* Ref.make(false)
    // registered before anything opens, so it runs after everything (the database included) has closed
    yield* Effect.addFinalizer(() =>
      Effect.whenEffect(Effect.logInfo("ircam stopped; database closed"), Ref.get(serving))
    )
    const announce = Layer.effectDiscard(
      Effect.zipRight(
        Ref.set(serving, true),
        Effect.logInfo("ircam started").pipe(
          Effect.annotateLogs({ database: config.databasePath, refreshRateHz: config.refreshRateHz })
        )
      )
    )
    return Layer.merge(announce, PageCacheLive).pipe(
      Layer.provideMerge(Server.layer),
      Layer.provide(Core.layer),
      Layer.provide(SensorLive.layer)
    )
  })
).pipe(Layer.provide(Logging.layer))

/** `ircam serve`: the server until it is stopped, configured from the environment. */
export const run = Layer.launch(ServerLive.pipe(Layer.provide(AppConfig.layer)))
