/**
 * The thermal group of the API: the latest frame as JSON, and the live stream of frames and what
 * happens meanwhile. The latest frame as a PNG is in the images group.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { FrameJson } from "@ircam/core/Frame"
import { Schema } from "effect"
import { NoFrameYet, TooManyStreams } from "./ApiErrors.js"
import { EventStream, numberParam, streamMessages } from "./ApiSchemas.js"

export const StreamParams = Schema.Struct({
  every: Schema.optionalWith(
    numberParam(
      Schema.Int.pipe(Schema.between(1, 1000)).annotations({
        description: "one frame message every this many sensor frames (1–1000, default 1: every frame)"
      })
    ),
    { default: () => 1 }
  )
})

export class ThermalApi extends HttpApiGroup.make("thermal")
  .add(
    HttpApiEndpoint.get("realTime", "/thermal/real-time")
      .addSuccess(FrameJson)
      .addError(NoFrameYet)
      .annotate(
        OpenApi.Description,
        "The latest frame: 768 temperatures (°C, row-major, row 0 at the top) and its summary"
      )
  )
  .add(
    HttpApiEndpoint.get("stream", "/thermal/stream")
      .setUrlParams(StreamParams)
      .addSuccess(EventStream)
      .addError(TooManyStreams)
      .annotate(
        OpenApi.Description,
        "Server-Sent Events: every frame (or every `every`-th), alarm transitions and recordings as they happen. " +
          streamMessages
      )
  )
  .annotate(OpenApi.Title, "Thermal")
{}
