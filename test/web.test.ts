/**
 * The live-view page in a real browser: `ircam serve` (simulated sensor, API_TOKEN set) as a child
 * process, Debian's Chromium driven by playwright-core. Chromium is installed with apt-get when it
 * is missing; the tests skip, saying why, only when that cannot be done.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { ensureChromium, executablePath, launchArgs } from "@ircam/test-support/Chromium"
import { freePort } from "@ircam/test-support/Port"
import { type Ircam, killAll, serverEnv, start, stop, waitUntilAnswering } from "@ircam/test-support/Process"
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"

// installing takes a minute or two: done while the file is collected, so that a skip is a real skip
const unavailable = await ensureChromium()
if (unavailable !== undefined) {
  console.warn(`test/web.test.ts: skipped, Chromium is not available and could not be installed: ${unavailable}`)
}

const token = "s3cret-token"
const artifacts = fileURLToPath(new URL("artifacts/", import.meta.url))

// what the functions run in the page use of it (the test project has no DOM types)
declare const document: {
  querySelector(selector: string): {
    readonly dataset: Record<string, string | undefined>
    readonly textContent: string | null
    readonly open?: boolean
  } | null
}
declare const sessionStorage: { getItem(key: string): string | null }
declare const localStorage: { getItem(key: string): string | null }

interface ZoneJson {
  readonly id: number
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}
interface AlarmJson {
  readonly id: number
  readonly acknowledgedAt: string | null
}

let dir = ""
let port = 0
let env: Record<string, string> = {}
let ircam: Ircam | undefined
let browser: Browser | undefined
let page: Page
const pageErrors: Array<string> = []
// what the Content-Security-Policy blocked: nothing the page itself does
const policyViolations: Array<string> = []
const origin = () => `http://127.0.0.1:${port}`

const api = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
  const response = await fetch(`${origin()}/api/v1${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  assert.isTrue(response.ok, `${method} ${path}: ${response.status} ${text}`)
  return JSON.parse(text) as A
}

const serve = async () => {
  ircam = start(["serve"], env, dir)
  await waitUntilAnswering(ircam, `${origin()}/api/v1/health`)
}

/** The sequence of the frame drawn last (the canvas's `data-sequence`), once there is one. */
const drawnSequence = async () => {
  const handle = await page.waitForFunction(() => document.querySelector("[data-testid=heatmap]")?.dataset["sequence"])
  return Number(await handle.jsonValue())
}

interface Pixel {
  readonly x: number
  readonly y: number
}

/** Presses the mouse on one sensor pixel of the live image and releases it on another. */
const dragOnImage = async (from: Pixel, to: Pixel) => {
  const box = (await page.getByTestId("heatmap").boundingBox())!
  const at = ({ x, y }: Pixel) => [box.x + ((x + 0.5) * box.width) / 32, box.y + ((y + 0.5) * box.height) / 24] as const
  await page.mouse.move(...at(from))
  await page.mouse.down()
  if (from.x !== to.x || from.y !== to.y) {
    await page.mouse.move(...at({ x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 }), { steps: 4 })
    await page.mouse.move(...at(to), { steps: 4 })
  }
  await page.mouse.up()
}

describe.skipIf(unavailable !== undefined)("the live-view page", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ircam-web-"))
    port = await freePort()
    env = serverEnv(dir, port, {
      REFRESH_RATE_HZ: "8",
      API_TOKEN: token,
      // short recordings, so that "record now" starts one of its own soon after the alarm's
      PRE_EVENT_SECONDS: "1",
      POST_EVENT_SECONDS: "1"
    })
    await serve()
    // evil.example is another site on this machine: its pages, and its name pointed at ircam
    browser = await chromium.launch({
      executablePath,
      args: [...launchArgs, "--host-resolver-rules=MAP evil.example 127.0.0.1"]
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(15_000)
    page.on("pageerror", (error) => pageErrors.push(error.message))
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text())
    })
  })

  afterAll(async () => {
    await browser?.close()
    await killAll()
    if (dir !== "") await rm(dir, { recursive: true, force: true })
  })

  it("loads and draws the live frames from the stream", async () => {
    await page.goto(`${origin()}/`)
    assert.strictEqual(await page.title(), "ircam · live view")
    await page.locator("[data-testid=connection][data-state=live]").waitFor()
    const first = await drawnSequence()
    await page.waitForFunction(
      (seen) => Number(document.querySelector("[data-testid=heatmap]")?.dataset["sequence"]) > seen,
      first
    )
    await page.getByTestId("max").filter({ hasText: "°C" }).waitFor()
    // the sensor's rate (8 Hz), by the frames' own times: from the first frames on, not inflated by
    // the latest frame that comes at once on connecting
    await page.getByTestId("fps").filter({ hasText: /^(7\.[5-9]|8\.[0-5]) fps$/ }).waitFor()
    await page.getByTestId("health-status").filter({ hasText: /^(ok|degraded)$/ }).waitFor()

    // hovering the image reads the pixel under the pointer
    const box = (await page.getByTestId("heatmap").boundingBox())!
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5)
    await page.getByTestId("pointer").filter({ hasText: /°C at \(16, 12\)/ }).waitFor()
  }, 60_000)

  it("creates a zone drawn with the mouse, asking for the token (again after a wrong one)", async () => {
    await dragOnImage({ x: 2, y: 3 }, { x: 9, y: 8 })

    const dialog = page.getByTestId("token-dialog")
    await dialog.waitFor()
    await page.getByTestId("token-input").fill("wrong")
    await page.getByTestId("token-submit").click()
    await page.waitForFunction(() => {
      const open = document.querySelector("dialog")?.open
      return open && document.querySelector("[data-testid=token-reason]")?.textContent?.includes("refused")
    })
    await page.getByTestId("token-input").fill(token)
    await page.getByTestId("token-submit").click()

    await page.getByTestId("zone").waitFor()
    const zones = await api<Array<ZoneJson>>("GET", "/zones")
    assert.lengthOf(zones, 1)
    assert.deepInclude(zones[0], { x: 2, y: 3, width: 8, height: 6 })
    // kept for this tab's session only
    assert.strictEqual(await page.evaluate(() => sessionStorage.getItem("ircam.token")), token)
    assert.isNull(await page.evaluate(() => localStorage.getItem("ircam.token")))
    await page.getByTestId("zone-stats").filter({ hasText: /avg .*°C, max .*°C/ }).waitFor()
  }, 60_000)

  it("redraws a selected zone, renames it, deletes it, and shows the API's refusals", async () => {
    const [zone] = await api<Array<ZoneJson>>("GET", "/zones")
    await dragOnImage({ x: 3, y: 4 }, { x: 3, y: 4 }) // a click on the zone selects it
    await page.locator(`[data-zone-id="${zone!.id}"].selected`).waitFor()
    await dragOnImage({ x: 20, y: 10 }, { x: 25, y: 14 })
    await page.getByTestId("zone").filter({ hasText: "x 20, y 10, 6×5" }).waitFor()
    assert.deepInclude(await api<ZoneJson>("GET", `/zones/${zone!.id}`), { x: 20, y: 10, width: 6, height: 5 })

    const item = page.locator(`[data-zone-id="${zone!.id}"]`)
    await item.getByLabel("zone name").fill("bench")
    await item.getByRole("button", { name: "Rename" }).click()
    await page.getByTestId("heatmap").press("Escape")
    await page.locator(`[data-zone-id="${zone!.id}"][data-zone-name=bench]:not(.selected)`).waitFor()
    assert.strictEqual((await api<ZoneJson & { name: string }>("GET", `/zones/${zone!.id}`)).name, "bench")

    // MAX_ZONES is 2: the third is refused, and the page says why
    await dragOnImage({ x: 0, y: 20 }, { x: 3, y: 23 })
    await page.getByTestId("zone").nth(1).waitFor()
    await dragOnImage({ x: 28, y: 0 }, { x: 31, y: 3 })
    await page.getByTestId("error-text").filter({ hasText: /^ZoneLimitReached: .*MAX_ZONES/ }).waitFor()
    await page.getByTestId("error-close").click()

    const second = page.getByTestId("zone").nth(1)
    await second.getByRole("button", { name: "Delete" }).click()
    await page.getByTestId("zone").nth(1).waitFor({ state: "detached" })
    assert.lengthOf(await api<Array<ZoneJson>>("GET", "/zones"), 1)
  }, 60_000)

  it("keeps the palette chosen", async () => {
    await page.getByTestId("palette").selectOption("rainbow")
    await page.reload()
    await page.locator("[data-testid=connection][data-state=live]").waitFor()
    assert.strictEqual(await page.getByTestId("palette").inputValue(), "rainbow")
    await page.getByTestId("palette").selectOption("iron")
  }, 60_000)

  it("shows a raised alarm and acknowledges it", async () => {
    // the whole frame's max is always above 0 °C: raised at the next frame
    await api("POST", "/alarms/rules", {
      name: "anything above zero",
      zoneId: null,
      metric: "max",
      direction: "above",
      threshold: 0,
      severity: "warning",
      delaySeconds: 0
    })
    const alarm = page.getByTestId("alarm")
    await alarm.filter({ hasText: "anything above zero" }).waitFor()
    await page.getByTestId("event").first().waitFor() // the alarm's recording
    await mkdir(artifacts, { recursive: true })
    await page.screenshot({ path: join(artifacts, "live-view.png"), fullPage: true })

    const id = Number(await alarm.getAttribute("data-alarm-id"))
    await alarm.getByTestId("ack").click()
    await alarm.getByTestId("ack").waitFor({ state: "detached" })
    await alarm.filter({ hasText: "acknowledged" }).waitFor()
    const acknowledged = await api<AlarmJson>("GET", `/alarms/${id}`)
    assert.isString(acknowledged.acknowledgedAt)
  }, 60_000)

  it("records an event on demand and plays its frames", async () => {
    // the alarm's recording is over (the list follows the stream's `recording` messages)
    await page.getByTestId("event").first().waitFor()
    await page.getByTestId("event").filter({ hasText: "recording…" }).waitFor({ state: "detached" })
    const before = await page.getByTestId("event").count()
    await page.getByTestId("record-label").fill("from the browser")
    await page.getByTestId("record").click()
    await page.getByTestId("record-status").filter({ hasText: /^Recording #\d+\.$/ }).waitFor()
    await page.getByTestId("event").filter({ hasText: "from the browser" }).waitFor()
    assert.strictEqual(await page.getByTestId("event").count(), before + 1)

    await page.getByTestId("event").first().getByRole("button", { name: "Play" }).click()
    await page.getByTestId("player").waitFor()
    await page.getByTestId("player-time").filter({ hasText: /frame 1\/\d+/ }).waitFor()

    // the server's animation of the event, downloaded under its name
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("player-gif").click()])
    assert.match(download.suggestedFilename(), /^event-\d+\.gif$/)
    const gif = await readFile(await download.path())
    assert.strictEqual(gif.subarray(0, 6).toString("latin1"), "GIF89a")
  }, 60_000)

  it("another site can neither frame the page, nor reach it under its own name, nor change anything", async () => {
    const evilPort = await freePort()
    const evil: Server = createServer((_request, response) => {
      response.setHeader("content-type", "text/html")
      response.end(`<!doctype html><title>evil</title>
        <iframe src="${origin()}/"></iframe>
        <form method="POST" action="${origin()}/api/v1/events" enctype="text/plain">
          <input name='{"label":"evil form","x":"' value='"}'>
        </form>`)
    })
    await new Promise<void>((resolve) => evil.listen(evilPort, "127.0.0.1", resolve))
    const attacker = await browser!.newPage()
    try {
      // DNS rebinding: the attacker's name, pointed at ircam, is refused, and says what to set
      const rebound = await attacker.goto(`http://evil.example:${port}/`)
      assert.strictEqual(rebound?.status(), 421)
      assert.include(await rebound?.text(), "ALLOWED_HOSTS")

      const framing: Array<string> = []
      attacker.on("console", (message) => framing.push(message.text()))
      await attacker.goto(`http://evil.example:${evilPort}/`)
      // the page in a frame: not shown
      const frame = attacker.frames().find((f) => f !== attacker.mainFrame())!
      await frame.waitForLoadState()
      assert.strictEqual(await frame.locator("[data-testid=heatmap]").count(), 0)
      assert.isTrue(framing.some((text) => /frame-ancestors|X-Frame-Options/i.test(text)), framing.join("\n"))

      // writes from the attacker's page reach the server and are refused
      const refused = async (path: string, send: () => Promise<unknown>) => {
        const answer = attacker.waitForResponse((r) => r.url() === `${origin()}/api/v1${path}`)
        await send()
        return (await answer).status()
      }
      const noCors = (path: string, body?: string) =>
        attacker.evaluate(
          ([url, body]) =>
            fetch(url!, { method: "POST", mode: "no-cors", ...(body === undefined ? {} : { body }) }).then(() => {}),
          [`${origin()}/api/v1${path}`, body] as const
        )
      assert.strictEqual(await refused("/events", () => noCors("/events", "{\"label\":\"evil fetch\"}")), 403)
      assert.strictEqual(await refused("/events", () => noCors("/events")), 403)
      assert.strictEqual(await refused("/alarms/1/ack", () => noCors("/alarms/1/ack")), 403)
      assert.strictEqual(
        await refused(
          "/events",
          // in the page: the tests are typed without the DOM, so the form is described here
          () => attacker.locator("form").evaluate((form) => (form as unknown as { submit(): void }).submit())
        ),
        403
      )
      const events = await api<Array<{ label: string | null }>>("GET", "/events")
      assert.isFalse(events.some((event) => event.label?.includes("evil")))
    } finally {
      await attacker.close()
      await new Promise((resolve) => evil.close(resolve))
    }
  }, 60_000)

  it("shows the stream as disconnected while the server is down, and reconnects by itself", async () => {
    // a graceful stop, with the page's stream and the connections Chromium opened ahead of use
    assert.strictEqual(await stop(ircam!), 0)
    await page.locator("[data-testid=connection][data-state=disconnected]").waitFor()
    await serve()
    await page.locator("[data-testid=connection][data-state=live]").waitFor({ timeout: 30_000 })
    const seen = await drawnSequence()
    await page.waitForFunction(
      (after) => Number(document.querySelector("[data-testid=heatmap]")?.dataset["sequence"]) !== after,
      seen
    )
    assert.deepStrictEqual(pageErrors, [])
    assert.deepStrictEqual(policyViolations, [])
  }, 60_000)
})
