/**
 * The handlers of the `events` group: manual triggers, queries, frames as JSON or CSV, the animated
 * GIF (EventAnimationHandler), deletion.
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { toJson } from "@ircam/core/Event"
import { frameJson, toCsv } from "@ircam/core/EventExport"
import { EventStore } from "@ircam/core/EventStore"
import { Effect } from "effect"
import { IrcamApi } from "./Api.js"
import { animationGif } from "./EventAnimationHandler.js"

export const layer = HttpApiBuilder.group(IrcamApi, "events", (handlers) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    return handlers
      .handle("trigger", ({ payload }) => Effect.map(store.trigger({ kind: "manual", label: payload.label }), toJson))
      .handle("list", ({ urlParams }) => Effect.map(store.list(urlParams), (events) => events.map(toJson)))
      .handle("get", ({ path }) => Effect.map(store.get(path.id), toJson))
      .handle("frames", ({ path, urlParams }) =>
        Effect.map(store.frames(path.id), (frames) =>
          urlParams.format === "csv"
            ? HttpServerResponse.text(toCsv(frames), {
              contentType: "text/csv; charset=utf-8",
              headers: { "content-disposition": `attachment; filename="event-${path.id}.csv"` }
            })
            // JSON.stringify directly: encoding 768 numbers a frame through the schema costs far more
            : HttpServerResponse.unsafeJson(frames.map(frameJson))))
      .handle("animation", ({ path, urlParams }) => animationGif(path.id, urlParams))
      .handle("remove", ({ path }) => store.remove(path.id))
  }))
