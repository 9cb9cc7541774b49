/**
 * `ircam history export`: a range of a zone's (or the whole frame's) history in `DATABASE_PATH`,
 * read by HistoryQuery, the API's own query, and written in the API's JSON or CSV (HistoryExport):
 * the same numbers as `GET /api/v1/history` with the same parameters. It only reads, so it is safe
 * while a server records. (The options are in Commands.ts.)
 */
import { toCsv, toJsonText } from "@ircam/core/HistoryExport"
import * as HistoryQuery from "@ircam/core/HistoryQuery"
import { IsoDateTime } from "@ircam/core/IsoDateTime"
import { ZoneId } from "@ircam/core/Zone"
import { ZoneNotFound } from "@ircam/core/ZoneRepo"
import { Console, Effect, Option, ParseResult, Schema } from "effect"
import * as CliStorage from "./CliStorage.js"
import type { HistoryExportOptions } from "./Commands.js"
import { writeFile, writeStdout } from "./Output.js"

/** An export may hold this many buckets (a year of hours is 8,761; two days of seconds 172,801). */
export const maxBuckets = 1_000_000

const decodeInstant = Schema.decodeEither(IsoDateTime)

/** `--from` / `--to`: an ISO-8601 date-time with its time zone, as the API takes it. */
const instant = (option: "--from" | "--to", text: Option.Option<string>) =>
  Option.match(text, {
    onNone: () => Effect.succeed(undefined),
    onSome: (value) =>
      Effect.mapError(
        decodeInstant(value),
        (error) =>
          new HistoryQuery.HistoryRangeInvalid({
            field: option,
            message: `${option}: ${ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message}`
          })
      )
  })

const isZoneId = Schema.is(ZoneId)

const zoneOf = (zone: Option.Option<number>) =>
  Option.match(zone, {
    onNone: () => Effect.succeed(null),
    onSome: (id) =>
      isZoneId(id)
        ? Effect.succeed(id)
        : Effect.fail(new ZoneNotFound({ id, message: `there is no zone ${id}, and no history of one` }))
  })

/** `ircam history export`. */
export const exportHistory = ({ format, from, out, points, step, to, zone }: HistoryExportOptions) =>
  Effect.gen(function*() {
    const answer = yield* HistoryQuery.read({
      zoneId: yield* zoneOf(zone),
      from: yield* instant("--from", from),
      to: yield* instant("--to", to),
      step: Option.getOrUndefined(step),
      points,
      maxBuckets
    })
    const text = format === "csv" ? toCsv(answer) : toJsonText(answer) + "\n"
    if (Option.isNone(out)) return yield* writeStdout(text)
    const file = yield* writeFile(out.value, text)
    const what = answer.zoneId === null ? "the whole frame" : `zone ${answer.zoneId}`
    yield* Console.log(`wrote ${answer.buckets.length} buckets of ${answer.step} of ${what} (${format}) to ${file}`)
  }).pipe(Effect.provide(CliStorage.layer))
