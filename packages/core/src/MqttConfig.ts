/**
 * The MQTT settings (`MQTT_URL` and the variables around it), read and validated with the rest of
 * the configuration (AppConfig's `mqtt`): none unless `MQTT_URL` is set, and then the other
 * variables are checked too, each error naming its variable.
 */
import { Config, ConfigError, Either, Option, type Redacted } from "effect"
import { readFileSync } from "node:fs"
import { type PaletteName, paletteNames } from "./Palette.js"

export interface MqttConfig {
  /** the broker: mqtt://host[:1883] or mqtts://host[:8883] */
  readonly url: URL
  /** `MQTT_CA_FILE`: the PEM certificates an mqtts:// broker's certificate is verified against (besides Node's) */
  readonly ca: Option.Option<{ readonly file: string; readonly pem: string }>
  readonly username: Option.Option<string>
  readonly password: Option.Option<Redacted.Redacted<string>>
  /** none: derived from the sensor at start-up (`MqttDevice`) */
  readonly deviceId: Option.Option<string>
  readonly deviceName: Option.Option<string>
  /** none: `ircam/<deviceId>` */
  readonly topicPrefix: Option.Option<string>
  readonly stateIntervalSeconds: number
  /** 0: no heat-map image */
  readonly imageIntervalSeconds: number
  readonly imagePalette: PaletteName
  readonly imageScale: number
  /** Home Assistant discovery */
  readonly discovery: boolean
  readonly discoveryPrefix: string
  /** commands over MQTT (record an event, acknowledge alarms) */
  readonly commands: boolean
}

export const defaults = {
  stateIntervalSeconds: 5,
  imageIntervalSeconds: 10,
  imagePalette: "iron" as PaletteName,
  imageScale: 10,
  discovery: true,
  discoveryPrefix: "homeassistant",
  commands: false
} as const

/** What a device id may be made of (it is part of topics and of Home Assistant's ids). */
export const deviceIdPattern = /^[a-z0-9_-]{1,64}$/

/** A topic (or the start of one) without wildcards, empty levels at either end, or a NUL. */
const isTopicPrefix = (text: string) =>
  text.length > 0 && text.length <= 200 && !/[#+]/.test(text) && !text.includes("\0") && !text.startsWith("/") &&
  !text.endsWith("/")

const invalid = (name: string, message: string) => Either.left(ConfigError.InvalidData([name], message))

/** A string variable that is none when unset or blank, trimmed otherwise. */
const optionalText = (name: string) =>
  Config.string(name).pipe(
    Config.option,
    Config.map(Option.flatMap((text) => text.trim() === "" ? Option.none() : Option.some(text.trim())))
  )

const topicPrefix = (name: string) =>
  optionalText(name).pipe(
    Config.mapOrFail((prefix) =>
      Option.isNone(prefix) || isTopicPrefix(prefix.value)
        ? Either.right(prefix)
        : invalid(
          name,
          `must be an MQTT topic without wildcards (+, #) and without a "/" at either end, like ircam/kiln; got "${prefix.value}"`
        )
    )
  )

const within = (min: number, max: number) =>
  Config.validate({ message: `must be between ${min} and ${max}`, validation: (n: number) => n >= min && n <= max })

const ca = optionalText("MQTT_CA_FILE").pipe(
  Config.mapOrFail((file) => {
    if (Option.isNone(file)) return Either.right(Option.none())
    let pem: string
    try {
      pem = readFileSync(file.value, "utf8")
    } catch (error) {
      return invalid("MQTT_CA_FILE", `cannot read ${file.value}: ${error instanceof Error ? error.message : error}`)
    }
    return pem.includes("-----BEGIN CERTIFICATE-----")
      ? Either.right(Option.some({ file: file.value, pem }))
      : invalid("MQTT_CA_FILE", `${file.value} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`)
  })
)

const settings = Config.all({
  ca,
  username: optionalText("MQTT_USERNAME"),
  password: Config.redacted("MQTT_PASSWORD").pipe(Config.option),
  deviceId: optionalText("DEVICE_ID").pipe(
    Config.mapOrFail((id) =>
      Option.isNone(id) || deviceIdPattern.test(id.value)
        ? Either.right(id)
        : invalid(
          "DEVICE_ID",
          `must be 1 to 64 lower-case letters, digits, "_" or "-" (it is part of MQTT topics); got "${id.value}"`
        )
    )
  ),
  deviceName: optionalText("DEVICE_NAME").pipe(
    Config.mapOrFail((name) =>
      Option.isNone(name) || name.value.length <= 64
        ? Either.right(name)
        : invalid("DEVICE_NAME", "must be at most 64 characters")
    )
  ),
  topicPrefix: topicPrefix("MQTT_TOPIC_PREFIX"),
  stateIntervalSeconds: Config.number("MQTT_STATE_INTERVAL_SECONDS").pipe(
    within(1, 86_400),
    Config.withDefault(defaults.stateIntervalSeconds)
  ),
  imageIntervalSeconds: Config.number("MQTT_IMAGE_INTERVAL_SECONDS").pipe(
    Config.validate({
      message: "must be 0 (no image) or between 1 and 86400",
      validation: (n) => n === 0 || (n >= 1 && n <= 86_400)
    }),
    Config.withDefault(defaults.imageIntervalSeconds)
  ),
  imagePalette: Config.literal(...paletteNames)("MQTT_IMAGE_PALETTE").pipe(Config.withDefault(defaults.imagePalette)),
  imageScale: Config.integer("MQTT_IMAGE_SCALE").pipe(
    within(1, 20),
    Config.withDefault(defaults.imageScale)
  ),
  discovery: Config.boolean("MQTT_DISCOVERY").pipe(Config.withDefault(defaults.discovery)),
  discoveryPrefix: topicPrefix("MQTT_DISCOVERY_PREFIX").pipe(
    Config.map(Option.getOrElse(() => defaults.discoveryPrefix))
  ),
  commands: Config.boolean("MQTT_COMMANDS").pipe(Config.withDefault(defaults.commands))
})

/** The MQTT settings when `MQTT_URL` is set (none otherwise: nothing is published). */
export const config: Config.Config<Option.Option<MqttConfig>> = optionalText("MQTT_URL").pipe(
  Config.mapOrFail((text) => {
    if (Option.isNone(text)) return Either.right(Option.none<URL>())
    const url = URL.canParse(text.value) ? new URL(text.value) : undefined
    return url !== undefined && (url.protocol === "mqtt:" || url.protocol === "mqtts:") && url.hostname !== ""
      ? Either.right(Option.some(url))
      : invalid("MQTT_URL", `must be an mqtt:// or mqtts:// URL of the broker (like mqtt://192.168.1.10:1883)`)
  }),
  Config.zip(settings),
  Config.mapOrFail(([url, settings]) => {
    if (Option.isNone(url)) return Either.right(Option.none())
    if (Option.isSome(settings.ca) && url.value.protocol !== "mqtts:") {
      return invalid("MQTT_CA_FILE", "verifies an mqtts:// broker; MQTT_URL is mqtt://, which has no TLS")
    }
    return Either.right(Option.some<MqttConfig>({ url: url.value, ...settings }))
  })
)

/** The broker as logs and health show it: scheme, host and port, never credentials. */
export const brokerLabel = (url: URL): string =>
  `${url.protocol}//${url.host}${url.port === "" ? (url.protocol === "mqtts:" ? ":8883" : ":1883") : ""}`
