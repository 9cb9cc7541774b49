/**
 * The frames of an event as the API and the CLI export them: JSON (`[{capturedAt, sequence,
 * temperatures}]`) and CSV (a header row, then one row a frame).
 */
import type { StoredFrame } from "./Event.js"
import { HEIGHT, WIDTH } from "./Frame.js"
import { iso } from "./Time.js"

/** The JSON form of a stored frame (a pixel without a value becomes `null`, as JSON has no NaN). */
export const frameJson = (frame: StoredFrame) => ({
  capturedAt: iso(frame.capturedAt),
  sequence: frame.sequence,
  temperatures: Array.from(frame.temperatures)
})

/** `capturedAt,sequence,r0c0,r0c1,…,r23c31`: a column a pixel, row-major like `temperatures`. */
export const csvHeader = (() => {
  const columns = ["capturedAt", "sequence"]
  for (let row = 0; row < HEIGHT; row++) {
    for (let col = 0; col < WIDTH; col++) columns.push(`r${row}c${col}`)
  }
  return columns.join(",")
})()

/**
 * One CSV row: the time, the sequence and the temperatures as stored (°C with at most two
 * decimals: a stored value is a whole number of centi-degrees divided by 100, which prints
 * with at most two decimals); an empty field for a pixel without a value.
 */
export const csvRow = (frame: StoredFrame): string => {
  const fields = new Array<string>(frame.temperatures.length + 2)
  fields[0] = iso(frame.capturedAt)
  fields[1] = String(frame.sequence)
  for (let i = 0; i < frame.temperatures.length; i++) {
    const t = frame.temperatures[i]!
    fields[i + 2] = Number.isNaN(t) ? "" : String(t)
  }
  return fields.join(",")
}

/** Line ends of the CSV: CRLF (RFC 4180). */
export const csvLineEnd = "\r\n"

/** The whole CSV document. */
export const toCsv = (frames: ReadonlyArray<StoredFrame>): string =>
  [csvHeader, ...frames.map(csvRow)].join(csvLineEnd) + csvLineEnd
