/**
 * The HTTP server: the API under /api/v1, its OpenAPI document at /api/v1/openapi.json,
 * interactive docs at /docs, the live-view page at /, the RequestGuard before all of them, JSON
 * bodies for every error, listening on HOST:PORT.
 */
import { HttpApiBuilder, HttpMiddleware, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { AppConfig } from "@ircam/core/AppConfig"
import { Health } from "@ircam/core/Health"
import { Duration, Effect, Layer, LogLevel, Option } from "effect"
import { createServer, type Server } from "node:http"
import { IrcamApi } from "./Api.js"
import * as ApiDocs from "./ApiDocs.js"
import * as AuthorizationLive from "./AuthorizationLive.js"
import * as ErrorResponses from "./ErrorResponses.js"
import * as Handlers from "./Handlers.js"
import { LiveStream } from "./LiveStream.js"
import * as MetricsLive from "./MetricsLive.js"
import * as RequestGuard from "./RequestGuard.js"
import * as WebPage from "./WebPage.js"

export const ApiLive = HttpApiBuilder.api(IrcamApi).pipe(
  Layer.provide(Handlers.layer),
  Layer.provide(AuthorizationLive.layer)
)

/** The live-view page at `/`, its files under `/assets/`. */
const RootLive = WebPage.layer

/**
 * One log line per request only at LOG_LEVEL=debug or below: the access log's middleware costs
 * about a third of a cheap request, and clients poll the latest frame many times a second.
 */
const ServeLive = Layer.unwrapEffect(
  Effect.map(
    AppConfig,
    ({ logLevel }) =>
      HttpApiBuilder.serve(LogLevel.lessThanEqual(logLevel, LogLevel.Debug) ? HttpMiddleware.logger : undefined)
  )
)

/** The live streams' check, beside the core's. */
const StreamsCheck = Layer.effectDiscard(
  Effect.flatMap(Effect.all([Health, LiveStream]), ([health, live]) => health.register("streams", live.health))
)

/** The whole HTTP application; needs an `HttpServer` (tests use `NodeHttpServer.layerTest`). */
export const AppLive = ServeLive.pipe(
  // GET /metrics; its middleware wraps even the RequestGuard, to count the requests it refuses
  Layer.provide(MetricsLive.layer),
  // listed first, so that it wraps everything below: nothing is read before it has passed a request
  Layer.provide(RequestGuard.layer),
  Layer.provide(ErrorResponses.layer),
  Layer.provide(ApiDocs.layer),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/v1/openapi.json" })),
  Layer.provide(RootLive),
  Layer.provide(ApiLive),
  Layer.provideMerge(StreamsCheck),
  Layer.provideMerge(LiveStream.Default)
)

export const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || host.startsWith("127.")

/** How long requests still being answered get when the server stops, before their connections are closed. */
export const stopGrace = Duration.seconds(3)

/**
 * Stops listening and closes the connections that are idle at once, the others after `stopGrace`.
 * A Node server closes only once every connection has ended, and a browser holds connections open
 * that it has not used yet (until the headers timeout, a minute or more).
 */
const closeGracefully = (server: Server) =>
  Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
    server.closeIdleConnections()
    const timer = setTimeout(() => server.closeAllConnections(), Duration.toMillis(stopGrace))
    return Effect.sync(() => clearTimeout(timer))
  })

/** A Node HTTP server on `HOST`:`PORT`, warning when it is reachable from the network without a token. */
export const ListenLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const { apiToken, host, port } = yield* AppConfig
    if (Option.isNone(apiToken) && !isLoopback(host)) {
      yield* Effect.logWarning(
        `listening on ${host}, reachable from the network, without API_TOKEN: anyone who can reach it can change zones. ` +
          "Set API_TOKEN, or HOST=127.0.0.1 to serve this machine only."
      )
    }
    const server = createServer()
    // released before the server layer's own close, which then finds the server closed
    const gracefulStop = Layer.scopedDiscard(Effect.addFinalizer(() => closeGracefully(server)))
    return gracefulStop.pipe(Layer.provideMerge(NodeHttpServer.layer(() => server, { host, port })))
  })
)

export const layer = AppLive.pipe(HttpServer.withLogAddress, Layer.provide(ListenLive))
