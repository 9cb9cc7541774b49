/**
 * Mqtt: ircam's connection to an MQTT broker (`MQTT_URL`), through MQTT.js. Does nothing when
 * `MQTT_URL` is not set (MQTT.js is not even loaded).
 *
 * One client per connection, made by a fiber of its own: MQTT.js's own reconnection (a fixed
 * period) is turned off and replaced by a capped, jittered exponential backoff (a random time
 * between half and all of 1 s, 2 s, 4 s … capped at 1 min), which starts again from 1 s after a
 * connection that was made. Every connection carries a last will (a retained `offline` on
 * `<prefix>/status`) and begins with a retained `online` there; a clean stop publishes `offline`
 * itself and disconnects, which the broker does not answer with the will.
 *
 * Nothing here waits for the broker on behalf of the monitor loop: `publish` hands a message to
 * the connected client or drops it (counted) when there is none; only `publishConfirmed` waits,
 * for the broker's PUBACK, and it is meant for the fibers of the publisher and the notifier.
 * Subscriptions are kept and made again on every connection; messages arrive on `messages`.
 *
 * Longer than 350 lines on purpose: the connection's life (connect, back off, subscribe again,
 * stop cleanly) is one state machine over one client; the settings are in MqttConfig, the topics
 * in MqttDevice, the payloads in MqttMessages.
 */
import { Clock, Context, Duration, Effect, Either, Option, Random, Redacted, Runtime, Schema, Stream } from "effect"
import type { Client as ClientClass, IClientOptions, MqttClient } from "mqtt"
import { createConnection, isIP } from "node:net"
import { hostname } from "node:os"
import { connect as tlsConnect, rootCertificates } from "node:tls"
import { AppConfig } from "./AppConfig.js"
import * as ChangeFeed from "./ChangeFeed.js"
import type { CheckResult } from "./Health.js"
import { describe } from "./internal/describe.js"
import { brokerLabel, type MqttConfig } from "./MqttConfig.js"
import * as MqttDevice from "./MqttDevice.js"
import { retryDelay } from "./Notifier.js"
import { Sensor } from "./Sensor.js"
import { iso, monotonicMs } from "./Time.js"

/** Why a confirmed publish did not go through. */
export class MqttError extends Schema.TaggedError<MqttError>()("MqttError", {
  message: Schema.String
}) {}

/** The connection's timings, with the defaults production uses; tests shorten them. */
export class MqttSettings extends Context.Reference<MqttSettings>()("@ircam/core/MqttSettings", {
  defaultValue: () => ({
    /** the wait before the first reconnection; it doubles after each failed attempt */
    reconnectBase: Duration.seconds(1) as Duration.Duration,
    reconnectCap: Duration.minutes(1) as Duration.Duration,
    /** from opening the socket to the broker's CONNACK */
    connectTimeout: Duration.seconds(10) as Duration.Duration,
    /** MQTT keepalive: a broker that stops answering is noticed within 1.5 times this */
    keepalive: Duration.seconds(30) as Duration.Duration,
    /** a confirmed publish, from handing it over to the PUBACK */
    publishTimeout: Duration.seconds(10) as Duration.Duration,
    /** how long a confirmed publish waits for a connection being made before failing */
    connectWait: Duration.seconds(5) as Duration.Duration,
    /** `offline` and the disconnection when ircam stops */
    stopTimeout: Duration.seconds(2) as Duration.Duration
  })
}) {}

/** A message received on a subscription. */
export interface Message {
  readonly topic: string
  readonly payload: Buffer
  readonly retained: boolean
}

/** A connection made (`session` counts them from 1) or lost, as `Mqtt.changes` tells it. */
export interface MqttChange {
  readonly transition: "connected" | "disconnected"
  readonly session: number
}

export interface PublishOptions {
  readonly retain?: boolean
  readonly qos?: 0 | 1
}

/** The settings and the device, when MQTT is configured. */
export interface Setup {
  readonly config: MqttConfig
  readonly device: MqttDevice.MqttDevice
  /** the broker without credentials: `mqtt://host:1883` */
  readonly broker: string
}

const toBuffer = (payload: string | Uint8Array) =>
  typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.length)

/**
 * MQTT.js's options for `setup`: no reconnection of its own, the last will. `writeCache: false`:
 * mqtt-packet's cache of a buffer for every number up to 65535 (its README: "to disable cache set
 * cacheNumbers = false") holds about 10 MB for nothing here, a few messages a second.
 */
export const clientOptions = (setup: Setup, settings: typeof MqttSettings.Service): IClientOptions => {
  const { config, device } = setup
  const fromUrl = (text: string) => text === "" ? undefined : decodeURIComponent(text)
  const username = Option.getOrElse(config.username, () => fromUrl(config.url.username))
  const password = Option.match(config.password, {
    onNone: () => fromUrl(config.url.password),
    onSome: Redacted.value
  })
  return {
    clientId: `ircam_${device.id}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: Duration.toMillis(settings.connectTimeout),
    keepalive: Math.round(Duration.toSeconds(settings.keepalive)),
    queueQoSZero: false,
    writeCache: false,
    will: { topic: device.topics.status, payload: Buffer.from("offline"), qos: 1, retain: true },
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password })
  }
}

/**
 * The socket to the broker: TCP, or TLS with the broker's certificate verified against Node's
 * roots and the CA file (a `ca` alone would replace the roots). Made here rather than by
 * MQTT.js's `connect`, which loads its WebSocket and SOCKS transports too.
 */
export const socketTo = (config: MqttConfig) => () => {
  const host = config.url.hostname.replace(/^\[(.*)\]$/, "$1")
  const secure = config.url.protocol === "mqtts:"
  const port = config.url.port === "" ? (secure ? 8883 : 1883) : Number(config.url.port)
  if (!secure) return createConnection({ host, port })
  return tlsConnect({
    host,
    port,
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...Option.match(config.ca, { onNone: () => ({}), onSome: ({ pem }) => ({ ca: [...rootCertificates, pem] }) }),
    rejectUnauthorized: true
  })
}

export class Mqtt extends Effect.Service<Mqtt>()("@ircam/core/Mqtt", {
  scoped: Effect.gen(function*() {
    const { mqtt } = yield* AppConfig
    const sensor = yield* Sensor
    const settings = yield* MqttSettings
    const feed = yield* ChangeFeed.make<MqttChange>(16)
    const received = yield* ChangeFeed.make<Message>(256)
    const setup: Option.Option<Setup> = Option.map(mqtt, (config) => ({
      config,
      device: MqttDevice.make(config, sensor.info, hostname()),
      broker: brokerLabel(config.url)
    }))

    /** the client while it is connected */
    let client: MqttClient | undefined
    /** whether `changes` has told of the current connection (once `online` is confirmed) */
    let announced = false
    let session = 0
    /** failed attempts since the last connection made */
    let failures = 0
    let connectedSince: number | undefined
    /** the wait before the next attempt and when it ends (monotonic), while waiting */
    let nextAttempt: { readonly wait: number; readonly at: number } | undefined
    let lastError: { readonly at: number; readonly message: string } | undefined
    const counters = { attempts: 0, connections: 0, published: 0, dropped: 0, failed: 0, received: 0 }
    const subscriptions = new Set<string>()
    const runtime = yield* Effect.runtime<never>()
    const runSync = Runtime.runSync(runtime)

    const noteError = (message: string) =>
      Effect.map(Clock.currentTimeMillis, (at) => {
        lastError = { at, message }
      })

    /** Subscribes `client` to `filters`; a refusal (the broker's ACL) is logged, nothing more. */
    const subscribeTo = (to: MqttClient, filters: ReadonlyArray<string>) =>
      Effect.async<void>((resume) => {
        to.subscribe([...filters], { qos: 1 }, (error, granted) => {
          const refused = (granted ?? []).filter((grant) => grant.qos === 128).map((grant) => grant.topic)
          const problem = error ? error.message : refused.length > 0 ? `refused: ${refused.join(", ")}` : undefined
          resume(
            problem === undefined
              ? Effect.void
              : Effect.logWarning(`cannot subscribe to ${filters.join(", ")} (the broker's ACL?)`, problem)
          )
        })
      })

    /** One connection: made, used until it closes, then ended. Fails when it could not be made. */
    const connection = (Client: typeof ClientClass, current: Setup) =>
      Effect.scoped(Effect.gen(function*() {
        counters.attempts++
        let error: string | undefined
        const closed = yield* Effect.makeLatch(false)
        const made = yield* Effect.makeLatch(false)
        const opened = yield* Effect.acquireRelease(
          Effect.sync(() => {
            const opened = new Client(socketTo(current.config), clientOptions(current, settings))
            opened.on("error", (e) => (error = describe(e)))
            opened.on("connect", () => runSync(made.open))
            opened.on("close", () => runSync(closed.open))
            opened.on("message", (topic, payload, packet) => {
              counters.received++
              runSync(received.publish({ topic, payload, retained: packet.retain }))
            })
            return opened
          }),
          (opened) =>
            // a client still connected (ircam stopping) says goodbye; the others are dropped at once
            // interruptible: a release runs uninterruptibly, where a timeout could not end the wait
            Effect.async<void>((resume) => {
              opened.end(!opened.connected, {}, () => resume(Effect.void))
            }).pipe(
              Effect.interruptible,
              Effect.timeout(settings.stopTimeout),
              Effect.catchAll(() => Effect.sync(() => opened.end(true)))
            )
        )
        yield* Effect.raceFirst(made.await, closed.await)
        if (!opened.connected) {
          return yield* new MqttError({ message: error ?? "the connection closed before the broker answered" })
        }
        session++
        counters.connections++
        failures = 0
        client = opened
        connectedSince = yield* Clock.currentTimeMillis
        yield* Effect.logInfo(`connected to ${current.broker} as ${opened.options.clientId}`)
        const why = yield* Effect.gen(function*() {
          // MQTT.js neither answers nor fails a QoS 1 publish whose connection closed (it keeps it
          // for a reconnection it will not make here): the close, or the timeout, ends the wait
          const ready = yield* Effect.gen(function*() {
            yield* publishOn(opened, current.device.topics.status, "online", { retain: true, qos: 1 })
            if (subscriptions.size > 0) yield* subscribeTo(opened, [...subscriptions])
          }).pipe(
            Effect.timeoutFail({
              duration: settings.publishTimeout,
              onTimeout: () =>
                new MqttError({
                  message: `the broker did not confirm "online" within ${Duration.format(settings.publishTimeout)}`
                })
            }),
            Effect.either,
            Effect.raceFirst(Effect.as(closed.await, Either.right(undefined)))
          )
          if (Either.isLeft(ready)) return ready.left.message
          if (!opened.connected) return error ?? "the broker closed the connection"
          announced = true
          yield* feed.publish({ transition: "connected", session })
          yield* closed.await
          return error ?? "the broker closed the connection"
        }).pipe(
          Effect.ensuring(Effect.suspend(() => {
            client = undefined
            connectedSince = undefined
            if (!announced) return Effect.void
            announced = false
            return feed.publish({ transition: "disconnected", session })
          }))
        )
        yield* noteError(why)
        yield* Effect.logWarning(`disconnected from ${current.broker}; reconnecting`, why)
      }))

    /** Connections for ever, with the backoff between them. */
    const run = (current: Setup) =>
      Effect.gen(function*() {
        const { Client } = (yield* Effect.promise(() => import("mqtt"))).default
        yield* Effect.gen(function*() {
          const result = yield* Effect.either(connection(Client, current))
          if (result._tag === "Left") {
            failures++
            yield* noteError(result.left.message)
            yield* Effect.logWarning(`cannot connect to ${current.broker} (attempt ${failures})`, result.left.message)
          }
          const wait = retryDelay(
            { retryBase: settings.reconnectBase, retryCap: settings.reconnectCap },
            Math.max(failures, 1),
            yield* Random.next
          )
          nextAttempt = { wait, at: (yield* monotonicMs) + wait }
          yield* Effect.sleep(Duration.millis(wait))
          nextAttempt = undefined
        }).pipe(Effect.forever)
      }).pipe(Effect.annotateLogs({ service: "Mqtt" }))

    /** Hands a message to `to`; `done` learns whether the broker (QoS 1) or the socket (QoS 0) took it. */
    const send = (
      to: MqttClient,
      topic: string,
      payload: string | Uint8Array,
      options: PublishOptions,
      done: (error: string | undefined) => void = () => {}
    ) =>
      to.publish(topic, toBuffer(payload), { qos: options.qos ?? 0, retain: options.retain ?? false }, (e) => {
        if (e === undefined || e === null) counters.published++
        else counters.failed++
        done(e === undefined || e === null ? undefined : describe(e))
      })

    const publishOn = (to: MqttClient, topic: string, payload: string | Uint8Array, options: PublishOptions) =>
      Effect.async<void, MqttError>((resume) => {
        send(to, topic, payload, options, (error) =>
          resume(
            error === undefined
              ? Effect.void
              : Effect.fail(new MqttError({ message: `cannot publish on ${topic}: ${error}` }))
          ))
      })

    /** The connected client, waiting up to `connectWait` for one. */
    const connected = Effect.suspend(() =>
      client !== undefined ? Effect.succeed(client) : Effect.gen(function*() {
        const next = yield* Stream.unwrapScoped(feed.changes).pipe(
          Stream.filter((change) => change.transition === "connected"),
          Stream.runHead,
          Effect.timeoutOption(settings.connectWait),
          Effect.map(Option.flatten)
        )
        if (Option.isSome(next) && client !== undefined) return client
        return yield* new MqttError({
          message: Option.match(setup, {
            onNone: () => "MQTT is not configured (MQTT_URL)",
            onSome: ({ broker }) =>
              `not connected to ${broker}${lastError === undefined ? "" : `: ${lastError.message}`}`
          })
        })
      })
    )

    if (Option.isSome(setup)) {
      yield* Effect.forkScoped(run(setup.value))
      // registered after the fiber, so it runs before the fiber's client is ended
      yield* Effect.addFinalizer(() =>
        client === undefined ? Effect.void : publishOn(client, setup.value.device.topics.status, "offline", {
          retain: true,
          qos: 1
        }).pipe(Effect.interruptible, Effect.timeout(settings.stopTimeout), Effect.ignore)
      )
    }

    const health: Effect.Effect<CheckResult> = Effect.gen(function*() {
      if (Option.isNone(setup)) {
        return { status: "ok", message: "MQTT_URL not set: nothing is published", details: { configured: false } }
      }
      const { broker, device } = setup.value
      const now = yield* monotonicMs
      const retry = nextAttempt === undefined
        ? null
        : { backoffMs: Math.round(nextAttempt.wait), inMs: Math.max(0, Math.round(nextAttempt.at - now)) }
      return {
        status: client === undefined ? "degraded" : "ok",
        ...(client === undefined
          ? {
            message: `not connected to ${broker}` + (lastError === undefined ? "" : `: ${lastError.message}`) +
              (retry === null ? "" : `; next attempt in ${Math.round(retry.inMs / 1000)} s`)
          }
          : {}),
        details: {
          configured: true,
          broker,
          connected: client !== undefined,
          connectedSince: connectedSince === undefined ? null : iso(connectedSince),
          deviceId: device.id,
          topicPrefix: device.prefix,
          ...counters,
          /** while waiting to connect again: the wait chosen, and what is left of it */
          retry,
          lastError: lastError === undefined ? null : { at: iso(lastError.at), message: lastError.message }
        }
      }
    })

    return {
      /** the settings and the device; none when MQTT_URL is not set */
      setup,
      /** whether a connection is up now */
      isConnected: Effect.sync(() => client !== undefined),
      /** The connection's totals since start and whether it is up, from memory (for the metrics). */
      stats: Effect.sync(() => ({ connected: client !== undefined, ...counters })),
      /**
       * Hands the message to the connected client and returns at once: true, or false when there
       * is no connection (then it is dropped, and counted). QoS 0 unless asked.
       */
      publish: (topic: string, payload: string | Uint8Array, options: PublishOptions = {}) =>
        Effect.sync(() => {
          if (client === undefined) {
            counters.dropped++
            return false
          }
          send(client, topic, payload, options)
          return true
        }),
      /**
       * Publishes with QoS 1 and waits for the broker's PUBACK. Fails when there is no connection
       * (after waiting `connectWait` for one), when it closes first, or after `publishTimeout`.
       */
      publishConfirmed: (topic: string, payload: string | Uint8Array, options: { readonly retain?: boolean } = {}) =>
        Effect.flatMap(
          connected,
          (to) =>
            publishOn(to, topic, payload, { retain: options.retain ?? false, qos: 1 }).pipe(
              Effect.timeoutFail({
                duration: settings.publishTimeout,
                onTimeout: () =>
                  new MqttError({ message: `no PUBACK on ${topic} within ${Duration.format(settings.publishTimeout)}` })
              })
            )
        ),
      /** Subscribes now if connected, and on every connection from then on. */
      subscribe: (filters: ReadonlyArray<string>) =>
        Effect.suspend(() => {
          const added = filters.filter((filter) => !subscriptions.has(filter))
          for (const filter of added) subscriptions.add(filter)
          return client === undefined || added.length === 0 ? Effect.void : subscribeTo(client, added)
        }),
      /** Subscribes now (for the scope): every message received from then on. */
      messages: received.changes,
      /**
       * Subscribes now (for the scope): the current connection if there is one (as `connected`),
       * then every connection made or lost.
       */
      changes: Effect.map(feed.changes, (next) => {
        const now = announced ? [{ transition: "connected" as const, session }] : []
        const seen = session
        return Stream.concat(
          Stream.fromIterable(now),
          next.pipe(Stream.filter((change) => now.length === 0 || change.session > seen))
        )
      }),
      health
    } as const
  })
}) {}
