/**
 * Animated GIFs of heat maps, encoded frame by frame (gifenc) so that a long animation is never
 * whole in memory: each `frame` gives the bytes to send at once.
 *
 * One global colour table for the whole animation: a GIF has at most 256 colours, and a heat-map
 * palette alone has 256. The table holds the `extras` (overlay colours: zones, text, markers, the
 * colour of a pixel without a value) and the palette thinned out to fill the rest, so a heat-map
 * colour is drawn with its nearest entry (a step of the palette off at most) and an overlay colour
 * exactly. Pixels are mapped by their exact colour, which every colour the renderer draws has.
 */
import * as Gifenc from "gifenc"
import type { Image } from "./HeatmapImage.js"
import { luts, type PaletteName, type Rgb, SIZE } from "./Palette.js"

// Node imports the CommonJS build (its exports as one default export); Vite the ES build (named)
const { GIFEncoder } = Gifenc.GIFEncoder === undefined ? Gifenc.default : { GIFEncoder: Gifenc.GIFEncoder }

/** A GIF colour table and how an RGBA image maps into it. */
export interface GifPalette {
  /** at most 256 colours; the extras first */
  readonly colors: ReadonlyArray<Rgb>
  /** the colour table index of each pixel of an RGBA image */
  readonly index: (rgba: Uint8Array) => Uint8Array
}

const key = (r: number, g: number, b: number) => (r << 16) | (g << 8) | b

const nearest = (colors: ReadonlyArray<Rgb>, r: number, g: number, b: number) => {
  let best = 0
  let distance = Infinity
  colors.forEach(([cr, cg, cb], i) => {
    const d = (cr - r) ** 2 + (cg - g) ** 2 + (cb - b) ** 2
    if (d < distance) {
      distance = d
      best = i
    }
  })
  return best
}

/** The colour table of animations drawn in `name`, with the overlay colours `extras` (at most 64). */
export const palette = (name: PaletteName, extras: ReadonlyArray<Rgb>): GifPalette => {
  const unique = [...new Map(extras.map((rgb) => [key(...rgb), rgb] as const)).values()]
  if (unique.length > 64) throw new RangeError(`at most 64 overlay colours, not ${unique.length}`)
  const lut = luts[name]
  const levels = 256 - unique.length
  const colors: Array<Rgb> = [...unique]
  for (let level = 0; level < levels; level++) {
    const entry = Math.round((level * (SIZE - 1)) / (levels - 1)) * 3
    colors.push([lut[entry]!, lut[entry + 1]!, lut[entry + 2]!])
  }
  const indices = new Map<number, number>()
  for (let entry = 0; entry < SIZE; entry++) {
    const o = entry * 3
    indices.set(key(lut[o]!, lut[o + 1]!, lut[o + 2]!), unique.length + Math.round((entry * (levels - 1)) / (SIZE - 1)))
  }
  // an overlay colour that is also a palette colour is the same colour: either index draws it
  unique.forEach((rgb, i) => indices.set(key(...rgb), i))
  const lookup = (k: number) => {
    let found = indices.get(k)
    if (found === undefined) {
      found = nearest(colors, (k >> 16) & 0xff, (k >> 8) & 0xff, k & 0xff)
      indices.set(k, found)
    }
    return found
  }
  // a direct-mapped cache in front of the map, on the colour's top 16 bits (RGB 565)
  const cachedKey = new Int32Array(65536).fill(-1)
  const cachedIndex = new Uint8Array(65536)
  return {
    colors,
    index: (rgba) => {
      const out = new Uint8Array(rgba.length / 4)
      for (let p = 0, o = 0; p < out.length; p++, o += 4) {
        const r = rgba[o]!
        const g = rgba[o + 1]!
        const b = rgba[o + 2]!
        const slot = ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3)
        const k = key(r, g, b)
        if (cachedKey[slot] !== k) {
          cachedKey[slot] = k
          cachedIndex[slot] = lookup(k)
        }
        out[p] = cachedIndex[slot]!
      }
      return out
    }
  }
}

/** An animation being encoded. */
export interface Encoder {
  /** The bytes of one more frame shown for `delayCs` hundredths of a second (the header before the first). */
  readonly frame: (image: Image, delayCs: number) => Uint8Array
  /** The bytes that end the GIF. */
  readonly finish: () => Uint8Array
}

/** An endlessly looping animation of `width` × `height` images drawn in `palette`'s colours. */
export const encoder = (palette: GifPalette, width: number, height: number): Encoder => {
  const gif = GIFEncoder({ auto: false, initialCapacity: width * height })
  let first = true
  const take = () => {
    const bytes = gif.stream.bytes()
    gif.stream.reset()
    return bytes
  }
  return {
    frame: (image, delayCs) => {
      if (image.width !== width || image.height !== height) {
        throw new RangeError(`frames are ${width}×${height}, not ${image.width}×${image.height}`)
      }
      if (first) gif.writeHeader()
      gif.writeFrame(palette.index(image.rgba), width, height, {
        first,
        ...(first ? { palette: palette.colors, repeat: 0 } : {}),
        delay: Math.max(0, Math.round(delayCs)) * 10
      })
      first = false
      return take()
    },
    finish: () => {
      gif.finish()
      return take()
    }
  }
}
