/**
 * The health group of the API: the status of every subsystem.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Report } from "@ircam/core/Health"

export class HealthApi extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(Report)
      .addError(Report.annotations({ identifier: "HealthReportDown" }), { status: 503 })
      .annotate(OpenApi.Description, "Status of every subsystem; 503 when one is down")
  )
  .annotate(OpenApi.Title, "Health")
{}
