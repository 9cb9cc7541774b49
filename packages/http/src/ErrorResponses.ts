/**
 * Gives the errors that happen outside any endpoint a JSON body like every other error:
 * unknown routes (404), bodies that are not JSON or nested too deeply (400), bodies too large
 * (413), multipart bodies (415) and defects (500, logged with their cause). 401 answers also
 * say how to authenticate.
 */
import {
  HttpApiBuilder,
  HttpApp,
  HttpIncomingMessage,
  HttpMethod,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Cause, Effect, Option } from "effect"

const json = (status: number, tag: string, message: string) =>
  HttpServerResponse.unsafeJson({ _tag: tag, message }, { status })

/** The largest request body read, in bytes: a zone is well under 1 KiB. */
export const maxBodyBytes = 64 * 1024

const tooLarge = () => json(413, "PayloadTooLarge", `request bodies are limited to ${maxBodyBytes} bytes`)

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

/**
 * JSON bodies nested deeper than this are refused before decoding: the decoder's error messages
 * recurse into the value, and a few kilobytes of `[[[[…]]]]` would overflow the stack (a 500).
 */
export const maxJsonDepth = 64

/** How deeply arrays and objects nest in a JSON text (0 for a scalar); strings are skipped. */
export const jsonDepth = (text: string): number => {
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      depth++
      if (depth > deepest) deepest = depth
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return deepest
}

/**
 * Answers the bodies no endpoint can take before HttpApiBuilder reads them (this runs before the
 * Authorization check, so every body read here is bounded by `maxBodyBytes`):
 * - larger than `maxBodyBytes` (413; a chunked body, without Content-Length, that goes past it
 *   ends the connection when the limit is reached);
 * - multipart (415): the parser would store uploaded files on disk first, and dies (a 500) on a
 *   part without headers; every endpoint takes JSON;
 * - JSON nested deeper than `maxJsonDepth` (400). HttpApiBuilder reads a body as JSON when its
 *   content type says so or is missing; the text is cached, so reading it here costs nothing more.
 */
const refuseUnreadableBodies = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  if (!HttpMethod.hasBody(request.method)) return Option.none()
  if (Number(request.headers["content-length"] ?? 0) > maxBodyBytes) return Option.some(tooLarge())
  const header = request.headers["content-type"]
  const contentType = header ? header.toLowerCase() : "application/json" // as HttpApiBuilder decides
  if (contentType.includes("multipart/form-data")) {
    return Option.some(
      json(415, "UnsupportedMediaType", "request bodies are JSON: send them with Content-Type: application/json")
    )
  }
  if (!contentType.includes("application/json")) return Option.none()
  const depth = jsonDepth(yield* request.text)
  return depth > maxJsonDepth
    ? Option.some(
      json(400, "MalformedBody", `the request body nests arrays or objects deeper than ${maxJsonDepth} levels`)
    )
    : Option.none()
})

const addAuthenticateHeader = HttpApp.appendPreResponseHandler((_request, response) =>
  Effect.succeed(
    response.status === 401
      ? HttpServerResponse.setHeader(response, "www-authenticate", "Bearer realm=\"ircam\"")
      : response
  )
)

export const layer = HttpApiBuilder.middleware((app) =>
  addAuthenticateHeader.pipe(
    Effect.zipRight(refuseUnreadableBodies),
    Effect.flatMap(Option.match({ onNone: () => app, onSome: Effect.succeed })),
    HttpIncomingMessage.withMaxBodySize(Option.some(maxBodyBytes)),
    Effect.catchAllCause(respond)
  ) as HttpApp.Default
)
