/**
 * Heat-map images of a frame: each temperature mapped through a palette, upsampled bilinearly to
 * 32·scale × 24·scale pixels, optionally with the zones drawn on top and a legend strip below.
 * Pure and synchronous: `render` gives RGBA pixels, `toPng` encodes them.
 *
 * Pixels without a value (NaN) are not smeared into their neighbours: an output pixel whose nearest
 * sensor pixel has no value is painted the palette's `noData` colour (so a dead pixel shows as a
 * scale×scale square, where it is), and every other output pixel interpolates over its valid
 * neighbours only, their bilinear weights renormalised. The nearest neighbour always carries at least
 * a quarter of the weight, so the sum never vanishes, and a frame without gaps gets plain bilinear.
 */
import { encode } from "fast-png"
import * as BitmapFont from "./BitmapFont.js"
import { HEIGHT, PIXELS, WIDTH } from "./Frame.js"
import { fromHex, luts, noData, type PaletteName, type Rgb, SIZE } from "./Palette.js"

export const MAX_SCALE = 20

/** A zone to outline: its rectangle in sensor pixels, its `#rrggbb` colour and its name. */
export interface ZoneOverlay {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
  readonly color: string
  readonly name: string
}

export interface RenderOptions {
  readonly palette: PaletteName
  /** output pixels per sensor pixel along each axis, 1–`MAX_SCALE` */
  readonly scale: number
  /** °C at the bottom of the colour scale; the frame's own minimum when absent */
  readonly min?: number | undefined
  /** °C at the top of the colour scale; the frame's own maximum when absent */
  readonly max?: number | undefined
  readonly zones?: ReadonlyArray<ZoneOverlay> | undefined
  /** add a strip under the image with the colour bar and the range in °C */
  readonly legend?: boolean | undefined
}

export interface Image {
  readonly width: number
  readonly height: number
  /** 4 bytes a pixel, row-major, top row first */
  readonly rgba: Uint8Array
}

export interface HeatMap extends Image {
  /** the temperatures (°C) at the two ends of the colour scale */
  readonly min: number
  readonly max: number
}

/**
 * The temperatures at the ends of the colour scale: the given ones, else the frame's own (values
 * without a number left out). A range that would be empty, which dividing by would break, is widened:
 * a uniform frame gets ±0.5 °C, so it shows the palette's middle colour; a given end keeps its value.
 */
export const colourRange = (
  temperatures: ArrayLike<number>,
  min?: number | undefined,
  max?: number | undefined
): { readonly min: number; readonly max: number } => {
  let low = Infinity
  let high = -Infinity
  for (let i = 0; i < temperatures.length; i++) {
    const t = temperatures[i]!
    if (!Number.isFinite(t)) continue
    if (t < low) low = t
    if (t > high) high = t
  }
  const from = min ?? low
  const to = max ?? high
  if (to > from) return { min: from, max: to }
  if (min !== undefined) return { min, max: min + 1 }
  if (max !== undefined) return { min: max - 1, max }
  // a uniform frame, or one without any value (then both ends are infinite)
  const middle = Number.isFinite(from) ? from : 0
  return { min: middle - 0.5, max: middle + 0.5 }
}

/** Where each output pixel samples along one axis: two source cells, the weight of the second, the nearest. */
interface Axis {
  readonly first: Int32Array
  readonly second: Int32Array
  readonly weight: Float64Array
  readonly nearest: Int32Array
}

const axes = new Map<string, Axis>()

/** Sampling of `cells` source pixels upsampled `scale` times: pixel centres aligned, clamped at the edges. */
const axis = (cells: number, scale: number): Axis => {
  const key = `${cells}×${scale}`
  const cached = axes.get(key)
  if (cached !== undefined) return cached
  const size = cells * scale
  const result: Axis = {
    first: new Int32Array(size),
    second: new Int32Array(size),
    weight: new Float64Array(size),
    nearest: new Int32Array(size)
  }
  for (let o = 0; o < size; o++) {
    const at = Math.min(cells - 1, Math.max(0, (o + 0.5) / scale - 0.5))
    const first = Math.floor(at)
    result.first[o] = first
    result.second[o] = Math.min(cells - 1, first + 1)
    result.weight[o] = at - first
    result.nearest[o] = Math.floor(o / scale)
  }
  axes.set(key, result)
  return result
}

/** The size unit of overlays and legend: they grow with the image, but stay crisp (whole pixels). */
export const unit = (scale: number): number => Math.max(1, Math.floor(scale / 5))

const legendLayout = (scale: number) => {
  const u = unit(scale)
  return { u, pad: 2 * u, bar: 6 * u, text: BitmapFont.GLYPH_HEIGHT * u }
}

/** Height in pixels of the legend strip at `scale`: padding, colour bar, padding, labels, padding. */
export const legendHeight = (scale: number): number => {
  const { bar, pad, text } = legendLayout(scale)
  return pad + bar + pad + text + pad
}

/** The size of an image at `scale`, with or without the legend strip. */
export const size = (scale: number, legend: boolean): { readonly width: number; readonly height: number } => ({
  width: WIDTH * scale,
  height: HEIGHT * scale + (legend ? legendHeight(scale) : 0)
})

export const legendBackground: Rgb = [24, 24, 24]
export const legendText: Rgb = [255, 255, 255]

/** Paints a rectangle (clipped to the canvas). */
export const fillRect = (canvas: Image, x: number, y: number, width: number, height: number, color: Rgb): void => {
  const x0 = Math.max(0, x)
  const x1 = Math.min(canvas.width, x + width)
  for (let row = Math.max(0, y); row < Math.min(canvas.height, y + height); row++) {
    for (let col = x0; col < x1; col++) {
      const o = (row * canvas.width + col) * 4
      canvas.rgba[o] = color[0]
      canvas.rgba[o + 1] = color[1]
      canvas.rgba[o + 2] = color[2]
      canvas.rgba[o + 3] = 255
    }
  }
}

/** `text` if it fits in `room` pixels, else its longest prefix that fits followed by "…", else "". */
export const fitText = (text: string, room: number, scale: number): string => {
  if (BitmapFont.textWidth(text, scale) <= room) return text
  for (let n = text.length - 1; n > 0; n--) {
    const prefix = text.slice(0, n).trimEnd()
    if (prefix !== "" && BitmapFont.textWidth(prefix + "…", scale) <= room) return prefix + "…"
  }
  return ""
}

const black: Rgb = [0, 0, 0]

/** Outlines each zone (inside its rectangle, so edge zones show whole) and writes its name in its top-left corner. */
const drawZones = (canvas: Image, zones: ReadonlyArray<ZoneOverlay>, scale: number) => {
  const line = Math.max(1, Math.round(scale / 5))
  const fontScale = scale >= 15 ? 2 : 1
  for (const zone of zones) {
    const color = fromHex(zone.color)
    const x = zone.x * scale
    const y = zone.y * scale
    const width = zone.width * scale
    const height = zone.height * scale
    fillRect(canvas, x, y, width, line, color)
    fillRect(canvas, x, y + height - line, width, line, color)
    fillRect(canvas, x, y, line, height, color)
    fillRect(canvas, x + width - line, y, line, height, color)
    // the name, with a dark shadow (one pixel right and down) to stand out from any palette colour
    const inset = line + 1
    const name = fitText(BitmapFont.normalize(zone.name), width - 2 * inset - 1, fontScale)
    if (name !== "" && BitmapFont.GLYPH_HEIGHT * fontScale <= height - 2 * inset - 1) {
      BitmapFont.drawText(canvas, name, x + inset + 1, y + inset + 1, black, fontScale)
      BitmapFont.drawText(canvas, name, x + inset, y + inset, color, fontScale)
    }
  }
}

/** °C with `decimals` decimals, without the sign of a negative zero. */
const celsius = (value: number, decimals: number) => {
  const text = value.toFixed(decimals)
  return text.startsWith("-") && Number(text) === 0 ? text.slice(1) : text
}

/** The most precise labels for the two ends that fit side by side in `room` pixels; none if nothing fits. */
const labels = (min: number, max: number, room: number, scale: number): readonly [string, string] | undefined => {
  const candidates: ReadonlyArray<readonly [string, string]> = [
    [`${celsius(min, 1)}°C`, `${celsius(max, 1)}°C`],
    [celsius(min, 1), celsius(max, 1)],
    [celsius(min, 0), celsius(max, 0)]
  ]
  const gap = BitmapFont.ADVANCE * scale
  return candidates.find(([low, high]) =>
    BitmapFont.textWidth(low, scale) + gap + BitmapFont.textWidth(high, scale) <= room
  )
}

/** The legend strip from row `top` down: the palette as a bar, the min under its left end, the max under its right. */
const drawLegend = (canvas: Image, top: number, scale: number, lut: Uint8Array, min: number, max: number) => {
  const { bar, pad, u } = legendLayout(scale)
  fillRect(canvas, 0, top, canvas.width, canvas.height - top, legendBackground)
  const barWidth = canvas.width - 2 * pad
  for (let col = 0; col < barWidth; col++) {
    const i = Math.round((col * (SIZE - 1)) / (barWidth - 1)) * 3
    fillRect(canvas, pad + col, top + pad, 1, bar, [lut[i]!, lut[i + 1]!, lut[i + 2]!])
  }
  const text = labels(min, max, barWidth, u)
  if (text === undefined) return
  const y = top + pad + bar + pad
  BitmapFont.drawText(canvas, text[0], pad, y, legendText, u)
  BitmapFont.drawText(canvas, text[1], pad + barWidth - BitmapFont.textWidth(text[1], u), y, legendText, u)
}

/** Draws the heat map of one frame (`PIXELS` temperatures, row-major, NaN for a pixel without a value). */
export const render = (temperatures: ArrayLike<number>, options: RenderOptions): HeatMap => {
  if (temperatures.length !== PIXELS) {
    throw new RangeError(`a frame has ${PIXELS} temperatures, not ${temperatures.length}`)
  }
  const { scale } = options
  if (!Number.isInteger(scale) || scale < 1 || scale > MAX_SCALE) {
    throw new RangeError(`scale must be an integer from 1 to ${MAX_SCALE}, not ${scale}`)
  }
  const { max, min } = colourRange(temperatures, options.min, options.max)
  // temperatures as fractional palette indices (affine, so it commutes with interpolation); 0 where none
  const indices = new Float64Array(PIXELS)
  const valid = new Uint8Array(PIXELS)
  const perDegree = (SIZE - 1) / (max - min)
  let gaps = false
  for (let i = 0; i < PIXELS; i++) {
    const t = temperatures[i]!
    if (Number.isFinite(t)) {
      indices[i] = (t - min) * perDegree
      valid[i] = 1
    } else {
      gaps = true
    }
  }

  const lut = luts[options.palette]
  const [noR, noG, noB] = noData[options.palette]
  const width = WIDTH * scale
  const imageHeight = HEIGHT * scale
  const height = imageHeight + (options.legend === true ? legendHeight(scale) : 0)
  const rgba = new Uint8Array(width * height * 4)
  const xs = axis(WIDTH, scale)
  const ys = axis(HEIGHT, scale)
  let o = 0
  for (let oy = 0; oy < imageHeight; oy++) {
    const top = ys.first[oy]! * WIDTH
    const bottom = ys.second[oy]! * WIDTH
    const fy = ys.weight[oy]!
    const gy = 1 - fy
    const nearestRow = ys.nearest[oy]! * WIDTH
    for (let ox = 0; ox < width; ox++, o += 4) {
      const left = xs.first[ox]!
      const right = xs.second[ox]!
      const fx = xs.weight[ox]!
      const gx = 1 - fx
      let index: number
      if (!gaps) {
        index = (indices[top + left]! * gx + indices[top + right]! * fx) * gy +
          (indices[bottom + left]! * gx + indices[bottom + right]! * fx) * fy
      } else if (valid[nearestRow + xs.nearest[ox]!] === 0) {
        rgba[o] = noR
        rgba[o + 1] = noG
        rgba[o + 2] = noB
        rgba[o + 3] = 255
        continue
      } else {
        const w00 = gx * gy * valid[top + left]!
        const w01 = fx * gy * valid[top + right]!
        const w10 = gx * fy * valid[bottom + left]!
        const w11 = fx * fy * valid[bottom + right]!
        index = (indices[top + left]! * w00 + indices[top + right]! * w01 + indices[bottom + left]! * w10 +
          indices[bottom + right]! * w11) / (w00 + w01 + w10 + w11)
      }
      // values outside the range clamp to the palette's ends
      const entry = index <= 0 ? 0 : index >= SIZE - 1 ? (SIZE - 1) * 3 : ((index + 0.5) | 0) * 3
      rgba[o] = lut[entry]!
      rgba[o + 1] = lut[entry + 1]!
      rgba[o + 2] = lut[entry + 2]!
      rgba[o + 3] = 255
    }
  }

  const image = { width, height, rgba, min, max }
  if (options.zones !== undefined) drawZones(image, options.zones, scale)
  if (options.legend === true) drawLegend(image, imageHeight, scale, lut, min, max)
  return image
}

/**
 * An image as PNG bytes, 8-bit RGB: every pixel is opaque, and without the alpha channel there is a
 * quarter less to compress (about 6 ms instead of 7 at scale 10).
 */
export const toPng = (image: Image): Uint8Array => {
  const { rgba } = image
  const rgb = new Uint8Array((rgba.length / 4) * 3)
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!
    rgb[j + 1] = rgba[i + 1]!
    rgb[j + 2] = rgba[i + 2]!
  }
  return encode({ width: image.width, height: image.height, data: rgb, channels: 3, depth: 8 })
}
