/**
 * The ircam HTTP API under /api/v1, composed of its groups (one module each; their handlers are
 * in the *Handlers modules). The OpenAPI document is generated from this definition.
 */
import { HttpApi, OpenApi } from "@effect/platform"
import { AlarmsApi } from "./AlarmsApi.js"
import { EventsApi } from "./EventsApi.js"
import { HealthApi } from "./HealthApi.js"
import { HistoryApi } from "./HistoryApi.js"
import { ImagesApi } from "./ImagesApi.js"
import { ThermalApi } from "./ThermalApi.js"
import { ZonesApi } from "./ZonesApi.js"

export class IrcamApi extends HttpApi.make("ircam")
  .add(ThermalApi)
  .add(ImagesApi)
  .add(ZonesApi)
  .add(EventsApi)
  .add(AlarmsApi)
  .add(HealthApi)
  .add(HistoryApi)
  .prefix("/api/v1")
  .annotate(OpenApi.Title, "ircam")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(OpenApi.Description, "Real-time IR thermal monitoring (MLX90640, 32×24 pixels)")
{}
