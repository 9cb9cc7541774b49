/**
 * The colour palettes of heat maps: 256 colours each, from the coldest to the hottest, built once
 * by interpolating a few colour stops into a lookup table (`r, g, b` per entry).
 */
import { Schema } from "effect"

export const PaletteName = Schema.Literal("iron", "rainbow", "grey").annotations({
  description: "colour palette: iron (default), rainbow or grey"
})
export type PaletteName = typeof PaletteName.Type

export const paletteNames: ReadonlyArray<PaletteName> = PaletteName.literals

/** An RGB colour, each channel 0–255. */
export type Rgb = readonly [r: number, g: number, b: number]

/** Entries of every lookup table. */
export const SIZE = 256

/** `#rrggbb` to RGB; the format is checked where colours come in (zones' `Color` schema). */
export const fromHex = (hex: string): Rgb => {
  const n = Number.parseInt(hex.slice(1, 7), 16)
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
}

/** The colour at `offset` of an RGB array (a lookup table entry: `offset = 3 × index`) as `#rrggbb`. */
export const toHex = (rgb: ArrayLike<number>, offset = 0): string =>
  "#" + ((1 << 24) | (rgb[offset]! << 16) | (rgb[offset + 1]! << 8) | rgb[offset + 2]!).toString(16).slice(1)

/** Linear interpolation between stops at positions 0..1 (the first at 0, the last at 1). */
const build = (stops: ReadonlyArray<readonly [position: number, hex: string]>): Uint8Array => {
  const lut = new Uint8Array(SIZE * 3)
  const colors = stops.map(([position, hex]) => [position, fromHex(hex)] as const)
  let stop = 0
  for (let i = 0; i < SIZE; i++) {
    const position = i / (SIZE - 1)
    while (position > colors[stop + 1]![0]) stop++
    const [from, a] = colors[stop]!
    const [to, b] = colors[stop + 1]!
    const f = (position - from) / (to - from)
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(a[c]! + (b[c]! - a[c]!) * f)
  }
  return lut
}

/** Lookup tables: entry i (0 = coldest) at `3i, 3i + 1, 3i + 2`. */
export const luts: Readonly<Record<PaletteName, Uint8Array>> = {
  // like FLIR "ironbow": black, deep blue, purple, magenta red, orange, yellow, white
  iron: build([
    [0, "#000000"],
    [0.13, "#1c0a6e"],
    [0.28, "#6e0aa0"],
    [0.45, "#c0166e"],
    [0.6, "#e6460a"],
    [0.75, "#ff9600"],
    [0.9, "#ffe040"],
    [1, "#ffffff"]
  ]),
  rainbow: build([[0, "#0000ff"], [0.25, "#00ffff"], [0.5, "#00ff00"], [0.75, "#ffff00"], [1, "#ff0000"]]),
  grey: build([[0, "#000000"], [1, "#ffffff"]])
}

/**
 * The colour of a pixel without a value. Mid grey appears in neither iron nor rainbow; grey has every
 * grey, so there it is a muted blue, the one colour a grey image cannot otherwise show.
 */
export const noData: Readonly<Record<PaletteName, Rgb>> = {
  iron: [128, 128, 128],
  rainbow: [128, 128, 128],
  grey: [64, 96, 128]
}

/** A palette as `GET /thermal/palettes` answers it: 256 `#rrggbb`, coldest first. */
export const toJson = (name: PaletteName): { readonly name: PaletteName; readonly colors: ReadonlyArray<string> } => {
  const lut = luts[name]
  return { name, colors: Array.from({ length: SIZE }, (_, i) => toHex(lut, i * 3)) }
}
