/**
 * Health: a registry of checks, one per subsystem; a report runs them all and folds their
 * statuses. Services expose their check (`health`); the composition that builds them (Core,
 * the HTTP server) registers it, so no service needs Health to be built.
 */
import { Clock, Duration, Effect, Ref, Schema } from "effect"
import { iso, monotonicMs } from "./Time.js"

export const Status = Schema.Literal("ok", "degraded", "down")
export type Status = typeof Status.Type

export const CheckResult = Schema.Struct({
  status: Status,
  message: Schema.optional(Schema.String),
  details: Schema.Record({ key: Schema.String, value: Schema.Unknown })
}).annotations({ identifier: "HealthCheck" })
export type CheckResult = typeof CheckResult.Type

export const Report = Schema.Struct({
  status: Status,
  checkedAt: Schema.String.annotations({ description: "ISO-8601 time in UTC" }),
  uptimeSeconds: Schema.Number,
  checks: Schema.Record({ key: Schema.String, value: CheckResult })
}).annotations({ identifier: "HealthReport" })
export type Report = typeof Report.Type

const severity: Record<Status, number> = { ok: 0, degraded: 1, down: 2 }

/** The worst of several statuses. */
export const worst = (statuses: Iterable<Status>): Status => {
  let result: Status = "ok"
  for (const status of statuses) if (severity[status] > severity[result]) result = status
  return result
}

/** A check that does not answer within this time counts as down. */
export const checkTimeout = Duration.seconds(2)

export class Health extends Effect.Service<Health>()("@ircam/core/Health", {
  effect: Effect.gen(function*() {
    const startedAt = yield* monotonicMs
    const checks = yield* Ref.make(new Map<string, Effect.Effect<CheckResult>>())

    const run = (check: Effect.Effect<CheckResult>): Effect.Effect<CheckResult> =>
      check.pipe(
        Effect.timeoutTo({
          duration: checkTimeout,
          onSuccess: (result) => result,
          onTimeout: (): CheckResult => ({ status: "down", message: "check did not answer in time", details: {} })
        }),
        Effect.catchAllCause((cause) =>
          Effect.succeed<CheckResult>({ status: "down", message: `check failed: ${cause}`, details: {} })
        )
      )

    return {
      /** Adds (or replaces) the check called `name`. */
      register: (name: string, check: Effect.Effect<CheckResult>) =>
        Ref.update(checks, (map) => new Map(map).set(name, check)),
      report: Effect.gen(function*() {
        const registered = yield* Ref.get(checks)
        const results = yield* Effect.forEach(
          registered,
          ([name, check]) => Effect.map(run(check), (r) => [name, r] as const),
          {
            concurrency: "unbounded"
          }
        )
        return {
          status: worst(results.map(([, r]) => r.status)),
          checkedAt: iso(yield* Clock.currentTimeMillis),
          uptimeSeconds: Math.round(((yield* monotonicMs) - startedAt) / 1000),
          checks: Object.fromEntries(results)
        }
      })
    } as const
  })
}) {}

/** Registers `check` under `name` with the `Health` service in context. */
export const register = (name: string, check: Effect.Effect<CheckResult>): Effect.Effect<void, never, Health> =>
  Effect.flatMap(Health, (health) => health.register(name, check))
