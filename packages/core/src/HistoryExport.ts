/**
 * The history as the API and the CLI export it: JSON (`HistoryJson`) and CSV (a header row, then
 * one row a bucket, gaps included with empty values).
 *
 * Both are written bucket by bucket straight into bytes (`AsciiWriter`), not built as objects and
 * strings first: a week of minutes is 10,080 buckets, and the service's small young generation
 * made those objects cost several times the query. `toJson` (HistoryBucket) is the shape the JSON
 * text equals, byte for byte.
 */
import { csvLineEnd } from "./EventExport.js"
import { alarmPeriodJson, type HistoryAnswer, segmentJson, type Slot } from "./HistoryBucket.js"
import { AsciiWriter } from "./internal/AsciiWriter.js"
import { iso } from "./Time.js"

/** `t,min,max,mean,frames`, and `ambient` for the whole frame. */
export const csvHeader = (withAmbient: boolean): string =>
  withAmbient ? "t,min,max,mean,frames,ambient" : "t,min,max,mean,frames"

/** Bytes a bucket takes at most, about: what the writer reserves up front. */
const bytesPerBucket = 112

const decoder = new TextDecoder()

/** A value as `JSON.stringify` writes it: `null` for none (and for what JSON has no number for). */
const jsonValue = (out: AsciiWriter, celsius: number | null) =>
  celsius === null || !Number.isFinite(celsius) ? out.text("null") : out.number(celsius)

/** `{"t":…,"min":…,"max":…,"mean":…,"frames":…}`, with `"ambient"` last for the whole frame: `bucketJson`'s keys. */
const writeBucketJson = (out: AsciiWriter, slot: Slot, withAmbient: boolean) => {
  out.text("{\"t\":\"").isoSeconds(slot.t).text("\",\"min\":")
  jsonValue(out, slot.min).text(",\"max\":")
  jsonValue(out, slot.max).text(",\"mean\":")
  jsonValue(out, slot.mean).text(",\"frames\":")
  jsonValue(out, slot.frames)
  if (withAmbient) jsonValue(out.text(",\"ambient\":"), slot.ambient)
  out.text("}")
}

/** The JSON document as UTF-8: what `JSON.stringify(toJson(answer))` gives, written without it. */
export const toJsonBytes = (answer: HistoryAnswer): Uint8Array => {
  const withAmbient = answer.zoneId === null
  const out = new AsciiWriter(answer.buckets.length * bytesPerBucket + 1024)
  // the few values around the buckets go through JSON.stringify: only the buckets are many
  out.text(`{"zoneId":${JSON.stringify(answer.zoneId)},"step":${JSON.stringify(answer.step)},`)
  out.text(`"from":${JSON.stringify(iso(answer.from))},"to":${JSON.stringify(iso(answer.to))},`)
  out.text(`"segments":${JSON.stringify(answer.segments.map(segmentJson))},"buckets":[`)
  for (let i = 0; i < answer.buckets.length; i++) {
    if (i > 0) out.text(",")
    writeBucketJson(out, answer.buckets[i]!, withAmbient)
  }
  out.text(`],"alarms":${JSON.stringify(answer.alarms.map(alarmPeriodJson))}}`)
  return out.result()
}

/** The JSON document. */
export const toJsonText = (answer: HistoryAnswer): string => decoder.decode(toJsonBytes(answer))

const csvValue = (out: AsciiWriter, celsius: number | null) => celsius === null ? out : out.number(celsius)

/** The whole CSV document as UTF-8 (CRLF line ends, as the events' CSV): a row a bucket, gaps with empty values. */
export const toCsvBytes = (answer: HistoryAnswer): Uint8Array => {
  const withAmbient = answer.zoneId === null
  const out = new AsciiWriter(answer.buckets.length * bytesPerBucket + 64)
  out.text(csvHeader(withAmbient)).text(csvLineEnd)
  for (const slot of answer.buckets) {
    out.isoSeconds(slot.t).text(",")
    csvValue(out, slot.min).text(",")
    csvValue(out, slot.max).text(",")
    csvValue(out, slot.mean).text(",").number(slot.frames)
    if (withAmbient) csvValue(out.text(","), slot.ambient)
    out.text(csvLineEnd)
  }
  return out.result()
}

/** The whole CSV document. */
export const toCsv = (answer: HistoryAnswer): string => decoder.decode(toCsvBytes(answer))

/** A file name for the export: `history-zone-1.csv`, `history-frame.json`. */
export const fileName = (answer: HistoryAnswer, format: "csv" | "json"): string =>
  `history-${answer.zoneId === null ? "frame" : `zone-${answer.zoneId}`}.${format}`
