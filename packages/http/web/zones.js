// @ts-check
/**
 * Zones on the live image: drawn with their names and live average/max (computed here from the
 * frame, no extra requests), created by dragging a rectangle on the image, redrawn by dragging
 * while one is selected, renamed and deleted from the list.
 */
import { celsius, get, send } from "./api.js"
import { button, byTestId } from "./dom.js"
import { WIDTH } from "./heatmap.js"

/** @typedef {import("./api.js").Zone} Zone */

/**
 * Average and max of a zone's pixels.
 * @param {Zone} zone
 * @param {readonly number[]} temperatures
 */
export const zoneStats = (zone, temperatures) => {
  let sum = 0
  let max = -Infinity
  for (let y = zone.y; y < zone.y + zone.height; y++) {
    for (let x = zone.x; x < zone.x + zone.width; x++) {
      const value = temperatures[y * WIDTH + x] ?? 0
      sum += value
      if (value > max) max = value
    }
  }
  return { average: sum / (zone.width * zone.height), max }
}

/**
 * The rectangle between two pixels, both included.
 * @param {{ x: number, y: number }} a
 * @param {{ x: number, y: number }} b
 */
const rectangle = (a, b) => ({
  x: Math.min(a.x, b.x),
  y: Math.min(a.y, b.y),
  width: Math.abs(a.x - b.x) + 1,
  height: Math.abs(a.y - b.y) + 1
})

export class Zones {
  /**
   * @param {import("./heatmap.js").Heatmap} heatmap the live image
   * @param {HTMLElement} section the zones panel
   * @param {() => void} redraw asks for the image to be drawn again
   * @param {(error: unknown) => void} report shows an error
   */
  constructor(heatmap, section, redraw, report) {
    this.heatmap = heatmap
    this.redraw = redraw
    this.report = report
    /** @type {Zone[]} */
    this.zones = []
    /** @type {number | undefined} */
    this.selected = undefined
    /** @type {{ start: { x: number, y: number }, end: { x: number, y: number }, moved: boolean } | undefined} */
    this.drag = undefined
    /** @type {{ x: number, y: number } | undefined} where the pointer went down, in screen pixels */
    this.downAt = undefined
    this.list = byTestId("zone-list", section)
    this.hint = byTestId("zone-hint", section)
    /** @type {Map<number, HTMLElement>} */
    this.statsOf = new Map()
    this.listen(heatmap.canvas)
    this.showHint()
    /** @type {(zones: Zone[]) => void} told the zones each time they are loaded (the history's charts follow them) */
    this.onLoad = () => {}
  }

  async load() {
    this.zones = await get("/zones")
    if (!this.zones.some((zone) => zone.id === this.selected)) this.selected = undefined
    this.renderList()
    this.redraw()
    this.onLoad(this.zones)
  }

  /** @param {HTMLCanvasElement} canvas */
  listen(canvas) {
    canvas.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return
      canvas.setPointerCapture(event.pointerId)
      const pixel = this.heatmap.pixelAt(event.clientX, event.clientY)
      this.drag = { start: pixel, end: pixel, moved: false }
      this.downAt = { x: event.clientX, y: event.clientY }
    })
    canvas.addEventListener("pointermove", (event) => {
      if (this.drag === undefined || this.downAt === undefined) return
      // a few screen pixels of jitter is still a click
      if (Math.hypot(event.clientX - this.downAt.x, event.clientY - this.downAt.y) > 4) this.drag.moved = true
      this.drag.end = this.heatmap.pixelAt(event.clientX, event.clientY)
      this.redraw()
    })
    canvas.addEventListener("pointerup", (event) => {
      const drag = this.drag
      this.drag = undefined
      if (drag === undefined) return
      drag.end = this.heatmap.pixelAt(event.clientX, event.clientY)
      if (drag.moved) void this.commit(rectangle(drag.start, drag.end))
      else this.select(this.zoneAt(drag.end)?.id)
      this.redraw()
    })
    canvas.addEventListener("pointercancel", () => {
      this.drag = undefined
      this.redraw()
    })
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.selected !== undefined) this.select(undefined)
    })
  }

  /**
   * The smallest zone containing a pixel.
   * @param {{ x: number, y: number }} pixel
   */
  zoneAt({ x, y }) {
    return this.zones
      .filter((zone) => x >= zone.x && x < zone.x + zone.width && y >= zone.y && y < zone.y + zone.height)
      .sort((a, b) => a.width * a.height - b.width * b.height)[0]
  }

  /** @param {number | undefined} id */
  select(id) {
    this.selected = id
    this.renderList()
    this.showHint()
    this.redraw()
  }

  showHint() {
    const zone = this.zones.find((z) => z.id === this.selected)
    this.hint.textContent = zone === undefined
      ? "Drag on the image to create a zone; click a zone to select it."
      : `Drag on the image to redraw “${zone.name}”; Esc or click outside to deselect.`
  }

  /**
   * Creates a zone, or redraws the selected one.
   * @param {{ x: number, y: number, width: number, height: number }} rect
   */
  async commit(rect) {
    try {
      const zone = this.zones.find((z) => z.id === this.selected)
      if (zone === undefined) {
        await send("POST", "/zones", rect) // not selected: the next drag creates another
      } else {
        await send("PUT", `/zones/${zone.id}`, { ...rect, name: zone.name, color: zone.color })
      }
    } catch (error) {
      this.report(error)
    }
    await this.load().catch(this.report)
    this.showHint()
  }

  /** @param {Zone} zone */
  async rename(zone) {
    const input = /** @type {HTMLInputElement | null} */ (this.list.querySelector(`[data-zone-id="${zone.id}"] input`))
    const name = input?.value.trim() ?? ""
    if (name === "" || name === zone.name) return
    try {
      await send("PUT", `/zones/${zone.id}`, {
        x: zone.x,
        y: zone.y,
        width: zone.width,
        height: zone.height,
        name,
        color: zone.color
      })
    } catch (error) {
      this.report(error)
    }
    await this.load().catch(this.report)
  }

  /** @param {Zone} zone */
  async remove(zone) {
    try {
      await send("DELETE", `/zones/${zone.id}`)
    } catch (error) {
      this.report(error)
    }
    await this.load().catch(this.report)
  }

  renderList() {
    this.statsOf.clear()
    this.list.replaceChildren(...this.zones.map((zone) => {
      const item = document.createElement("li")
      item.dataset["zoneId"] = String(zone.id)
      item.dataset["zoneName"] = zone.name
      item.dataset["testid"] = "zone"
      item.classList.toggle("selected", zone.id === this.selected)
      item.style.setProperty("--zone-color", zone.color)

      const form = document.createElement("form")
      const name = document.createElement("input")
      name.value = zone.name
      name.setAttribute("aria-label", "zone name")
      name.maxLength = 100
      const rename = button("Rename", () => void this.rename(zone))
      rename.type = "submit"
      form.append(name, rename)
      form.addEventListener("submit", (event) => event.preventDefault())

      const stats = document.createElement("span")
      stats.className = "zone-stats"
      stats.dataset["testid"] = "zone-stats"
      this.statsOf.set(zone.id, stats)
      const where = document.createElement("small")
      where.textContent = `x ${zone.x}, y ${zone.y}, ${zone.width}×${zone.height}`

      const selectButton = button(
        zone.id === this.selected ? "Deselect" : "Select",
        () => this.select(zone.id === this.selected ? undefined : zone.id)
      )
      const removeButton = button("Delete", () => void this.remove(zone))
      item.append(form, stats, where, selectButton, removeButton)
      return item
    }))
  }

  /**
   * Draws the zones (and the rectangle being dragged) over the image; updates the list's statistics.
   * @param {readonly number[] | undefined} temperatures the live frame, if any
   */
  overlay(temperatures) {
    const { context } = this.heatmap
    const scale = this.heatmap.scale
    context.save()
    context.font = `${Math.round(scale * 0.7)}px system-ui, sans-serif`
    context.textBaseline = "top"
    for (const zone of this.zones) {
      const selected = zone.id === this.selected
      context.lineWidth = selected ? 3 : 2
      context.setLineDash(selected ? [8, 4] : [])
      context.strokeStyle = zone.color
      context.strokeRect(zone.x * scale, zone.y * scale, zone.width * scale, zone.height * scale)
      let label = zone.name
      if (temperatures !== undefined) {
        const { average, max } = zoneStats(zone, temperatures)
        label += ` · avg ${celsius(average)} · max ${celsius(max)}`
        const stats = this.statsOf.get(zone.id)
        if (stats !== undefined) stats.textContent = `avg ${celsius(average)}, max ${celsius(max)}`
      }
      const width = context.measureText(label).width + 8
      const top = zone.y * scale >= scale ? zone.y * scale - scale : (zone.y + zone.height) * scale
      const left = Math.min(zone.x * scale, this.heatmap.canvas.width - width)
      context.fillStyle = "rgba(0, 0, 0, 0.6)"
      context.fillRect(left, top, width, scale)
      context.fillStyle = "#fff"
      context.fillText(label, left + 4, top + scale * 0.15)
    }
    if (this.drag?.moved) {
      const rect = rectangle(this.drag.start, this.drag.end)
      context.setLineDash([4, 4])
      context.lineWidth = 2
      context.strokeStyle = "#fff"
      context.strokeRect(rect.x * scale, rect.y * scale, rect.width * scale, rect.height * scale)
    }
    context.restore()
  }
}
