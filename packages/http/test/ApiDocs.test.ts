import { OpenApi } from "@effect/platform"
import { assert, describe, it, layer } from "@effect/vitest"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { Script } from "node:vm"
import { IrcamApi } from "../src/Api.js"
import * as ApiDocs from "../src/ApiDocs.js"
import { appLayer, send } from "./support/TestApp.js"

describe("ApiDocs", () => {
  layer(appLayer(SimulatedSensor.layer()), { excludeTestServices: true })((it) => {
    it.effect("GET /docs: the page holds the OpenAPI document and loads Scalar from /docs/scalar.js", () =>
      Effect.gen(function*() {
        const docs = yield* send("GET", "/docs")
        assert.strictEqual(docs.status, 200)
        assert.match(docs.headers["content-type"] ?? "", /^text\/html/)
        assert.include(docs.text, "<title>ircam</title>")
        assert.include(docs.text, "<script src=\"/docs/scalar.js\"></script>")
        const spec = /<script id="api-reference" type="application\/json">(.*?)<\/script>/.exec(docs.text)?.[1]
        assert.deepStrictEqual(JSON.parse(spec!), JSON.parse(JSON.stringify(OpenApi.fromApi(IrcamApi))))
        assert.isBelow(docs.text.length, 200_000, "the page itself is small")
      }))

    it.effect("GET /docs/scalar.js: the script of @effect/platform's HttpApiScalar, revalidated by ETag", () =>
      Effect.gen(function*() {
        const script = yield* send("GET", "/docs/scalar.js")
        assert.strictEqual(script.status, 200)
        assert.match(script.headers["content-type"] ?? "", /^text\/javascript/)
        assert.strictEqual(script.text, ApiDocs.scriptOf(readFileSync(ApiDocs.scalarModule, "utf8")))
        assert.include(script.text, "@scalar/api-reference")
        assert.doesNotThrow(() => new Script(script.text), "it is a script a browser can run")

        const etag = script.headers.etag!
        const again = yield* send("GET", "/docs/scalar.js", { headers: { "if-none-match": etag } })
        assert.strictEqual(again.status, 304)
        assert.strictEqual(again.text, "")
      }))
  })

  it("scriptOf reads the string literal of the module, escapes included", () => {
    assert.strictEqual(ApiDocs.scriptOf("export const javascript=\"a\\n\\\"b\\\"\";\n//# x"), "a\n\"b\"")
  })

  it("page escapes the title and the description, which it leaves out when there is none", () => {
    const html = ApiDocs.page({
      ...OpenApi.fromApi(IrcamApi),
      info: { title: "<ircam & co>", version: "1", description: "a \"quoted\" api" }
    })
    assert.include(html, "<title>&lt;ircam &amp; co&gt;</title>")
    assert.include(html, "content=\"a &quot;quoted&quot; api\"")
    assert.notInclude(html, "<ircam")
    const { description: _, ...info } = OpenApi.fromApi(IrcamApi).info
    assert.notInclude(ApiDocs.page({ ...OpenApi.fromApi(IrcamApi), info }), "name=\"description\"")
  })
})
