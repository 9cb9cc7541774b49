// @ts-check
/**
 * The temperature history: a chart (uPlot) of the min, mean and max of the whole frame and of each
 * zone over the last hour, day or week, or a chosen range. Dragging across a chart zooms in (a new
 * request for that range, at the finest step that fits); a double click goes back. While the range
 * ends now, the latest buckets are fetched again every few seconds. Each enabled rule's threshold
 * is a dashed line, alarm periods are shaded, and a click opens the event recorded at that moment.
 */
import { get } from "./api.js"
import { byTestId, element } from "./dom.js"
import uPlot from "./uPlot.esm.js"

/** @typedef {import("./api.js").Zone} Zone */
/** @typedef {import("./api.js").Rule} Rule */
/** @typedef {import("./api.js").RecordedEvent} RecordedEvent */
/**
 * @typedef {{ t: string, min: number | null, max: number | null, mean: number | null, frames: number }} Bucket
 * @typedef {{ ruleId: number, severity: "warning" | "critical", from: string, to: string | null, alarms: number,
 *   alarmId: number, eventId: number | null }} AlarmPeriod
 * @typedef {{ since: string, reason: "started" | "zoneChanged" | "clockSteppedBack" }} Segment
 * @typedef {{ zoneId: number | null, step: "1s" | "1m" | "1h", from: string, to: string, segments: Segment[],
 *   buckets: Bucket[], alarms: AlarmPeriod[] }} HistoryAnswer
 * @typedef {{ from: number, to: number, live: boolean }} Window
 */

/** The ranges the buttons offer, ending now. */
export const presets = /** @type {const} */ ({ hour: 3_600_000, day: 86_400_000, week: 604_800_000 })

/** Buckets asked for: an hour at 1 s, a day at 1 min, a week at 1 h. */
export const points = 4000

const stepMs = { "1s": 1000, "1m": 60_000, "1h": 3_600_000 }

/** How often the latest buckets are fetched again while the range ends now. */
const refreshMs = { "1s": 5000, "1m": 10_000, "1h": 60_000 }

const colors = { min: "#4ea1ff", mean: "#e6e6e6", max: "#ff6b5e", warning: "#ffb000", critical: "#ff4136" }
const shades = { warning: "rgba(255, 176, 0, 0.16)", critical: "rgba(255, 65, 54, 0.2)" }
const reasons = { started: "", zoneChanged: "zone changed", clockSteppedBack: "clock stepped back" }

/** @param {number} ms */
const iso = (ms) => new Date(ms).toISOString()

/** @param {Window} window @param {number | null} zoneId @param {string} [step] */
const query = (window, zoneId, step) =>
  new globalThis.URLSearchParams({
    ...(zoneId === null ? {} : { zoneId: String(zoneId) }),
    from: iso(window.from),
    to: iso(window.to),
    ...(step === undefined ? { points: String(points) } : { step })
  }).toString()

/**
 * One bucket a moment: where two segments recorded the same time (the clock went back), the later
 * recording is drawn. Gaps are nulls, which uPlot leaves undrawn.
 * @param {Bucket[]} buckets
 * @returns {[number[], (number | null)[], (number | null)[], (number | null)[]]}
 */
const alignedData = (buckets) => {
  /** @type {Map<number, Bucket>} */
  const byTime = new Map()
  for (const bucket of buckets) byTime.set(Date.parse(bucket.t) / 1000, bucket)
  const times = [...byTime.keys()].sort((a, b) => a - b)
  return [
    times,
    times.map((t) => byTime.get(t)?.min ?? null),
    times.map((t) => byTime.get(t)?.mean ?? null),
    times.map((t) => byTime.get(t)?.max ?? null)
  ]
}

/** A chart of one target: the whole frame (zone null) or a zone. */
class Chart {
  /**
   * @param {History} owner
   * @param {Zone | null} zone
   */
  constructor(owner, zone) {
    this.owner = owner
    this.zone = zone
    this.zoneId = zone === null ? null : zone.id
    this.item = element("li", "", {
      "data-testid": "history-chart",
      "data-target": zone === null ? "frame" : `zone-${zone.id}`
    })
    const title = element("h3", zone === null ? "Whole frame" : zone.name)
    if (zone !== null) title.style.setProperty("--zone-color", zone.color)
    this.plotBox = element("div", "", { class: "history-plot" })
    this.item.append(title, this.plotBox)
    /** @type {HistoryAnswer | undefined} */
    this.answer = undefined
    /** @type {uPlot | undefined} */
    this.plot = undefined
    /** where the pointer went down on the plot, to tell a click from a drag */
    this.down = 0
  }

  /** @param {Window} window */
  async load(window) {
    /** @type {HistoryAnswer} */
    const answer = await get(`/history?${query(window, this.zoneId)}`)
    this.answer = answer
    this.draw()
  }

  /**
   * The buckets from the last one drawn to now, replacing those it had (the latest bucket grows).
   * @param {Window} window
   */
  async refresh(window) {
    const answer = this.answer
    if (answer === undefined) return this.load(window)
    const last = [...answer.buckets].reverse().find((bucket) => bucket.frames > 0)
    const since = last === undefined ? window.from : Math.max(window.from, Date.parse(last.t))
    /** @type {HistoryAnswer} */
    const tail = await get(`/history?${query({ ...window, from: since }, this.zoneId, answer.step)}`)
    const start = Date.parse(tail.buckets[0]?.t ?? iso(since))
    const known = new Set(tail.alarms.map((period) => `${period.ruleId}/${period.alarmId}`))
    this.answer = {
      ...tail,
      from: iso(window.from),
      segments: [...answer.segments.filter((s) => Date.parse(s.since) < start), ...tail.segments],
      buckets: [
        ...answer.buckets.filter((bucket) => Date.parse(bucket.t) >= window.from && Date.parse(bucket.t) < start),
        ...tail.buckets
      ],
      alarms: [...answer.alarms.filter((period) => !known.has(`${period.ruleId}/${period.alarmId}`)), ...tail.alarms]
    }
    this.draw()
  }

  /** The rules drawn on this chart: enabled, on this target, on a temperature (not the rate). */
  thresholds() {
    return this.owner.rules.filter((rule) => rule.enabled && rule.zoneId === this.zoneId && rule.metric !== "rate")
  }

  draw() {
    const answer = this.answer
    if (answer === undefined) return
    const data = alignedData(answer.buckets)
    const recorded = answer.buckets.filter((bucket) => bucket.frames > 0).length
    Object.assign(this.item.dataset, {
      step: answer.step,
      from: answer.from,
      to: answer.to,
      points: String(recorded),
      thresholds: String(this.thresholds().length),
      alarms: String(answer.alarms.length),
      live: String(this.owner.window().live)
    })
    if (this.plot === undefined) this.plot = this.create(data)
    else this.plot.setData(data)
  }

  /** @param {uPlot.AlignedData} data */
  create(data) {
    const celsiusValue = (/** @type {uPlot} */ _u, /** @type {number | null} */ v) =>
      v === null ? "—" : `${v.toFixed(1)} °C`
    const axis = { stroke: "#9aa0a6", grid: { stroke: "#2a2e33" }, ticks: { stroke: "#33373d" } }
    /** @type {uPlot.Options} */
    const options = {
      width: Math.max(300, this.plotBox.clientWidth),
      height: 220,
      cursor: { drag: { x: true, y: false, setScale: false } },
      scales: {
        x: {
          time: true,
          range: () => [Date.parse(this.answer?.from ?? "") / 1000, Date.parse(this.answer?.to ?? "") / 1000]
        },
        y: { range: (_u, min, max) => this.yRange(min, max) }
      },
      axes: [axis, { ...axis, size: 60, values: (_u, ticks) => ticks.map((v) => `${v} °C`) }],
      series: [
        {},
        { label: "min", stroke: colors.min, width: 1, value: celsiusValue },
        { label: "mean", stroke: colors.mean, width: 1.5, value: celsiusValue },
        { label: "max", stroke: colors.max, width: 1, value: celsiusValue }
      ],
      bands: [{ series: [3, 1], fill: "rgba(230, 230, 230, 0.06)" }],
      hooks: {
        drawClear: [(u) => this.shadeAlarms(u)],
        draw: [(u) => this.drawMarks(u)],
        setSelect: [(u) => this.zoomTo(u)]
      }
    }
    const plot = new uPlot(options, data, this.plotBox)
    plot.over.addEventListener("pointerdown", (event) => (this.down = event.clientX))
    plot.over.addEventListener("pointerup", (event) => {
      if (Math.abs(event.clientX - this.down) < 4) void this.openEventAt(plot.posToVal(plot.cursor.left ?? 0, "x"))
    })
    plot.over.addEventListener("dblclick", () => this.owner.back())
    return plot
  }

  /**
   * The temperatures shown: the data's, and every threshold drawn.
   * @param {number | null} min
   * @param {number | null} max
   * @returns {uPlot.Range.MinMax}
   */
  yRange(min, max) {
    const values = [min, max, ...this.thresholds().map((rule) => rule.threshold)].filter(
      /** @returns {v is number} */ (v) => v !== null && Number.isFinite(v)
    )
    if (values.length === 0) return [15, 30]
    const low = Math.min(...values)
    const high = Math.max(...values)
    const pad = Math.max(1, (high - low) * 0.08)
    return [Math.floor(low - pad), Math.ceil(high + pad)]
  }

  /** @param {uPlot} u alarm periods as shaded bands, under the curves */
  shadeAlarms(u) {
    const { ctx } = u
    const { height, left, top, width } = u.bbox
    const now = Date.now()
    let shown = 0
    ctx.save()
    for (const period of this.answer?.alarms ?? []) {
      const from = Math.max(left, u.valToPos(Date.parse(period.from) / 1000, "x", true))
      const to = Math.min(
        left + width,
        u.valToPos((period.to === null ? now : Date.parse(period.to)) / 1000, "x", true)
      )
      if (to <= from) continue
      ctx.fillStyle = shades[period.severity]
      // at least a pixel wide, so that a short alarm on a long range still shows
      ctx.fillRect(from, top, Math.max(to - from, uPlot.pxRatio), height)
      shown++
    }
    ctx.restore()
    this.item.dataset["shaded"] = String(shown)
  }

  /** @param {uPlot} u each rule's threshold, dashed, and where a segment began */
  drawMarks(u) {
    const { ctx } = u
    const { height, left, top, width } = u.bbox
    ctx.save()
    ctx.lineWidth = uPlot.pxRatio
    ctx.font = `${11 * uPlot.pxRatio}px system-ui, sans-serif`
    ctx.textAlign = "left"
    ctx.textBaseline = "alphabetic"
    ctx.setLineDash([6 * uPlot.pxRatio, 4 * uPlot.pxRatio])
    for (const rule of this.thresholds()) {
      const y = Math.round(u.valToPos(rule.threshold, "y", true))
      ctx.strokeStyle = ctx.fillStyle = colors[rule.severity === "critical" ? "critical" : "warning"]
      ctx.beginPath()
      ctx.moveTo(left, y)
      ctx.lineTo(left + width, y)
      ctx.stroke()
      ctx.fillText(`${rule.name} (${rule.direction} ${rule.threshold} °C)`, left + 4, y - 4)
    }
    ctx.setLineDash([2 * uPlot.pxRatio, 3 * uPlot.pxRatio])
    ctx.strokeStyle = ctx.fillStyle = "#9aa0a6"
    for (const segment of this.answer?.segments ?? []) {
      if (segment.reason === "started") continue
      const x = Math.round(u.valToPos(Date.parse(segment.since) / 1000, "x", true))
      if (x < left || x > left + width) continue
      ctx.beginPath()
      ctx.moveTo(x, top)
      ctx.lineTo(x, top + height)
      ctx.stroke()
      ctx.fillText(reasons[segment.reason], x + 4, top + 12 * uPlot.pxRatio)
    }
    ctx.restore()
  }

  /** @param {uPlot} u a drag across the plot: its range, at the finest step that fits */
  zoomTo(u) {
    const { left, width } = u.select
    if (width < 4) return
    const from = u.posToVal(left, "x") * 1000
    const to = u.posToVal(left + width, "x") * 1000
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false)
    this.owner.show({ from: Math.round(from), to: Math.round(to), live: false })
  }

  /**
   * Opens the event recorded at the moment clicked, if any (within the bucket clicked).
   * @param {number} seconds
   */
  async openEventAt(seconds) {
    const step = stepMs[this.answer?.step ?? "1s"]
    const at = Math.floor((seconds * 1000) / step) * step
    try {
      // an event runs at most 15 minutes from its trigger, which the list filters on
      /** @type {RecordedEvent[]} */
      const events = await get(`/events?from=${iso(at - 900_000)}&to=${iso(at + step)}&limit=100`)
      // one still recording covers every moment since it started (its `endedAt` is its latest stored frame)
      const covering = events.filter((event) =>
        event.startedAt !== null && Date.parse(event.startedAt) < at + step &&
        (event.status === "recording" || (event.endedAt !== null && Date.parse(event.endedAt) >= at))
      )
      const event = covering.find((e) => e.zoneId === this.zoneId) ?? covering[0]
      if (event === undefined) this.owner.status(`No event was recorded at ${new Date(at).toLocaleString()}.`)
      else this.owner.openEvent(event)
    } catch (error) {
      this.owner.report(error)
    }
  }

  resize() {
    this.plot?.setSize({ width: Math.max(300, this.plotBox.clientWidth), height: 220 })
  }

  destroy() {
    this.plot?.destroy()
    this.item.remove()
  }
}

/**
 * A chart is made again when its zone is renamed, recoloured or redrawn.
 * @param {Zone | null} zone
 */
const chartKey = (zone) =>
  zone === null ? "frame" : [zone.id, zone.name, zone.color, zone.x, zone.y, zone.width, zone.height].join("/")

export class History {
  /**
   * @param {HTMLElement} section the history panel
   * @param {(error: unknown) => void} report shows an error
   * @param {(event: RecordedEvent) => void} openEvent plays an event's frames
   */
  constructor(section, report, openEvent) {
    this.section = section
    this.report = report
    this.openEvent = openEvent
    this.list = byTestId("history-charts", section)
    this.statusLine = byTestId("history-status", section)
    this.fromInput = /** @type {HTMLInputElement} */ (byTestId("history-from", section))
    this.toInput = /** @type {HTMLInputElement} */ (byTestId("history-to", section))
    /** @type {keyof typeof presets | Window} */
    this.range = "hour"
    /** @type {Window[]} the ranges zoomed from, for a double click */
    this.previous = []
    /** @type {Rule[]} */
    this.rules = []
    /** @type {Map<string, Chart>} */
    this.charts = new Map()
    /** @type {number | undefined} */
    this.timer = undefined
    /** @type {string[] | undefined} the zones the charts were made for */
    this.zoneKeys = undefined

    for (const button of section.querySelectorAll("[data-range]")) {
      button.addEventListener("click", () => {
        this.previous = []
        this.range = /** @type {keyof typeof presets} */ (/** @type {HTMLElement} */ (button).dataset["range"])
        void this.load()
      })
    }
    byTestId("history-range-form", section).addEventListener("submit", (event) => {
      event.preventDefault()
      const from = Date.parse(this.fromInput.value)
      const to = Date.parse(this.toInput.value)
      if (!(from < to)) return this.status("Choose a start before the end.")
      this.show({ from, to, live: false })
    })
    window.addEventListener("resize", () => this.charts.forEach((chart) => chart.resize()))
  }

  /** The range shown now. @returns {Window} */
  window() {
    if (typeof this.range !== "string") return this.range
    const to = Date.now()
    return { from: to - presets[this.range], to, live: true }
  }

  /** @param {Window} range */
  show(range) {
    const current = this.window()
    this.previous.push(current.live ? current : { ...current })
    this.range = range
    void this.load()
  }

  /** Back to the range before the last zoom (the last hour when there was none). */
  back() {
    const previous = this.previous.pop()
    this.range = previous === undefined || previous.live ? "hour" : previous
    void this.load()
  }

  /**
   * The zones as the zones panel has them: the charts are made again when they changed.
   * @param {Zone[]} zones
   */
  followZones(zones) {
    if (this.zoneKeys === undefined) return // the first load, under way, fetches them
    const keys = zones.map(chartKey)
    if (keys.length !== this.zoneKeys.length || keys.some((key, i) => key !== this.zoneKeys?.[i])) void this.load()
  }

  /** @param {string} text */
  status(text) {
    this.statusLine.textContent = text
  }

  /** The charts (the frame's, then each zone's) for the current range, and the rules drawn on them. */
  async load() {
    const window = this.window()
    try {
      const [zones, rules] = await Promise.all([get("/zones"), get("/alarms/rules")])
      this.rules = /** @type {Rule[]} */ (rules)
      this.zoneKeys = /** @type {Zone[]} */ (zones).map(chartKey)
      const targets = [null, .../** @type {Zone[]} */ (zones)]
      const keys = new Set(targets.map(chartKey))
      for (const [key, chart] of this.charts) {
        if (!keys.has(key)) {
          chart.destroy()
          this.charts.delete(key)
        }
      }
      for (const zone of targets) {
        const key = chartKey(zone)
        if (!this.charts.has(key)) {
          const chart = new Chart(this, zone)
          this.charts.set(key, chart)
          this.list.append(chart.item)
        }
      }
      this.section.dataset["range"] = typeof this.range === "string" ? this.range : "custom"
      for (const button of this.section.querySelectorAll("[data-range]")) {
        button.classList.toggle("selected", /** @type {HTMLElement} */ (button).dataset["range"] === this.range)
      }
      this.status(
        `${new Date(window.from).toLocaleString()} – ${window.live ? "now" : new Date(window.to).toLocaleString()}` +
          " · drag across a chart to zoom in, double-click to go back, click a moment to open its event"
      )
      await Promise.all([...this.charts.values()].map((chart) => chart.load(window)))
    } catch (error) {
      this.report(error)
    }
    this.schedule()
  }

  /** While the range ends now: the latest buckets again, at the pace of the finest step shown. */
  schedule() {
    window.clearTimeout(this.timer)
    if (!this.window().live) return
    const steps = [...this.charts.values()].map((chart) => refreshMs[chart.answer?.step ?? "1s"])
    this.timer = window.setTimeout(async () => {
      if (!document.hidden) {
        const now = this.window()
        await Promise.all([...this.charts.values()].map((chart) => chart.refresh(now))).catch(this.report)
      }
      this.schedule()
    }, Math.min(...steps, refreshMs["1h"]))
  }
}
