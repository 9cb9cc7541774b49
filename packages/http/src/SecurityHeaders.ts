/**
 * The headers every answer gets, so that no page on another site can frame, sniff or learn from
 * it: a Content-Security-Policy, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`,
 * `X-Content-Type-Options: nosniff`, and `Cache-Control: no-store` on API answers that say
 * nothing of caching (they change from one frame to the next).
 */
import type { HttpApp } from "@effect/platform"
import { HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"

/** The live-view page and its files: its own origin only, no inline script, never framed. */
export const pagePolicy = [
  "default-src 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'"
].join("; ")

/** What an answer that is not a page may do in a browser: nothing. */
export const dataPolicy = "default-src 'none'; frame-ancestors 'none'"

/** Another HTML page (the API docs, whose script is inline) keeps its scripts but is not framed either. */
export const otherPagePolicy = "frame-ancestors 'none'"

const contentTypeOf = (response: HttpServerResponse.HttpServerResponse): string =>
  response.headers["content-type"] ?? ("contentType" in response.body ? response.body.contentType ?? "" : "")

export const add: HttpApp.PreResponseHandler = (request, response) => {
  const headers: Record<string, string> = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer"
  }
  if (response.headers["content-security-policy"] === undefined) {
    headers["content-security-policy"] = contentTypeOf(response).startsWith("text/html") ? otherPagePolicy : dataPolicy
  }
  if (request.url.startsWith("/api/") && response.headers["cache-control"] === undefined) {
    headers["cache-control"] = "no-store"
  }
  return Effect.succeed(HttpServerResponse.setHeaders(response, headers))
}
