/**
 * Core: every core service composed into one layer, for the server, the CLI and programs
 * that embed ircam. Bring a `Sensor` and an `AppConfig`.
 */
import { Layer } from "effect"
import * as Database from "./Database.js"
import { EventStore } from "./EventStore.js"
import { FrameBuffer } from "./FrameBuffer.js"
import { Health } from "./Health.js"
import { Monitor } from "./Monitor.js"
import { ZoneRepo } from "./ZoneRepo.js"

const Storage = ZoneRepo.Default.pipe(Layer.provideMerge(Database.layer))

/** Health, Database (SqlClient), ZoneRepo, FrameBuffer, EventStore and the running Monitor. */
export const layer = Layer.merge(Monitor.Default, EventStore.Default).pipe(
  Layer.provideMerge(Layer.merge(Storage, FrameBuffer.layer)),
  Layer.provideMerge(Health.layer)
)
