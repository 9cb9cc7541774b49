/**
 * Logging: the format (`LOG_FORMAT`: pretty for a terminal, json or logfmt for log collectors)
 * and the minimum level (`LOG_LEVEL`).
 */
import { Effect, Layer, Logger } from "effect"
import { AppConfig } from "./AppConfig.js"

const formats = {
  pretty: Logger.pretty,
  json: Logger.json,
  logfmt: Logger.logFmt
} as const

/**
 * Exactly one console logger in the chosen format. `NodeRuntime.runMain` adds a pretty logger of
 * its own; it is removed first, or every line would be printed twice.
 */
export const layer: Layer.Layer<never, never, AppConfig> = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) =>
    formats[config.logFormat].pipe(
      Layer.provideMerge(Logger.remove(Logger.prettyLoggerDefault)),
      Layer.merge(Logger.minimumLogLevel(config.logLevel))
    ))
)
