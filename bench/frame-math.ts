/**
 * MLX90640 calibration math: median microseconds for parameter extraction, one sub-page frame
 * (Vdd + Ta + To) and a full image (both sub-pages), on the Melexis example data, timed in
 * batches over at least 10,000 frames. `--json` prints one JSON object instead of text.
 * Budget: at least as fast as the vendor's C library (gcc -O2) on the same machine; on the
 * development machine that is about 61 µs per extraction and 11.8 µs per sub-page frame.
 */
import { makeDecoder } from "@ircam/hw/Mlx90640Frame"
import { extractParameters } from "@ircam/hw/Mlx90640Parameters"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

interface Fixture {
  readonly eeprom: ReadonlyArray<number>
  readonly frames: ReadonlyArray<ReadonlyArray<number>>
}

const fixture = JSON.parse(
  // compiled to bench/dist/: the repository is two folders up
  readFileSync(new URL("../../packages/hw/test/fixtures/mlx90640/melexis-example.json", import.meta.url), "utf8")
) as Fixture

const batch = 100
const batches = 200 // 20,000 frames

/** Median over `batches` batches of the time of one call, in µs. */
const median = (f: (i: number) => void, count = batches): number => {
  for (let i = 0; i < batch * 20; i++) f(i) // warm-up: let the JIT settle
  const perCall: Array<number> = []
  for (let b = 0; b < count; b++) {
    const start = performance.now()
    for (let i = 0; i < batch; i++) f(i)
    perCall.push((performance.now() - start) * 1000 / batch)
  }
  perCall.sort((a, b) => a - b)
  return perCall[Math.floor(perCall.length / 2)]!
}

export const measure = () => {
  const eeprom = Uint16Array.from(fixture.eeprom)
  const frames = fixture.frames.map((frame) => Uint16Array.from(frame))
  const { params } = extractParameters(eeprom)
  const decoder = makeDecoder(params)
  const image = new Float32Array(768)
  const emissivity = Math.fround(0.95)
  let sink = 0
  const subpage = (frame: Uint16Array) => {
    sink += decoder.vdd(frame)
    const ta = decoder.ta(frame)
    decoder.calculateTo(frame, emissivity, Math.fround(ta - 8), image)
  }
  const result = {
    benchmark: "frame-math",
    extractParametersUs: median(() => {
      sink += extractParameters(eeprom).status
    }, 50),
    subpageFrameUs: median((i) => subpage(frames[i % frames.length]!)),
    fullFrameUs: median(() => {
      for (const frame of frames) subpage(frame)
    })
  }
  if (Number.isNaN(sink + image[0]!)) throw new Error("the math produced NaN")
  return result
}

export const run = () => {
  const { extractParametersUs, fullFrameUs, subpageFrameUs } = measure()
  const us = (value: number) => `${value.toFixed(2)} µs`
  console.log(
    `MLX90640 math: parameter extraction ${us(extractParametersUs)} (C reference ≈ 61 µs), ` +
      `sub-page frame ${us(subpageFrameUs)} (C reference ≈ 11.8 µs), full image ${us(fullFrameUs)}`
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--json")) console.log(JSON.stringify(measure()))
  else run()
}
