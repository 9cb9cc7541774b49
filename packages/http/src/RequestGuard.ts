/**
 * What no request may do, whatever its route and with or without API_TOKEN, checked before
 * routing: reach the server under a name it does not have (DNS rebinding: 421), change state
 * from a page on another site (403), or send a body that is not JSON (415). Every answer gets
 * the SecurityHeaders.
 */
import { HttpApiBuilder, HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { AppConfig } from "@ircam/core/AppConfig"
import { Effect, Option } from "effect"
import * as AllowedHosts from "./AllowedHosts.js"
import { quoted } from "./Excerpt.js"
import * as SecurityHeaders from "./SecurityHeaders.js"

export interface Refusal {
  readonly status: number
  readonly tag: string
  readonly message: string
}

/** The methods that change state; the others only read. */
const writes: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH", "DELETE"])

const hasBody = (headers: Readonly<Record<string, string | undefined>>) =>
  Number(headers["content-length"] ?? 0) > 0 || headers["transfer-encoding"] !== undefined

const isJson = (contentType: string | undefined) =>
  contentType?.split(";")[0]!.trim().toLowerCase() === "application/json"

/**
 * Why a request is refused, if it is. A request without `Host` (HTTP/1.0) comes from no browser,
 * so it passes; so do writes without `Origin` and `Sec-Fetch-Site` (curl, scripts).
 */
export const refusal = (
  isAllowed: (host: string) => boolean,
  method: string,
  headers: Readonly<Record<string, string | undefined>>
): Option.Option<Refusal> => {
  const host = headers["host"]
  if (host !== undefined && !Option.exists(AllowedHosts.hostOfHeader(host), isAllowed)) {
    return Option.some({
      status: 421,
      tag: "HostNotAllowed",
      message: `this server does not answer to the name ${quoted(host)} (Host header), which a page on ` +
        "another site may have pointed at it; to reach it under that name (a reverse proxy, a DNS name of your " +
        "own), add it to ALLOWED_HOSTS"
    })
  }
  if (!writes.has(method)) return Option.none()
  if (headers["sec-fetch-site"]?.toLowerCase() === "cross-site") {
    return Option.some({
      status: 403,
      tag: "CrossSiteRequest",
      message: "a page on another site may not change anything here (the browser sent Sec-Fetch-Site: cross-site)"
    })
  }
  const origin = headers["origin"]
  if (origin !== undefined && !Option.exists(AllowedHosts.hostOfOrigin(origin), isAllowed)) {
    return Option.some({
      status: 403,
      tag: "CrossSiteRequest",
      message: `a page on another site (Origin ${quoted(origin)}) may not change anything here; if that site ` +
        "is yours, add its host name to ALLOWED_HOSTS"
    })
  }
  const contentType = headers["content-type"]
  if (hasBody(headers) && !isJson(contentType)) {
    return Option.some({
      status: 415,
      tag: "UnsupportedMediaType",
      message: `request bodies are JSON: send them with Content-Type: application/json (got ${
        contentType === undefined || contentType.trim() === "" ? "none" : quoted(contentType)
      })`
    })
  }
  return Option.none()
}

export const layer = HttpApiBuilder.middleware(
  Effect.map(AppConfig, ({ allowedHosts, host }) => {
    const isAllowed = AllowedHosts.make(allowedHosts, host)
    return (app) =>
      HttpApp.appendPreResponseHandler(SecurityHeaders.add).pipe(
        Effect.zipRight(HttpServerRequest.HttpServerRequest),
        Effect.flatMap((request) =>
          Option.match(refusal(isAllowed, request.method, request.headers), {
            onNone: () => app,
            onSome: ({ message, status, tag }) =>
              Effect.succeed(HttpServerResponse.unsafeJson({ _tag: tag, message }, { status }))
          })
        )
      )
  })
)
