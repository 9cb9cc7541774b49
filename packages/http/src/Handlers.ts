/**
 * The handlers of every endpoint of `IrcamApi` (the events and alarms groups' are in EventHandlers and
 * AlarmHandlers).
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { type Frame, round2, toJson } from "@ircam/core/Frame"
import { Health } from "@ircam/core/Health"
import { Monitor } from "@ircam/core/Monitor"
import { stats } from "@ircam/core/Zone"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Effect, Layer, Option } from "effect"
import * as AlarmHandlers from "./AlarmHandlers.js"
import { IrcamApi } from "./Api.js"
import { NoFrameYet } from "./ApiErrors.js"
import * as EventHandlers from "./EventHandlers.js"
import * as ImageHandlers from "./ImageHandlers.js"
import { LiveStream } from "./LiveStream.js"

const latestSnapshot = Effect.flatMap(Monitor, (monitor) => monitor.latest).pipe(
  Effect.flatMap(Option.match({ onNone: () => Effect.fail(NoFrameYet.instance), onSome: Effect.succeed }))
)

const ThermalLive = HttpApiBuilder.group(IrcamApi, "thermal", (handlers) =>
  Effect.gen(function*() {
    const live = yield* LiveStream
    const realTimePng = ImageHandlers.makeRealTimePng()
    // Clients poll faster than frames arrive: serialise each frame once, not once per request.
    let cached: { readonly frame: Frame; readonly response: HttpServerResponse.HttpServerResponse } | undefined
    return handlers
      .handle("realTime", () =>
        Effect.map(latestSnapshot, ({ frame, summary }) => {
          if (cached?.frame !== frame) {
            cached = { frame, response: HttpServerResponse.unsafeJson(toJson(frame, summary)) }
          }
          return cached.response
        }))
      .handle("realTimePng", ({ urlParams }) => realTimePng(urlParams))
      .handle("palettes", () => Effect.succeed(ImageHandlers.palettes))
      .handle("stream", ({ urlParams }) => live.respond({ every: Option.some(urlParams.every) }))
  }))

const ZonesLive = HttpApiBuilder.group(IrcamApi, "zones", (handlers) =>
  Effect.gen(function*() {
    const repo = yield* ZoneRepo
    return handlers
      .handle("list", () => repo.list)
      .handle("create", ({ payload }) => repo.create(payload))
      .handle("get", ({ path }) => repo.get(path.id))
      .handle("update", ({ path, payload }) => repo.update(path.id, payload))
      .handle("remove", ({ path }) => repo.remove(path.id))
      .handle("average", ({ path }) =>
        Effect.gen(function*() {
          const zone = yield* repo.get(path.id)
          const { frame, zones } = yield* latestSnapshot
          // a zone created since the latest frame has no statistics on it yet
          const zoneStats = zones.find((s) => s.zoneId === zone.id) ?? stats(frame, zone)
          return {
            zoneId: zone.id,
            average: round2(zoneStats.average),
            min: round2(zoneStats.min),
            max: round2(zoneStats.max),
            capturedAt: new Date(frame.capturedAt).toISOString()
          }
        }))
  }))

const HealthLive = HttpApiBuilder.group(IrcamApi, "health", (handlers) =>
  Effect.gen(function*() {
    const health = yield* Health
    return handlers.handle("health", () =>
      Effect.flatMap(health.report, (report) =>
        report.status === "down" ? Effect.fail(report) : Effect.succeed(report)))
  }))

export const layer = Layer.mergeAll(ThermalLive, ZonesLive, EventHandlers.layer, AlarmHandlers.layer, HealthLive)
