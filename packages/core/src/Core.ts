/**
 * Core: every core service composed into one layer, for the server, the CLI and programs
 * that embed ircam. Bring a `Sensor` and an `AppConfig`.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Layer } from "effect"
import { AlarmEngine } from "./AlarmEngine.js"
import * as Database from "./Database.js"
import { EventStore } from "./EventStore.js"
import { FrameBuffer } from "./FrameBuffer.js"
import { Health } from "./Health.js"
import { Monitor } from "./Monitor.js"
import { Notifier } from "./Notifier.js"
import { ZoneRepo } from "./ZoneRepo.js"

const Storage = ZoneRepo.Default.pipe(Layer.provideMerge(Database.layer))

// webhooks go out through undici, Node's own HTTP client
const NotifierLive = Notifier.Default.pipe(Layer.provide(NodeHttpClient.layerUndici))

const Services = Layer.mergeAll(Monitor.Default, EventStore.Default, NotifierLive).pipe(
  Layer.provideMerge(Layer.merge(Storage, FrameBuffer.layer))
)

/** Health, Database (SqlClient), ZoneRepo, FrameBuffer, EventStore, Notifier, AlarmEngine and the running Monitor. */
export const layer = AlarmEngine.Default.pipe(
  Layer.provideMerge(Services),
  Layer.provideMerge(Health.layer)
)
