/**
 * The HTTP server's metrics: requests by method, route template and status, with a latency
 * histogram, observed as each answer leaves (refusals of the RequestGuard too); and the live
 * streams, read from LiveStream at each scrape.
 *
 * The route is the template the router matched (`/api/v1/zones/:id`), never the raw path, so a
 * client cannot add series by inventing paths: the router writes it on the request's span
 * (`http.route`), which is where it is read. A request no route matched (404, or refused before
 * routing) counts under `unmatched`.
 */
import { HttpApiBuilder, HttpApp } from "@effect/platform"
import { monotonicMs } from "@ircam/core/Time"
import { Effect, Option } from "effect"
import { LiveStream } from "./LiveStream.js"
import { Metrics, setTotal, setValue } from "./Metrics.js"

/** Latency buckets (seconds): a cheap read takes well under a millisecond, an image or an export longer. */
export const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** The methods counted by name; any other counts as `other` (methods come from clients). */
const methods: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])

/** Counts and times every request; the outermost middleware, so that it sees every answer. */
export const layer = HttpApiBuilder.middleware(Effect.map(Metrics, (metrics) => {
  const requests = metrics.counter(
    "ircam_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"]
  )
  const duration = metrics.histogram(
    "ircam_http_request_duration_seconds",
    "Time from a request's arrival to its answer's headers (seconds), by method and route template",
    ["method", "route"],
    latencyBuckets
  )
  return (app) =>
    Effect.gen(function*() {
      const start = yield* monotonicMs
      yield* HttpApp.appendPreResponseHandler((request, response) =>
        Effect.gen(function*() {
          const span = yield* Effect.option(Effect.currentSpan)
          const template = Option.flatMapNullable(span, (s) => s.attributes.get("http.route"))
          const route = Option.isSome(template) && typeof template.value === "string" ? template.value : "unmatched"
          const method = methods.has(request.method) ? request.method : "other"
          requests.inc({ method, route, status: response.status })
          duration.observe({ method, route }, ((yield* monotonicMs) - start) / 1000)
          return response
        })
      )
      return yield* app
    })
}))

/** The live streams (`/thermal/stream`, `/alarms/stream`). */
export const streams = Effect.gen(function*() {
  const { counter, gauge, onScrape } = yield* Metrics
  const live = yield* LiveStream
  const open = gauge("ircam_streams_open", "Live streams open")
  const max = gauge("ircam_streams_max", "Live streams that may be open at once (MAX_STREAMS)")
  const opened = counter("ircam_streams_opened_total", "Live streams opened")
  const refused = counter("ircam_streams_refused_total", "Live streams refused because MAX_STREAMS were open")
  const skipped = counter("ircam_stream_frames_skipped_total", "Frames live streams skipped for clients too slow")
  yield* onScrape(Effect.map(live.stats, (stats) => {
    setValue(open, stats.open)
    setValue(max, stats.max)
    setTotal(opened, stats.opened)
    setTotal(refused, stats.refused)
    setTotal(skipped, stats.framesSkipped)
  }))
})
