/**
 * The heat-map image endpoints: the latest frame and the stored frames of events as PNG, and the
 * palettes they are drawn with (wired into the `thermal` and `events` groups by Handlers and
 * EventHandlers).
 */
import { HttpServerResponse } from "@effect/platform"
import type { EventId } from "@ircam/core/Event"
import { EventStore } from "@ircam/core/EventStore"
import type { Frame } from "@ircam/core/Frame"
import { Monitor } from "@ircam/core/Monitor"
import type { Zone } from "@ircam/core/Zone"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Effect, Option } from "effect"
import { FrameNotFound, NoFrameYet } from "./ApiErrors.js"
import type { ImageParams } from "./ApiSchemas.js"
import * as HeatmapImage from "./HeatmapImage.js"
import { type PaletteName, paletteNames, toJson } from "./Palette.js"

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
 * times a second. Clients poll faster than frames arrive (and a page may show several palettes):
 * each image is drawn once a frame, kept until the next frame comes, at most 16 of them should a
 * client vary its parameters on every request. One cache for each handler made.
 */
export const makeRealTimePng = () => {
  let cache: { readonly frame: Frame; readonly images: Map<string, Uint8Array> } | undefined
  const cacheLimit = 16
  return Effect.fn("ImageHandlers.realTimePng")(function*(params: ImageParams) {
    const snapshot = yield* Effect.flatMap(Monitor, (monitor) => monitor.latest)
    if (Option.isNone(snapshot)) return yield* NoFrameYet.instance
    const { frame } = snapshot.value
    const zones = yield* currentZones(params)
    if (cache?.frame !== frame || cache.images.size >= cacheLimit) cache = { frame, images: new Map() }
    const key = JSON.stringify([params, zones])
    let body = cache.images.get(key)
    if (body === undefined) {
      body = png(frame.temperatures, params, zones)
      cache.images.set(key, body)
    }
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
export const eventFramePng = Effect.fn("ImageHandlers.eventFramePng")(
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
