/**
 * Notifier against real local servers: a node:http webhook receiver that fails, hangs and then
 * accepts; an SMTP server (smtp-server) that rejects and then accepts, or offers STARTTLS with a
 * certificate the client must refuse. The backoff waits and the per-attempt timeout run on the
 * TestClock; only the sockets are real, so the tests wait (in real time, briefly) for an attempt
 * to come back from the socket before moving the clock on. The retry schedule across steps of the
 * wall clock (SteppedClock) and the rows left by an earlier run use a channel of the test's own.
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import type { Context } from "effect"
import { Array as Arr, Duration, Effect, Layer, Logger, Option, Random, Redacted, TestClock } from "effect"
import { decode as decodePng } from "fast-png"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import PostalMime from "postal-mime"
import { SMTPServer } from "smtp-server"
import { Webhook } from "standardwebhooks"
import type { AlarmId, Notification, RuleId } from "../src/Alarm.js"
import { EvidenceSettings } from "../src/AlarmEvidence.js"
import type { AppConfigShape, SmtpConfig } from "../src/AppConfig.js"
import { type Delivery, toJson } from "../src/Delivery.js"
import * as EmailSender from "../src/EmailSender.js"
import type { EventId } from "../src/Event.js"
import { legendHeight } from "../src/HeatmapImage.js"
import { DeliveryFailed, NotificationChannels, type Sender } from "../src/NotificationChannel.js"
import { renderEmail } from "../src/NotificationEmail.js"
import { Notifier, retryDelay } from "../src/Notifier.js"
import { NotifierSettings } from "../src/NotifierSettings.js"
import { luts } from "../src/Palette.js"
import { monotonicMs } from "../src/Time.js"
import * as WebhookSender from "../src/WebhookSender.js"
import type { ZoneId } from "../src/Zone.js"
import { ZoneRepo } from "../src/ZoneRepo.js"
import * as Gif from "./support/Gif.js"
import { withSteppedClock } from "./support/SteppedClock.js"
import * as TestCore from "./support/TestCore.js"
import * as TestEvents from "./support/TestEvents.js"
import * as TestFrames from "./support/TestFrames.js"

const SECRET = "whsec_" + Buffer.from("a test secret of 32 bytes.......").toString("base64")

const raised: Notification = {
  type: "alarm.raised",
  timestamp: "2026-11-24T10:00:01.000Z",
  data: {
    alarm: {
      id: 7 as AlarmId,
      ruleId: 3 as RuleId,
      zoneId: 2 as ZoneId,
      severity: "critical",
      state: "active",
      value: 81.23,
      raisedAt: "2026-11-24T10:00:00.500Z",
      acknowledgedAt: null,
      clearedAt: null,
      eventId: 12 as EventId,
      triggerFrame: null
    },
    rule: {
      id: 3 as RuleId,
      name: "Oven too hot",
      zoneId: 2 as ZoneId,
      zoneName: "press",
      metric: "max",
      direction: "above",
      threshold: 80,
      severity: "critical"
    },
    links: null
  }
}

const cleared: Notification = {
  type: "alarm.cleared",
  timestamp: "2026-11-24T10:05:00.000Z",
  data: {
    alarm: {
      ...raised.data.alarm,
      id: 8 as AlarmId,
      zoneId: null,
      severity: "warning",
      state: "cleared",
      value: -2.04,
      acknowledgedAt: "2026-11-24T10:01:00.000Z",
      clearedAt: "2026-11-24T10:04:59.000Z",
      eventId: null
    },
    rule: {
      ...raised.data.rule,
      name: "Cold start",
      zoneId: null,
      zoneName: null,
      metric: "min",
      direction: "below",
      threshold: 0,
      severity: "warning"
    },
    links: null
  }
}

/** Waits in real time (not on the TestClock) for a socket round trip to show; fails after 10 s. */
const eventually = <A, E, R>(effect: Effect.Effect<A, E, R>, until: (a: A) => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      const value = yield* effect
      if (until(value)) return value
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 10)))
    }
    return yield* Effect.dieMessage(`timed out waiting for ${what}`)
  })

// ---------------------------------------------------------------------------------------------
// a webhook receiver

type Behaviour = "fail" | "hang" | "unavailable" | "accept"

interface WebhookRequest {
  readonly headers: IncomingHttpHeaders
  readonly body: string
  status: number | null
}

const webhookServer = (behaviours: Array<Behaviour>) =>
  Effect.acquireRelease(
    Effect.async<{
      readonly url: URL
      readonly requests: Array<WebhookRequest>
      readonly server: Server
    }>((resume) => {
      const requests: Array<WebhookRequest> = []
      const server = createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (chunk: Buffer) => chunks.push(chunk))
        req.on("end", () => {
          const request: WebhookRequest = { headers: req.headers, body: Buffer.concat(chunks).toString(), status: null }
          requests.push(request)
          const behaviour = behaviours.shift() ?? "accept"
          if (behaviour === "hang") return
          request.status = behaviour === "fail" ? 500 : behaviour === "unavailable" ? 503 : 204
          res.writeHead(request.status, { "content-type": "text/plain" })
          res.end(behaviour === "fail" ? "boom\n" : "")
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({ url: new URL(`http://127.0.0.1:${port}/hooks/ircam?token=t0k3n`), requests, server }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

/** A port nothing listens on. */
const closedPort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

// ---------------------------------------------------------------------------------------------
// an SMTP server

interface ReceivedMail {
  readonly mailFrom: string | null
  readonly rcptTo: ReadonlyArray<string>
  readonly user: string | undefined
  readonly secure: boolean
  readonly raw: string
}

const smtpServer = (options: { readonly rejectFirst?: number; readonly starttls?: boolean } = {}) =>
  Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly received: Array<ReceivedMail>; readonly server: SMTPServer }>(
      (resume) => {
        const received: Array<ReceivedMail> = []
        let rejected = 0
        const server = new SMTPServer({
          logger: false,
          authOptional: true,
          allowInsecureAuth: true,
          closeTimeout: 1000,
          disabledCommands: options.starttls === true ? [] : ["STARTTLS"],
          onAuth(auth, _session, callback) {
            if (auth.username === "ircam" && auth.password === "s3cret") return callback(null, { user: auth.username })
            callback(new Error("Invalid username or password"))
          },
          onData(stream, session, callback) {
            const chunks: Array<Buffer> = []
            stream.on("data", (chunk: Buffer) => chunks.push(chunk))
            stream.on("end", () => {
              if (rejected < (options.rejectFirst ?? 0)) {
                rejected++
                return callback(Object.assign(new Error("mailbox busy, try again later"), { responseCode: 451 }))
              }
              const { mailFrom, rcptTo } = session.envelope
              received.push({
                mailFrom: mailFrom === false ? null : mailFrom.address,
                rcptTo: rcptTo.map((address) => address.address),
                user: session.user as string | undefined,
                secure: session.secure,
                raw: Buffer.concat(chunks).toString("utf8")
              })
              callback()
            })
          }
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.server.address() as AddressInfo
          resume(Effect.succeed({ port, received, server }))
        })
      }
    ),
    ({ server }) => Effect.async<void>((resume) => server.close(() => resume(Effect.void)))
  )

/** Header fields of a raw message, unfolded, RFC 2047 words decoded. */
const parseMail = (raw: string) => {
  const split = raw.indexOf("\r\n\r\n")
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ")
  const headers = new Map<string, string>()
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":")
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim())
  }
  const decodeWords = (value: string) =>
    value.replace(
      /=\?utf-8\?([bq])\?([^?]*)\?=\s*(?==\?)?/gi,
      (_, encoding: string, text: string) =>
        encoding.toLowerCase() === "b"
          ? Buffer.from(text, "base64").toString("utf8")
          : Buffer.from(
            text.replace(/_/g, " ").replace(
              /=([0-9a-f]{2})/gi,
              (_, hex: string) => String.fromCharCode(parseInt(hex, 16))
            ),
            "latin1"
          ).toString("utf8")
    )
  return { header: (name: string) => decodeWords(headers.get(name) ?? "") }
}

/** The plain-text part of a raw (multipart) message, decoded. */
const textOf = (raw: string) => Effect.promise(() => PostalMime.parse(raw)).pipe(Effect.map((mail) => mail.text ?? ""))

const smtpConfig = (port: number, overrides: Partial<SmtpConfig> = {}): SmtpConfig => ({
  host: "127.0.0.1",
  port,
  user: Option.some("ircam"),
  password: Option.some(Redacted.make("s3cret")),
  from: "ircam <ircam@example.com>",
  to: ["ops@example.com", "boss@example.com"],
  ...overrides
})

// ---------------------------------------------------------------------------------------------
// the notifier

interface LogLine {
  readonly level: string
  readonly message: string
}

interface Options {
  readonly settings?: Partial<Context.Tag.Service<NotifierSettings>>
  /** run on the database before the notifier starts */
  readonly before?: Effect.Effect<void, unknown, SqlClient.SqlClient>
  readonly httpClient?: Layer.Layer<HttpClient.HttpClient>
  /** the channels, instead of those the configuration turns on (as Core does) */
  readonly channels?: ReadonlyArray<Sender>
  readonly evidence?: Partial<Context.Tag.Service<EvidenceSettings>>
}

/** The notifier on a database (in memory unless `databasePath`), its channels from the configuration. */
const notifier = (config: Partial<AppConfigShape>, options: Options = {}) => {
  const settings = Layer.merge(
    Layer.succeed(NotifierSettings, { ...NotifierSettings.defaultValue(), ...options.settings }),
    Layer.succeed(EvidenceSettings, { ...EvidenceSettings.defaultValue(), ...options.evidence })
  )
  const storage = TestCore.storage(config)
  const base = options.before === undefined
    ? storage
    : Layer.effectDiscard(Effect.orDie(options.before)).pipe(Layer.provideMerge(storage))
  const channels = options.channels === undefined
    ? Layer.scoped(
      NotificationChannels,
      Effect.map(Effect.all([WebhookSender.fromConfig, EmailSender.fromConfig]), Arr.getSomes)
    ).pipe(Layer.provide(options.httpClient ?? NodeHttpClient.layerUndici))
    : Layer.succeed(NotificationChannels, options.channels)
  return Notifier.Default.pipe(
    Layer.provideMerge(channels),
    Layer.provideMerge(base),
    Layer.provide(settings)
  )
}

/**
 * Runs `test` with the notifier, collecting its logs. The workers inherit the loggers and the
 * Random of the fiber that builds the layer; a fixed Random makes every backoff its full length:
 * 5 s, 10 s, 20 s …
 */
const withNotifier = <A, E, R>(
  config: Partial<AppConfigShape>,
  test: (logs: ReadonlyArray<LogLine>) => Effect.Effect<A, E, R>,
  options: Options = {}
) => {
  const logs: Array<LogLine> = []
  const collector = Logger.make(({ logLevel, message }) => {
    logs.push({ level: logLevel.label, message: (Array.isArray(message) ? message : [message]).join(" ") })
  })
  return test(logs).pipe(
    Effect.provide(notifier(config, options)),
    Effect.provide(Logger.add(collector)),
    Effect.withRandom(Random.fixed([1]))
  )
}

const all = Effect.flatMap(Notifier, (notifier) => Effect.orDie(notifier.deliveries({ limit: 100 })))
const check = Effect.flatMap(Notifier, (notifier) => notifier.health)

describe("Notifier", () => {
  it.scoped("webhook: fails, times out, then delivers; same id, signed, with backoff and health", () =>
    Effect.gen(function*() {
      // the receiver's library checks the signature's timestamp against the real time
      const start = Date.now()
      yield* TestClock.setTime(start)
      const server = yield* webhookServer(["fail", "hang", "accept"])
      yield* withNotifier({
        webhookUrl: Option.some(server.url),
        webhookSecret: Option.some(Redacted.make(SECRET))
      }, (logs) =>
        Effect.gen(function*() {
          const notifier = yield* Notifier
          assert.deepStrictEqual(notifier.channels, ["webhook"])
          assert.isTrue(
            logs.some((line) => line.message.includes("webhook to http://127.0.0.1") && !line.message.includes("t0k3n"))
          )

          yield* notifier.enqueue(raised)
          // attempt 1 at once: HTTP 500
          const [afterFirst] = yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the first attempt")
          assert.strictEqual(afterFirst!.status, "pending")
          assert.strictEqual(afterFirst!.lastError, "HTTP 500: boom")
          assert.strictEqual(afterFirst!.nextAttemptAt, start + 5_000)
          const failing = yield* check
          assert.strictEqual(failing.status, "degraded")
          assert.include(failing.message, "webhook deliveries failing: HTTP 500")
          assert.strictEqual(failing.details["pending"], 1)
          assert.strictEqual(failing.details["failures"], 1)

          // nothing before the backoff has passed
          yield* TestClock.adjust("2 seconds")
          assert.strictEqual(server.requests.length, 1)
          // attempt 2 hangs until the 10 s timeout (on the TestClock)
          yield* TestClock.adjust("3 seconds")
          yield* eventually(Effect.sync(() => server.requests.length), (n) => n === 2, "the second request")
          yield* TestClock.adjust("9 seconds")
          assert.strictEqual((yield* all)[0]!.attempts, 1)
          yield* TestClock.adjust("1 second")
          const [afterSecond] = yield* eventually(all, (rows) => rows[0]?.attempts === 2, "the timeout")
          assert.strictEqual(afterSecond!.lastError, "no answer within 10s")
          assert.strictEqual(afterSecond!.nextAttemptAt, start + 25_000)
          // attempt 3, 10 s later, is accepted
          yield* TestClock.adjust("10 seconds")
          const [delivered] = yield* eventually(all, (rows) => rows[0]?.status === "delivered", "the delivery")
          assert.strictEqual(delivered!.attempts, 3)
          assert.strictEqual(delivered!.type, "alarm.raised")
          assert.strictEqual(delivered!.nextAttemptAt, null)
          assert.isNotNull(delivered!.deliveredAt)
          assert.strictEqual(delivered!.lastError, "no answer within 10s")

          assert.strictEqual(server.requests.length, 3)
          const ids = new Set(server.requests.map((request) => request.headers["webhook-id"]))
          assert.deepStrictEqual([...ids], [delivered!.messageId])
          assert.match(delivered!.messageId, /^msg_[A-Za-z0-9_-]{24}$/)
          // verified with the Standard Webhooks reference library
          const receiver = new Webhook(SECRET)
          const impostor = new Webhook("whsec_" + Buffer.from("another secret, 32 bytes long..").toString("base64"))
          for (const request of server.requests) {
            assert.strictEqual(request.headers["content-type"], "application/json")
            assert.strictEqual(request.headers["user-agent"], "ircam")
            assert.isUndefined(request.headers["traceparent"])
            assert.deepStrictEqual(JSON.parse(request.body), raised)
            const headers = {
              "webhook-id": request.headers["webhook-id"] as string,
              "webhook-timestamp": request.headers["webhook-timestamp"] as string,
              "webhook-signature": request.headers["webhook-signature"] as string
            }
            assert.deepStrictEqual(receiver.verify(request.body, headers), raised)
            assert.throws(() => impostor.verify(request.body, headers), /No matching signature found/)
            assert.throws(() => receiver.verify(request.body.replace("81.23", "81.24"), headers))
          }
          // each attempt carries its own time (seconds)
          const seconds = Math.floor(start / 1000)
          assert.deepStrictEqual(
            server.requests.map((request) => request.headers["webhook-timestamp"]),
            [seconds, seconds + 5, seconds + 25].map(String)
          )

          const healthy = yield* check
          assert.strictEqual(healthy.status, "ok")
          assert.deepInclude(healthy.details, {
            channels: ["webhook"],
            pending: 0,
            delivered: 1,
            givenUp: 0,
            failures: 2
          })
          assert.deepStrictEqual(healthy.details["consecutiveFailures"], { webhook: 0 })
          assert.include((healthy.details["lastError"] as { message: string }).message, "no answer within 10s")
          assert.isTrue(logs.some((line) => line.level === "WARN" && line.message.includes("attempt 1 failed")))
          assert.isTrue(logs.some((line) => line.message.includes("delivered at attempt 3")))
        }))
    }))

  it.scoped("e-mail: rejected once (451), then delivered to a real SMTP server with the rendered message", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer({ rejectFirst: 1 })
      yield* withNotifier({ smtp: Option.some(smtpConfig(smtp.port)) }, (logs) =>
        Effect.gen(function*() {
          const notifier = yield* Notifier
          assert.deepStrictEqual(notifier.channels, ["email"])
          assert.isTrue(
            logs.some((line) =>
              line.message.includes(`e-mail via 127.0.0.1:${smtp.port} to ops@example.com, boss@example.com`)
            )
          )

          yield* notifier.enqueue(raised)
          const [failed] = yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the rejected attempt")
          assert.strictEqual(failed!.status, "pending")
          assert.include(failed!.lastError, "451")
          assert.strictEqual((yield* check).status, "degraded")

          yield* TestClock.adjust("5 seconds")
          const [delivered] = yield* eventually(all, (rows) => rows[0]?.status === "delivered", "the e-mail")
          assert.strictEqual(delivered!.attempts, 2)
          assert.strictEqual(smtp.received.length, 1)

          const mail = smtp.received[0]!
          assert.strictEqual(mail.user, "ircam")
          assert.isFalse(mail.secure)
          assert.strictEqual(mail.mailFrom, "ircam@example.com")
          assert.deepStrictEqual(mail.rcptTo, ["ops@example.com", "boss@example.com"])
          const parsed = parseMail(mail.raw)
          const text = yield* textOf(mail.raw)
          assert.strictEqual(parsed.header("from"), "ircam <ircam@example.com>")
          assert.strictEqual(parsed.header("to"), "ops@example.com, boss@example.com")
          assert.strictEqual(
            parsed.header("subject"),
            "[ircam] CRITICAL raised: Oven too hot — press max 81.2 °C > 80 °C"
          )
          assert.strictEqual(parsed.header("message-id"), `<${delivered!.messageId}@ircam>`)
          assert.include(text, "The CRITICAL alarm of rule \"Oven too hot\" was raised.")
          assert.include(text, "Where:         zone \"press\" (#2)")
          assert.include(text, "Raised at:     2026-11-24T10:00:00.500Z")
          assert.include(text, "Event:         #12")
          assert.strictEqual((yield* check).status, "ok")
        }))
    }))

  it.scoped("e-mail: STARTTLS is used when offered, and a certificate that cannot be verified fails the attempt", () =>
    Effect.gen(function*() {
      // smtp-server offers STARTTLS with its built-in self-signed certificate
      const smtp = yield* smtpServer({ starttls: true })
      yield* withNotifier({
        smtp: Option.some(smtpConfig(smtp.port, { user: Option.none(), password: Option.none() }))
      }, () =>
        Effect.gen(function*() {
          yield* (yield* Notifier).enqueue(cleared)
          const [row] = yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the attempt")
          assert.strictEqual(row!.status, "pending")
          assert.match(row!.lastError!, /certificate/i)
          assert.strictEqual(smtp.received.length, 0)
        }))
    }))

  it.scoped("e-mail: a server that never answers fails the attempt at the timeout", () =>
    Effect.gen(function*() {
      const connections: Array<Socket> = []
      const silent = yield* Effect.acquireRelease(
        Effect.async<NetServer>((resume) => {
          const server = createNetServer((socket) => connections.push(socket))
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) =>
          Effect.async<void>((resume) => {
            for (const socket of connections) socket.destroy()
            server.close(() => resume(Effect.void))
          })
      )
      const { port } = silent.address() as AddressInfo
      yield* withNotifier({ smtp: Option.some(smtpConfig(port)) }, () =>
        Effect.gen(function*() {
          yield* (yield* Notifier).enqueue(raised)
          yield* eventually(Effect.sync(() => connections.length), (n) => n === 1, "the connection")
          yield* TestClock.adjust("1 minute")
          const [row] = yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the timeout")
          assert.strictEqual(row!.lastError, "not sent within 1m")
        }))
    }))

  it.scoped("e-mail: a notification that cannot be read fails its attempts", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      yield* withNotifier({ smtp: Option.some(smtpConfig(smtp.port)) }, () =>
        Effect.gen(function*() {
          const [row] = yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the attempt")
          assert.include(row!.lastError, "unreadable notification")
          assert.strictEqual(smtp.received.length, 0)
        }), {
        before: Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql`INSERT INTO outbox (channel, message_id, payload, status, attempts, next_attempt_at, created_at)
            VALUES ('email', 'msg_bad', '{"type":"alarm.raised"}', 'pending', 0, 0, 0)`)
      })
    }))

  it.scoped("the outbox survives a restart: a failed and an interrupted delivery are each delivered once", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-notifier-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const databasePath = join(dir, "ircam.db")
      const server = yield* webhookServer(["unavailable", "hang"])
      const config = { databasePath, webhookUrl: Option.some(server.url) }

      yield* withNotifier(config, () =>
        Effect.gen(function*() {
          const notifier = yield* Notifier
          yield* notifier.enqueue(raised)
          yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the failed attempt")
          yield* notifier.enqueue(cleared)
          // stop while the second attempt is under way
          yield* eventually(Effect.sync(() => server.requests.length), (n) => n === 2, "the hanging attempt")
        }))
      // no channel: only to read the outbox
      yield* withNotifier({ databasePath }, (logs) =>
        Effect.gen(function*() {
          const kept = yield* all
          assert.deepStrictEqual(kept.map((row) => [row.type, row.status, row.attempts]), [
            ["alarm.cleared", "pending", 0],
            ["alarm.raised", "pending", 1]
          ])
          assert.isTrue(logs.some((line) => line.message.includes("2 pending webhook notification(s) kept")))
        }))

      // the target is back: rows left pending by an earlier run are attempted at once, oldest first
      yield* withNotifier(config, () =>
        Effect.gen(function*() {
          const rows = yield* eventually(
            all,
            (rows) => rows.every((row) => row.status === "delivered"),
            "both deliveries"
          )
          assert.deepStrictEqual(rows.map((row) => row.attempts), [1, 2])
          const answered = server.requests.filter((request) => request.status === 204)
          assert.deepStrictEqual(
            answered.map((request) => request.headers["webhook-id"]).sort(),
            rows.map((row) => row.messageId).sort()
          )
          // unsigned without a secret, and the same id on every attempt of a notification
          assert.isUndefined(server.requests[0]!.headers["webhook-signature"])
          assert.deepStrictEqual(
            server.requests.map((request) => (JSON.parse(request.body) as Notification).type),
            ["alarm.raised", "alarm.cleared", "alarm.raised", "alarm.cleared"]
          )
          assert.strictEqual(server.requests[0]!.headers["webhook-id"], server.requests[2]!.headers["webhook-id"])
          assert.strictEqual(server.requests[1]!.headers["webhook-id"], server.requests[3]!.headers["webhook-id"])
          assert.deepInclude((yield* check).details, { pending: 0, delivered: 2 })
        }))
    }))

  it.scoped("gives up at the bound: status given_up with the last error, logged, listed and in health", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      yield* withNotifier(
        { webhookUrl: Option.some(new URL(`http://127.0.0.1:${port}/hook`)) },
        (logs) =>
          Effect.gen(function*() {
            const notifier = yield* Notifier
            yield* notifier.enqueue(raised)
            // attempts at 0, 5, 15 and 35 s, the last one at the 60 s bound
            for (const [attempts, wait] of [[1, 5], [2, 10], [3, 20], [4, 25]] as const) {
              const [row] = yield* eventually(all, (rows) => rows[0]!.attempts === attempts, `attempt ${attempts}`)
              assert.strictEqual(row!.status, "pending")
              yield* TestClock.adjust(Duration.seconds(wait))
            }
            const [row] = yield* eventually(all, (rows) => rows[0]!.status === "given_up", "giving up")
            assert.strictEqual(row!.attempts, 5)
            assert.include(row!.lastError, "ECONNREFUSED")
            assert.strictEqual(row!.nextAttemptAt, null)
            assert.strictEqual(row!.deliveredAt, null)
            assert.deepStrictEqual(
              (yield* notifier.deliveries({ status: "given_up", limit: 10 })).map((delivery) => delivery.id),
              [row!.id]
            )
            assert.deepStrictEqual(yield* notifier.deliveries({ status: "pending", limit: 10 }), [])
            assert.isTrue(
              logs.some((line) => line.level === "WARN" && line.message.includes("given up after 5 attempts"))
            )
            const health = yield* check
            assert.strictEqual(health.status, "degraded")
            assert.include(health.message, "1 notification(s) given up in the last hour")
            assert.deepInclude(health.details, { givenUp: 1, givenUpLastHour: 1, pending: 0 })
            // an hour later the channel is still failing (its last attempt failed), but nothing is recent
            yield* TestClock.adjust("61 minutes")
            assert.deepInclude((yield* check).details, { givenUp: 1, givenUpLastHour: 0 })
          }),
        { settings: { giveUpAfter: Duration.minutes(1) } }
      )
    }))

  it.scoped("a failing outbox is retried and shown in health; enqueue answers StorageError", () =>
    Effect.gen(function*() {
      const server = yield* webhookServer(["fail"])
      yield* withNotifier({ webhookUrl: Option.some(server.url) }, (logs) =>
        Effect.gen(function*() {
          const notifier = yield* Notifier
          const sql = yield* SqlClient.SqlClient
          yield* notifier.enqueue(raised)
          yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the failed attempt")
          // (a statement first prepared while the table is away would stay failed in the driver's
          // prepare cache for 10 minutes: run the health check's statements once before)
          assert.strictEqual((yield* check).status, "degraded")
          yield* sql`ALTER TABLE outbox RENAME TO outbox_away`
          const error = yield* Effect.flip(notifier.enqueue(cleared))
          assert.strictEqual(error._tag, "StorageError")
          assert.include(error.message, "cannot store the notification")
          const listing = yield* Effect.flip(notifier.deliveries({ limit: 1 }))
          assert.strictEqual(listing._tag, "StorageError")
          // the retry is due: the worker cannot read the outbox
          yield* TestClock.adjust("5 seconds")
          const storageFailure = (line: LogLine) =>
            line.message.includes("webhook notifications: cannot read the outbox")
          yield* eventually(
            Effect.sync(() => logs.filter(storageFailure)),
            (lines) => lines.length === 1,
            "the storage failure"
          )
          const broken = yield* check
          assert.strictEqual(broken.status, "degraded")
          assert.include(broken.message, "cannot read the outbox")
          yield* sql`ALTER TABLE outbox_away RENAME TO outbox`
          // the worker tries again after 5 s and delivers
          yield* TestClock.adjust("5 seconds")
          yield* eventually(all, (rows) => rows[0]?.status === "delivered", "the delivery")
          assert.strictEqual((yield* check).status, "ok")
        }))
    }))

  it.scoped("a backlog is delivered in batches, oldest first", () =>
    Effect.gen(function*() {
      const server = yield* webhookServer([])
      const payload = JSON.stringify(raised)
      yield* withNotifier({ webhookUrl: Option.some(server.url) }, () =>
        Effect.gen(function*() {
          yield* eventually(all, (rows) => rows.every((row) => row.status === "delivered"), "the backlog")
          assert.deepStrictEqual(
            server.requests.map((request) => request.headers["webhook-id"]),
            Array.from({ length: 25 }, (_, i) => `msg_backlog_${i}`)
          )
        }), {
        before: Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql`INSERT INTO outbox ${
            sql.insert(Array.from({ length: 25 }, (_, i) => ({
              channel: "webhook",
              messageId: `msg_backlog_${i}`,
              payload,
              status: "pending",
              attempts: 0,
              nextAttemptAt: 0,
              createdAt: 0
            })))
          }`)
      })
    }))

  it.scoped("a defect in a delivery is logged, shown in health, and the worker goes on", () =>
    Effect.gen(function*() {
      yield* withNotifier({ webhookUrl: Option.some(new URL("http://127.0.0.1:9/")) }, (logs) =>
        Effect.gen(function*() {
          yield* (yield* Notifier).enqueue(raised)
          const unexpected = (line: LogLine) => line.message.includes("webhook notifications: unexpected failure: bug")
          yield* eventually(Effect.sync(() => logs.filter(unexpected)), (lines) => lines.length === 1, "the log")
          assert.strictEqual((yield* check).status, "degraded")
          // tried again after 5 s, then 10 s
          yield* TestClock.adjust("5 seconds")
          yield* eventually(Effect.sync(() => logs.filter(unexpected)), (lines) => lines.length === 2, "the second")
          yield* TestClock.adjust("9 seconds")
          assert.strictEqual(logs.filter(unexpected).length, 2)
          assert.deepInclude((yield* all)[0], { status: "pending", attempts: 0 })
        }), {
        httpClient: Layer.succeed(HttpClient.HttpClient, HttpClient.make(() => Effect.die(new Error("bug"))))
      })
    }))

  it.scoped("no channel configured: enqueue stores nothing, health says so", () =>
    withNotifier({}, (logs) =>
      Effect.gen(function*() {
        const notifier = yield* Notifier
        assert.deepStrictEqual(notifier.channels, [])
        yield* notifier.enqueue(raised)
        assert.deepStrictEqual(yield* all, [])
        const health = yield* check
        assert.strictEqual(health.status, "ok")
        assert.strictEqual(health.message, "no notification channel configured")
        assert.isTrue(logs.some((line) => line.message.includes("no notification channel configured")))
      })))

  it.scoped("both channels: one row each, with its own id, and the listing filters", () =>
    Effect.gen(function*() {
      const server = yield* webhookServer([])
      const smtp = yield* smtpServer()
      yield* withNotifier({
        webhookUrl: Option.some(server.url),
        smtp: Option.some(smtpConfig(smtp.port, { user: Option.none(), password: Option.none() }))
      }, () =>
        Effect.gen(function*() {
          const notifier = yield* Notifier
          assert.deepStrictEqual(notifier.channels, ["webhook", "email"])
          yield* notifier.enqueue(cleared)
          const rows = yield* eventually(
            all,
            (rows) => rows.length === 2 && rows.every((row) => row.status === "delivered"),
            "both"
          )
          assert.notStrictEqual(rows[0]!.messageId, rows[1]!.messageId)
          const email = yield* notifier.deliveries({ channel: "email", limit: 10 })
          assert.deepStrictEqual(email.map((row) => row.channel), ["email"])
          assert.deepStrictEqual(
            (yield* notifier.deliveries({ before: email[0]!.id, limit: 10 })).map((row) => row.id),
            rows.filter((row) => row.id < email[0]!.id).map((row) => row.id)
          )
          assert.isUndefined(smtp.received[0]!.user)
          const parsed = parseMail(smtp.received[0]!.raw)
          const text = yield* textOf(smtp.received[0]!.raw)
          assert.strictEqual(
            parsed.header("subject"),
            "[ircam] WARNING cleared: Cold start — whole frame (was min -2 °C < 0 °C)"
          )
          assert.include(text, "was cleared")
          assert.include(text, "Where:         the whole frame")
          assert.include(text, "Acknowledged:  2026-11-24T10:01:00.000Z")
          assert.include(text, "Event:         none")
        }))
    }))
})

describe("Notifier, e-mail with the pictures", () => {
  const start = Date.UTC(2026, 11, 1, 9, 0, 0)
  const press = { x: 24, y: 4, width: 4, height: 3 }
  /** 16 frames at 8 fps, the press heating from 30 °C to 90 °C on a 20 °C background */
  const frames = Array.from(
    { length: 16 },
    (_, i) =>
      TestFrames.make({ sequence: 500 + i, at: start + i * 125, temperatures: TestFrames.withRect(press, 30 + 4 * i) })
  )
  const trigger = frames[10]!
  const links = {
    alarm: "https://ircam.example/api/v1/alarms/7",
    frame: "https://ircam.example/api/v1/alarms/7/frame.png?zones=true&legend=true",
    event: "https://ircam.example/api/v1/events/1",
    animation: "https://ircam.example/api/v1/events/1/animation.gif?zones=true&legend=true"
  }
  const of = (notification: Notification, eventId: EventId): Notification => ({
    ...notification,
    data: {
      ...notification.data,
      alarm: {
        ...notification.data.alarm,
        eventId,
        triggerFrame: { sequence: trigger.sequence, capturedAt: new Date(trigger.capturedAt).toISOString() }
      },
      links
    }
  })

  /** Sends `notification` to a real SMTP server and parses what it received. */
  const sent = (notification: (eventId: EventId) => Notification, options: Options = {}) =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      return yield* withNotifier({
        smtp: Option.some(smtpConfig(smtp.port, { user: Option.none(), password: Option.none() }))
      }, () =>
        Effect.gen(function*() {
          yield* (yield* ZoneRepo).create({ name: "press", color: "#00ff00", ...press })
          const event = yield* TestEvents.store(frames, { trigger: { sequence: 500, capturedAt: start } })
          yield* (yield* Notifier).enqueue(notification(event.id))
          yield* eventually(all, (rows) => rows[0]?.status === "delivered", "the e-mail")
          return yield* Effect.promise(() => PostalMime.parse(smtp.received[0]!.raw))
        }), options)
    })

  const bytesOf = (content: ArrayBuffer | Uint8Array | string) =>
    typeof content === "string" ? Buffer.from(content, "base64") : new Uint8Array(content)

  it.scoped("alarm.raised: the frame that raised it as a PNG inline in the HTML part, beside the plain text", () =>
    Effect.gen(function*() {
      const mail = yield* sent((eventId) => of(raised, eventId))
      assert.lengthOf(mail.attachments, 1)
      const [png] = mail.attachments
      assert.strictEqual(png!.mimeType, "image/png")
      assert.strictEqual(png!.disposition, "inline")
      assert.strictEqual(png!.filename, "alarm-7.png")
      const cid = png!.contentId!.replace(/^<|>$/g, "")
      assert.include(mail.html, `<img src="cid:${cid}" width="320" height="${240 + legendHeight(10)}"`)
      assert.include(mail.text, "The frame that raised the alarm (2026-12-01 09:00:01 UTC)")
      assert.include(mail.text, "attached as alarm-7.png")
      assert.include(mail.text, `  its heat map  ${links.frame}`)
      assert.include(mail.html, `<a href="${links.animation.replace("&", "&amp;")}">its animation</a>`)

      const image = decodePng(bytesOf(png!.content))
      assert.strictEqual(image.width, 320)
      assert.strictEqual(image.height, 240 + legendHeight(10))
      const rgb = (x: number, y: number) => Array.from(image.data.subarray((y * 320 + x) * 3, (y * 320 + x) * 3 + 3))
      // the press glows: its middle is the hottest colour of the iron palette; its outline is the zone's colour
      assert.deepStrictEqual(rgb(265, 55), Array.from(luts.iron.subarray(255 * 3)))
      assert.deepStrictEqual(rgb(275, 40), [0, 255, 0])
      // the hottest pixel (the press's first) outlined in white
      assert.deepStrictEqual(rgb(238, 45), [255, 255, 255])
    }))

  it.scoped("alarm.cleared: the event's hottest frame and its GIF; a GIF over the limit is a link", () =>
    Effect.gen(function*() {
      const mail = yield* sent((eventId) => of(cleared, eventId))
      assert.deepStrictEqual(mail.attachments.map((a) => [a.filename, a.mimeType]), [
        ["event-1-peak.png", "image/png"],
        ["event-1.gif", "image/gif"]
      ])
      for (const attachment of mail.attachments) {
        assert.include(mail.html, `src="cid:${attachment.contentId!.replace(/^<|>$/g, "")}"`)
      }
      const gif = Gif.decode(bytesOf(mail.attachments[1]!.content))
      assert.strictEqual(gif.width, 192)
      assert.strictEqual(gif.height, 144 + legendHeight(6))
      assert.lengthOf(gif.frames, 16)
      assert.include(mail.text, "The hottest moment of event 1 (2026-12-01 09:00:01 UTC): 90.0 °C")

      const limited = yield* sent((eventId) => of(cleared, eventId), { evidence: { gifMaxBytes: 1000 } })
      assert.deepStrictEqual(limited.attachments.map((a) => a.filename), ["event-1-peak.png"])
      assert.include(
        limited.text,
        `Note: the animation of event 1 is not attached: it would be larger than 0.0 MB: ${links.animation}`
      )
    }))
})

describe("Notifier, on the monotonic clock", () => {
  const DAY = 86_400_000

  /** A channel whose target is down: every attempt fails, and is noted with its monotonic time. */
  const downTarget = (attempts: Array<{ readonly messageId: string; readonly at: number }>): Sender => ({
    channel: "webhook",
    label: "a target that is down",
    send: (message) =>
      Effect.flatMap(monotonicMs, (at) => {
        attempts.push({ messageId: message.messageId, at })
        return new DeliveryFailed({ channel: "webhook", message: "HTTP 503" })
      })
  })

  /** When attempts fall due, from `first` on, for a row that gives up at `deadline` (monotonic ms). */
  const schedule = (first: number, deadline: number) => {
    const times = [first]
    for (let failures = 1; times[times.length - 1]! < deadline; failures++) {
      const last = times[times.length - 1]!
      times.push(Math.min(last + retryDelay(NotifierSettings.defaultValue(), failures, 1), deadline))
    }
    return times
  }

  /** Waits (no time passes) for the worker to get through what is due. */
  const settle = <A, R>(effect: Effect.Effect<A, never, R>, until: (a: A) => boolean) =>
    Effect.gen(function*() {
      for (let n = 0; n < 1000; n++) {
        const value = yield* effect
        if (until(value)) return value
        yield* Effect.yieldNow()
      }
      return yield* Effect.dieMessage("the worker never got there")
    })

  const retriesAcross = (stepMs: number) =>
    Effect.gen(function*() {
      const attempts: Array<{ readonly messageId: string; readonly at: number }> = []
      yield* withSteppedClock((clock) =>
        withNotifier({}, () =>
          Effect.gen(function*() {
            yield* (yield* Notifier).enqueue(raised)
            yield* settle(Effect.sync(() => attempts.length), (n) => n === 1)
            // the target is down; the wall clock is stepped before the first retry
            yield* clock.step(stepMs)
            yield* TestClock.adjust(4_999)
            assert.lengthOf(attempts, 1, "not before the backoff has passed")
            yield* TestClock.adjust(1)
            yield* settle(Effect.sync(() => attempts.length), (n) => n === 2)
            const [row] = yield* all
            assert.strictEqual(row!.status, "pending", "not given up")
            assert.strictEqual(row!.nextAttemptAt, stepMs + 5_000 + 10_000, "labelled on the wall clock")
            // on until 24 h of monotonic time have passed since it was queued
            yield* TestClock.adjust(DAY - 5_000 - 1)
            assert.strictEqual((yield* all)[0]!.status, "pending")
            yield* TestClock.adjust(1)
            const [given] = yield* settle(all, (rows) => rows[0]!.status === "given_up")
            const due = schedule(0, DAY)
            assert.deepStrictEqual(attempts.map((attempt) => attempt.at), due, "each attempt when it was due")
            assert.strictEqual(given!.attempts, due.length)
            assert.strictEqual(new Set(attempts.map((attempt) => attempt.messageId)).size, 1)
          }), { channels: [downTarget(attempts)] })
      )
    })

  it.effect("retries keep their backoff when the wall clock is stepped back a month", () => retriesAcross(-30 * DAY))

  it.effect("retries keep their backoff, and nothing is given up early, when it is stepped forward a month", () =>
    retriesAcross(30 * DAY))

  it.effect("rows pending from an earlier run are attempted at start-up; their age counts on the wall clock", () =>
    Effect.gen(function*() {
      const now = Date.UTC(2026, 10, 24, 12)
      yield* TestClock.setTime(now)
      const payload = JSON.stringify(raised)
      const row = (messageId: string, createdAt: number, attempts: number) => ({
        channel: "webhook",
        messageId,
        payload,
        status: "pending",
        attempts,
        nextAttemptAt: createdAt,
        createdAt
      })
      const attempts: Array<{ readonly messageId: string; readonly at: number }> = []
      yield* withNotifier({}, () =>
        Effect.gen(function*() {
          // all three at once, oldest first, before any time passes
          yield* settle(Effect.sync(() => attempts.length), (n) => n === 3)
          assert.deepStrictEqual(attempts, [
            { messageId: "msg_an_hour_old", at: now },
            { messageId: "msg_almost_a_day_old", at: now },
            { messageId: "msg_from_the_future", at: now }
          ])
          assert.deepStrictEqual((yield* all).map((delivery) => delivery.attempts), [1, 1, 3])
          // the one queued 23 h 59 min ago gives up a minute later; the others go on
          yield* TestClock.adjust("1 minute")
          const rows = yield* settle(all, (rows) => rows[1]!.status === "given_up")
          assert.deepStrictEqual(rows.map((delivery) => delivery.status), ["pending", "given_up", "pending"])
          const times = (messageId: string) =>
            attempts.filter((attempt) => attempt.messageId === messageId).map((attempt) => attempt.at - now)
          assert.deepStrictEqual(times("msg_almost_a_day_old"), [0, 5_000, 15_000, 35_000, 60_000])
          assert.deepStrictEqual(
            times("msg_an_hour_old"),
            [0, 20_000, 60_000],
            "its backoff goes on from its 3rd attempt"
          )
          assert.deepStrictEqual(times("msg_from_the_future"), [0, 5_000, 15_000, 35_000])
        }), {
        channels: [downTarget(attempts)],
        before: Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql`INSERT INTO outbox ${
            sql.insert([
              row("msg_an_hour_old", now - 3_600_000, 2),
              row("msg_almost_a_day_old", now - DAY + 60_000, 0),
              // queued before the wall clock was stepped back
              row("msg_from_the_future", now + DAY, 0)
            ])
          }`)
      })
    }))
})

describe("Notifier helpers", () => {
  it("retryDelay: between half and all of 5 s doubling, capped at 10 min", () => {
    const settings = NotifierSettings.defaultValue()
    assert.deepStrictEqual([1, 2, 3, 4].map((n) => retryDelay(settings, n, 0)), [2_500, 5_000, 10_000, 20_000])
    assert.deepStrictEqual([1, 2, 3, 4].map((n) => retryDelay(settings, n, 1)), [5_000, 10_000, 20_000, 40_000])
    assert.strictEqual(retryDelay(settings, 8, 0.999999), 600_000)
    assert.strictEqual(retryDelay(settings, 500, 0), 300_000)
    assert.strictEqual(retryDelay(settings, 0, 1), 5_000)
  })

  it("renderEmail: zones by name, by id or the whole frame; rates in °C/min", () => {
    const rate: Notification = {
      ...raised,
      data: {
        alarm: { ...raised.data.alarm, value: 12.345, severity: "warning" },
        rule: { ...raised.data.rule, zoneName: null, metric: "rate", threshold: 10 },
        links: null
      }
    }
    const { subject, text } = renderEmail(rate)
    assert.strictEqual(subject, "[ircam] WARNING raised: Oven too hot — zone 2 rate 12.3 °C/min > 10 °C/min")
    assert.include(text, "Where:         zone (#2)")
    assert.include(text, "Cleared at:    still active")
    assert.include(text, "Rule:          Oven too hot (#3): rate above 10 °C/min")
    assert.include(renderEmail(cleared).text, "Cleared at:    2026-11-24T10:04:59.000Z")
  })

  it("toJson: ISO times, null when absent", () => {
    const delivery: Delivery = {
      id: 1,
      channel: "webhook",
      messageId: "msg_x",
      type: "alarm.raised",
      status: "pending",
      attempts: 0,
      lastError: null,
      createdAt: 0,
      deliveredAt: null,
      nextAttemptAt: 5_000
    }
    assert.deepStrictEqual(toJson(delivery), {
      ...delivery,
      createdAt: "1970-01-01T00:00:00.000Z",
      deliveredAt: null,
      nextAttemptAt: "1970-01-01T00:00:05.000Z"
    })
    assert.strictEqual(new DeliveryFailed({ channel: "email", message: "x" })._tag, "DeliveryFailed")
  })
})
