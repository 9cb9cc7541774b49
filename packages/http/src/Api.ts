/**
 * The ircam HTTP API under /api/v1: its groups (one module each), and health. Handlers live in
 * the *Handlers modules; the OpenAPI document is generated from this definition.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Report } from "@ircam/core/Health"
import { AlarmsApi } from "./AlarmsApi.js"
import { EventsApi } from "./EventsApi.js"
import { ThermalApi } from "./ThermalApi.js"
import { ZonesApi } from "./ZonesApi.js"

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
  .add(EventsApi)
  .add(AlarmsApi)
  .add(HealthApi)
  .prefix("/api/v1")
  .annotate(OpenApi.Title, "ircam")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Description, "Real-time IR thermal monitoring (MLX90640, 32×24 pixels)")
{}
