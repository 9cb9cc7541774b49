/**
 * The handlers of the `thermal` group: the latest frame as JSON, and the live stream.
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { toJson } from "@ircam/core/Frame"
import { Effect, Option } from "effect"
import { IrcamApi } from "./Api.js"
import * as LatestFrame from "./LatestFrame.js"
import { LiveStream } from "./LiveStream.js"

export const layer = HttpApiBuilder.group(IrcamApi, "thermal", (handlers) =>
  Effect.gen(function*() {
    const live = yield* LiveStream
    // each frame serialised once, not once per request
    const cached = LatestFrame.makeCache<HttpServerResponse.HttpServerResponse>()
    const realTime = Effect.map(
      LatestFrame.snapshot,
      ({ frame, summary }) => cached(frame, "json", () => HttpServerResponse.unsafeJson(toJson(frame, summary)))
    )
    return handlers
      .handle("realTime", () => realTime)
      .handle("stream", ({ urlParams }) => live.respond({ every: Option.some(urlParams.every) }))
  }))
