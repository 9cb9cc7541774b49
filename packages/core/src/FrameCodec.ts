/**
 * FrameCodec: how a frame's temperatures are stored on disk. Lossless at 0.01 °C, versioned.
 *
 * Version 1, 1 + 768 × 2 = 1,537 bytes:
 *
 *   byte 0        the version, 1
 *   bytes 1..1536 768 little-endian int16: the temperature in centi-degrees Celsius
 *                 (round(t × 100)), pixel by pixel, row-major as `Frame.temperatures`;
 *                 -32768 stands for a pixel without a value (NaN); values beyond the int16 range
 *                 (below -327.67 or above 327.67 °C, far outside what the sensor measures) are
 *                 clamped.
 *
 * A new layout gets a new version number; `decode` keeps reading the old ones.
 */
import { Schema } from "effect"
import { PIXELS } from "./Frame.js"

export const VERSION = 1
export const ENCODED_BYTES = 1 + PIXELS * 2

const NO_VALUE = -32768
const MAX = 32767

export class FrameCodecError extends Schema.TaggedError<FrameCodecError>()("FrameCodecError", {
  message: Schema.String
}) {}

/** The stored form of `temperatures` (768 °C values). */
export const encode = (temperatures: ArrayLike<number>): Uint8Array => {
  if (temperatures.length !== PIXELS) {
    throw new RangeError(`a frame has ${PIXELS} temperatures, got ${temperatures.length}`)
  }
  const bytes = new Uint8Array(ENCODED_BYTES)
  const view = new DataView(bytes.buffer)
  bytes[0] = VERSION
  for (let i = 0; i < PIXELS; i++) {
    const t = temperatures[i]!
    const centi = Number.isNaN(t) ? NO_VALUE : Math.max(-MAX, Math.min(MAX, Math.round(t * 100)))
    view.setInt16(1 + 2 * i, centi, true)
  }
  return bytes
}

/** The temperatures (°C, rounded to 0.01) of a stored frame. */
export const decode = (bytes: Uint8Array): Float64Array => {
  if (bytes.length === 0 || bytes[0] !== VERSION) {
    throw new FrameCodecError({ message: `unknown frame encoding version ${bytes[0] ?? "(empty)"}` })
  }
  if (bytes.length !== ENCODED_BYTES) {
    throw new FrameCodecError({ message: `a version 1 frame is ${ENCODED_BYTES} bytes, got ${bytes.length}` })
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const temperatures = new Float64Array(PIXELS)
  for (let i = 0; i < PIXELS; i++) {
    const centi = view.getInt16(1 + 2 * i, true)
    temperatures[i] = centi === NO_VALUE ? Number.NaN : centi / 100
  }
  return temperatures
}

/** The hottest pixel of a frame: its temperature (rounded to 0.01 °C) and where it is. */
export const peakOf = (temperatures: ArrayLike<number>): { temperature: number; x: number; y: number } | null => {
  let best = -1
  let max = -Infinity
  for (let i = 0; i < temperatures.length; i++) {
    const t = temperatures[i]!
    if (t > max) {
      max = t
      best = i
    }
  }
  return best < 0 ? null : { temperature: Math.round(max * 100) / 100, x: best % 32, y: Math.floor(best / 32) }
}
