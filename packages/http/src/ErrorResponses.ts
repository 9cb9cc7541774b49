/**
 * Gives the errors that happen outside any endpoint a JSON body like every other error:
 * unknown routes (404), known paths with a method they do not have (405, with `Allow`), bodies
 * that are not JSON or nested too deeply (400), bodies too large (413) and defects (500, logged
 * with their cause); and keeps the answers to invalid input short (400 `HttpApiDecodeError`: the
 * fields and what is wrong with them, with excerpts of the values). 401 answers also say how to
 * authenticate.
 */
import {
  HttpApiBuilder,
  HttpApiError,
  HttpApp,
  HttpIncomingMessage,
  HttpMethod,
  type HttpRouter,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Cause, Chunk, Effect, Layer, Option } from "effect"
import { shortenQuoted, truncate } from "./Excerpt.js"

const json = (status: number, tag: string, message: string) =>
  HttpServerResponse.unsafeJson({ _tag: tag, message }, { status })

/** At most this many issues of an invalid request are answered, and the first few in its `message`. */
export const maxIssues = 5
const issuesInMessage = 3
const maxMessage = 200
const maxPath = 6

/** A path cut to its last elements (which name the field), each key cut to an excerpt. */
const shortPath = (path: ReadonlyArray<PropertyKey>) =>
  (path.length <= maxPath ? path : ["…", ...path.slice(-(maxPath - 1))]).map((key) =>
    typeof key === "string" ? truncate(key) : key
  )

/**
 * A 400 for input that does not decode, as HttpApiBuilder answers it (`_tag`, `issues` with their
 * `path`, `message`) but bounded whatever the input, a few KB at most: a few issues, values and
 * keys cut to excerpts, and a `message` that names the fields instead of the decoder's whole trace
 * (which repeats the value).
 */
export const decodeErrorResponse = (error: HttpApiError.HttpApiDecodeError) => {
  // an optional field that is there but invalid also fails to be undefined: that says nothing more
  const perPath = new Map<string, number>()
  for (const { path } of error.issues) perPath.set(path.join("\0"), (perPath.get(path.join("\0")) ?? 0) + 1)
  const telling = error.issues.filter((issue) =>
    !issue.message.startsWith("Expected undefined, actual") || perPath.get(issue.path.join("\0"))! === 1
  )
  const issues = telling.slice(0, maxIssues).map((issue) => ({
    _tag: issue._tag,
    path: shortPath(issue.path),
    message: truncate(shortenQuoted(issue.message), maxMessage)
  }))
  const more = telling.length - Math.min(telling.length, issuesInMessage)
  const message = issues.slice(0, issuesInMessage)
    .map((issue) => `${issue.path.length === 0 ? "the request body" : issue.path.join(".")}: ${issue.message}`)
    .join("; ") + (more > 0 ? `; and ${more} more` : "")
  return HttpServerResponse.unsafeJson({ _tag: error._tag, message, issues }, { status: 400 })
}

const patterns = new Map<string, RegExp>()

/** Matches the paths of a route (`:param` one segment, `*` the rest). */
const pathPattern = (path: string) => {
  let pattern = patterns.get(path)
  if (pattern === undefined) {
    pattern = new RegExp(
      "^" + path.split("/").map((segment) =>
        segment === "*"
          ? ".*"
          : segment.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z_][A-Za-z0-9_]*/g, "[^/]+")
      ).join("/") + "$"
    )
    patterns.set(path, pattern)
  }
  return pattern
}

/** The methods the routes have for a path; HEAD comes with GET. */
export const allowedMethods = (
  routes: Iterable<{ readonly method: string; readonly path: string }>,
  path: string
): ReadonlyArray<string> => {
  const methods = new Set<string>()
  for (const route of routes) {
    if (route.method !== "*" && pathPattern(route.path).test(path)) methods.add(route.method)
  }
  if (methods.has("GET")) methods.add("HEAD")
  return [...methods]
}

const notFound = (
  request: HttpServerRequest.HttpServerRequest,
  routes: Iterable<{ readonly method: string; readonly path: string }>
) => {
  const path = request.url.split("?")[0]!
  const allowed = allowedMethods(routes, path)
  return allowed.length === 0
    ? json(404, "RouteNotFound", `no such endpoint: ${request.method} ${truncate(request.url, 200)}`)
    : HttpServerResponse.setHeader(
      json(
        405,
        "MethodNotAllowed",
        `${truncate(request.method)} is not allowed on ${truncate(path, 200)}; allowed: ${allowed.join(", ")}`
      ),
      "allow",
      allowed.join(", ")
    )
}

/** The largest request body read, in bytes: a zone is well under 1 KiB. */
export const maxBodyBytes = 64 * 1024

const tooLarge = () => json(413, "PayloadTooLarge", `request bodies are limited to ${maxBodyBytes} bytes`)

const respond = (
  cause: Cause.Cause<unknown>,
  routes: Effect.Effect<Iterable<HttpRouter.Route<unknown, unknown>>>
): Effect.Effect<HttpServerResponse.HttpServerResponse, unknown> => {
  // HttpApiBuilder turns an unreadable body into a defect: treat it as the client's error it is
  const failure = Option.orElse(
    Cause.failureOption(cause),
    () => Option.filter(Cause.dieOption(cause), (defect) => defect instanceof HttpServerError.RequestError)
  )
  if (Option.isSome(failure)) {
    const error = failure.value
    if (error instanceof HttpServerError.RouteNotFound) return Effect.map(routes, (all) => notFound(error.request, all))
    if (error instanceof HttpApiError.HttpApiDecodeError) return Effect.succeed(decodeErrorResponse(error))
    if (error instanceof HttpServerError.RequestError && error.reason === "Decode") {
      const detail = error.cause instanceof Error ? `: ${truncate(error.cause.message, 200)}` : ""
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
 * Authorization check, so every body read here is bounded by `maxBodyBytes`; bodies that are not
 * JSON never get here, the RequestGuard refuses them):
 * - larger than `maxBodyBytes` (413; a chunked body, without Content-Length, that goes past it
 *   ends the connection when the limit is reached);
 * - JSON nested deeper than `maxJsonDepth` (400). The text is cached, so reading it here costs
 *   nothing more.
 */
const refuseUnreadableBodies = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  if (!HttpMethod.hasBody(request.method)) return Option.none()
  if (Number(request.headers["content-length"] ?? 0) > maxBodyBytes) return Option.some(tooLarge())
  if (!request.headers["content-type"]?.toLowerCase().includes("application/json")) return Option.none()
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

export const layer = HttpApiBuilder.middleware(
  Effect.map(HttpApiBuilder.Router, (router) => {
    const routes = Effect.map(router.router, ({ routes }) => Chunk.toReadonlyArray(routes))
    return (app: HttpApp.Default) =>
      addAuthenticateHeader.pipe(
        Effect.zipRight(refuseUnreadableBodies),
        Effect.flatMap(Option.match({ onNone: () => app, onSome: Effect.succeed })),
        HttpIncomingMessage.withMaxBodySize(Option.some(maxBodyBytes)),
        Effect.catchAllCause((cause) => respond(cause, routes))
      ) as HttpApp.Default
  })
).pipe(Layer.provide(HttpApiBuilder.Router.Live))
