/**
 * The HTTP server: the API under /api/v1, its OpenAPI document at /api/v1/openapi.json,
 * interactive docs at /docs, JSON bodies for every error, listening on HOST:PORT.
 */
import { HttpApiBuilder, HttpApiScalar, HttpMiddleware, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { AppConfig } from "@ircam/core/AppConfig"
import { Effect, Layer, LogLevel, Option } from "effect"
import { createServer } from "node:http"
import { IrcamApi } from "./Api.js"
import * as AuthorizationLive from "./AuthorizationLive.js"
import * as ErrorResponses from "./ErrorResponses.js"
import * as Handlers from "./Handlers.js"

export const ApiLive = HttpApiBuilder.api(IrcamApi).pipe(
  Layer.provide(Handlers.layer),
  Layer.provide(AuthorizationLive.layer)
)

const RootLive = HttpApiBuilder.Router.use((router) => router.get("/", HttpServerResponse.redirect("/docs")))

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

/** The whole HTTP application; needs an `HttpServer` (tests use `NodeHttpServer.layerTest`). */
export const AppLive = ServeLive.pipe(
  Layer.provide(ErrorResponses.layer),
  Layer.provide(HttpApiScalar.layer({ path: "/docs" })),
  Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/v1/openapi.json" })),
  Layer.provide(RootLive),
  Layer.provide(ApiLive)
)

export const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || host.startsWith("127.")

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
    return NodeHttpServer.layer(createServer, { host, port })
  })
)

export const layer = AppLive.pipe(HttpServer.withLogAddress, Layer.provide(ListenLive))
