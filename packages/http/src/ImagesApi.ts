/**
 * The images group of the API: the latest frame, the stored frames of events and the frame that
 * raised each alarm as heat-map PNGs, and the palettes they are drawn with. (An event as an
 * animated GIF is in the events group.)
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { AlarmId } from "@ircam/core/Alarm"
import { AlarmNotFound } from "@ircam/core/AlarmEngine"
import { EventNotFound } from "@ircam/core/Event"
import { PaletteName } from "@ircam/core/Palette"
import { StorageError } from "@ircam/core/StorageError"
import { Schema } from "effect"
import { FrameNotFound, NoFrameYet } from "./ApiErrors.js"
import { idParam, ImageParams, Png } from "./ApiSchemas.js"
import { eventIdParam } from "./EventsApi.js"

export const PaletteJson = Schema.Struct({
  name: PaletteName,
  colors: Schema.Array(Schema.String).annotations({
    description: "256 colours #rrggbb, from the coldest to the hottest"
  })
}).annotations({ identifier: "Palette" })

export class ImagesApi extends HttpApiGroup.make("images")
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
    HttpApiEndpoint.get("framePng")`/events/${eventIdParam}/frames/${
      HttpApiSchema.param("n", idParam(Schema.NonNegativeInt, 0))
    }.png`
      .setUrlParams(ImageParams)
      .addSuccess(Png)
      .addError(EventNotFound, { status: 404 })
      .addError(FrameNotFound)
      .addError(StorageError, { status: 503 })
      .annotate(OpenApi.Description, "Frame n (0 = the oldest) of an event as a heat-map PNG")
  )
  .add(
    HttpApiEndpoint.get("alarmFramePng")`/alarms/${HttpApiSchema.param("id", idParam(AlarmId))}/frame.png`
      .setUrlParams(ImageParams)
      .addSuccess(Png)
      .addError(AlarmNotFound, { status: 404 })
      .addError(FrameNotFound)
      .addError(StorageError, { status: 503 })
      .annotate(
        OpenApi.Description,
        "The frame that raised an alarm (its `triggerFrame`, stored by its event) as a heat-map PNG"
      )
  )
  .annotate(OpenApi.Title, "Images")
{}
