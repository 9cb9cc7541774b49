/**
 * The whole configuration of ircam, read from the environment (and `.env`) once at start-up.
 * Every value is validated here, so a bad one stops start-up with an error naming the variable.
 *
 * Longer than 350 lines on purpose: one table of every setting with its validation, so that what
 * can be set, and how it is checked, is in one place (MQTT's settings are in MqttConfig).
 */
import { Config, ConfigError, Context, Effect, Either, Layer, LogLevel, Option, Redacted } from "effect"
import * as MqttConfig from "./MqttConfig.js"

export type SensorKind = "auto" | "mlx90640" | "emulated" | "simulated"
export type LogFormat = "pretty" | "json" | "logfmt"

/** Refresh rates the MLX90640 supports (control register 0x800D, bits 7..9). */
export const refreshRates = [0.5, 1, 2, 4, 8, 16, 32, 64] as const

export interface AppConfigShape {
  readonly port: number
  readonly host: string
  readonly databasePath: string
  /** what `SENSOR` asked for; `MOCK_SENSOR=1` turns it into `simulated` */
  readonly sensor: SensorKind
  /** frames per second the sensor delivers */
  readonly refreshRateHz: number
  /** the Linux I²C bus the MLX90640 is on (/dev/i2c-N) */
  readonly i2cBus: number
  /** the MLX90640's 7-bit I²C address */
  readonly i2cAddress: number
  /** emissivity of the observed surfaces, for the MLX90640's temperature calculation */
  readonly emissivity: number
  /** `SENSOR=emulated`: probability of an injected bus error per I²C transfer */
  readonly emulatorFaultRate: number
  readonly simulationSeed: number
  readonly frameBufferSeconds: number
  /** seconds of frames an event keeps from before its trigger (taken from the frame buffer) */
  readonly preEventSeconds: number
  /** seconds of frames an event records after its (last) trigger */
  readonly postEventSeconds: number
  /** events older than this many days are deleted */
  readonly eventRetentionDays: number
  /** the database is kept below this size by deleting the oldest events */
  readonly maxDbMb: number
  /** the history's per-second buckets are kept this many days */
  readonly historySecondDays: number
  /** its 1-minute buckets */
  readonly historyMinuteDays: number
  /** its 1-hour buckets */
  readonly historyHourDays: number
  readonly maxZones: number
  /** at most this many Server-Sent Events streams are served at once */
  readonly maxStreams: number
  readonly apiToken: Option.Option<Redacted.Redacted<string>>
  /**
   * Host names the server answers to besides its own (loopback, its host name, its addresses):
   * canonical names and addresses (`canonicalHost`), `*.example.com` for every name under
   * example.com, or `*` for any.
   */
  readonly allowedHosts: ReadonlyArray<string>
  /** alarm notifications are POSTed here when set */
  readonly webhookUrl: Option.Option<URL>
  /** the address users reach the server at (its path ends with "/"): absolute links in notifications */
  readonly publicUrl: Option.Option<URL>
  /** Standard Webhooks signing secret (`whsec_<base64>`); unsigned when unset */
  readonly webhookSecret: Option.Option<Redacted.Redacted<string>>
  /** alarm notifications are e-mailed when set */
  readonly smtp: Option.Option<SmtpConfig>
  /** `GET /metrics` serves Prometheus metrics */
  readonly metricsEnabled: boolean
  /** state, alarms and the heat map published to an MQTT broker when `MQTT_URL` is set */
  readonly mqtt: Option.Option<MqttConfig.MqttConfig>
  readonly logLevel: LogLevel.LogLevel
  readonly logFormat: LogFormat
}

export interface SmtpConfig {
  readonly host: string
  readonly port: number
  readonly user: Option.Option<string>
  readonly password: Option.Option<Redacted.Redacted<string>>
  readonly from: string
  readonly to: ReadonlyArray<string>
}

export const defaults: AppConfigShape = {
  port: 8000,
  host: "0.0.0.0",
  databasePath: "data/ircam.db",
  sensor: "auto",
  refreshRateHz: 8,
  i2cBus: 1,
  i2cAddress: 0x33,
  emissivity: 0.95,
  emulatorFaultRate: 0,
  simulationSeed: 1,
  frameBufferSeconds: 30,
  preEventSeconds: 10,
  postEventSeconds: 10,
  eventRetentionDays: 30,
  maxDbMb: 500,
  historySecondDays: 2,
  historyMinuteDays: 90,
  historyHourDays: 730,
  maxZones: 2,
  maxStreams: 8,
  apiToken: Option.none(),
  allowedHosts: [],
  webhookUrl: Option.none(),
  publicUrl: Option.none(),
  webhookSecret: Option.none(),
  smtp: Option.none(),
  metricsEnabled: true,
  mqtt: Option.none(),
  logLevel: LogLevel.Info,
  logFormat: "pretty"
}

/**
 * A host name or IP address as URLs write it (lower case, IPv4 in dotted decimal, IPv6 in
 * brackets, no trailing dot), or none when `text` is not one; a port, a path or user
 * information make it none. Host headers and ALLOWED_HOSTS are compared in this form.
 */
export const canonicalHost = (text: string): Option.Option<string> => {
  const name = text.includes(":") && !text.startsWith("[") ? `[${text}]` : text
  if (!/^(?:\[[0-9a-f:.]+\]|[a-z0-9_.-]+)$/i.test(name)) return Option.none()
  try {
    const { hostname } = new URL(`http://${name}/`)
    return hostname === "" || hostname === "." ? Option.none() : Option.some(hostname.replace(/\.$/, ""))
  } catch {
    return Option.none()
  }
}

/** One entry of ALLOWED_HOSTS in the form `allowedHosts` keeps it, or none when it is not valid. */
const allowedHost = (entry: string): Option.Option<string> =>
  entry === "*"
    ? Option.some(entry)
    : entry.startsWith("*.")
    ? Option.map(canonicalHost(entry.slice(2)), (domain) => `*.${domain}`)
    : canonicalHost(entry)

const within = (min: number, max: number) => (config: Config.Config<number>) =>
  Config.validate(config, { message: `must be between ${min} and ${max}`, validation: (n) => n >= min && n <= max })

/** An http:// or https:// URL in `name`; unset (or blank) is none. */
const optionalHttpUrl = (name: string): Config.Config<Option.Option<URL>> =>
  Config.string(name).pipe(
    Config.option,
    Config.mapOrFail(Option.match({
      onNone: () => Either.right(Option.none<URL>()),
      onSome: (text) => {
        if (text.trim() === "") return Either.right(Option.none<URL>())
        const url = URL.canParse(text.trim()) ? new URL(text.trim()) : undefined
        return url !== undefined && (url.protocol === "http:" || url.protocol === "https:")
          ? Either.right(Option.some(url))
          : Either.left(ConfigError.InvalidData([name], `must be an http:// or https:// URL, got "${text}"`))
      }
    }))
  )

/** The configuration as `Config` descriptions, one per environment variable. */
export const config: Config.Config<AppConfigShape> = Config.all({
  port: Config.port("PORT").pipe(Config.withDefault(defaults.port)),
  host: Config.nonEmptyString("HOST").pipe(Config.withDefault(defaults.host)),
  databasePath: Config.nonEmptyString("DATABASE_PATH").pipe(Config.withDefault(defaults.databasePath)),
  sensor: Config.literal("auto", "mlx90640", "emulated", "simulated")("SENSOR").pipe(
    Config.withDefault(defaults.sensor)
  ),
  mockSensor: Config.boolean("MOCK_SENSOR").pipe(Config.withDefault(false)),
  refreshRateHz: Config.number("REFRESH_RATE_HZ").pipe(
    Config.validate({
      message: `must be one of the MLX90640 refresh rates ${refreshRates.join(", ")}`,
      validation: (n) => (refreshRates as ReadonlyArray<number>).includes(n)
    }),
    Config.withDefault(defaults.refreshRateHz)
  ),
  i2cBus: Config.integer("I2C_BUS").pipe(within(0, 255), Config.withDefault(defaults.i2cBus)),
  // written either way people know it: 0x33 (as i2cdetect shows it) or 51
  i2cAddress: Config.string("I2C_ADDRESS").pipe(
    Config.mapOrFail((text) => {
      const value = /^0x[0-9a-f]{1,2}$/i.test(text.trim())
        ? parseInt(text.trim(), 16)
        : /^[0-9]{1,3}$/.test(text.trim())
        ? Number(text.trim())
        : NaN
      return value >= 0x08 && value <= 0x77
        ? Either.right(value)
        : Either.left(
          ConfigError.InvalidData([], `must be a 7-bit I²C address from 0x08 to 0x77 (like 0x33), got "${text}"`)
        )
    }),
    Config.withDefault(defaults.i2cAddress)
  ),
  emissivity: Config.number("EMISSIVITY").pipe(
    Config.validate({ message: "must be greater than 0 and at most 1", validation: (e) => e > 0 && e <= 1 }),
    Config.withDefault(defaults.emissivity)
  ),
  emulatorFaultRate: Config.number("EMULATOR_FAULT_RATE").pipe(
    within(0, 1),
    Config.withDefault(defaults.emulatorFaultRate)
  ),
  simulationSeed: Config.integer("SIMULATION_SEED").pipe(
    within(0, 2 ** 32 - 1),
    Config.withDefault(defaults.simulationSeed)
  ),
  frameBufferSeconds: Config.number("FRAME_BUFFER_SECONDS").pipe(
    within(1, 600),
    Config.withDefault(defaults.frameBufferSeconds)
  ),
  preEventSeconds: Config.number("PRE_EVENT_SECONDS").pipe(
    within(0, 600),
    Config.withDefault(defaults.preEventSeconds)
  ),
  postEventSeconds: Config.number("POST_EVENT_SECONDS").pipe(
    within(1, 600),
    Config.withDefault(defaults.postEventSeconds)
  ),
  eventRetentionDays: Config.number("EVENT_RETENTION_DAYS").pipe(
    within(0.01, 36500),
    Config.withDefault(defaults.eventRetentionDays)
  ),
  maxDbMb: Config.number("MAX_DB_MB").pipe(within(1, 1_000_000), Config.withDefault(defaults.maxDbMb)),
  historySecondDays: Config.number("HISTORY_SECOND_DAYS").pipe(
    within(0.01, 365),
    Config.withDefault(defaults.historySecondDays)
  ),
  historyMinuteDays: Config.number("HISTORY_MINUTE_DAYS").pipe(
    within(0.01, 3650),
    Config.withDefault(defaults.historyMinuteDays)
  ),
  historyHourDays: Config.number("HISTORY_HOUR_DAYS").pipe(
    within(0.01, 36500),
    Config.withDefault(defaults.historyHourDays)
  ),
  maxZones: Config.integer("MAX_ZONES").pipe(within(1, 16), Config.withDefault(defaults.maxZones)),
  maxStreams: Config.integer("MAX_STREAMS").pipe(within(1, 1000), Config.withDefault(defaults.maxStreams)),
  // trimmed like an HTTP header value, so stray spaces in .env cannot make every request fail
  apiToken: Config.string("API_TOKEN").pipe(
    Config.option,
    Config.map(
      Option.flatMap((token) => token.trim() === "" ? Option.none() : Option.some(Redacted.make(token.trim())))
    )
  ),
  allowedHosts: Config.string("ALLOWED_HOSTS").pipe(
    Config.mapOrFail((text) => {
      const entries = text.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")
      const hosts = entries.map(allowedHost)
      const invalid = entries.find((_, i) => Option.isNone(hosts[i]!))
      return invalid === undefined
        ? Either.right(hosts.map(Option.getOrThrow))
        : Either.left(ConfigError.InvalidData(
          [],
          "must be host names or IP addresses separated by commas, without a scheme or a port (like " +
            "ircam.example.com,192.168.1.20), *.example.com for every name under example.com, or * for any " +
            `host (unsafe); got "${invalid}"`
        ))
    }),
    Config.withDefault(defaults.allowedHosts)
  ),
  webhookUrl: optionalHttpUrl("WEBHOOK_URL"),
  // links are resolved against it: a path (behind a reverse proxy) keeps its last segment
  publicUrl: optionalHttpUrl("PUBLIC_URL").pipe(
    Config.map(Option.map((url) => url.pathname.endsWith("/") ? url : new URL(`${url.pathname}/`, url)))
  ),
  webhookSecret: Config.string("WEBHOOK_SECRET").pipe(
    Config.option,
    Config.mapOrFail(Option.match({
      onNone: () => Either.right(Option.none<Redacted.Redacted<string>>()),
      onSome: (text) =>
        text.trim() === ""
          ? Either.right(Option.none<Redacted.Redacted<string>>())
          : /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/.test(text.trim())
          ? Either.right(Option.some(Redacted.make(text.trim())))
          : Either.left(
            ConfigError.InvalidData(
              ["WEBHOOK_SECRET"],
              "must be a Standard Webhooks secret: whsec_ followed by base64 (at least 12 bytes)"
            )
          )
    }))
  ),
  smtp: Config.all({
    host: Config.string("SMTP_HOST").pipe(Config.option),
    port: Config.port("SMTP_PORT").pipe(Config.withDefault(587)),
    user: Config.string("SMTP_USER").pipe(Config.option),
    password: Config.redacted("SMTP_PASSWORD").pipe(Config.option),
    from: Config.string("SMTP_FROM").pipe(Config.option),
    to: Config.string("SMTP_TO").pipe(Config.option)
  }).pipe(
    Config.mapOrFail(({ from, host, to, ...rest }) => {
      const present = (o: Option.Option<string>) => Option.filter(Option.map(o, (s) => s.trim()), (s) => s !== "")
      const given = present(host)
      if (Option.isNone(given)) return Either.right(Option.none<SmtpConfig>())
      const sender = present(from)
      const recipients = Option.map(present(to), (list) => list.split(",").map((a) => a.trim()).filter((a) => a !== ""))
      if (Option.isNone(sender)) {
        return Either.left(ConfigError.InvalidData(["SMTP_FROM"], "must be set when SMTP_HOST is (the sender address)"))
      }
      if (Option.isNone(recipients) || recipients.value.length === 0) {
        return Either.left(
          ConfigError.InvalidData(["SMTP_TO"], "must be set when SMTP_HOST is (comma-separated recipient addresses)")
        )
      }
      return Either.right(Option.some<SmtpConfig>({
        host: given.value,
        port: rest.port,
        user: present(rest.user),
        password: Option.filter(rest.password, (password) => Redacted.value(password) !== ""),
        from: sender.value,
        to: recipients.value
      }))
    })
  ),
  metricsEnabled: Config.boolean("METRICS_ENABLED").pipe(Config.withDefault(defaults.metricsEnabled)),
  mqtt: MqttConfig.config,
  logLevel: Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(defaults.logLevel)),
  logFormat: Config.literal("pretty", "json", "logfmt")("LOG_FORMAT").pipe(Config.withDefault(defaults.logFormat))
}).pipe(
  Config.map(({ mockSensor, sensor, ...rest }) => ({ ...rest, sensor: mockSensor ? "simulated" : sensor })),
  // the frames before a trigger come from the frame buffer, so it must hold them
  Config.mapOrFail((config) =>
    config.preEventSeconds <= config.frameBufferSeconds
      ? Either.right(config)
      : Either.left(ConfigError.InvalidData(
        ["PRE_EVENT_SECONDS"],
        `must be at most FRAME_BUFFER_SECONDS (${config.frameBufferSeconds}): the frames before an event come from the frame buffer`
      ))
  ),
  // each resolution of the history is made from the finer one as it is recorded: a coarser one kept
  // for a shorter time would only lose what the finer one still has
  Config.mapOrFail((config) =>
    config.historyMinuteDays < config.historySecondDays
      ? Either.left(ConfigError.InvalidData(
        ["HISTORY_MINUTE_DAYS"],
        `must be at least HISTORY_SECOND_DAYS (${config.historySecondDays}): minutes are kept at least as long as seconds`
      ))
      : config.historyHourDays < config.historyMinuteDays
      ? Either.left(ConfigError.InvalidData(
        ["HISTORY_HOUR_DAYS"],
        `must be at least HISTORY_MINUTE_DAYS (${config.historyMinuteDays}): hours are kept at least as long as minutes`
      ))
      : Either.right(config)
  )
)

export class AppConfig extends Context.Tag("@ircam/core/AppConfig")<AppConfig, AppConfigShape>() {
  /** Reads and validates the configuration from the current `ConfigProvider` (the environment by default). */
  static readonly layer: Layer.Layer<AppConfig, ConfigError.ConfigError> = Layer.effect(
    AppConfig,
    Effect.map(config, AppConfig.of)
  )

  /** A fixed configuration: the defaults with `overrides`; for tests and embedding. */
  static readonly layerWith = (overrides: Partial<AppConfigShape> = {}): Layer.Layer<AppConfig> =>
    Layer.succeed(AppConfig, AppConfig.of({ ...defaults, ...overrides }))
}
