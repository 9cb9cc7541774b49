import { HttpApiBuilder, HttpServer } from "@effect/platform"
import { assert, describe, it, layer } from "@effect/vitest"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect, Exit, Layer, Option, Redacted } from "effect"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import * as WebPage from "../src/WebPage.js"
import { appLayer, errorOf, send } from "./support/TestApp.js"

/** A GET with the path exactly as given: no client normalises `..` or percent-escapes away. */
const rawGet = (path: string) =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return yield* Effect.async<{ status: number; text: string }>((resume) => {
      const req = request({ host: "127.0.0.1", port, path }, (response) => {
        let text = ""
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk))
        response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, text })))
      })
      req.on("error", (error) => resume(Effect.die(error)))
      req.end()
    })
  })

const webFiles = readdirSync(WebPage.webDirectory)

describe("WebPage", () => {
  // with a token: the page is a read, open to everyone
  layer(appLayer(SimulatedSensor.layer(), { apiToken: Option.some(Redacted.make("t0ken")) }), {
    excludeTestServices: true
  })((it) => {
    it.effect("serves index.html at /, revalidated by ETag", () =>
      Effect.gen(function*() {
        const page = yield* send("GET", "/")
        assert.strictEqual(page.status, 200)
        assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8")
        assert.strictEqual(page.headers["cache-control"], "no-cache")
        assert.include(page.text, "<script type=\"module\" src=\"/assets/app.js\"></script>")
        assert.strictEqual(page.text, readFileSync(new URL("index.html", WebPage.webDirectory), "utf8"))
        const etag = page.headers["etag"]!
        assert.match(etag, /^"[\w-]+"$/)

        const again = yield* send("GET", "/", { headers: { "if-none-match": etag } })
        assert.strictEqual(again.status, 304)
        assert.strictEqual(again.text, "")
        assert.strictEqual(again.headers["etag"], etag)
        const amongOthers = yield* send("GET", "/", { headers: { "if-none-match": `"other", ${etag}` } })
        assert.strictEqual(amongOthers.status, 304)
        const stale = yield* send("GET", "/", { headers: { "if-none-match": "\"other\"" } })
        assert.strictEqual(stale.status, 200)
        assert.strictEqual(stale.text, page.text)
      }))

    it.effect("serves the libraries the page imports (uPlot) from their installed package", () =>
      Effect.gen(function*() {
        for (const [name, specifier] of Object.entries(WebPage.packageFiles)) {
          const answer = yield* send("GET", `/assets/${name}`)
          assert.strictEqual(answer.status, 200, name)
          assert.match(answer.headers["content-type"] ?? "", name.endsWith(".js") ? /^text\/javascript/ : /^text\/css/)
          assert.strictEqual(answer.text, readFileSync(createRequire(import.meta.url).resolve(specifier), "utf8"), name)
        }
        assert.include((yield* send("GET", "/assets/uPlot.esm.js")).text, "export { uPlot as default }")
      }))

    it.effect("serves every script and style sheet of the page with its content type", () =>
      Effect.gen(function*() {
        const expected: Record<string, string> = {
          ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8"
        }
        const served = webFiles.filter((name) => /\.(js|css|html)$/.test(name))
        assert.includeMembers(served, ["app.js", "api.js", "heatmap.js", "style.css"])
        for (const name of served) {
          const answer = yield* send("GET", `/assets/${name}`)
          assert.strictEqual(answer.status, 200, name)
          assert.strictEqual(answer.headers["content-type"], expected[name.slice(name.lastIndexOf("."))], name)
          assert.strictEqual(answer.headers["x-content-type-options"], "nosniff")
          assert.strictEqual(answer.text, readFileSync(new URL(name, WebPage.webDirectory), "utf8"), name)
          const cached = yield* send("GET", `/assets/${name}`, {
            headers: { "if-none-match": answer.headers["etag"]! }
          })
          assert.strictEqual(cached.status, 304, name)
        }
        // a query string (cache busting) does not change the file
        const busted = yield* send("GET", "/assets/app.js?v=2")
        assert.strictEqual(busted.status, 200)
        assert.include(busted.text, "EventSource")
      }))

    it.effect("answers 404 JSON for a file it does not serve", () =>
      Effect.gen(function*() {
        for (const path of ["/assets/nope.js", "/assets/tsconfig.json", "/assets/sub/app.js"]) {
          const answer = yield* send("GET", path)
          assert.strictEqual(answer.status, 404, path)
          assert.match(answer.headers["content-type"] ?? "", /application\/json/)
          assert.strictEqual(errorOf(answer)._tag, "AssetNotFound", path)
        }
      }))

    it.effect("refuses paths that leave the folder", () =>
      Effect.gen(function*() {
        for (
          const path of [
            "/assets/../src/Server.ts",
            "/assets/../../package.json",
            "/assets/..%2fsrc%2fServer.ts",
            "/assets/%2e%2e%2f%2e%2e%2fpackage.json",
            "/assets/%2e%2e/package.json",
            "/assets//etc/passwd",
            "/assets/%2fetc%2fpasswd",
            "/assets/..\\package.json"
          ]
        ) {
          const answer = yield* rawGet(path)
          assert.strictEqual(answer.status, 404, path)
          assert.notInclude(answer.text, "ircam", path) // not a byte of another file
        }
      }))
  })

  describe("loadAssets", () => {
    const withDirectory = (files: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), "ircam-web-"))
      mkdirSync(join(dir, "sub.js"))
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
      return { url: pathToFileURL(`${dir}/`), [Symbol.dispose]: () => rmSync(dir, { recursive: true }) }
    }

    it("keeps only the files a browser may fetch, directly in the folder", () => {
      using dir = withDirectory({ "index.html": "<p>", "a.js": "1", "types.d.ts": "x", "tsconfig.json": "{}" })
      const assets = WebPage.loadAssets(dir.url)
      assert.deepStrictEqual([...assets.keys()].sort(), ["a.js", "index.html"])
      assert.strictEqual(assets.get("a.js")?.contentType, "text/javascript; charset=utf-8")
      assert.notStrictEqual(assets.get("a.js")?.etag, assets.get("index.html")?.etag)
    })

    it.effect("refuses to start without an index.html", () =>
      Effect.gen(function*() {
        using dir = withDirectory({ "a.js": "1" })
        const built = WebPage.layerFrom(dir.url).pipe(Layer.provide(HttpApiBuilder.Router.Live))
        const exit = yield* Effect.exit(Effect.scoped(Layer.build(built)))
        assert.isTrue(Exit.isFailure(exit))
        assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "no index.html")
      }))
  })

  it("names the file after /assets/, decoded, without the query", () => {
    assert.strictEqual(WebPage.assetName("/assets/app.js?v=1"), "app.js")
    assert.strictEqual(WebPage.assetName("/assets/a%20b.js"), "a b.js")
    assert.strictEqual(WebPage.assetName("/assets/%E0%A4%A"), undefined)
  })
})
