/**
 * The handlers of the `events` group: manual triggers, queries, frames as JSON or CSV, deletion.
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { type StoredFrame, toJson } from "@ircam/core/Event"
import { EventStore } from "@ircam/core/EventStore"
import { HEIGHT, WIDTH } from "@ircam/core/Frame"
import { Effect } from "effect"
import { IrcamApi } from "./Api.js"

const iso = (ms: number) => new Date(ms).toISOString()

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

/** The whole CSV document, CRLF line ends (RFC 4180). */
export const toCsv = (frames: ReadonlyArray<StoredFrame>): string =>
  [csvHeader, ...frames.map(csvRow)].join("\r\n") + "\r\n"

export const layer = HttpApiBuilder.group(IrcamApi, "events", (handlers) =>
  Effect.gen(function*() {
    const store = yield* EventStore
    return handlers
      .handle("trigger", ({ payload }) => Effect.map(store.trigger({ kind: "manual", label: payload.label }), toJson))
      .handle("list", ({ urlParams }) => Effect.map(store.list(urlParams), (events) => events.map(toJson)))
      .handle("get", ({ path }) => Effect.map(store.get(path.id), toJson))
      .handle("frames", ({ path, urlParams }) =>
        Effect.map(store.frames(path.id), (frames) =>
          urlParams.format === "csv"
            ? HttpServerResponse.text(toCsv(frames), {
              contentType: "text/csv; charset=utf-8",
              headers: { "content-disposition": `attachment; filename="event-${path.id}.csv"` }
            })
            // JSON.stringify directly: encoding 768 numbers a frame through the schema costs far more
            : HttpServerResponse.unsafeJson(frames.map(frameJson))))
      .handle("remove", ({ path }) => store.remove(path.id))
  }))
