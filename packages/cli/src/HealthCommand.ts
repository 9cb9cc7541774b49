/**
 * `ircam health`: asks a running server's `GET /api/v1/health` and prints the status and each check.
 * Exit code 0 ok, 1 degraded, 2 down or unreachable.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { AppConfig } from "@ircam/core/AppConfig"
import { Report, type Status } from "@ircam/core/Health"
import { Console, Effect, Option, Schema } from "effect"
import type { HealthOptions } from "./Commands.js"

/** How long the server has to answer. */
export const timeout = "5 seconds"

const exitCodes: Record<Status, number> = { ok: 0, degraded: 1, down: 2 }

const setExitCode = (code: number) =>
  Effect.sync(() => {
    if (code !== 0) process.exitCode = code
  })

/** One line per check: `  name: status — message`. */
export const format = (report: Report): string =>
  [
    `status: ${report.status} (checked ${report.checkedAt}, up ${report.uptimeSeconds} s)`,
    ...Object.entries(report.checks).map(([name, check]) =>
      `  ${name}: ${check.status}${check.message === undefined ? "" : ` - ${check.message}`}`
    )
  ].join("\n")

const decodeReport = Schema.decodeUnknown(Report)

/** `ircam health` (the options are in Commands.ts). */
export const health = ({ json, url }: HealthOptions) =>
  Effect.gen(function*() {
    const base = yield* Option.match(url, {
      onSome: Effect.succeed,
      onNone: () =>
        Effect.map(AppConfig, (config) => `http://127.0.0.1:${config.port}`).pipe(Effect.provide(AppConfig.layer))
    })
    const target = `${base.replace(/\/+$/, "")}/api/v1/health`
    const client = yield* HttpClient.HttpClient
    const answer = yield* client.execute(HttpClientRequest.get(target)).pipe(
      Effect.flatMap((response) => response.json),
      Effect.flatMap(decodeReport),
      Effect.timeout(timeout),
      Effect.scoped,
      Effect.either
    )
    if (answer._tag === "Left") {
      const error = answer.left
      const reason = error._tag === "TimeoutException"
        ? `no answer within ${timeout}`
        : error._tag === "ParseError" || (error._tag === "ResponseError" && error.reason === "Decode")
        ? "the answer is not a health report"
        : error.message
      yield* Console.error(`ircam: server unreachable at ${target}: ${reason}`)
      return yield* setExitCode(2)
    }
    const report = answer.right
    yield* Console.log(json ? JSON.stringify(report, null, 2) : format(report))
    yield* setExitCode(exitCodes[report.status])
  }).pipe(
    Effect.provide(NodeHttpClient.layerUndici)
  )
