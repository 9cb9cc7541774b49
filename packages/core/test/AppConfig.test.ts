import { assert, describe, it } from "@effect/vitest"
import { ConfigError, ConfigProvider, Effect, Either, Layer, LogLevel, Option, Redacted } from "effect"
import { AppConfig, canonicalHost, config, defaults, refreshRates } from "../src/AppConfig.js"

const fromEnv = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** The configuration read through `AppConfig.layer` from `env`. */
const load = (env: Record<string, string>) =>
  Effect.either(AppConfig.pipe(Effect.provide(AppConfig.layer.pipe(Layer.provide(fromEnv(env))))))

const loadOk = (env: Record<string, string>) =>
  Effect.flatMap(load(env), (result) =>
    Either.isRight(result)
      ? Effect.succeed(result.right)
      : Effect.dieMessage(`expected ${JSON.stringify(env)} to load: ${String(result.left)}`))

const loadError = (env: Record<string, string>) =>
  Effect.flatMap(load(env), (result) =>
    Either.isLeft(result)
      ? Effect.succeed(result.left)
      : Effect.dieMessage(`expected ${JSON.stringify(env)} to be rejected`))

describe("AppConfig", () => {
  it.effect("uses the defaults when nothing is set", () =>
    Effect.gen(function*() {
      const loaded = yield* loadOk({})
      assert.deepStrictEqual(loaded, defaults)
      assert.strictEqual(loaded.port, 8000)
      assert.strictEqual(loaded.host, "0.0.0.0")
      assert.strictEqual(loaded.databasePath, "data/ircam.db")
      assert.strictEqual(loaded.sensor, "auto")
      assert.strictEqual(loaded.refreshRateHz, 8)
      assert.strictEqual(loaded.simulationSeed, 1)
      assert.strictEqual(loaded.frameBufferSeconds, 30)
      assert.strictEqual(loaded.maxZones, 2)
      assert.isTrue(Option.isNone(loaded.apiToken))
      assert.strictEqual(loaded.logLevel, LogLevel.Info)
      assert.strictEqual(loaded.logFormat, "pretty")
    }))

  it.effect("reads every variable", () =>
    Effect.gen(function*() {
      const loaded = yield* loadOk({
        PORT: "9100",
        HOST: "127.0.0.1",
        DATABASE_PATH: "/var/lib/ircam/zones.db",
        SENSOR: "mlx90640",
        REFRESH_RATE_HZ: "0.5",
        I2C_BUS: "3",
        I2C_ADDRESS: "0x34",
        EMISSIVITY: "0.98",
        EMULATOR_FAULT_RATE: "0.01",
        SIMULATION_SEED: "4294967295",
        FRAME_BUFFER_SECONDS: "2.5",
        PRE_EVENT_SECONDS: "2",
        POST_EVENT_SECONDS: "20",
        EVENT_RETENTION_DAYS: "7",
        MAX_DB_MB: "64",
        HISTORY_SECOND_DAYS: "1",
        HISTORY_MINUTE_DAYS: "30",
        HISTORY_HOUR_DAYS: "365",
        MAX_ZONES: "16",
        MAX_STREAMS: "3",
        API_TOKEN: "s3cret",
        PUBLIC_URL: "http://ircam.local:8000",
        ALLOWED_HOSTS: "ircam.example.com",
        METRICS_ENABLED: "false",
        LOG_LEVEL: "Debug",
        LOG_FORMAT: "json"
      })
      const { apiToken, mqtt, publicUrl, smtp, webhookSecret, webhookUrl, ...rest } = loaded
      assert.isTrue(Option.isNone(webhookUrl) && Option.isNone(webhookSecret) && Option.isNone(smtp))
      assert.isTrue(Option.isNone(mqtt))
      assert.strictEqual(Option.getOrThrow(publicUrl).href, "http://ircam.local:8000/")
      assert.deepStrictEqual(rest, {
        port: 9100,
        host: "127.0.0.1",
        databasePath: "/var/lib/ircam/zones.db",
        sensor: "mlx90640",
        refreshRateHz: 0.5,
        i2cBus: 3,
        i2cAddress: 0x34,
        emissivity: 0.98,
        emulatorFaultRate: 0.01,
        simulationSeed: 4294967295,
        frameBufferSeconds: 2.5,
        preEventSeconds: 2,
        postEventSeconds: 20,
        eventRetentionDays: 7,
        maxDbMb: 64,
        historySecondDays: 1,
        historyMinuteDays: 30,
        historyHourDays: 365,
        maxZones: 16,
        maxStreams: 3,
        allowedHosts: ["ircam.example.com"],
        metricsEnabled: false,
        logLevel: LogLevel.Debug,
        logFormat: "json"
      })
      assert.strictEqual(Redacted.value(Option.getOrThrow(apiToken)), "s3cret")
      assert.notInclude(String(Option.getOrThrow(apiToken)), "s3cret", "the token is redacted when printed")
    }))

  it.effect("accepts every MLX90640 refresh rate", () =>
    Effect.gen(function*() {
      for (const rate of refreshRates) {
        assert.strictEqual((yield* loadOk({ REFRESH_RATE_HZ: String(rate) })).refreshRateHz, rate)
      }
    }))

  it.effect("MOCK_SENSOR=1 turns the sensor into simulated, whatever SENSOR says", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* loadOk({ MOCK_SENSOR: "1" })).sensor, "simulated")
      assert.strictEqual((yield* loadOk({ MOCK_SENSOR: "true", SENSOR: "mlx90640" })).sensor, "simulated")
      assert.strictEqual((yield* loadOk({ MOCK_SENSOR: "0", SENSOR: "mlx90640" })).sensor, "mlx90640")
      assert.strictEqual((yield* loadOk({ SENSOR: "simulated" })).sensor, "simulated")
    }))

  it.effect("takes the I²C address in hex or decimal, and SENSOR=emulated", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* loadOk({ I2C_ADDRESS: "0x33" })).i2cAddress, 0x33)
      assert.strictEqual((yield* loadOk({ I2C_ADDRESS: " 0X5a " })).i2cAddress, 0x5a)
      assert.strictEqual((yield* loadOk({ I2C_ADDRESS: "51" })).i2cAddress, 0x33)
      assert.strictEqual((yield* loadOk({ SENSOR: "emulated" })).sensor, "emulated")
      assert.strictEqual((yield* loadOk({ EMISSIVITY: "1" })).emissivity, 1)
    }))

  it.effect("keeps the pre-event window within the frame buffer", () =>
    Effect.gen(function*() {
      const error = String(yield* loadError({ FRAME_BUFFER_SECONDS: "5", PRE_EVENT_SECONDS: "8" }))
      assert.include(error, "PRE_EVENT_SECONDS")
      assert.include(error, "must be at most FRAME_BUFFER_SECONDS (5)")
      assert.strictEqual((yield* loadOk({ FRAME_BUFFER_SECONDS: "5", PRE_EVENT_SECONDS: "5" })).preEventSeconds, 5)
    }))

  it.effect("keeps each resolution of the history at least as long as the finer one", () =>
    Effect.gen(function*() {
      const minutes = String(yield* loadError({ HISTORY_SECOND_DAYS: "3", HISTORY_MINUTE_DAYS: "2" }))
      assert.include(minutes, "HISTORY_MINUTE_DAYS")
      assert.include(minutes, "must be at least HISTORY_SECOND_DAYS (3)")
      const hours = String(yield* loadError({ HISTORY_MINUTE_DAYS: "800" }))
      assert.include(hours, "HISTORY_HOUR_DAYS")
      assert.include(hours, "must be at least HISTORY_MINUTE_DAYS (800)")
      const equal = yield* loadOk({ HISTORY_SECOND_DAYS: "7", HISTORY_MINUTE_DAYS: "7", HISTORY_HOUR_DAYS: "7" })
      assert.deepStrictEqual(
        [equal.historySecondDays, equal.historyMinuteDays, equal.historyHourDays],
        [7, 7, 7]
      )
    }))

  it.effect("explains a bad I²C address", () =>
    Effect.gen(function*() {
      const error = String(yield* loadError({ I2C_ADDRESS: "0x80" }))
      assert.include(error, "I2C_ADDRESS")
      assert.include(error, "must be a 7-bit I²C address from 0x08 to 0x77 (like 0x33), got \"0x80\"")
    }))

  it.effect("reads the notification targets", () =>
    Effect.gen(function*() {
      const loaded = yield* loadOk({
        WEBHOOK_URL: "https://hooks.example.com/ircam?x=1",
        WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        SMTP_HOST: "mail.example.com",
        SMTP_PORT: "2525",
        SMTP_USER: "ircam",
        SMTP_PASSWORD: "pw",
        SMTP_FROM: "ircam@example.com",
        SMTP_TO: "a@example.com, b@example.com"
      })
      assert.strictEqual(Option.getOrThrow(loaded.webhookUrl).href, "https://hooks.example.com/ircam?x=1")
      assert.strictEqual(
        Redacted.value(Option.getOrThrow(loaded.webhookSecret)),
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
      )
      const smtp = Option.getOrThrow(loaded.smtp)
      assert.deepStrictEqual({ ...smtp, to: [...smtp.to], password: Option.map(smtp.password, Redacted.value) }, {
        host: "mail.example.com",
        port: 2525,
        user: Option.some("ircam"),
        password: Option.some("pw"),
        from: "ircam@example.com",
        to: ["a@example.com", "b@example.com"]
      })
      const minimal = Option.getOrThrow(
        (yield* loadOk({ SMTP_HOST: "h", SMTP_FROM: "f@x", SMTP_TO: "t@x", SMTP_USER: "", SMTP_PASSWORD: "" })).smtp
      )
      assert.strictEqual(minimal.port, 587)
      assert.isTrue(Option.isNone(minimal.user) && Option.isNone(minimal.password))
      assert.isTrue(Option.isNone((yield* loadOk({ WEBHOOK_URL: " ", WEBHOOK_SECRET: "" })).webhookUrl))
    }))

  it.effect("PUBLIC_URL: links resolve under it, with or without a trailing slash or a path", () =>
    Effect.gen(function*() {
      const link = (PUBLIC_URL: string) =>
        Effect.map(
          loadOk({ PUBLIC_URL }),
          (config) => new URL("api/v1/events/1", Option.getOrThrow(config.publicUrl)).href
        )
      assert.strictEqual(yield* link("http://ircam.local:8000"), "http://ircam.local:8000/api/v1/events/1")
      assert.strictEqual(yield* link("https://example.com/ircam"), "https://example.com/ircam/api/v1/events/1")
      assert.strictEqual(yield* link("https://example.com/ircam/"), "https://example.com/ircam/api/v1/events/1")
      assert.isTrue(Option.isNone((yield* loadOk({ PUBLIC_URL: "" })).publicUrl))
    }))

  it.effect("SMTP_HOST without a sender or recipients names what is missing", () =>
    Effect.gen(function*() {
      assert.include(String(yield* loadError({ SMTP_HOST: "h", SMTP_TO: "t@x" })), "SMTP_FROM")
      assert.include(String(yield* loadError({ SMTP_HOST: "h", SMTP_FROM: "f@x" })), "SMTP_TO")
      assert.include(String(yield* loadError({ SMTP_HOST: "h", SMTP_FROM: "f@x", SMTP_TO: " , " })), "SMTP_TO")
    }))

  it.effect("an empty or blank API_TOKEN counts as unset", () =>
    Effect.gen(function*() {
      assert.isTrue(Option.isNone((yield* loadOk({ API_TOKEN: "" })).apiToken))
      assert.isTrue(Option.isNone((yield* loadOk({ API_TOKEN: "   " })).apiToken))
      assert.isTrue(Option.isSome((yield* loadOk({ API_TOKEN: "t" })).apiToken))
      const padded = (yield* loadOk({ API_TOKEN: "  s3cret \t" })).apiToken
      assert.strictEqual(Option.map(padded, Redacted.value).pipe(Option.getOrNull), "s3cret")
    }))

  it.effect("ALLOWED_HOSTS: names, addresses and wildcards, in canonical form", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual((yield* loadOk({ ALLOWED_HOSTS: "" })).allowedHosts, [])
      assert.deepStrictEqual((yield* loadOk({ ALLOWED_HOSTS: " , " })).allowedHosts, [])
      assert.deepStrictEqual(
        (yield* loadOk({ ALLOWED_HOSTS: " IRCAM.example.com, *.Lab.example ,192.168.1.20,fd00::20,[FD00::21],pi. " }))
          .allowedHosts,
        ["ircam.example.com", "*.lab.example", "192.168.1.20", "[fd00::20]", "[fd00::21]", "pi"]
      )
      assert.deepStrictEqual((yield* loadOk({ ALLOWED_HOSTS: "*" })).allowedHosts, ["*"])
    }))

  it("canonicalHost writes names and addresses as URLs do, and refuses anything else", () => {
    const cases: ReadonlyArray<readonly [string, string | undefined]> = [
      ["LocalHost", "localhost"],
      ["localhost.", "localhost"],
      ["127.1", "127.0.0.1"],
      ["0x7f.0.0.1", "127.0.0.1"],
      ["::1", "[::1]"],
      ["[0:0::1]", "[::1]"],
      ["raspberrypi.local", "raspberrypi.local"],
      ["", undefined],
      [".", undefined],
      ["pi:8000", undefined],
      ["[::1]:8000", undefined],
      ["http://pi", undefined],
      ["pi/x", undefined],
      ["user@pi", undefined],
      ["pi example", undefined],
      ["[::1", undefined],
      ["[fe80::1%25eth0]", undefined],
      ["300.1.1.1", undefined]
    ]
    for (const [text, canonical] of cases) {
      assert.deepStrictEqual(canonicalHost(text), Option.fromNullable(canonical), text)
    }
  })

  it.effect("explains an invalid ALLOWED_HOSTS", () =>
    Effect.gen(function*() {
      for (const value of ["pi:8000", "http://pi.example", "*.", "a,,b c", "*.*.example.com"]) {
        const error = String(yield* loadError({ ALLOWED_HOSTS: value }))
        assert.include(error, "ALLOWED_HOSTS", value)
        assert.include(error, "*.example.com for every name under example.com, or * for any host (unsafe)", value)
      }
    }))

  it.effect("an empty HOST or DATABASE_PATH counts as unset", () =>
    Effect.gen(function*() {
      const loaded = yield* loadOk({ HOST: "", DATABASE_PATH: "" })
      assert.strictEqual(loaded.host, defaults.host)
      assert.strictEqual(loaded.databasePath, defaults.databasePath)
    }))

  const invalid: ReadonlyArray<readonly [string, string]> = [
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["SENSOR", "thermal"],
    ["MOCK_SENSOR", "maybe"],
    ["REFRESH_RATE_HZ", "3"],
    ["REFRESH_RATE_HZ", "fast"],
    ["I2C_BUS", "-1"],
    ["I2C_BUS", "one"],
    ["I2C_ADDRESS", "0x07"],
    ["I2C_ADDRESS", "120"],
    ["I2C_ADDRESS", "thirty-three"],
    ["EMISSIVITY", "0"],
    ["EMISSIVITY", "1.2"],
    ["EMULATOR_FAULT_RATE", "2"],
    ["SIMULATION_SEED", "-1"],
    ["SIMULATION_SEED", "4294967296"],
    ["SIMULATION_SEED", "1.5"],
    ["FRAME_BUFFER_SECONDS", "0"],
    ["FRAME_BUFFER_SECONDS", "601"],
    ["PRE_EVENT_SECONDS", "-1"],
    ["PRE_EVENT_SECONDS", "31"],
    ["POST_EVENT_SECONDS", "0"],
    ["POST_EVENT_SECONDS", "601"],
    ["EVENT_RETENTION_DAYS", "0"],
    ["MAX_DB_MB", "0"],
    ["MAX_DB_MB", "lots"],
    ["HISTORY_SECOND_DAYS", "0"],
    ["HISTORY_SECOND_DAYS", "366"],
    ["HISTORY_MINUTE_DAYS", "1"],
    ["HISTORY_MINUTE_DAYS", "a month"],
    ["HISTORY_HOUR_DAYS", "60"],
    ["HISTORY_HOUR_DAYS", "36501"],
    ["WEBHOOK_URL", "not a url"],
    ["WEBHOOK_URL", "ftp://example.com/x"],
    ["PUBLIC_URL", "ircam.local:8000"],
    ["PUBLIC_URL", "file:///srv/ircam"],
    ["WEBHOOK_SECRET", "s3cret"],
    ["WEBHOOK_SECRET", "whsec_!!"],
    ["SMTP_PORT", "0"],
    ["MAX_ZONES", "0"],
    ["MAX_ZONES", "17"],
    ["MAX_ZONES", "2.5"],
    ["MAX_STREAMS", "0"],
    ["MAX_STREAMS", "1001"],
    ["ALLOWED_HOSTS", "evil.example:80"],
    ["METRICS_ENABLED", "maybe"],
    ["LOG_LEVEL", "Loud"],
    ["LOG_FORMAT", "xml"]
  ]
  for (const [name, value] of invalid) {
    it.effect(`rejects ${name}=${JSON.stringify(value)} with a ConfigError naming the variable`, () =>
      Effect.gen(function*() {
        const error = yield* loadError({ [name]: value })
        assert.isTrue(ConfigError.isConfigError(error))
        assert.include(String(error), name)
      }))
  }

  it.effect("explains a refresh rate the sensor does not support", () =>
    Effect.gen(function*() {
      const error = yield* loadError({ REFRESH_RATE_HZ: "3" })
      assert.include(String(error), "must be one of the MLX90640 refresh rates 0.5, 1, 2, 4, 8, 16, 32, 64")
    }))

  it.effect("explains a value out of range", () =>
    Effect.gen(function*() {
      assert.include(String(yield* loadError({ MAX_ZONES: "17" })), "must be between 1 and 16")
      assert.include(String(yield* loadError({ FRAME_BUFFER_SECONDS: "0" })), "must be between 1 and 600")
    }))

  it.effect("accepts the limits of the ranges", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* loadOk({ MAX_ZONES: "1" })).maxZones, 1)
      assert.strictEqual((yield* loadOk({ FRAME_BUFFER_SECONDS: "600" })).frameBufferSeconds, 600)
      assert.strictEqual((yield* loadOk({ SIMULATION_SEED: "0" })).simulationSeed, 0)
    }))

  it.effect("config reads from the current ConfigProvider without the layer", () =>
    Effect.gen(function*() {
      const loaded = yield* config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["PORT", "1234"]]))))
      assert.strictEqual(loaded.port, 1234)
    }))

  it.effect("layerWith gives the defaults with overrides", () =>
    Effect.gen(function*() {
      const loaded = yield* AppConfig
      assert.deepStrictEqual(loaded, { ...defaults, maxZones: 5, sensor: "simulated" })
    }).pipe(Effect.provide(AppConfig.layerWith({ maxZones: 5, sensor: "simulated" }))))

  it.effect("layerWith without overrides is the defaults", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* AppConfig, defaults)
    }).pipe(Effect.provide(AppConfig.layerWith())))
})
