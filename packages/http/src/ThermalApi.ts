/**
 * The thermal group of the API: the latest frame as JSON and as a PNG, the palettes, the live stream.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { FrameJson } from "@ircam/core/Frame"
import { Schema } from "effect"
import { NoFrameYet, TooManyStreams } from "./ApiErrors.js"
import { EventStream, ImageParams, numberParam, Png, streamMessages } from "./ApiSchemas.js"
import { PaletteName } from "./Palette.js"

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

export const PaletteJson = Schema.Struct({
  name: PaletteName,
  colors: Schema.Array(Schema.String).annotations({
    description: "256 colours #rrggbb, from the coldest to the hottest"
  })
}).annotations({ identifier: "Palette" })

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
    HttpApiEndpoint.get("realTimePng", "/thermal/real-time.png")
      .setUrlParams(ImageParams)
      .addSuccess(Png)
      .addError(NoFrameYet)
      .annotate(OpenApi.Description, "The latest frame as a heat-map PNG")
  )
  .add(
    HttpApiEndpoint.get("palettes", "/thermal/palettes")
      .addSuccess(Schema.Array(PaletteJson))
      .annotate(OpenApi.Description, "The colour palettes of the heat-map images, for drawing the same colours")
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
