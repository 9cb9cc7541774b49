/**
 * What the pictures of alarm evidence add to a heat map (HeatmapImage.render): the time of the
 * frame, a marker on the frame that triggered the alarm, the hottest pixel outlined with its
 * temperature. Drawn over the image (never the legend strip) in whole pixels of the overlay unit,
 * with a dark shadow so that they read on any palette colour.
 */
import * as BitmapFont from "./BitmapFont.js"
import { HEIGHT, PIXELS, WIDTH } from "./Frame.js"
import { fillRect, fitText, type Image, unit } from "./HeatmapImage.js"
import type { Rgb } from "./Palette.js"

export const textColor: Rgb = [255, 255, 255]
export const shadowColor: Rgb = [0, 0, 0]
/** The trigger marker's colour: a green that neither the iron nor the grey palette has. */
export const markerColor: Rgb = [0, 230, 118]

/** Every colour the marks draw with, for a GIF's colour table. */
export const colors: ReadonlyArray<Rgb> = [textColor, shadowColor, markerColor]

/** `text` (already `BitmapFont.normalize`d) at (x, y), with its shadow one font pixel right and down. */
const label = (image: Image, text: string, x: number, y: number, color: Rgb, scale: number) => {
  BitmapFont.drawText(image, text, x + scale, y + scale, shadowColor, scale)
  BitmapFont.drawText(image, text, x, y, color, scale)
}

/** The margin of texts from the image's edges. */
const margin = (scale: number) => 2 * unit(scale)

/** Writes `text` in the top-left corner of the image (cut short to fit). */
export const drawTime = (image: Image, text: string, scale: number): void => {
  const u = unit(scale)
  const fitted = fitText(BitmapFont.normalize(text), WIDTH * scale - 2 * margin(scale) - u, u)
  label(image, fitted, margin(scale), margin(scale), textColor, u)
}

/** The trigger marker: a frame around the image and "TRIGGER" in its top-right corner. */
export const drawTrigger = (image: Image, scale: number): void => {
  const u = unit(scale)
  const line = 2 * u
  const width = WIDTH * scale
  const height = HEIGHT * scale
  fillRect(image, 0, 0, width, line, markerColor)
  fillRect(image, 0, height - line, width, line, markerColor)
  fillRect(image, 0, 0, line, height, markerColor)
  fillRect(image, width - line, 0, line, height, markerColor)
  const text = "TRIGGER"
  const textWidth = BitmapFont.textWidth(text, u)
  // under the time on small images, where both do not fit side by side
  const y = textWidth * 2 + 4 * margin(scale) <= width
    ? margin(scale)
    : margin(scale) + (BitmapFont.GLYPH_HEIGHT + 3) * u
  label(image, text, width - margin(scale) - textWidth - u, y + line, markerColor, u)
}

/** The hottest pixel with a value, or none when no pixel has one. */
export const hottest = (temperatures: ArrayLike<number>): { readonly x: number; readonly y: number } | undefined => {
  let best = -1
  for (let i = 0; i < PIXELS; i++) {
    const t = temperatures[i]!
    if (Number.isFinite(t) && (best < 0 || t > temperatures[best]!)) best = i
  }
  return best < 0 ? undefined : { x: best % WIDTH, y: Math.floor(best / WIDTH) }
}

/**
 * Outlines the hottest pixel (white inside, dark outside, so it shows on the white of the iron
 * palette too) and writes its temperature beside it, on the side with room.
 */
export const drawHottest = (image: Image, temperatures: ArrayLike<number>, scale: number): void => {
  const spot = hottest(temperatures)
  if (spot === undefined) return
  const u = unit(scale)
  const x = spot.x * scale
  const y = spot.y * scale
  const size = scale
  const ring = (inset: number, color: Rgb) => {
    fillRect(image, x - inset, y - inset, size + 2 * inset, u, color)
    fillRect(image, x - inset, y + size + inset - u, size + 2 * inset, u, color)
    fillRect(image, x - inset, y - inset, u, size + 2 * inset, color)
    fillRect(image, x + size + inset - u, y - inset, u, size + 2 * inset, color)
  }
  ring(2 * u, shadowColor)
  ring(u, textColor)
  const text = `${temperatures[spot.y * WIDTH + spot.x]!.toFixed(1)}°C`
  const textWidth = BitmapFont.textWidth(text, u)
  const width = WIDTH * scale
  const height = HEIGHT * scale
  const gap = 3 * u
  const left = x + size + gap + textWidth + margin(scale) <= width ? x + size + gap : x - gap - textWidth - u
  const top = Math.min(
    Math.max(margin(scale), y + (size - BitmapFont.GLYPH_HEIGHT * u) / 2),
    height - margin(scale) -
      (BitmapFont.GLYPH_HEIGHT + 1) * u
  )
  label(image, text, Math.max(0, left), Math.round(top), textColor, u)
}
