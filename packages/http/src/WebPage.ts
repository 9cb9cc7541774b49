/**
 * The live-view page: `GET /` answers packages/http/web/index.html and `GET /assets/<file>` the
 * other files of that folder. They are read once at start-up (a few tens of KiB), so a page load
 * costs the server no disk access; each answer has an ETag, and `cache-control: no-cache` makes
 * browsers revalidate, which is a 304 without a body once they have the file. Their
 * Content-Security-Policy allows this origin only (SecurityHeaders.pagePolicy). The files of the
 * libraries the page uses (uPlot, for the history charts) are served the same way, from their
 * installed npm package: no CDN, no copy in this repository.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { extname } from "node:path"
import { pagePolicy } from "./SecurityHeaders.js"

/** The folder of the page's files. */
export const webDirectory = new URL("../web/", import.meta.url)

/** What a browser may fetch, by extension; anything else in the folder (tsconfig.json, …) is not served. */
export const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon"
}

export interface Asset {
  readonly body: Uint8Array
  readonly contentType: string
  readonly etag: string
}

const assetOf = (body: Uint8Array, contentType: string): Asset => ({
  body,
  contentType,
  etag: `"${createHash("sha1").update(body).digest("base64url").slice(0, 20)}"`
})

/**
 * The servable files directly in `directory`, by name. Requests are looked up by exact name in
 * this map, so no path a client sends (`..`, encoded slashes) can reach another file.
 */
export const loadAssets = (directory: URL): ReadonlyMap<string, Asset> => {
  const assets = new Map<string, Asset>()
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const contentType = contentTypes[extname(entry.name)]
    if (!entry.isFile() || contentType === undefined) continue
    assets.set(entry.name, assetOf(readFileSync(new URL(entry.name, directory)), contentType))
  }
  return assets
}

/** Files of npm packages the page imports, by the name it asks for under `/assets/`. */
export const packageFiles: Readonly<Record<string, string>> = {
  "uPlot.esm.js": "uplot/dist/uPlot.esm.js",
  "uPlot.min.css": "uplot/dist/uPlot.min.css"
}

/** The files of `packageFiles`, from the packages installed beside this one. */
export const loadPackageAssets = (): ReadonlyMap<string, Asset> => {
  const require = createRequire(import.meta.url)
  return new Map(
    Object.entries(packageFiles).map(([name, specifier]) => [
      name,
      assetOf(readFileSync(require.resolve(specifier)), contentTypes[extname(name)]!)
    ])
  )
}

const notFound = (path: string) =>
  HttpServerResponse.unsafeJson({ _tag: "AssetNotFound", message: `no such file: ${path}` }, { status: 404 })

const answer = (asset: Asset) =>
  Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    const headers = { etag: asset.etag, "cache-control": "no-cache", "content-security-policy": pagePolicy }
    const known = request.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === asset.etag)
    return known
      ? HttpServerResponse.empty({ status: 304, headers })
      : HttpServerResponse.uint8Array(asset.body, { contentType: asset.contentType, headers })
  })

/** The name after `/assets/`, percent-decoded, without the query; undefined when it does not decode. */
export const assetName = (url: string): string | undefined => {
  const path = url.split("?")[0]!.slice("/assets/".length)
  try {
    return decodeURIComponent(path)
  } catch {
    return undefined
  }
}

/** Serves the files of `directory` (the page's folder by default) at `/` and `/assets/*`. */
export const layerFrom = (directory: URL) =>
  HttpApiBuilder.Router.use((router) =>
    Effect.gen(function*() {
      const assets = yield* Effect.sync(() => new Map([...loadPackageAssets(), ...loadAssets(directory)]))
      const index = assets.get("index.html")
      if (index === undefined) return yield* Effect.dieMessage(`no index.html in ${directory.pathname}`)
      yield* router.get("/", answer(index))
      yield* router.get(
        "/assets/*",
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          const name = assetName(request.url)
          const asset = name === undefined ? undefined : assets.get(name)
          return asset === undefined ? Effect.succeed(notFound(request.url)) : answer(asset)
        })
      )
    })
  )

export const layer = layerFrom(webDirectory)
