import { NodeContext } from "@effect/platform-node"
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { run } from "../src/Cli.js"
import { maskUrl } from "../src/ConfigCommand.js"

afterEach(() => {
  vi.restoreAllMocks()
})
import { runToExit } from "@ircam/test-support/Process"

describe("ircam config check", () => {
  it("masks credentials and query values of URLs", () => {
    assert.strictEqual(maskUrl(new URL("https://u:p@h.example/x?token=abc")), "https://***:***@h.example/x?token=***")
    assert.strictEqual(maskUrl(new URL("https://h.example/x")), "https://h.example/x")
  })

  it.live("in this process: text and JSON", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)))
      const env = new Map([
        ["API_TOKEN", "tok-secret"],
        ["ALLOWED_HOSTS", "Pi.Example, *.lab.example"],
        ["SMTP_HOST", "mail"],
        ["SMTP_FROM", "a@b"],
        ["SMTP_TO", "c@d"]
      ])
      for (const args of [["config", "check"], ["config", "check", "--json"]]) {
        yield* run(["node", "ircam", ...args]).pipe(
          Effect.withConfigProvider(ConfigProvider.fromMap(env)),
          Effect.provide(NodeContext.layer)
        )
      }
      const text = lines.join("\n")
      assert.include(text, "API_TOKEN=***")
      assert.include(text, "SMTP_HOST=mail")
      assert.include(text, "ALLOWED_HOSTS=pi.example,*.lab.example")
      assert.include(text, "METRICS_ENABLED=true")
      assert.include(text, "\"SMTP_TO\": \"c@d\"")
      assert.notInclude(text, "tok-secret")
    }))

  it.live(
    "prints the effective configuration from the environment and .env, secrets masked",
    () =>
      Effect.promise(async () => {
        const dir = mkdtempSync(join(tmpdir(), "ircam-config-"))
        writeFileSync(join(dir, ".env"), "API_TOKEN=tok-secret\nWEBHOOK_URL=https://u:pw@hook.example/x?token=abc\n")
        const env = {
          PORT: "9001",
          WEBHOOK_SECRET: "whsec_" + "A".repeat(24),
          SMTP_HOST: "mail",
          SMTP_FROM: "a@b",
          SMTP_TO: "c@d",
          SMTP_USER: "me",
          SMTP_PASSWORD: "smtp-secret"
        }
        const text = await runToExit(["config", "check"], env, dir)
        assert.strictEqual(text.code, 0, text.stderr)
        assert.include(text.stdout, "PORT=9001")
        assert.include(text.stdout, "API_TOKEN=***")
        assert.include(text.stdout, "ALLOWED_HOSTS=(unset)")
        assert.notInclude(text.stdout, "tok-secret")
        assert.notInclude(text.stdout, "smtp-secret")
        assert.notInclude(text.stdout, "pw@")
        const json = await runToExit(["config", "check", "--json"], env, dir)
        const values = JSON.parse(json.stdout)
        assert.strictEqual(values.WEBHOOK_URL, "https://***:***@hook.example/x?token=***")
        assert.strictEqual(values.SMTP_PASSWORD, "***")
        assert.strictEqual(values.WEBHOOK_SECRET, "***")
        assert.strictEqual(values.SMTP_USER, "me")
      }),
    60_000
  )

  it.live("an invalid value: exit code 1, one line naming the variable", () =>
    Effect.promise(async () => {
      const dir = mkdtempSync(join(tmpdir(), "ircam-config-"))
      const result = await runToExit(["config", "check"], { MAX_ZONES: "99" }, dir)
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, "MAX_ZONES")
      assert.strictEqual(result.stderr.trim().split("\n").length, 1)
    }), 60_000)
})
