/**
 * `GET /metrics`, outside `/api/v1`: every service's metrics for Prometheus, and the HTTP
 * requests' (HttpMetrics); nothing at all with METRICS_ENABLED=false. Like every read it is open,
 * behind the RequestGuard like every path (see the README for keeping it private).
 *
 * A service's metrics are one set (an effect defining them on `Metrics` with their update, as in
 * CoreMetrics) added to `sets` below.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { AppConfig } from "@ircam/core/AppConfig"
import { Effect, Layer } from "effect"
import * as CoreMetrics from "./CoreMetrics.js"
import * as HttpMetrics from "./HttpMetrics.js"
import { Metrics } from "./Metrics.js"

/** Every service's metrics. */
const sets = Layer.effectDiscard(Effect.all([
  CoreMetrics.build,
  CoreMetrics.temperatures,
  CoreMetrics.sensor,
  CoreMetrics.alarms,
  CoreMetrics.events,
  CoreMetrics.notifications,
  CoreMetrics.history,
  CoreMetrics.mqtt,
  CoreMetrics.health,
  HttpMetrics.streams
], { discard: true }))

/** `Metrics` with every set defined on it (what the route serves; the benchmark scrapes it directly). */
export const collecting = sets.pipe(Layer.provideMerge(Metrics.Default))

/** The path Prometheus scrapes. */
export const path = "/metrics"

const route = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const metrics = yield* Metrics
    yield* router.get(
      path,
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        Effect.map(
          metrics.scrape(request.headers["accept"]),
          ({ body, contentType }) => HttpServerResponse.text(body, { contentType })
        ))
    )
  })
)

/**
 * The route, the request metrics' middleware and every set, when METRICS_ENABLED. Provided before
 * any other middleware, so that its middleware wraps them all and sees every answer.
 */
export const layer = Layer.unwrapEffect(Effect.map(
  AppConfig,
  ({ metricsEnabled }) =>
    metricsEnabled
      ? Layer.mergeAll(route, HttpMetrics.layer).pipe(Layer.provide(collecting))
      : Layer.empty
))
