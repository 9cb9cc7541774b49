// @ts-check
/**
 * The live view: one Server-Sent Events stream brings frames, alarm transitions and recordings;
 * everything else is a few small requests (the palettes once, the lists on load and when the
 * stream says they changed, the health every 10 s). Frames are drawn at most once per display
 * refresh, whatever rate they arrive at.
 */
import { Alarms } from "./alarms.js"
import { base, celsius, describe, get, setTokenPrompt } from "./api.js"
import { byTestId } from "./dom.js"
import { Events } from "./events.js"
import { startHealth } from "./health.js"
import { greyColors, Heatmap, WIDTH } from "./heatmap.js"
import { History } from "./history.js"
import { Zones } from "./zones.js"

/** @typedef {import("./api.js").Frame} Frame */
/** @typedef {import("./api.js").Palette} Palette */

const paletteKey = "ircam.palette"

// --- errors: one line at the top, until dismissed or replaced
const errorBox = byTestId("error")
const errorText = byTestId("error-text")
let errorTimer = 0
/** @param {unknown} error */
const report = (error) => {
  errorText.textContent = describe(error)
  errorBox.hidden = false
  window.clearTimeout(errorTimer)
  errorTimer = window.setTimeout(() => (errorBox.hidden = true), 15_000)
}
byTestId("error-close").addEventListener("click", () => (errorBox.hidden = true))

// --- the token: asked in a dialog when a change is refused with a 401
const tokenDialog = /** @type {HTMLDialogElement} */ (byTestId("token-dialog"))
const tokenInput = /** @type {HTMLInputElement} */ (byTestId("token-input"))
setTokenPrompt((reason) =>
  new Promise((resolve) => {
    byTestId("token-reason").textContent = reason
    tokenInput.value = ""
    tokenDialog.returnValue = ""
    tokenDialog.addEventListener(
      "close",
      () => resolve(tokenDialog.returnValue === "ok" && tokenInput.value !== "" ? tokenInput.value : undefined),
      { once: true }
    )
    tokenDialog.showModal()
  })
)

// --- the live image and its readouts
const canvas = /** @type {HTMLCanvasElement} */ (byTestId("heatmap"))
const heatmap = new Heatmap(canvas)
const readout = {
  min: byTestId("min"),
  max: byTestId("max"),
  centre: byTestId("centre"),
  pointer: byTestId("pointer"),
  fps: byTestId("fps"),
  age: byTestId("age"),
  legendMin: byTestId("legend-min"),
  legendMax: byTestId("legend-max")
}
const legend = /** @type {HTMLCanvasElement} */ (byTestId("legend"))

/** @type {Frame | undefined} */
let frame
/** @type {{ x: number, y: number } | undefined} */
let pointer
/** when the last frames arrived (ms, this clock), for the age of the last one */
let arrivedAt = /** @type {number | undefined} */ (undefined)
/**
 * Sequence and capture time of the frames of the last 3 s, for the frame rate: by the sensor's
 * clock, as arrival times bunch up (the latest frame comes at once on connecting, then the next).
 * @type {{ sequence: number, at: number }[]}
 */
const captures = []
let drawPending = false

const zones = new Zones(heatmap, byTestId("zones"), () => requestDraw(), report)
const alarms = new Alarms(byTestId("alarms"), report)
const events = new Events(byTestId("events"), report)
const history = new History(byTestId("history"), report, (event) => void events.open(event))
zones.onLoad = (/** @type {import("./api.js").Zone[]} */ list) => history.followZones(list)

const requestDraw = () => {
  if (drawPending) return
  drawPending = true
  requestAnimationFrame(draw)
}

// the centre is between pixels 15 and 16, rows 11 and 12: the mean of those four
const centreIndices = [11 * WIDTH + 15, 11 * WIDTH + 16, 12 * WIDTH + 15, 12 * WIDTH + 16]

const showPointer = () => {
  const value = frame === undefined || pointer === undefined
    ? undefined
    : frame.temperatures[pointer.y * WIDTH + pointer.x]
  readout.pointer.textContent = value === undefined || pointer === undefined
    ? "—"
    : `${celsius(value)} at (${pointer.x}, ${pointer.y})`
}

const draw = () => {
  drawPending = false
  if (frame === undefined) {
    canvas.getContext("2d")?.clearRect(0, 0, canvas.width, canvas.height)
    zones.overlay(undefined)
    return
  }
  const { temperatures } = frame
  heatmap.draw(temperatures, frame.min, frame.max)
  zones.overlay(temperatures)
  readout.min.textContent = celsius(frame.min)
  readout.max.textContent = celsius(frame.max)
  readout.legendMin.textContent = celsius(frame.min)
  readout.legendMax.textContent = celsius(frame.max)
  const centre = centreIndices.reduce((sum, i) => sum + (temperatures[i] ?? 0), 0) / centreIndices.length
  readout.centre.textContent = celsius(centre)
  showPointer()
  canvas.dataset["sequence"] = String(frame.sequence)
}

canvas.addEventListener("pointermove", (event) => {
  pointer = heatmap.pixelAt(event.clientX, event.clientY)
  showPointer()
})
canvas.addEventListener("pointerleave", () => {
  pointer = undefined
  showPointer()
})

/** @param {Frame} next */
const onFrame = (next) => {
  frame = next
  arrivedAt = performance.now()
  const at = Date.parse(next.capturedAt)
  // a gap in the sequence or a step back in time (a reconnect, a restart) starts the count again
  const previous = captures[captures.length - 1]
  if (previous !== undefined && (next.sequence <= previous.sequence || at <= previous.at)) captures.length = 0
  captures.push({ sequence: next.sequence, at })
  while (captures.length > 2 && (captures[0]?.at ?? at) < at - 3000) captures.shift()
  requestDraw()
}

// frame rate and age of the last frame, twice a second
setInterval(() => {
  const first = captures[0]
  const last = captures[captures.length - 1]
  readout.fps.textContent = first !== undefined && last !== undefined && last.at > first.at
    ? `${(((last.sequence - first.sequence) * 1000) / (last.at - first.at)).toFixed(1)} fps`
    : "—"
  const age = arrivedAt === undefined ? undefined : (performance.now() - arrivedAt) / 1000
  readout.age.textContent = age === undefined ? "no frame yet" : `${age.toFixed(1)} s ago`
  readout.age.classList.toggle("stale", age === undefined || age > 5)
}, 500)

// --- palettes: fetched once; the choice is kept in localStorage
const paletteSelect = /** @type {HTMLSelectElement} */ (byTestId("palette"))
/** @type {Palette[]} */
let palettes = []
const applyPalette = () => {
  const colors = palettes.find((palette) => palette.name === paletteSelect.value)?.colors ?? greyColors()
  heatmap.setPalette(colors)
  events.setPalette(colors)
  heatmap.drawLegend(legend)
  requestDraw()
}
paletteSelect.addEventListener("change", () => {
  localStorage.setItem(paletteKey, paletteSelect.value)
  applyPalette()
})
const loadPalettes = async () => {
  try {
    palettes = await get("/thermal/palettes")
  } catch (error) {
    report(error) // drawn in grey meanwhile
  }
  const saved = localStorage.getItem(paletteKey)
  if (saved !== null && palettes.some((palette) => palette.name === saved)) paletteSelect.value = saved
  applyPalette()
}

// --- the stream; EventSource reconnects by itself after a network error
const connection = byTestId("connection")
/** @param {"connecting" | "live" | "disconnected" | "paused"} state */
const setConnection = (state) => {
  connection.textContent = state
  connection.dataset["state"] = state
}

/** Everything the stream would have told us while it was down. */
const resync = () => Promise.all([zones.load(), alarms.load(), events.load()]).catch(report)

/** @param {MessageEvent} message */
const parse = (message) => JSON.parse(message.data)

/** @type {EventSource | undefined} */
let source
// the stream missed something: fetch the lists again once it is back
let wasDown = false
let retryTimer = 0

const connect = () => {
  setConnection("connecting")
  const current = new EventSource(`${base}/thermal/stream`)
  source = current
  current.addEventListener("open", () => {
    setConnection("live")
    if (wasDown) void resync()
    wasDown = false
  })
  current.addEventListener("error", () => {
    setConnection("disconnected")
    wasDown = true
    // an answer that is not a stream (a 503 when MAX_STREAMS are open) ends it for good: try again later
    if (current.readyState === EventSource.CLOSED) retryTimer = window.setTimeout(connect, 5000)
  })
  current.addEventListener("frame", (message) => onFrame(parse(message)))
  current.addEventListener("alarm", (message) => alarms.onMessage(parse(message)))
  current.addEventListener("recording", () => events.refreshSoon())
}

// a hidden page (a background tab, a phone in a pocket) costs the Pi nothing: no stream until it shows again
document.addEventListener("visibilitychange", () => {
  if (document.hidden) {
    source?.close()
    source = undefined
    window.clearTimeout(retryTimer)
    wasDown = true
    setConnection("paused")
  } else if (source === undefined) {
    connect()
  }
})

void loadPalettes()
void resync()
void history.load()
if (document.hidden) setConnection("paused")
else connect()
startHealth(byTestId("health"))
