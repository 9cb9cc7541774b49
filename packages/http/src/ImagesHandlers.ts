/**
 * The handlers of the `images` group: the latest frame, the stored frames of events and the frame
 * that raised each alarm as heat-map PNGs, and the palettes they are drawn with.
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import type { AlarmId, AlarmJson } from "@ircam/core/Alarm"
import { AlarmEngine } from "@ircam/core/AlarmEngine"
import type { Event, EventId } from "@ircam/core/Event"
import { EventRepo } from "@ircam/core/EventRepo"
import { EventStore } from "@ircam/core/EventStore"
import * as HeatmapImage from "@ircam/core/HeatmapImage"
import { type PaletteName, paletteNames, toJson } from "@ircam/core/Palette"
import type { Zone } from "@ircam/core/Zone"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Effect, Option } from "effect"
import { IrcamApi } from "./Api.js"
import { FrameNotFound } from "./ApiErrors.js"
import type { ImageParams } from "./ApiSchemas.js"
import * as LatestFrame from "./LatestFrame.js"

/** Every palette as `GET /thermal/palettes` answers it. */
export const palettes: ReadonlyArray<{ readonly name: PaletteName; readonly colors: ReadonlyArray<string> }> =
  paletteNames.map(toJson)

/** The PNG of `temperatures` drawn as `params` ask, with the current zones if they are wanted. */
const png = (temperatures: ArrayLike<number>, params: ImageParams, zones: ReadonlyArray<Zone> | undefined) =>
  HeatmapImage.toPng(HeatmapImage.render(temperatures, {
    palette: params.palette,
    scale: params.scale,
    min: params.min,
    max: params.max,
    legend: params.legend,
    zones
  }))

const currentZones = (params: ImageParams) =>
  params.zones ? Effect.flatMap(ZoneRepo, (repo) => repo.list) : Effect.succeed(undefined)

const pngResponse = (body: Uint8Array, cacheControl: string) =>
  HttpServerResponse.uint8Array(body, { contentType: "image/png", headers: { "cache-control": cacheControl } })

/**
 * `GET /thermal/real-time.png`: the latest frame; never cached by clients, it changes several
 * times a second. Each image is drawn once a frame, at most 16 of them (LatestFrame.makeCache).
 * One cache for each handler made.
 */
export const makeRealTimePng = () => {
  const cached = LatestFrame.makeCache<Uint8Array>(16)
  return Effect.fn("ImagesHandlers.realTimePng")(function*(params: ImageParams) {
    const { frame } = yield* LatestFrame.snapshot
    const zones = yield* currentZones(params)
    const body = cached(frame, JSON.stringify([params, zones]), () => png(frame.temperatures, params, zones))
    return pngResponse(body, "no-store")
  })
}

/** What `FrameNotFound` says: how many frames the event has, so a client knows the valid `n`. */
const frameCountMessage = (id: EventId, n: number, frameCount: number) =>
  `event ${id} has no frame ${n}: ` +
  (frameCount === 0
    ? "it has no frames yet"
    : `it has ${frameCount} frame${frameCount === 1 ? "" : "s"}, numbered from 0 to ${frameCount - 1}`)

/**
 * `GET /events/{id}/frames/{n}.png`: frame n (0 = the oldest). Stored frames never change, and a
 * complete event gets no new ones: its images without zones may be cached, for an hour only, as a
 * database started afresh numbers its events from 1 again.
 */
export const eventFramePng = Effect.fn("ImagesHandlers.eventFramePng")(
  function*(id: EventId, n: number, params: ImageParams) {
    const store = yield* EventStore
    const event = yield* store.get(id)
    const frame = yield* store.frameAt(id, n)
    if (Option.isNone(frame)) {
      // counted again: a recording event may have gained frames since
      const { frameCount } = yield* store.get(id)
      return yield* new FrameNotFound({ message: frameCountMessage(id, n, frameCount) })
    }
    const zones = yield* currentZones(params)
    const body = png(frame.value.temperatures, params, zones)
    // zones drawn are the current ones, which may change
    const final = event.status === "complete" && zones === undefined
    return pngResponse(body, final ? "public, max-age=3600" : "no-cache")
  }
)

/** Why an alarm has no frame to show, when it has none. */
const noFrame = (alarm: AlarmJson, event: Option.Option<Event>) =>
  alarm.eventId === null
    ? `alarm ${alarm.id} has no event, so no frame was stored`
    : alarm.triggerFrame === null
    ? `alarm ${alarm.id} was raised before ircam recorded which frame raised it`
    : Option.isNone(event)
    ? `event ${alarm.eventId} of alarm ${alarm.id} was deleted, and its frames with it`
    : event.value.status === "recording"
    ? `event ${alarm.eventId} has not stored the frame that raised alarm ${alarm.id} yet; try again in a second`
    : `event ${alarm.eventId} did not store the frame that raised alarm ${alarm.id}`

/**
 * `GET /alarms/{id}/frame.png`: the frame that raised the alarm, found among its event's frames.
 * Cached as the frames of events are.
 */
export const alarmFramePng = Effect.fn("ImagesHandlers.alarmFramePng")(
  function*(id: AlarmId, params: ImageParams) {
    const alarm = yield* Effect.flatMap(AlarmEngine, (engine) => engine.getAlarm(id))
    const repo = yield* EventRepo
    const event = alarm.eventId === null ? Option.none() : yield* repo.get(alarm.eventId)
    const frame = alarm.eventId === null || alarm.triggerFrame === null || Option.isNone(event)
      ? Option.none()
      : yield* repo.frameOf(alarm.eventId, {
        sequence: alarm.triggerFrame.sequence,
        capturedAt: Date.parse(alarm.triggerFrame.capturedAt)
      })
    if (Option.isNone(frame)) return yield* new FrameNotFound({ message: noFrame(alarm, event) })
    const zones = yield* currentZones(params)
    const final = Option.exists(event, (e) => e.status === "complete") && zones === undefined
    return pngResponse(png(frame.value.temperatures, params, zones), final ? "public, max-age=3600" : "no-cache")
  }
)

export const layer = HttpApiBuilder.group(IrcamApi, "images", (handlers) => {
  const realTimePng = makeRealTimePng()
  return handlers
    .handle("realTimePng", ({ urlParams }) => realTimePng(urlParams))
    .handle("palettes", () => Effect.succeed(palettes))
    .handle("framePng", ({ path, urlParams }) => eventFramePng(path.id, path.n, urlParams))
    .handle("alarmFramePng", ({ path, urlParams }) => alarmFramePng(path.id, urlParams))
})
