/**
 * The history charts of the page in a real browser: `ircam serve` (simulated sensor) as a child
 * process, Debian's Chromium driven by playwright-core (installed with apt-get when missing; the
 * tests skip, saying why, only when that cannot be done). The charts draw what the API answers,
 * with the thresholds and the alarm periods; a drag zooms (a new request); a click opens the event
 * recorded then; the page's Content-Security-Policy is never violated.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { ensureChromium, executablePath, launchArgs } from "@ircam/test-support/Chromium"
import { freePort } from "@ircam/test-support/Port"
import { killAll, serverEnv, start, waitUntilAnswering } from "@ircam/test-support/Process"
import { mkdir, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Locator, type Page } from "playwright-core"

const unavailable = await ensureChromium()
if (unavailable !== undefined) {
  console.warn(
    `test/history-chart.test.ts: skipped, Chromium is not available and could not be installed: ${unavailable}`
  )
}

const artifacts = fileURLToPath(new URL("artifacts/", import.meta.url))

// what the functions run in the page use of it (the test project has no DOM types)
declare const document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null }

interface Bucket {
  readonly t: string
  readonly min: number | null
  readonly max: number | null
  readonly mean: number | null
  readonly frames: number
}

let dir = ""
let port = 0
let browser: Browser | undefined
let page: Page
const pageErrors: Array<string> = []
const policyViolations: Array<string> = []
/** the page's requests to /api/v1/history, as URLs */
const requests: Array<URL> = []
const origin = () => `http://127.0.0.1:${port}`

const api = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
  const response = await fetch(`${origin()}/api/v1${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  assert.isTrue(response.ok, `${method} ${path}: ${response.status} ${text}`)
  return JSON.parse(text) as A
}

const chart = (target: string) => page.locator(`[data-testid=history-chart][data-target=${target}]`)

const attribute = async (locator: Locator, name: string) => (await locator.getAttribute(`data-${name}`)) ?? ""

/** The horizontal position of the instant `ms` on a chart's plot. */
const xOf = async (target: string, ms: number) => {
  const box = (await chart(target).locator(".u-over").boundingBox())!
  const from = Date.parse(await attribute(chart(target), "from"))
  const to = Date.parse(await attribute(chart(target), "to"))
  return box.x + ((ms - from) / (to - from)) * box.width
}

/** How many pixels of a chart's canvas have this colour (within a few levels). */
const pixelsOf = (target: string, [r, g, b]: readonly [number, number, number]) =>
  chart(target).locator("canvas").evaluate((element, rgb) => {
    // runs in the page; the tests are typed without the DOM, so the canvas is described here
    const canvas = element as unknown as {
      width: number
      height: number
      getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } }
    }
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height)
    let count = 0
    for (let i = 0; i < data.length; i += 4) {
      if (
        Math.abs(data[i]! - rgb[0]) < 8 && Math.abs(data[i + 1]! - rgb[1]) < 8 && Math.abs(data[i + 2]! - rgb[2]) < 8
      ) {
        count++
      }
    }
    return count
  }, [r, g, b] as const)

describe.skipIf(unavailable !== undefined)("the history charts", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ircam-history-web-"))
    port = await freePort()
    const ircam = start(["serve"], serverEnv(dir, port, { REFRESH_RATE_HZ: "8", POST_EVENT_SECONDS: "60" }), dir)
    await waitUntilAnswering(ircam, `${origin()}/api/v1/health`)
    await api("POST", "/zones", { name: "hot plate", x: 24, y: 4, width: 4, height: 3 })
    await api("POST", "/alarms/rules", {
      name: "plate too hot",
      zoneId: 1,
      metric: "max",
      direction: "above",
      threshold: 60,
      delaySeconds: 2,
      severity: "critical"
    })
    // a warm spot keeps the frame's max above 30 °C: raised at once, with its recording
    await api("POST", "/alarms/rules", {
      name: "anything warm",
      metric: "max",
      direction: "above",
      threshold: 30,
      severity: "warning"
    })
    browser = await chromium.launch({ executablePath, args: launchArgs })
    page = await browser.newPage({ viewport: { width: 1280, height: 1300 } })
    page.setDefaultTimeout(20_000)
    page.on("pageerror", (error) => pageErrors.push(error.message))
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text())
    })
    page.on("request", (request) => {
      const url = new URL(request.url())
      if (url.pathname === "/api/v1/history") requests.push(url)
    })
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await killAll()
    if (dir !== "") await rm(dir, { recursive: true, force: true })
  })

  it("draws the series the API answers, each rule's threshold and the alarm periods", async () => {
    await page.goto(`${origin()}/`)
    // the writer stores seconds every 5 s; the charts fetch the latest ones as often
    await page.waitForFunction(() =>
      Number(document.querySelector("[data-testid=history-chart][data-target=frame]")?.getAttribute("data-points")) >= 6
    )
    const frame = chart("frame")
    assert.strictEqual(await attribute(frame, "step"), "1s", "the last hour, by the second")
    assert.strictEqual(await attribute(frame, "live"), "true")
    // what it drew is what the API answers for its range
    const from = await attribute(frame, "from")
    const to = await attribute(frame, "to")
    const answer = await api<{ buckets: ReadonlyArray<Bucket> }>(
      "GET",
      `/history?from=${from}&to=${to}&step=1s`
    )
    const recorded = answer.buckets.filter((b) => b.frames > 0)
    assert.closeTo(Number(await attribute(frame, "points")), recorded.length, 5)

    assert.strictEqual(await attribute(frame, "thresholds"), "1")
    assert.strictEqual(await attribute(chart("zone-1"), "thresholds"), "1")
    assert.isAbove(await pixelsOf("zone-1", [0xff, 0x41, 0x36]), 50, "the critical rule's dashed line")
    assert.strictEqual(await attribute(frame, "alarms"), "1")
    assert.strictEqual(await attribute(frame, "shaded"), "1")
    assert.strictEqual(await attribute(chart("zone-1"), "shaded"), "0", "the plate is still cold")
    await mkdir(artifacts, { recursive: true })
    await page.getByTestId("history").screenshot({ path: join(artifacts, "history.png") })
  }, 90_000)

  it("zooming in asks for the range dragged across; a double click goes back", async () => {
    const frame = chart("frame")
    const end = Date.parse(await attribute(frame, "to"))
    const before = requests.length
    const box = (await frame.locator(".u-over").boundingBox())!
    const start = await xOf("frame", end - 60_000)
    await page.mouse.move(start, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(start + 50, box.y + box.height / 2, { steps: 5 })
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 5 })
    await page.mouse.up()
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=history-chart][data-target=frame]")?.getAttribute("data-live") === "false"
    )
    const zoomed = requests.slice(before).filter((url) => url.searchParams.get("points") !== null)
    assert.sameMembers(zoomed.map((url) => url.searchParams.get("zoneId")), [null, "1"], "every chart follows")
    const asked = zoomed[0]!
    const askedFrom = Date.parse(asked.searchParams.get("from")!)
    const askedTo = Date.parse(asked.searchParams.get("to")!)
    // a pixel is 3 s of an hour
    assert.closeTo(askedFrom, end - 60_000, 10_000)
    assert.closeTo(askedTo, end, 10_000)
    assert.strictEqual(await attribute(frame, "step"), "1s")
    // a minute across the plot: curves dozens of pixels long
    assert.isAbove(await pixelsOf("frame", [0xff, 0x6b, 0x5e]), 40, "the max curve")
    assert.isAbove(await pixelsOf("frame", [0x4e, 0xa1, 0xff]), 40, "the min curve")
    assert.strictEqual(await attribute(page.getByTestId("history"), "range"), "custom")

    await frame.locator(".u-over").dblclick({ position: { x: 5, y: 5 } })
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=history]")?.getAttribute("data-range") === "hour"
    )
    // zoomed in again for the next test
    await page.mouse.move(start, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 8 })
    await page.mouse.up()
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=history]")?.getAttribute("data-range") === "custom"
    )
  }, 60_000)

  it("a click on a moment opens the event recorded then, even one still recording", async () => {
    const [alarm] = await api<ReadonlyArray<{ raisedAt: string; eventId: number }>>("GET", "/alarms/active")
    // POST_EVENT_SECONDS=60: the alarm's event is still recording, its `endedAt` its latest frame
    const event = await api<{ status: string }>("GET", `/events/${alarm!.eventId}`)
    assert.strictEqual(event.status, "recording")
    const box = (await chart("frame").locator(".u-over").boundingBox())!
    await page.mouse.click(await xOf("frame", Date.parse(alarm!.raisedAt)), box.y + box.height / 2)
    await page.getByTestId("player").waitFor()
    await page.getByTestId("player-title").filter({ hasText: `#${alarm!.eventId} anything warm` }).waitFor()
    assert.deepStrictEqual(pageErrors, [])
    assert.deepStrictEqual(policyViolations, [])
  }, 60_000)
})
