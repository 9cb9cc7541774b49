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

export const layer: Layer.Layer<never, never, AppConfig> = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) => Layer.merge(formats[config.logFormat], Logger.minimumLogLevel(config.logLevel)))
)
