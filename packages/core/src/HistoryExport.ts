/**
 * The history as the API and the CLI export it: JSON (`HistoryJson`) and CSV (a header row, then
 * one row a bucket, gaps included with empty values).
 */
import { csvLineEnd } from "./EventExport.js"
import { type HistoryAnswer, type Slot, toJson } from "./HistoryBucket.js"
import { iso } from "./Time.js"

/** `t,min,max,mean,frames`, and `ambient` for the whole frame. */
export const csvHeader = (withAmbient: boolean): string =>
  withAmbient ? "t,min,max,mean,frames,ambient" : "t,min,max,mean,frames"

const value = (celsius: number | null) => celsius === null ? "" : String(celsius)

/** One CSV row: the bucket's start, its values in °C (empty in a gap) and its frames. */
export const csvRow = (slot: Slot, withAmbient: boolean): string => {
  const fields = [iso(slot.t * 1000), value(slot.min), value(slot.max), value(slot.mean), String(slot.frames)]
  if (withAmbient) fields.push(value(slot.ambient))
  return fields.join(",")
}

/** The whole CSV document (CRLF line ends, as the events' CSV). */
export const toCsv = (answer: HistoryAnswer): string => {
  const withAmbient = answer.zoneId === null
  return [csvHeader(withAmbient), ...answer.buckets.map((slot) => csvRow(slot, withAmbient))].join(csvLineEnd) +
    csvLineEnd
}

/** The JSON document. */
export const toJsonText = (answer: HistoryAnswer): string => JSON.stringify(toJson(answer))

/** A file name for the export: `history-zone-1.csv`, `history-frame.json`. */
export const fileName = (answer: HistoryAnswer, format: "csv" | "json"): string =>
  `history-${answer.zoneId === null ? "frame" : `zone-${answer.zoneId}`}.${format}`
