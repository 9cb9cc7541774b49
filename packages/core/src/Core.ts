/**
 * Core: every core service composed into one layer, for the server, the CLI and programs that
 * embed ircam. Bring a `Sensor` and an `AppConfig`.
 *
 *   AppConfig ─► Database (SqlClient) ─► ZoneRepo, EventRepo, AlarmRepo, OutboxRepo, HistoryRepo
 *   Sensor, FrameBuffer, ZoneRepo ─► Monitor ─► AlarmEngine ◄─ EventStore, Notifier
 *                                            └─► History (HistoryRepo)
 *   NotificationChannels (webhook, e-mail, MQTT, from AppConfig) ─► Notifier
 *   Mqtt (the broker connection) ─► MqttChannel, MqttPublisher (state, discovery, commands)
 *   every service's check ─► Health
 */
import { NodeHttpClient } from "@effect/platform-node"
import { type SqlClient } from "@effect/sql"
import { Array as Arr, Effect, Layer, Option } from "effect"
import { AlarmEngine } from "./AlarmEngine.js"
import type { AppConfig } from "./AppConfig.js"
import { ClockWatch } from "./ClockWatch.js"
import * as Database from "./Database.js"
import * as EmailSender from "./EmailSender.js"
import { EventStore } from "./EventStore.js"
import { FrameBuffer } from "./FrameBuffer.js"
import { Health } from "./Health.js"
import { History } from "./History.js"
import { Monitor } from "./Monitor.js"
import { Mqtt } from "./Mqtt.js"
import * as MqttChannel from "./MqttChannel.js"
import { MqttPublisher } from "./MqttPublisher.js"
import { NotificationChannels } from "./NotificationChannel.js"
import { Notifier } from "./Notifier.js"
import * as Storage from "./Storage.js"
import * as WebhookSender from "./WebhookSender.js"

/** The notification channels the configuration turns on; webhooks go out through undici, Node's own client. */
export const channels = Layer.scoped(
  NotificationChannels,
  Effect.map(Effect.all([WebhookSender.fromConfig, EmailSender.fromConfig, MqttChannel.fromConfig]), Arr.getSomes)
).pipe(Layer.provide(NodeHttpClient.layerUndici))

const services = Layer.mergeAll(MqttPublisher.Default, History.Default).pipe(
  Layer.provideMerge(AlarmEngine.Default),
  Layer.provideMerge(Layer.mergeAll(Monitor.Default, EventStore.Default, Notifier.Default)),
  Layer.provideMerge(Layer.mergeAll(FrameBuffer.Default, ClockWatch.Default, channels)),
  // the e-mail channel renders its pictures from the stored frames; the MQTT channel shares the connection
  Layer.provideMerge(Layer.mergeAll(Storage.layer, Mqtt.Default))
)

/** Every service's check in the Health registry, under the names `/api/v1/health` shows. */
const checks = Layer.effectDiscard(Effect.gen(function*() {
  const health = yield* Health
  const database = yield* Effect.context<SqlClient.SqlClient | AppConfig>()
  const monitor = yield* Monitor
  yield* health.register("sensor", monitor.sensorHealth)
  yield* health.register("database", Effect.provide(Database.health, database))
  yield* health.register("buffer", (yield* FrameBuffer).health)
  yield* health.register("monitor", monitor.health)
  yield* health.register("events", (yield* EventStore).health)
  yield* health.register("alarms", (yield* AlarmEngine).health)
  yield* health.register("notifier", (yield* Notifier).health)
  yield* health.register("clock", (yield* ClockWatch).health)
  yield* health.register("history", (yield* History).health)
  const mqtt = yield* Mqtt
  if (Option.isSome(mqtt.setup)) yield* health.register("mqtt", mqtt.health)
}))

/**
 * Health, Database (SqlClient), the repositories, FrameBuffer, ClockWatch, Monitor, EventStore,
 * Notifier, AlarmEngine, History, Mqtt and MqttPublisher, running, with their checks registered.
 */
export const layer = checks.pipe(
  Layer.provideMerge(services),
  Layer.provideMerge(Health.Default)
)
