/**
 * The zones group of the API: the rectangles watched, and their statistics on the latest frame.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { IsoTime } from "@ircam/core/Frame"
import { StorageError } from "@ircam/core/StorageError"
import { Zone, ZoneId, ZoneInput } from "@ircam/core/Zone"
import { ZoneIdTaken, ZoneLimitReached, ZoneNotFound, ZoneOutOfBounds } from "@ircam/core/ZoneRepo"
import { Schema } from "effect"
import { NoFrameYet } from "./ApiErrors.js"
import { idParam } from "./ApiSchemas.js"
import { Authorization } from "./Authorization.js"

const zoneIdParam = HttpApiSchema.param("id", idParam(ZoneId))

export const ZoneAverage = Schema.Struct({
  zoneId: ZoneId,
  average: Schema.Number,
  min: Schema.Number,
  max: Schema.Number,
  capturedAt: IsoTime
}).annotations({ identifier: "ZoneAverage", description: "statistics of a zone on the latest frame, °C" })

const rectangle = ["x", "y", "width", "height"]
const corners = ["x1", "y1", "x2", "y2"]

/** One of the two forms: all of its fields and none of the other's. */
const form = (fields: ReadonlyArray<string>, others: ReadonlyArray<string>) => ({
  required: fields,
  not: { anyOf: others.map((field) => ({ required: [field] })) }
})

const ZoneInputDoc = ZoneInput.annotations({
  description: "{x, y, width, height} or the corner form {x1, y1, x2, y2} with x2/y2 inclusive; " +
    "optional name, color and (on create) id",
  // the fields are all optional on their own; the document says which sets of them go together
  jsonSchema: { allOf: [{ oneOf: [form(rectangle, corners), form(corners, rectangle)] }] }
})

export class ZonesApi extends HttpApiGroup.make("zones")
  .add(HttpApiEndpoint.get("list", "/zones").addSuccess(Schema.Array(Zone)))
  .add(
    HttpApiEndpoint.post("create", "/zones")
      .setPayload(ZoneInputDoc)
      .addSuccess(Zone, { status: 201 })
      .addError(ZoneLimitReached, { status: 409 })
      .addError(ZoneIdTaken, { status: 409 })
      .addError(ZoneOutOfBounds, { status: 422 })
      .middleware(Authorization)
  )
  .add(HttpApiEndpoint.get("get")`/zones/${zoneIdParam}`.addSuccess(Zone).addError(ZoneNotFound, { status: 404 }))
  .add(
    HttpApiEndpoint.put("update")`/zones/${zoneIdParam}`
      .setPayload(ZoneInputDoc)
      .addSuccess(Zone)
      .addError(ZoneNotFound, { status: 404 })
      .addError(ZoneOutOfBounds, { status: 422 })
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Replaces the zone's rectangle; name and color are kept when omitted")
  )
  .add(
    HttpApiEndpoint.del("remove")`/zones/${zoneIdParam}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(ZoneNotFound, { status: 404 })
      .middleware(Authorization)
  )
  .add(
    HttpApiEndpoint.get("average")`/zones/${zoneIdParam}/average`
      .addSuccess(ZoneAverage)
      .addError(ZoneNotFound, { status: 404 })
      .addError(NoFrameYet)
  )
  .addError(StorageError, { status: 503 })
  .annotate(OpenApi.Title, "Zones")
{}
