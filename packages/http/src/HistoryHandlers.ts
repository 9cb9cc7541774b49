/**
 * The handlers of the `history` group: a range of a zone's (or the frame's) history as JSON or CSV.
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import { History } from "@ircam/core/History"
import { fileName, toCsvBytes, toJsonBytes } from "@ircam/core/HistoryExport"
import { Effect } from "effect"
import { IrcamApi } from "./Api.js"

export const layer = HttpApiBuilder.group(IrcamApi, "history", (handlers) =>
  Effect.gen(function*() {
    const history = yield* History
    return handlers.handle("read", ({ urlParams: { format, from, points, step, to, zoneId } }) =>
      Effect.map(history.read({ zoneId: zoneId ?? null, from, to, step, points }), (answer) =>
        format === "csv"
          ? HttpServerResponse.uint8Array(toCsvBytes(answer), {
            contentType: "text/csv; charset=utf-8",
            headers: { "content-disposition": `attachment; filename="${fileName(answer, "csv")}"` }
          })
          // written bucket by bucket: thousands of buckets through the schema's encoder, or even
          // JSON.stringify of their objects, cost far more (the same bytes as `toJson` gives)
          : HttpServerResponse.uint8Array(toJsonBytes(answer), { contentType: "application/json" })))
  }))
