/**
 * What the code under test logs: a logger added for the duration of a test that keeps every
 * entry, so a test can assert that a warning was logged (and what it said).
 */
import { Effect, HashMap, Logger } from "effect"

export interface LogEntry {
  /** "INFO", "WARN", "ERROR" … */
  readonly level: string
  /** the messages of the call, joined by spaces */
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** Runs `test` with a logger that keeps every entry in the array it is given (layers it builds and fibers they fork included). */
export const capture = <A, E, R>(test: (entries: ReadonlyArray<LogEntry>) => Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const entries: Array<LogEntry> = []
    const keep = Logger.make(({ annotations, logLevel, message }) => {
      entries.push({
        level: logLevel.label,
        message: (Array.isArray(message) ? message : [message]).map(String).join(" "),
        annotations: Object.fromEntries(HashMap.toEntries(annotations))
      })
    })
    return test(entries).pipe(Effect.provide(Logger.add(keep)))
  })
