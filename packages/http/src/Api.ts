/**
 * The ircam HTTP API under /api/v1: endpoints, payloads, answers and errors. Handlers live
 * in the *Handlers modules; the OpenAPI document is generated from this definition.
 */
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
  OpenApi
} from "@effect/platform"
import { FrameJson, IsoTime } from "@ircam/core/Frame"
import { Report } from "@ircam/core/Health"
import { Zone, ZoneId, ZoneInput } from "@ircam/core/Zone"
import { ZoneIdTaken, ZoneLimitReached, ZoneNotFound, ZoneOutOfBounds } from "@ircam/core/ZoneRepo"
import { Schema } from "effect"
import { NoFrameYet, Unauthorized } from "./ApiErrors.js"

/** Guards the endpoints that change state: with `API_TOKEN` set they need `Authorization: Bearer <token>`. */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("@ircam/http/Authorization", {
  failure: Unauthorized,
  security: { bearer: HttpApiSecurity.bearer }
}) {}

const idParam = HttpApiSchema.param("id", Schema.NumberFromString.pipe(Schema.compose(ZoneId)))

export const ZoneAverage = Schema.Struct({
  zoneId: ZoneId,
  average: Schema.Number,
  min: Schema.Number,
  max: Schema.Number,
  capturedAt: IsoTime
}).annotations({ identifier: "ZoneAverage", description: "statistics of a zone on the latest frame, °C" })

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
  .annotate(OpenApi.Title, "Thermal")
{}

const ZoneInputDoc = ZoneInput.annotations({
  description: "{x, y, width, height} or the corner form {x1, y1, x2, y2} with x2/y2 inclusive; " +
    "optional name, color and (on create) id"
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
  .add(HttpApiEndpoint.get("get")`/zones/${idParam}`.addSuccess(Zone).addError(ZoneNotFound, { status: 404 }))
  .add(
    HttpApiEndpoint.put("update")`/zones/${idParam}`
      .setPayload(ZoneInputDoc)
      .addSuccess(Zone)
      .addError(ZoneNotFound, { status: 404 })
      .addError(ZoneOutOfBounds, { status: 422 })
      .middleware(Authorization)
      .annotate(OpenApi.Description, "Replaces the zone's rectangle; name and color are kept when omitted")
  )
  .add(
    HttpApiEndpoint.del("remove")`/zones/${idParam}`
      .addSuccess(HttpApiSchema.NoContent)
      .addError(ZoneNotFound, { status: 404 })
      .middleware(Authorization)
  )
  .add(
    HttpApiEndpoint.get("average")`/zones/${idParam}/average`
      .addSuccess(ZoneAverage)
      .addError(ZoneNotFound, { status: 404 })
      .addError(NoFrameYet)
  )
  .annotate(OpenApi.Title, "Zones")
{}

export class HealthApi extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(Report)
      .addError(Report.annotations({ identifier: "HealthReportDown" }), { status: 503 })
      .annotate(OpenApi.Description, "Status of every subsystem; 503 when one is down")
  )
  .annotate(OpenApi.Title, "Health")
{}

export class IrcamApi extends HttpApi.make("ircam")
  .add(ThermalApi)
  .add(ZonesApi)
  .add(HealthApi)
  .prefix("/api/v1")
  .annotate(OpenApi.Title, "ircam")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Description, "Real-time IR thermal monitoring (MLX90640, 32×24 pixels)")
{}
