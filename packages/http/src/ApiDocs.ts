/**
 * The interactive API docs at `/docs`: Scalar's API reference over the OpenAPI document, as
 * `HttpApiScalar` of @effect/platform serves it, except for where the 3.3 MB Scalar script comes
 * from. `HttpApiScalar` keeps it in memory from start-up to the end, in its module and in the
 * page it builds; here the page loads it from `/docs/scalar.js`, which reads it from
 * @effect/platform's own file at each request (a 304 when the browser has it) and keeps nothing.
 */
import { HttpApi, HttpApiBuilder, HttpServerRequest, HttpServerResponse, OpenApi } from "@effect/platform"
import { Effect } from "effect"
import { readFile, stat } from "node:fs/promises"
import { createRequire } from "node:module"

/** Where @effect/platform keeps the Scalar script: the string `javascript` of an internal module. */
export const scalarModule = createRequire(import.meta.url).resolve("@effect/platform/package.json")
  .replace(/package\.json$/, "dist/esm/internal/httpApiScalar.js")

/** The script in `source` (a module `export const javascript = "…";`): its string literal, which is JSON. */
export const scriptOf = (source: string): string => {
  const start = source.indexOf("\"", source.indexOf("javascript="))
  const end = source.lastIndexOf("\";") + 1
  return JSON.parse(source.slice(start, end)) as string
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

// JSON inside <script>: no "<" that could close it
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c")

/** Scalar's settings, as HttpApiScalar gives them. */
const configuration = { _integration: "html" }

/** The docs page for `spec`; Scalar reads the document and its configuration from the page. */
export const page = (spec: OpenApi.OpenAPISpec): string => {
  const description = spec.info.description
    ? `<meta name="description" content="${escapeHtml(spec.info.description)}"/>`
    : ""
  return `<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(spec.info.title)}</title>
    ${description}
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <script id="api-reference" type="application/json">${scriptJson(spec)}</script>
    <script>
      document.getElementById("api-reference").dataset.configuration = JSON.stringify(${scriptJson(configuration)})
    </script>
    <script src="/docs/scalar.js"></script>
  </body>
</html>`
}

const scalarScript = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const { mtimeMs, size } = yield* Effect.promise(() => stat(scalarModule))
  const headers = { etag: `"${size}-${Math.floor(mtimeMs)}"`, "cache-control": "no-cache" }
  if (request.headers["if-none-match"] === headers.etag) return HttpServerResponse.empty({ status: 304, headers })
  const script = scriptOf(yield* Effect.promise(() => readFile(scalarModule, "utf8")))
  return HttpServerResponse.text(script, { contentType: "text/javascript; charset=utf-8", headers })
})

/** `GET /docs` and `GET /docs/scalar.js`, for the API being served. */
export const layer = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const { api } = yield* HttpApi.Api
    // made at the first request: deriving the OpenAPI document takes a while, and most starts never need it
    const html = yield* Effect.cached(Effect.sync(() => page(OpenApi.fromApi(api))))
    yield* router.get("/docs", Effect.map(html, (text) => HttpServerResponse.html(text)))
    yield* router.get("/docs/scalar.js", scalarScript)
  })
)
