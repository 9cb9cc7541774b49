/**
 * The handler of the `health` group: the report of every subsystem, a 503 when one is down.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Health } from "@ircam/core/Health"
import { Effect } from "effect"
import { IrcamApi } from "./Api.js"

export const layer = HttpApiBuilder.group(IrcamApi, "health", (handlers) =>
  Effect.gen(function*() {
    const health = yield* Health
    return handlers.handle("health", () =>
      Effect.flatMap(health.report, (report) =>
        report.status === "down" ? Effect.fail(report) : Effect.succeed(report)))
  }))
