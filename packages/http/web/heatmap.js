// @ts-check
/**
 * Draws 32×24 temperatures on a canvas: each pixel coloured through a 256-colour palette between
 * a min and a max, then scaled up with the browser's bilinear smoothing. All the work is in the
 * browser: the server only sends numbers.
 */

export const WIDTH = 32
export const HEIGHT = 24

/**
 * A palette as a lookup table: 256 × [r, g, b].
 * @param {string[]} colors "#rrggbb" from the coldest to the hottest
 */
export const lookupTable = (colors) => {
  const table = new Uint8ClampedArray(256 * 3)
  colors.slice(0, 256).forEach((hex, i) => {
    const value = parseInt(hex.slice(1), 16)
    table[i * 3] = value >> 16
    table[i * 3 + 1] = (value >> 8) & 0xff
    table[i * 3 + 2] = value & 0xff
  })
  return table
}

/** A grey ramp, used when the palettes cannot be fetched. */
export const greyColors = () => Array.from({ length: 256 }, (_, i) => `#${i.toString(16).padStart(2, "0").repeat(3)}`)

/**
 * Min and max of the values that are not null (a recorded frame may lack some).
 * @param {readonly (number | null)[]} values
 */
export const range = (values) => {
  let min = Infinity
  let max = -Infinity
  for (const value of values) {
    if (value === null) continue
    if (value < min) min = value
    if (value > max) max = value
  }
  return min <= max ? { min, max } : { min: 0, max: 1 }
}

export class Heatmap {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas
    this.context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"))
    this.small = document.createElement("canvas")
    this.small.width = WIDTH
    this.small.height = HEIGHT
    this.smallContext = /** @type {CanvasRenderingContext2D} */ (this.small.getContext("2d"))
    this.image = this.smallContext.createImageData(WIDTH, HEIGHT)
    this.table = lookupTable(greyColors())
  }

  /** @param {string[]} colors */
  setPalette(colors) {
    this.table = lookupTable(colors)
  }

  /** Canvas pixels per sensor pixel. */
  get scale() {
    return this.canvas.width / WIDTH
  }

  /**
   * @param {readonly (number | null)[]} temperatures row-major, row 0 at the top
   * @param {number} min °C drawn with the first colour
   * @param {number} max °C drawn with the last colour
   */
  draw(temperatures, min, max) {
    const data = this.image.data
    const span = max > min ? max - min : 1
    for (let i = 0; i < WIDTH * HEIGHT; i++) {
      const value = temperatures[i]
      if (value === null || value === undefined) {
        data[i * 4 + 3] = 0 // no value: transparent
        continue
      }
      const index = Math.max(0, Math.min(255, Math.round(((value - min) / span) * 255))) * 3
      data[i * 4] = this.table[index] ?? 0
      data[i * 4 + 1] = this.table[index + 1] ?? 0
      data[i * 4 + 2] = this.table[index + 2] ?? 0
      data[i * 4 + 3] = 255
    }
    this.smallContext.putImageData(this.image, 0, 0)
    const { context } = this
    context.clearRect(0, 0, this.canvas.width, this.canvas.height)
    context.imageSmoothingEnabled = true
    context.imageSmoothingQuality = "low" // bilinear
    context.drawImage(this.small, 0, 0, this.canvas.width, this.canvas.height)
  }

  /**
   * The sensor pixel under a pointer position (clamped to the image).
   * @param {number} clientX
   * @param {number} clientY
   */
  pixelAt(clientX, clientY) {
    const box = this.canvas.getBoundingClientRect()
    const x = Math.floor(((clientX - box.left) / box.width) * WIDTH)
    const y = Math.floor(((clientY - box.top) / box.height) * HEIGHT)
    return { x: Math.max(0, Math.min(WIDTH - 1, x)), y: Math.max(0, Math.min(HEIGHT - 1, y)) }
  }

  /**
   * Paints the palette as a horizontal strip on `canvas`.
   * @param {HTMLCanvasElement} canvas
   */
  drawLegend(canvas) {
    const context = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"))
    const image = context.createImageData(256, 1)
    for (let i = 0; i < 256; i++) {
      image.data.set([this.table[i * 3] ?? 0, this.table[i * 3 + 1] ?? 0, this.table[i * 3 + 2] ?? 0, 255], i * 4)
    }
    canvas.width = 256
    canvas.height = 1
    context.putImageData(image, 0, 0)
  }
}
