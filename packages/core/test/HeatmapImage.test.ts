/**
 * Heat-map rendering, pure: sizes, palettes, bilinear upsampling, pixels without a value, colour
 * ranges, the legend strip, zone outlines and names, the bitmap font and PNG encoding.
 */
import { assert, describe, it } from "@effect/vitest"
import { decode } from "fast-png"
import * as BitmapFont from "../src/BitmapFont.js"
import { HEIGHT, PIXELS, WIDTH } from "../src/Frame.js"
import {
  colourRange,
  fitText,
  type Image,
  legendBackground,
  legendHeight,
  legendText,
  render,
  toPng
} from "../src/HeatmapImage.js"
import { fromHex, luts, noData, paletteNames, SIZE, toHex, toJson } from "../src/Palette.js"

/** A frame whose pixel (col, row) reads `f(col, row)`. */
const frameOf = (f: (col: number, row: number) => number) => {
  const temperatures = new Float64Array(PIXELS)
  for (let row = 0; row < HEIGHT; row++) {
    for (let col = 0; col < WIDTH; col++) temperatures[row * WIDTH + col] = f(col, row)
  }
  return temperatures
}

/** Pixel (x, y) of an image as [r, g, b, a]. */
const pixel = (image: Image, x: number, y: number) => {
  const o = (y * image.width + x) * 4
  return Array.from(image.rgba.subarray(o, o + 4))
}
const rgb = (image: Image, x: number, y: number) => pixel(image, x, y).slice(0, 3)
const entry = (lut: Uint8Array, i: number) => Array.from(lut.subarray(i * 3, i * 3 + 3))
const same = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.every((v, i) => v === b[i])

/** The columns in rows [top, bottom) of [left, right) holding `color`. */
const columnsWith = (
  image: Image,
  color: ReadonlyArray<number>,
  left: number,
  right: number,
  top: number,
  bottom: number
) => {
  const columns: Array<number> = []
  for (let x = left; x < right; x++) {
    for (let y = top; y < bottom; y++) {
      if (same(rgb(image, x, y), color)) {
        columns.push(x)
        break
      }
    }
  }
  return columns
}

const ramp = frameOf((col) => col) // 0 … 31 °C from left to right

describe("Palette", () => {
  it("has 256 colours a palette, from the coldest to the hottest", () => {
    for (const name of paletteNames) assert.lengthOf(luts[name], SIZE * 3)
    assert.deepStrictEqual(entry(luts.iron, 0), [0, 0, 0])
    assert.deepStrictEqual(entry(luts.iron, 255), [255, 255, 255])
    // iron goes through deep blue/purple (blue dominant) before red, orange and yellow
    const [r, , b] = entry(luts.iron, 40)
    assert.isAbove(b!, r!)
    const [r2, g2, b2] = entry(luts.iron, 190)
    assert.isAbove(r2!, g2!)
    assert.isAbove(g2!, b2!)
    assert.deepStrictEqual(entry(luts.rainbow, 0), [0, 0, 255])
    assert.deepStrictEqual(entry(luts.rainbow, 255), [255, 0, 0])
    const [gr, gg, gb] = entry(luts.rainbow, 128) // green in the middle
    assert.strictEqual(gg, 255)
    assert.isBelow(gr! + gb!, 5)
    for (let i = 0; i < SIZE; i++) assert.deepStrictEqual(entry(luts.grey, i), [i, i, i])
  })

  it("converts colours from and to #rrggbb; the JSON form lists 256 of them", () => {
    assert.deepStrictEqual(fromHex("#ff8001"), [255, 128, 1])
    assert.strictEqual(toHex([1, 2, 255]), "#0102ff")
    assert.strictEqual(toHex(luts.grey, 3 * 171), "#ababab")
    const iron = toJson("iron")
    assert.strictEqual(iron.name, "iron")
    assert.lengthOf(iron.colors, SIZE)
    assert.isTrue(iron.colors.every((c) => /^#[0-9a-f]{6}$/.test(c)))
    assert.strictEqual(iron.colors[0], "#000000")
    assert.strictEqual(iron.colors[255], "#ffffff")
  })

  it("shows a pixel without a value in a colour no temperature has", () => {
    for (const name of paletteNames) {
      const color = noData[name]
      for (let i = 0; i < SIZE; i++) assert.isFalse(same(entry(luts[name], i), color), `${name} ${i}`)
    }
  })
})

describe("render", () => {
  it("is 32·scale × 24·scale pixels, opaque; the legend adds a strip below", () => {
    for (const scale of [1, 2, 7, 10, 20]) {
      const image = render(ramp, { palette: "iron", scale })
      assert.strictEqual(image.width, 32 * scale)
      assert.strictEqual(image.height, 24 * scale)
      assert.strictEqual(image.rgba.length, image.width * image.height * 4)
      assert.isTrue(image.rgba.every((v, i) => i % 4 !== 3 || v === 255))
      const withLegend = render(ramp, { palette: "iron", scale, legend: true })
      assert.strictEqual(withLegend.width, 32 * scale)
      assert.strictEqual(withLegend.height, 24 * scale + legendHeight(scale))
    }
    assert.strictEqual(legendHeight(1), 19)
    assert.strictEqual(legendHeight(10), 38)
  })

  it("maps the frame's min to the coldest colour and its max to the hottest", () => {
    const image = render(ramp, { palette: "iron", scale: 1 })
    assert.strictEqual(image.min, 0)
    assert.strictEqual(image.max, 31)
    assert.deepStrictEqual(rgb(image, 0, 5), entry(luts.iron, 0))
    assert.deepStrictEqual(rgb(image, 31, 5), entry(luts.iron, 255))
    // at scale 1 every pixel is its own value: col c → round(c / 31 × 255)
    const grey = render(ramp, { palette: "grey", scale: 1 })
    for (let col = 0; col < WIDTH; col++) {
      assert.deepStrictEqual(rgb(grey, col, 12), entry(luts.grey, Math.round((col / 31) * 255)))
    }
  })

  it("interpolates bilinearly between pixel centres", () => {
    // column 0 at 0 °C, everything else at 255 °C: grey value = temperature
    const step = frameOf((col) => (col === 0 ? 0 : 255))
    const image = render(step, { palette: "grey", scale: 10, min: 0, max: 255 })
    // left of the first centre (x < 4.5) the edge value holds
    for (let x = 0; x < 5; x++) assert.deepStrictEqual(rgb(image, x, 100), [0, 0, 0])
    // x = 9 and 10 straddle the midpoint between the centres 4.5 and 14.5: 0.45 and 0.55 of the way
    assert.deepStrictEqual(rgb(image, 9, 100), [115, 115, 115])
    assert.deepStrictEqual(rgb(image, 10, 100), [140, 140, 140])
    assert.deepStrictEqual(rgb(image, 14, 100), [242, 242, 242])
    assert.deepStrictEqual(rgb(image, 15, 100), [255, 255, 255])

    // both axes: the four centres around (9.5, 9.5) are 0, 255, 255, 255 → (0 + 3 × 255) / 4
    const corner = render(frameOf((col, row) => (col === 0 && row === 0 ? 0 : 255)), {
      palette: "grey",
      scale: 10,
      min: 0,
      max: 255
    })
    const mid = rgb(corner, 9, 9)[0]! / 2 + rgb(corner, 10, 10)[0]! / 2
    assert.closeTo(mid, 191.25, 1.5)
  })

  it("paints pixels without a value in the neutral colour, without smearing them into their neighbours", () => {
    // 10 °C everywhere but two corners (0 and 20 °C); drawn from 0 to 25 °C, 10 °C is grey 102
    const uniform = frameOf((col, row) => (row === 23 && col === 0 ? 0 : row === 23 && col === 31 ? 20 : 10))
    const gappy = Float64Array.from(uniform)
    gappy[5 * WIDTH + 5] = Number.NaN
    gappy[0] = Number.NaN
    gappy[23 * WIDTH + 31] = Number.NaN // the hottest: the range is taken over the rest
    const image = render(gappy, { palette: "grey", scale: 10 })
    assert.strictEqual(image.min, 0)
    assert.strictEqual(image.max, 10)
    const middle = render(gappy, { palette: "grey", scale: 10, min: 0, max: 25 })
    for (let y = 50; y < 60; y++) {
      for (let x = 50; x < 60; x++) assert.deepStrictEqual(rgb(middle, x, y), [...noData.grey])
    }
    for (let y = 0; y < 10; y++) {
      for (let x = 0; x < 10; x++) assert.deepStrictEqual(rgb(middle, x, y), [...noData.grey])
    }
    // every neighbour of a gap keeps exactly the value around it (a NaN mixed in would turn it black)
    const grey = [102, 102, 102]
    for (let i = 0; i < 10; i++) {
      assert.deepStrictEqual(rgb(middle, 49, 50 + i), grey)
      assert.deepStrictEqual(rgb(middle, 60, 50 + i), grey)
      assert.deepStrictEqual(rgb(middle, 50 + i, 49), grey)
      assert.deepStrictEqual(rgb(middle, 50 + i, 60), grey)
      assert.deepStrictEqual(rgb(middle, 10, i), grey)
      assert.deepStrictEqual(rgb(middle, i, 10), grey)
    }
    // far from the gaps, plain bilinear as without them
    const plain = render(uniform, { palette: "grey", scale: 10, min: 0, max: 25 })
    for (const [x, y] of [[200, 200], [5, 235], [295, 225], [150, 20]] as const) {
      assert.deepStrictEqual(rgb(middle, x, y), rgb(plain, x, y), `(${x}, ${y})`)
    }
  })

  it("draws a frame without any value all neutral", () => {
    const image = render(new Float64Array(PIXELS).fill(Number.NaN), { palette: "iron", scale: 2, legend: true })
    assert.deepStrictEqual(rgb(image, 0, 0), [...noData.iron])
    assert.deepStrictEqual(rgb(image, 63, 47), [...noData.iron])
    assert.deepStrictEqual([image.min, image.max], [-0.5, 0.5])
  })

  it("clamps to a fixed range", () => {
    const image = render(ramp, { palette: "rainbow", scale: 1, min: 10, max: 20 })
    assert.deepStrictEqual([image.min, image.max], [10, 20])
    for (let col = 0; col <= 10; col++) assert.deepStrictEqual(rgb(image, col, 0), entry(luts.rainbow, 0))
    for (let col = 20; col < WIDTH; col++) assert.deepStrictEqual(rgb(image, col, 0), entry(luts.rainbow, 255))
    assert.deepStrictEqual(rgb(image, 15, 0), entry(luts.rainbow, 128))
  })

  it("widens a range that would be empty", () => {
    assert.deepStrictEqual(colourRange(ramp), { min: 0, max: 31 })
    assert.deepStrictEqual(colourRange(ramp, 5), { min: 5, max: 31 })
    assert.deepStrictEqual(colourRange(ramp, undefined, 5), { min: 0, max: 5 })
    assert.deepStrictEqual(colourRange(ramp, 40), { min: 40, max: 41 })
    assert.deepStrictEqual(colourRange(ramp, undefined, -3), { min: -4, max: -3 })
    assert.deepStrictEqual(colourRange(new Float64Array(PIXELS).fill(21)), { min: 20.5, max: 21.5 })
    assert.deepStrictEqual(colourRange([Number.NaN, Number.POSITIVE_INFINITY]), { min: -0.5, max: 0.5 })
    // a uniform frame shows the palette's middle colour
    const flat = render(new Float64Array(PIXELS).fill(21), { palette: "grey", scale: 1 })
    assert.deepStrictEqual(rgb(flat, 3, 3), [128, 128, 128])
  })

  it("refuses a frame of the wrong size or a scale out of range", () => {
    assert.throws(() => render(new Float64Array(10), { palette: "iron", scale: 1 }), /768 temperatures, not 10/)
    for (const scale of [0, 21, 1.5]) {
      assert.throws(() => render(ramp, { palette: "iron", scale }), /scale must be an integer from 1 to 20/)
    }
  })
})

describe("render with a legend", () => {
  it("adds the colour bar and the range in °C under the image", () => {
    const scale = 10
    const image = render(ramp, { palette: "iron", scale, legend: true })
    const top = 24 * scale
    const u = 2
    const pad = 2 * u
    assert.deepStrictEqual(rgb(image, 0, top), [...legendBackground])
    assert.deepStrictEqual(rgb(image, 100, image.height - 1), [...legendBackground])
    // the bar: coldest at its left end, hottest at its right end, for its whole height
    for (let y = top + pad; y < top + pad + 6 * u; y++) {
      assert.deepStrictEqual(rgb(image, pad, y), entry(luts.iron, 0))
      assert.deepStrictEqual(rgb(image, image.width - pad - 1, y), entry(luts.iron, 255))
      assert.deepStrictEqual(rgb(image, pad - 1, y), [...legendBackground])
    }
    // the labels "0.0°C" (left-aligned with the bar) and "31.0°C" (right-aligned)
    const textTop = top + pad + 6 * u + pad
    const textBottom = textTop + 7 * u
    const left = columnsWith(image, legendText, 0, image.width / 2, textTop, textBottom)
    const right = columnsWith(image, legendText, image.width / 2, image.width, textTop, textBottom)
    assert.strictEqual(left[0], pad)
    assert.strictEqual(left[left.length - 1], pad + BitmapFont.textWidth("0.0°C", u) - 1)
    assert.strictEqual(right[0], image.width - pad - BitmapFont.textWidth("31.0°C", u))
    assert.strictEqual(right[right.length - 1], image.width - pad - 1)
  })

  it("shortens the labels to fit a narrow image, and leaves them out when nothing fits", () => {
    const textRows = (scale: number) => {
      const top = 24 * scale + 2 + 6 + 2
      return [top, top + 7] as const
    }
    // scale 2 (64 px): "0.0" and "31.0" without the unit
    const two = render(ramp, { palette: "grey", scale: 2, legend: true })
    const twoLeft = columnsWith(two, legendText, 0, 32, ...textRows(2))
    assert.strictEqual(twoLeft[twoLeft.length - 1], 2 + BitmapFont.textWidth("0.0", 1) - 1)
    // scale 1 (32 px): whole degrees
    const one = render(ramp, { palette: "grey", scale: 1, legend: true })
    const oneLeft = columnsWith(one, legendText, 0, 16, ...textRows(1))
    assert.strictEqual(oneLeft[oneLeft.length - 1], 2 + BitmapFont.textWidth("0", 1) - 1)
    // -200 and -100 cannot both fit in 32 px
    const none = render(ramp, { palette: "grey", scale: 1, legend: true, min: -200, max: -100 })
    assert.lengthOf(columnsWith(none, legendText, 0, 32, ...textRows(1)), 0)
  })

  it("writes a value that rounds to zero without a minus sign", () => {
    const image = render(ramp, { palette: "iron", scale: 10, legend: true, min: -0.04, max: 10 })
    const textTop = 240 + 4 + 12 + 4
    const left = columnsWith(image, legendText, 0, 160, textTop, textTop + 14)
    assert.strictEqual(left[left.length - 1], 4 + BitmapFont.textWidth("0.0°C", 2) - 1)
  })
})

describe("render with zones", () => {
  const zone = { x: 2, y: 3, width: 10, height: 5, color: "#00ff00", name: "Oven" }

  it("outlines each zone in its colour, inside its rectangle", () => {
    const scale = 10
    const image = render(ramp, { palette: "grey", scale, zones: [zone] })
    const green = [0, 255, 0]
    const [left, top, right, bottom] = [20, 30, 20 + 100 - 1, 30 + 50 - 1]
    for (const [x, y] of [[left, top], [right, top], [left, bottom], [right, bottom], [60, top], [left, 50]] as const) {
      assert.deepStrictEqual(rgb(image, x, y), green, `(${x}, ${y})`)
    }
    // the line is two pixels thick at scale 10
    assert.deepStrictEqual(rgb(image, left + 1, top + 1), green)
    assert.deepStrictEqual(rgb(image, right - 1, bottom - 1), green)
    assert.isFalse(same(rgb(image, left + 2, bottom - 2), green))
    assert.isFalse(same(rgb(image, left - 1, top), green))
    assert.isFalse(same(rgb(image, right + 1, bottom + 1), green))
    // the name in the top-left corner, in the zone's colour with a black shadow
    const nameRows = [top + 3, top + 3 + 7] as const
    const ink = columnsWith(image, green, left + 3, right - 2, ...nameRows)
    assert.strictEqual(ink[0], left + 3)
    assert.strictEqual(ink[ink.length - 1], left + 3 + BitmapFont.textWidth("OVEN", 1) - 1)
    assert.isAbove(columnsWith(image, [0, 0, 0], left + 3, right - 2, top + 4, top + 4 + 7).length, 0)
  })

  it("shortens a name that does not fit, and leaves out one that cannot", () => {
    assert.strictEqual(fitText("OVEN", 23, 1), "OVEN")
    assert.strictEqual(fitText("OVEN DOOR", 23, 1), "OVE…")
    assert.strictEqual(fitText("OVEN DOOR", 30, 1), "OVEN…") // not "OVEN …"
    assert.strictEqual(fitText("OVEN", 5, 1), "")
    const narrow = render(ramp, {
      palette: "grey",
      scale: 10,
      zones: [{ ...zone, width: 1, height: 1, name: "X" }, { ...zone, x: 20, width: 3, name: "Oven door" }]
    })
    // 1×1 zone: outline only (its inside keeps the heat colour)
    assert.isFalse(same(rgb(narrow, 25, 35), [0, 255, 0]))
    // 3 pixels wide: "OVE…", whose last glyph's dots sit on its bottom row
    const dotsRow = 30 + 3 + 6
    const ellipsisLeft = 200 + 3 + 3 * BitmapFont.ADVANCE
    assert.deepStrictEqual(rgb(narrow, ellipsisLeft, dotsRow), [0, 255, 0])
    assert.deepStrictEqual(rgb(narrow, ellipsisLeft + 2, dotsRow), [0, 255, 0])
    assert.deepStrictEqual(rgb(narrow, ellipsisLeft + 4, dotsRow), [0, 255, 0])
  })

  it("writes names twice as large from scale 15 and keeps zones on the image edges whole", () => {
    const image = render(ramp, {
      palette: "iron",
      scale: 15,
      zones: [{ x: 0, y: 0, width: 32, height: 24, color: "#ff00ff", name: "all" }]
    })
    const magenta = [255, 0, 255]
    assert.deepStrictEqual(rgb(image, 0, 0), magenta)
    assert.deepStrictEqual(rgb(image, image.width - 1, image.height - 1), magenta)
    const line = 3
    const ink = columnsWith(image, magenta, line + 1, 200, line + 1, line + 1 + 14)
    assert.strictEqual(ink[ink.length - 1], line + 1 + BitmapFont.textWidth("ALL", 2) - 1)
  })
})

describe("BitmapFont", () => {
  it("draws what it has, upper-cases, drops accents and shows ? for the rest", () => {
    assert.strictEqual(BitmapFont.normalize("Four à pain -12.5°C…"), "FOUR A PAIN -12.5°C…")
    assert.strictEqual(BitmapFont.normalize("日本~"), "???")
    assert.strictEqual(BitmapFont.textWidth("", 3), 0)
    assert.strictEqual(BitmapFont.textWidth("AB", 2), 22)
  })

  it("draws at a scale and clips at the canvas edges", () => {
    const canvas = { width: 8, height: 8, rgba: new Uint8Array(8 * 8 * 4) }
    BitmapFont.drawText(canvas, "1", -1, -1, [9, 9, 9], 2) // overflows on the top and the left
    BitmapFont.drawText(canvas, "1", 3, 3, [9, 9, 9], 2) // on the right and the bottom
    const inked = canvas.rgba.filter((v, i) => i % 4 === 0 && v === 9).length
    assert.isAbove(inked, 0)
    // "1" at scale 2 from (-1, -1): its top stroke (col 2, row 0) → x 3..4, y -1..0 → (3, 0) and (4, 0)
    assert.strictEqual(canvas.rgba[(0 * 8 + 3) * 4], 9)
    assert.strictEqual(canvas.rgba[(0 * 8 + 4) * 4 + 3], 255)
    // a character the font lacks (not normalised) is drawn as "?"
    const raw = { width: 6, height: 7, rgba: new Uint8Array(6 * 7 * 4) }
    const question = { width: 6, height: 7, rgba: new Uint8Array(6 * 7 * 4) }
    BitmapFont.drawText(raw, "~", 0, 0, [1, 2, 3])
    BitmapFont.drawText(question, "?", 0, 0, [1, 2, 3])
    assert.deepStrictEqual(raw.rgba, question.rgba)
  })
})

describe("toPng", () => {
  it("encodes the image losslessly", () => {
    const zones = [{ x: 1, y: 1, width: 4, height: 4, color: "#123456", name: "z" }]
    const image = render(ramp, { palette: "iron", scale: 3, legend: true, zones })
    const png = toPng(image)
    assert.deepStrictEqual(Array.from(png.subarray(1, 4)), [0x50, 0x4e, 0x47]) // "PNG"
    const decoded = decode(png)
    assert.strictEqual(decoded.width, image.width)
    assert.strictEqual(decoded.height, image.height)
    assert.strictEqual(decoded.channels, 3)
    for (let i = 0, j = 0; i < image.rgba.length; i += 4, j += 3) {
      if (
        decoded.data[j] !== image.rgba[i] || decoded.data[j + 1] !== image.rgba[i + 1] ||
        decoded.data[j + 2] !== image.rgba[i + 2]
      ) {
        assert.fail(`pixel ${i / 4} differs`)
      }
    }
  })

  it("renders and encodes a scale-10 image quickly", () => {
    const frame = frameOf((col, row) => 20 + Math.sin(col / 3) * 5 + row / 4)
    for (let i = 0; i < 5; i++) toPng(render(frame, { palette: "iron", scale: 10, legend: true }))
    const start = performance.now()
    const runs = 20
    for (let i = 0; i < runs; i++) toPng(render(frame, { palette: "iron", scale: 10, legend: true }))
    // typically ~7 ms (render ~1.5 ms, PNG ~6 ms); generous for a loaded CI machine
    assert.isBelow((performance.now() - start) / runs, 100)
  })
})
