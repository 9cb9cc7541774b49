/**
 * Gives the errors that happen outside any endpoint a JSON body like every other error:
 * unknown routes (404), bodies that are not JSON (400) and defects (500, logged with their
 * cause). 401 answers also say how to authenticate.
 */
import { HttpApiBuilder, HttpApp, HttpServerError, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Option } from "effect"

const json = (status: number, tag: string, message: string) =>
  HttpServerResponse.unsafeJson({ _tag: tag, message }, { status })

const respond = (cause: Cause.Cause<unknown>): Effect.Effect<HttpServerResponse.HttpServerResponse, unknown> => {
  // HttpApiBuilder turns an unreadable body into a defect: treat it as the client's error it is
  const failure = Option.orElse(
    Cause.failureOption(cause),
    () => Option.filter(Cause.dieOption(cause), (defect) => defect instanceof HttpServerError.RequestError)
  )
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof HttpServerError.RouteNotFound) {
      return Effect.succeed(
        json(404, "RouteNotFound", `no such endpoint: ${error.request.method} ${error.request.url}`)
      )
    }
    if (error instanceof HttpServerError.RequestError && error.reason === "Decode") {
      const detail = error.cause instanceof Error ? `: ${error.cause.message}` : ""
      return Effect.succeed(json(400, "MalformedBody", `the request body could not be read as JSON${detail}`))
    }
    return Effect.failCause(cause) // the API's own typed errors, encoded by HttpApiBuilder
  }
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause)
  return Effect.logError("request failed with a defect", cause).pipe(
    Effect.as(json(500, "InternalError", "internal error; the server log has the details"))
  )
}

const addAuthenticateHeader = HttpApp.appendPreResponseHandler((_request, response) =>
  Effect.succeed(
    response.status === 401
      ? HttpServerResponse.setHeader(response, "www-authenticate", "Bearer realm=\"ircam\"")
      : response
  )
)

export const layer = HttpApiBuilder.middleware((app) =>
  Effect.zipRight(addAuthenticateHeader, app).pipe(Effect.catchAllCause(respond)) as HttpApp.Default
)
