/**
 * Turns whatever stopped the CLI into one line a person can act on.
 */
import { Cause, ConfigError, Option } from "effect"

const messageOf = (error: unknown): string => {
  if (ConfigError.isConfigError(error)) return `invalid configuration: ${String(error)}`
  if (typeof error === "object" && error !== null) {
    const tag = "_tag" in error ? String(error._tag) : undefined
    const message = "message" in error && typeof error.message === "string" ? error.message : undefined
    if (tag === "ServeError") {
      const cause = "cause" in error ? error.cause : undefined
      const detail = cause instanceof Error ? cause.message : message || String(cause)
      return `cannot start the HTTP server: ${detail}`
    }
    if (message !== undefined && message !== "") return tag === undefined ? message : `${tag}: ${message}`
  }
  return String(error)
}

/** One line for a failure, or the full cause for a defect (a bug worth a stack trace). */
export const describe = (cause: Cause.Cause<unknown>): string =>
  Option.match(Cause.failureOption(cause), {
    onSome: messageOf,
    onNone: () => Cause.pretty(cause)
  })
