/**
 * `GET /events/{id}/animation.gif`: an event as an animated GIF (EventAnimation), streamed as it
 * is encoded, so a long event is never whole in memory. The first pass over the frames (the colour
 * scale of the whole event) runs before the answer starts, so that a database failure is a 503
 * rather than a broken image.
 *
 * Caching follows the frame PNGs: a complete event gets no new frames, so without zones (the
 * current ones, which may change) its GIF may be kept for an hour, and an ETag lets a client
 * revalidate it for nothing (304).
 */
import { HttpServerRequest, HttpServerResponse } from "@effect/platform"
import type { AlarmRepo } from "@ircam/core/AlarmRepo"
import type { EventId } from "@ircam/core/Event"
import * as EventAnimation from "@ircam/core/EventAnimation"
import type { EventRepo } from "@ircam/core/EventRepo"
import { EventStore } from "@ircam/core/EventStore"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Effect, Stream } from "effect"
import { createHash } from "node:crypto"
import { FrameNotFound } from "./ApiErrors.js"
import type { AnimationParams } from "./EventsApi.js"

/** The ETag of a complete event's GIF drawn as `params` ask (the trigger time tells a database started afresh). */
const etagOf = (id: EventId, triggeredAt: number, frameCount: number, params: AnimationParams) =>
  `"${
    createHash("sha1").update(JSON.stringify([id, triggeredAt, frameCount, params])).digest("base64url").slice(0, 20)
  }"`

export const animationGif = Effect.fn("EventsHandlers.animation")(function*(id: EventId, params: AnimationParams) {
  const event = yield* Effect.flatMap(EventStore, (store) => store.get(id))
  if (event.frameCount === 0) {
    return yield* new FrameNotFound({ message: `event ${id} has no frames yet: there is nothing to animate` })
  }
  const zones = params.zones ? yield* Effect.flatMap(ZoneRepo, (repo) => repo.list) : undefined
  const final = event.status === "complete" && zones === undefined
  const cache = {
    "cache-control": final ? "public, max-age=3600" : "no-cache",
    ...(final ? { etag: etagOf(id, event.triggeredAt, event.frameCount, params) } : {})
  }
  const request = yield* HttpServerRequest.HttpServerRequest
  if (
    cache.etag !== undefined && request.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === cache.etag)
  ) {
    return HttpServerResponse.empty({ status: 304, headers: cache })
  }
  const options: EventAnimation.AnimationOptions = { ...params, zones }
  const scanned = params.min === undefined || params.max === undefined ? yield* EventAnimation.scan(id) : undefined
  const repositories = yield* Effect.context<EventRepo | AlarmRepo>()
  return HttpServerResponse.stream(
    EventAnimation.stream(event, options, scanned).pipe(Stream.provideContext(repositories)),
    {
      contentType: "image/gif",
      headers: { ...cache, "content-disposition": `inline; filename="event-${id}.gif"` }
    }
  )
})
