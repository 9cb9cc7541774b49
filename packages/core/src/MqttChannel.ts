/**
 * The MQTT notification channel (`MQTT_URL`): every alarm transition (raised, acknowledged,
 * cleared) published on `<prefix>/events` with QoS 1, delivered once the broker's PUBACK is back.
 * It goes through the Notifier's durable outbox like the webhook and the e-mail, so a transition
 * made while the broker is unreachable, or before a restart of ircam, waits there and is sent, in
 * order, once connected (at least once: the same `id` every time).
 */
import { Effect, Option, Stream } from "effect"
import { Mqtt } from "./Mqtt.js"
import * as MqttMessages from "./MqttMessages.js"
import { DeliveryFailed, type Sender } from "./NotificationChannel.js"

/** The MQTT channel when `MQTT_URL` is set. */
export const fromConfig: Effect.Effect<Option.Option<Sender>, never, Mqtt> = Effect.gen(function*() {
  const mqtt = yield* Mqtt
  return Option.map(mqtt.setup, ({ broker, device }): Sender => ({
    channel: "mqtt",
    label: `MQTT to ${broker} on ${device.topics.events}`,
    types: ["alarm.raised", "alarm.acknowledged", "alarm.cleared"],
    ordered: true,
    ready: Stream.unwrapScoped(mqtt.changes).pipe(Stream.filter((change) => change.transition === "connected")),
    send: (message) =>
      Effect.try({
        try: () => MqttMessages.alarmEvent(message.messageId, message.payload),
        catch: () => new DeliveryFailed({ channel: "mqtt", message: "unreadable notification" })
      }).pipe(
        Effect.flatMap((event) =>
          mqtt.publishConfirmed(device.topics.events, event).pipe(
            Effect.mapError((error) => new DeliveryFailed({ channel: "mqtt", message: error.message }))
          )
        )
      )
  }))
})
