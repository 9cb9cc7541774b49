/**
 * The handlers of the `alarms` group: rules CRUD, active alarms, their history and
 * acknowledgement (answered by the AlarmEngine), and the delivery of their notifications (Notifier).
 */
import { HttpApiBuilder } from "@effect/platform"
import { historyEntryJson } from "@ircam/core/Alarm"
import { AlarmEngine } from "@ircam/core/AlarmEngine"
import { toJson } from "@ircam/core/Delivery"
import { Notifier } from "@ircam/core/Notifier"
import { Effect, Option } from "effect"
import { IrcamApi } from "./Api.js"
import { LiveStream } from "./LiveStream.js"

export const layer = HttpApiBuilder.group(IrcamApi, "alarms", (handlers) =>
  Effect.gen(function*() {
    const engine = yield* AlarmEngine
    const notifier = yield* Notifier
    const live = yield* LiveStream
    return handlers
      .handle("listRules", () => engine.rules)
      .handle("createRule", ({ payload }) => engine.createRule(payload))
      .handle("getRule", ({ path }) => engine.getRule(path.id))
      .handle("updateRule", ({ path, payload }) => engine.updateRule(path.id, payload))
      .handle("deleteRule", ({ path }) => engine.deleteRule(path.id))
      .handle("active", () => engine.active)
      .handle("stream", () => live.respond({ every: Option.none() }))
      .handle("history", ({ urlParams }) =>
        Effect.map(engine.history(urlParams), (entries) => entries.map(historyEntryJson)))
      .handle("notifications", ({ urlParams }) =>
        Effect.map(notifier.deliveries(urlParams), (deliveries) =>
          deliveries.map(toJson)))
      .handle("get", ({ path }) =>
        engine.getAlarm(path.id))
      .handle("acknowledge", ({ path }) =>
        engine.acknowledge(path.id))
  }))
