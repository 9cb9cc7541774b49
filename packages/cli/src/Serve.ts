/**
 * `ircam serve`: the monitor and the HTTP API, composed from the core layers, the sensor
 * that `SENSOR` selects and the HTTP server.
 */
import { Command } from "@effect/cli"
import { AppConfig } from "@ircam/core/AppConfig"
import * as Core from "@ircam/core/Core"
import * as Logging from "@ircam/core/Logging"
import * as Server from "@ircam/http/Server"
import * as SensorLive from "@ircam/hw/SensorLive"
import { Effect, Layer } from "effect"

const Announce = Layer.scopedDiscard(
  Effect.gen(function*() {
    const config = yield* AppConfig
    yield* Effect.logInfo("ircam started").pipe(
      Effect.annotateLogs({ database: config.databasePath, refreshRateHz: config.refreshRateHz })
    )
    yield* Effect.addFinalizer(() => Effect.logInfo("ircam stopped; database closed"))
  })
)

/** The running server; needs an `AppConfig`. */
export const ServerLive = Server.layer.pipe(
  Layer.provide(Core.layer),
  Layer.provide(SensorLive.layer),
  // after everything it announces, so "stopped" is logged once the database has closed
  Layer.provideMerge(Announce),
  Layer.provide(Logging.layer)
)

export const command = Command.make("serve", {}, () => Layer.launch(ServerLive.pipe(Layer.provide(AppConfig.layer))))
  .pipe(
    Command.withDescription(
      "Run the monitor and the HTTP API (configuration from the environment and ./.env; see .env.example)"
    )
  )
