/**
 * What a channel may ask of the Notifier besides a sender (the MQTT channel asks all three): the
 * notification types it carries, delivery in order, and waking its waiting rows when it can
 * deliver again. On the TestClock, with a channel of the test's own that is down until told.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Queue, Random, Ref, Stream, TestClock } from "effect"
import type { AlarmId, Notification, RuleId } from "../src/Alarm.js"
import { DeliveryFailed, NotificationChannels, type Sender } from "../src/NotificationChannel.js"
import { Notifier } from "../src/Notifier.js"
import * as TestCore from "./support/TestCore.js"
import * as TestMqtt from "./support/TestMqtt.js"

const notification = (type: Notification["type"]): Notification => ({
  type,
  timestamp: "2026-11-24T10:00:01.000Z",
  data: {
    alarm: {
      id: 7 as AlarmId,
      ruleId: 3 as RuleId,
      zoneId: null,
      severity: "critical",
      state: type === "alarm.cleared" ? "cleared" : "active",
      value: 81.23,
      raisedAt: "2026-11-24T10:00:00.500Z",
      acknowledgedAt: null,
      clearedAt: null,
      eventId: null,
      triggerFrame: null
    },
    rule: {
      id: 3 as RuleId,
      name: "Oven too hot",
      zoneId: null,
      zoneName: null,
      metric: "max",
      direction: "above",
      threshold: 80,
      severity: "critical"
    },
    links: null,
    linksReason: "PUBLIC_URL is not set"
  }
})

describe("Notifier channels", () => {
  it.scoped("types, order, and a channel ready again: its waiting rows at once, oldest first", () =>
    Effect.gen(function*() {
      const up = yield* Ref.make(false)
      const attempts: Array<string> = []
      const ready = yield* Queue.unbounded<void>()
      const broker: Sender = {
        channel: "mqtt",
        label: "a broker that is away",
        types: ["alarm.raised", "alarm.acknowledged", "alarm.cleared"],
        ordered: true,
        ready: Stream.fromQueue(ready),
        send: (message) =>
          Effect.gen(function*() {
            attempts.push(JSON.parse(message.payload).type)
            if (!(yield* Ref.get(up))) return yield* new DeliveryFailed({ channel: "mqtt", message: "not connected" })
          })
      }
      const webhook: Sender = { channel: "webhook", label: "a webhook", send: () => Effect.void }
      const layer = Notifier.Default.pipe(
        Layer.provideMerge(Layer.succeed(NotificationChannels, [broker, webhook])),
        Layer.provideMerge(TestCore.storage())
      )
      yield* Effect.gen(function*() {
        const notifier = yield* Notifier
        const rows = (channel: string) =>
          Effect.map(
            Effect.orDie(notifier.deliveries({ channel, limit: 10 })),
            (rows) => rows.map((row) => [row.type, row.status]).reverse()
          )
        yield* notifier.enqueue(notification("alarm.raised"))
        yield* TestMqtt.eventually(Effect.sync(() => attempts), (a) => a.length >= 1, "the first attempt")
        // queued while the first waits for its retry: they wait behind it, not go first
        yield* TestClock.adjust("1 second")
        for (const type of ["alarm.acknowledged", "alarm.cleared"] as const) {
          yield* notifier.enqueue(notification(type))
        }
        // the webhook does not carry acknowledgements
        yield* TestMqtt.eventually(
          rows("webhook"),
          (rows) => rows.every(([, status]) => status === "delivered"),
          "the webhook"
        )
        assert.deepStrictEqual(yield* rows("webhook"), [["alarm.raised", "delivered"], ["alarm.cleared", "delivered"]])

        // in order: the first failed, so the others wait for it instead of going first
        yield* TestClock.adjust("2 seconds")
        assert.deepStrictEqual(attempts, ["alarm.raised"])

        // ready long before the retry (5 s): all of them at once, oldest first
        yield* Ref.set(up, true)
        yield* Queue.offer(ready, undefined)
        const delivered = yield* TestMqtt.eventually(
          rows("mqtt"),
          (rows) => rows.every(([, status]) => status === "delivered"),
          "the deliveries"
        )
        assert.deepStrictEqual(delivered.map(([type]) => type), ["alarm.raised", "alarm.acknowledged", "alarm.cleared"])
        assert.deepStrictEqual(attempts, ["alarm.raised", "alarm.raised", "alarm.acknowledged", "alarm.cleared"])
      }).pipe(Effect.provide(layer))
    }).pipe(Effect.withRandom(Random.fixed([1]))))
})
