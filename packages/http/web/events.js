// @ts-check
/**
 * The recorded events (newest first, refreshed when the stream reports a recording) and a player
 * for their frames, drawn by the same renderer as the live image on a canvas of its own.
 */
import { base, celsius, dateTime, get, send, time } from "./api.js"
import { button, byTestId, element } from "./dom.js"
import { Heatmap, range } from "./heatmap.js"

/** @typedef {import("./api.js").RecordedEvent} RecordedEvent */
/** @typedef {import("./api.js").EventFrame} EventFrame */

export class Events {
  /**
   * @param {HTMLElement} section the events panel
   * @param {(error: unknown) => void} report shows an error
   */
  constructor(section, report) {
    this.report = report
    this.list = byTestId("event-list", section)
    this.player = byTestId("player", section)
    this.heatmap = new Heatmap(byTestId("player-canvas", section))
    this.title = byTestId("player-title", section)
    this.slider = /** @type {HTMLInputElement} */ (byTestId("player-slider", section))
    this.playButton = /** @type {HTMLButtonElement} */ (byTestId("player-play", section))
    this.frameTime = byTestId("player-time", section)
    this.gif = /** @type {HTMLAnchorElement} */ (byTestId("player-gif", section))
    this.label = /** @type {HTMLInputElement} */ (byTestId("record-label", section))
    this.recordStatus = byTestId("record-status", section)
    /** @type {EventFrame[]} */
    this.frames = []
    this.scale = { min: 0, max: 1 }
    /** @type {number | undefined} */
    this.timer = undefined
    /** @type {number | undefined} */
    this.refreshTimer = undefined
    /** @type {Set<number>} the ids listed */
    this.known = new Set()

    this.slider.addEventListener("input", () => {
      this.pause()
      this.show(Number(this.slider.value))
    })
    this.playButton.addEventListener("click", () => (this.timer === undefined ? this.play() : this.pause()))
    byTestId("player-close", section).addEventListener("click", () => {
      this.pause()
      this.player.hidden = true
    })
    byTestId("record-form", section).addEventListener("submit", (event) => {
      event.preventDefault()
      void this.record()
    })
  }

  async load() {
    /** @type {RecordedEvent[]} */
    const events = await get("/events?limit=50")
    this.known = new Set(events.map((event) => event.id))
    this.list.replaceChildren(...events.map((event) => {
      const item = element("li", "", { "data-testid": "event", "data-event-id": String(event.id) })
      const what = event.label ?? (event.kind === "alarm" ? `alarm ${event.alarmId ?? ""}` : "manual")
      item.append(
        element("strong", `#${event.id} ${what}`),
        element(
          "span",
          ` ${dateTime(event.triggeredAt)} · ${event.frameCount} frames` +
            (event.peak === null ? "" : ` · peak ${celsius(event.peak.temperature)}`) +
            (event.status === "recording" ? " · recording…" : "")
        ),
        button("Play", () => void this.open(event))
      )
      return item
    }))
  }

  /** A recording started, grew, completed or was deleted: fetch the list again, at most twice a second. */
  refreshSoon() {
    if (this.refreshTimer !== undefined) return
    this.refreshTimer = window.setTimeout(() => {
      this.refreshTimer = undefined
      void this.load().catch(this.report)
    }, 500)
  }

  /** @param {RecordedEvent} event */
  async open(event) {
    this.pause()
    try {
      this.frames = await get(`/events/${event.id}/frames`)
    } catch (error) {
      this.report(error)
      return
    }
    // one colour scale for the whole event, so that frames compare
    this.scale = range(this.frames.flatMap((frame) => frame.temperatures))
    this.title.textContent = `#${event.id} ${event.label ?? event.kind} · ${celsius(this.scale.min)} – ` +
      celsius(this.scale.max)
    this.player.hidden = false
    // the server's animation of the whole event, drawn as the page draws it
    this.gif.href = `${base}/events/${event.id}/animation.gif?scale=10&zones=true&legend=true`
    this.gif.download = `event-${event.id}.gif`
    this.gif.hidden = this.frames.length === 0
    this.slider.max = String(Math.max(0, this.frames.length - 1))
    this.show(0)
    if (this.frames.length === 0) this.frameTime.textContent = "no frames stored"
    this.player.scrollIntoView({ block: "nearest" })
  }

  /** @param {number} index */
  show(index) {
    const frame = this.frames[index]
    if (frame === undefined) return
    this.slider.value = String(index)
    this.heatmap.draw(frame.temperatures, this.scale.min, this.scale.max)
    this.frameTime.textContent = `${time(frame.capturedAt)} · frame ${index + 1}/${this.frames.length}`
  }

  play() {
    if (this.frames.length === 0) return
    if (Number(this.slider.value) >= this.frames.length - 1) this.show(0)
    this.playButton.textContent = "Pause"
    const step = () => {
      const index = Number(this.slider.value)
      const current = this.frames[index]
      const next = this.frames[index + 1]
      if (current === undefined || next === undefined) return this.pause()
      // at the recorded pace
      const delay = Date.parse(next.capturedAt) - Date.parse(current.capturedAt)
      this.timer = window.setTimeout(() => {
        this.show(index + 1)
        step()
      }, Math.max(16, Math.min(1000, delay)))
    }
    step()
  }

  pause() {
    window.clearTimeout(this.timer)
    this.timer = undefined
    this.playButton.textContent = "Play"
  }

  async record() {
    const label = this.label.value.trim()
    try {
      /** @type {RecordedEvent} */
      const event = await send("POST", "/events", label === "" ? {} : { label })
      this.label.value = ""
      // during a recording the server extends it rather than starting another
      const extended = this.known.has(event.id)
      this.recordStatus.textContent = extended
        ? `Extended the recording in progress, #${event.id}.`
        : `Recording #${event.id}.`
      await this.load()
    } catch (error) {
      this.report(error)
    }
  }

  /** @param {string[]} colors */
  setPalette(colors) {
    this.heatmap.setPalette(colors)
    if (!this.player.hidden) this.show(Number(this.slider.value))
  }
}
