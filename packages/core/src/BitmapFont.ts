/**
 * A 5×7 bitmap font for the text of heat-map images (legend values, zone names): digits, upper-case
 * letters and a little punctuation, drawn into an RGBA buffer at an integer scale. Small on purpose:
 * images must render without font files; other characters are mapped to these (see `normalize`).
 */
import type { Rgb } from "./Palette.js"

export const GLYPH_WIDTH = 5
export const GLYPH_HEIGHT = 7
/** Horizontal distance from one character to the next (one column of spacing), at scale 1. */
export const ADVANCE = GLYPH_WIDTH + 1

// each glyph: 7 rows of 5 columns, "#" = ink
const art: Record<string, ReadonlyArray<string>> = {
  " ": [".....", ".....", ".....", ".....", ".....", ".....", "....."],
  "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
  "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
  "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
  "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
  "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
  "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
  "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
  "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
  "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
  "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
  "A": [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
  "B": ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
  "C": [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
  "D": ["###..", "#..#.", "#...#", "#...#", "#...#", "#..#.", "###.."],
  "E": ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
  "F": ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
  "G": [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"],
  "H": ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
  "I": [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
  "J": ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
  "K": ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
  "L": ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
  "M": ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
  "N": ["#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"],
  "O": [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
  "P": ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
  "Q": [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"],
  "R": ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
  "S": [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
  "T": ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
  "U": ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
  "V": ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
  "W": ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."],
  "X": ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
  "Y": ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
  "Z": ["#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"],
  "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
  "+": [".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."],
  ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
  ",": [".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."],
  ":": [".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."],
  "'": ["..#..", "..#..", ".#...", ".....", ".....", ".....", "....."],
  "!": ["..#..", "..#..", "..#..", "..#..", "..#..", ".....", "..#.."],
  "?": [".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."],
  "/": [".....", "....#", "...#.", "..#..", ".#...", "#....", "....."],
  "(": ["...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."],
  ")": [".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."],
  "#": [".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."],
  "%": ["##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"],
  "_": [".....", ".....", ".....", ".....", ".....", ".....", "#####"],
  "°": [".##..", "#..#.", "#..#.", ".##..", ".....", ".....", "....."],
  "…": [".....", ".....", ".....", ".....", ".....", ".....", "#.#.#"]
}

/** Ink of every glyph, row-major, 1 = ink. */
const glyphs = new Map(
  Object.entries(art).map(([char, rows]) => [char, Uint8Array.from(rows.join(""), (c) => (c === "#" ? 1 : 0))])
)

/**
 * The text as the font can draw it: accents dropped, letters upper-cased, any other character the
 * font lacks shown as `?` (a zone called "Four à pain" is drawn "FOUR A PAIN").
 */
export const normalize = (text: string): string =>
  Array.from(text.normalize("NFD").replace(/\p{M}/gu, "").toUpperCase(), (c) => (glyphs.has(c) ? c : "?")).join("")

/** Width in pixels of `normalize`d text at `scale`: no spacing after the last character. */
export const textWidth = (text: string, scale: number): number =>
  text.length === 0 ? 0 : (text.length * ADVANCE - 1) * scale

/** An RGBA image being drawn into. */
export interface Canvas {
  readonly width: number
  readonly height: number
  readonly rgba: Uint8Array
}

/**
 * Draws `text` (already `normalize`d) with its top-left corner at (x, y), each font pixel a
 * `scale`×`scale` square; what falls outside the canvas is clipped.
 */
export const drawText = (canvas: Canvas, text: string, x: number, y: number, color: Rgb, scale = 1): void => {
  const { height, rgba, width } = canvas
  let left = x
  for (const char of text) {
    const glyph = glyphs.get(char) ?? glyphs.get("?")!
    for (let row = 0; row < GLYPH_HEIGHT; row++) {
      for (let col = 0; col < GLYPH_WIDTH; col++) {
        if (glyph[row * GLYPH_WIDTH + col] === 0) continue
        for (let dy = 0; dy < scale; dy++) {
          const py = y + row * scale + dy
          if (py < 0 || py >= height) continue
          for (let dx = 0; dx < scale; dx++) {
            const px = left + col * scale + dx
            if (px < 0 || px >= width) continue
            const o = (py * width + px) * 4
            rgba[o] = color[0]
            rgba[o + 1] = color[1]
            rgba[o + 2] = color[2]
            rgba[o + 3] = 255
          }
        }
      }
    }
    left += ADVANCE * scale
  }
}
