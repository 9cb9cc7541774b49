/**
 * `ircam config check`: validates the configuration (environment, then `.env`) exactly as the
 * server reads it, and prints the effective values with the secrets masked. (The options are in Commands.ts.)
 */
import { AppConfig, type AppConfigShape } from "@ircam/core/AppConfig"
import type { MqttConfig } from "@ircam/core/MqttConfig"
import { Console, Effect, Option } from "effect"
import type { ConfigCheckOptions } from "./Commands.js"

export const mask = "***"

/** A URL with any user:password and the values of its query parameters masked. */
export const maskUrl = (url: URL): string => {
  const copy = new URL(url.href)
  if (copy.username !== "") copy.username = mask
  if (copy.password !== "") copy.password = mask
  for (const key of [...new Set(copy.searchParams.keys())]) copy.searchParams.set(key, mask)
  return copy.href.replaceAll(encodeURIComponent(mask), mask)
}

const optional = <A>(option: Option.Option<A>, show: (a: A) => string | number): string | number | null =>
  Option.match(option, { onNone: () => null, onSome: show })

/** The MQTT variables (all unset without MQTT_URL), the password and the URL's credentials masked. */
const mqttValues = (mqtt: MqttConfig | undefined): Record<string, string | number | null> => ({
  MQTT_URL: mqtt === undefined ? null : maskUrl(mqtt.url),
  MQTT_CA_FILE: mqtt === undefined ? null : optional(mqtt.ca, (ca) => ca.file),
  MQTT_USERNAME: mqtt === undefined ? null : optional(mqtt.username, (user) => user),
  MQTT_PASSWORD: mqtt === undefined ? null : optional(mqtt.password, () => mask),
  // unset: the sensor's serial number, or the host name (see the README)
  DEVICE_ID: mqtt === undefined ? null : optional(mqtt.deviceId, (id) => id),
  DEVICE_NAME: mqtt === undefined ? null : optional(mqtt.deviceName, (name) => name),
  MQTT_TOPIC_PREFIX: mqtt === undefined ? null : optional(mqtt.topicPrefix, (prefix) => prefix),
  MQTT_STATE_INTERVAL_SECONDS: mqtt?.stateIntervalSeconds ?? null,
  MQTT_IMAGE_INTERVAL_SECONDS: mqtt?.imageIntervalSeconds ?? null,
  MQTT_IMAGE_PALETTE: mqtt?.imagePalette ?? null,
  MQTT_IMAGE_SCALE: mqtt?.imageScale ?? null,
  MQTT_DISCOVERY: mqtt === undefined ? null : String(mqtt.discovery),
  MQTT_DISCOVERY_PREFIX: mqtt?.discoveryPrefix ?? null,
  MQTT_COMMANDS: mqtt === undefined ? null : String(mqtt.commands)
})

/** The effective configuration by variable name, secrets masked. */
export const effective = (config: AppConfigShape): Record<string, string | number | null> => {
  const smtp = Option.getOrUndefined(config.smtp)
  const mqtt = Option.getOrUndefined(config.mqtt)
  return {
    PORT: config.port,
    HOST: config.host,
    DATABASE_PATH: config.databasePath,
    SENSOR: config.sensor,
    REFRESH_RATE_HZ: config.refreshRateHz,
    I2C_BUS: config.i2cBus,
    I2C_ADDRESS: `0x${config.i2cAddress.toString(16)}`,
    EMISSIVITY: config.emissivity,
    EMULATOR_FAULT_RATE: config.emulatorFaultRate,
    SIMULATION_SEED: config.simulationSeed,
    FRAME_BUFFER_SECONDS: config.frameBufferSeconds,
    PRE_EVENT_SECONDS: config.preEventSeconds,
    POST_EVENT_SECONDS: config.postEventSeconds,
    EVENT_RETENTION_DAYS: config.eventRetentionDays,
    MAX_DB_MB: config.maxDbMb,
    MAX_ZONES: config.maxZones,
    MAX_STREAMS: config.maxStreams,
    API_TOKEN: optional(config.apiToken, () => mask),
    PUBLIC_URL: optional(config.publicUrl, (url) => url.href),
    // besides this machine's own names and addresses, which are always allowed
    ALLOWED_HOSTS: config.allowedHosts.length === 0 ? null : config.allowedHosts.join(","),
    WEBHOOK_URL: optional(config.webhookUrl, maskUrl),
    WEBHOOK_SECRET: optional(config.webhookSecret, () => mask),
    SMTP_HOST: smtp?.host ?? null,
    SMTP_PORT: smtp?.port ?? null,
    SMTP_USER: smtp === undefined ? null : optional(smtp.user, (user) => user),
    SMTP_PASSWORD: smtp === undefined ? null : optional(smtp.password, () => mask),
    SMTP_FROM: smtp?.from ?? null,
    SMTP_TO: smtp === undefined ? null : smtp.to.join(","),
    METRICS_ENABLED: String(config.metricsEnabled),
    ...mqttValues(mqtt),
    LOG_LEVEL: config.logLevel.label,
    LOG_FORMAT: config.logFormat
  }
}

/** `ircam config check`. */
export const check = ({ json }: ConfigCheckOptions) =>
  Effect.gen(function*() {
    const values = effective(yield* AppConfig)
    if (json) return yield* Console.log(JSON.stringify(values, null, 2))
    yield* Console.log("configuration is valid; effective values (secrets masked):")
    for (const [name, value] of Object.entries(values)) {
      yield* Console.log(`  ${name}=${value === null ? "(unset)" : value}`)
    }
  }).pipe(Effect.provide(AppConfig.layer))
