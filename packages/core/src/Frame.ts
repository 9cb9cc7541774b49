/**
 * A thermal frame: 768 temperatures of the 32×24 sensor, row-major, row 0 at the top.
 */
import { Schema } from "effect"
import { iso } from "./Time.js"

export const WIDTH = 32
export const HEIGHT = 24
export const PIXELS = WIDTH * HEIGHT

export interface Frame {
  /** °C, row-major, `PIXELS` entries */
  readonly temperatures: Float32Array
  /** epoch milliseconds at which the frame was read (wall clock): a label, never a duration */
  readonly capturedAt: number
  /** the monotonic clock at the same moment (`Time.monotonicMs`): what windows and ages are measured on */
  readonly monotonicMs: number
  /** increases by one per frame from one sensor session */
  readonly sequence: number
  /** sensor die temperature (Ta), °C */
  readonly ambient: number
  /** sensor supply voltage, V */
  readonly vdd: number
}

export interface Summary {
  readonly min: number
  readonly max: number
  readonly mean: number
}

export const summarize = (temperatures: Float32Array): Summary => {
  let min = Infinity
  let max = -Infinity
  let sum = 0
  for (let i = 0; i < temperatures.length; i++) {
    const t = temperatures[i]!
    if (t < min) min = t
    if (t > max) max = t
    sum += t
  }
  return { min, max, mean: sum / temperatures.length }
}

/** JSON numbers carry 0.01 °C, the resolution the sensor's accuracy justifies. */
export const round2 = (value: number): number => Math.round(value * 100) / 100

const Celsius = Schema.Number.annotations({ description: "°C, rounded to 0.01" })

/** An instant as an ISO-8601 string in UTC; kept a string so encoding a frame costs nothing. */
export const IsoTime = Schema.String.annotations({
  description: "ISO-8601 time in UTC",
  jsonSchema: { format: "date-time" }
})

/** The JSON form of a frame served by the API. */
export const FrameJson = Schema.Struct({
  temperatures: Schema.Array(Celsius).annotations({
    description: `${PIXELS} temperatures, row-major, row 0 = top row, ${WIDTH} columns`
  }),
  width: Schema.Literal(WIDTH),
  height: Schema.Literal(HEIGHT),
  min: Celsius,
  max: Celsius,
  mean: Celsius,
  ambient: Celsius.annotations({ description: "sensor die temperature (Ta), °C" }),
  capturedAt: IsoTime,
  sequence: Schema.NonNegativeInt
}).annotations({ identifier: "Frame" })
export type FrameJson = typeof FrameJson.Type

/** The JSON form of `frame`, whose `summary` the monitor computed once. */
export const toJson = (frame: Frame, { max, mean, min }: Summary): FrameJson => ({
  temperatures: Array.from(frame.temperatures, round2),
  width: WIDTH,
  height: HEIGHT,
  min: round2(min),
  max: round2(max),
  mean: round2(mean),
  ambient: round2(frame.ambient),
  capturedAt: iso(frame.capturedAt),
  sequence: frame.sequence
})
