/**
 * Notifier against real local servers: a node:http webhook receiver that fails, hangs and then
 * accepts; an SMTP server (smtp-server) that rejects and then accepts, or offers STARTTLS with a
 * certificate the client must refuse. The backoff waits and the per-attempt timeout run on the
 * TestClock; only the sockets are real, so the tests wait (in real time, briefly) for an attempt
 * to come back from the socket before moving the clock on.
 */
import { HttpClient } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { assert, describe, it } from "@effect/vitest"
import {
  Context,
  Duration,
  Effect,
  Exit,
  FiberRef,
  HashSet,
  Layer,
  Logger,
  Option,
  Random,
  Redacted,
  Scope,
  TestClock
} from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type IncomingHttpHeaders, type Server } from "node:http"
import { type AddressInfo, createServer as createNetServer, type Server as NetServer, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SMTPServer } from "smtp-server"
import type { AlarmId, Notification, RuleId } from "../src/Alarm.js"
import { AppConfig, type AppConfigShape, type SmtpConfig } from "../src/AppConfig.js"
import * as Database from "../src/Database.js"
import type { EventId } from "../src/Event.js"
import * as Health from "../src/Health.js"
import { DeliveryFailed } from "../src/NotificationChannel.js"
import { renderEmail } from "../src/NotificationEmail.js"
import { type Delivery, Notifier, NotifierSettings, retryDelay, toJson } from "../src/Notifier.js"
import * as WebhookSignature from "../src/WebhookSignature.js"
import type { ZoneId } from "../src/Zone.js"

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
      eventId: 12 as EventId
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
    }
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
    }
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

/** Header fields (unfolded, RFC 2047 words decoded) and the decoded text body of a raw message. */
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
  const body = raw.slice(split + 4)
  const encoding = headers.get("content-transfer-encoding")?.toLowerCase()
  const text = encoding === "base64"
    ? Buffer.from(body, "base64").toString("utf8")
    : encoding === "quoted-printable"
    ? Buffer.from(
      body.replace(/=\r\n/g, "").replace(
        /=([0-9a-f]{2})/gi,
        (_, hex: string) => String.fromCharCode(parseInt(hex, 16))
      ),
      "latin1"
    ).toString("utf8")
    : body
  return { header: (name: string) => decodeWords(headers.get(name) ?? ""), text: text.replace(/\r\n/g, "\n") }
}

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

/** The notifier on a database (in memory unless `databasePath`), with health, in a scope of its own. */
const setup = (
  config: Partial<AppConfigShape>,
  options: {
    readonly settings?: Partial<Context.Tag.Service<NotifierSettings>>
    readonly before?: Effect.Effect<void, unknown, SqlClient.SqlClient>
    readonly httpClient?: Layer.Layer<HttpClient.HttpClient>
  } = {}
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const logs: Array<LogLine> = []
    const collector = Logger.make(({ logLevel, message }) => {
      logs.push({ level: logLevel.label, message: (Array.isArray(message) ? message : [message]).join(" ") })
    })
    // the forked workers inherit the loggers and the Random of the fiber that builds the layer;
    // a fixed Random makes every backoff its full length: 5 s, 10 s, 20 s …
    yield* FiberRef.update(FiberRef.currentLoggers, HashSet.add(collector))
    yield* Effect.withRandomScoped(Random.fixed([1]))
    const base = Layer.mergeAll(Health.Health.layer, options.httpClient ?? NodeHttpClient.layerUndici).pipe(
      Layer.provideMerge(AppConfig.layerWith({ databasePath: Database.memory, ...config }))
    )
    const databaseContext = yield* Layer.buildWithScope(Database.layer.pipe(Layer.provideMerge(base)), scope)
    if (options.before !== undefined) yield* Effect.orDie(Effect.provide(options.before, databaseContext))
    const settings = Layer.succeed(NotifierSettings, { ...NotifierSettings.defaultValue(), ...options.settings })
    const context = yield* Layer.buildWithScope(
      Notifier.Default.pipe(Layer.provide(Layer.succeedContext(databaseContext)), Layer.provide(settings)),
      scope
    )
    const notifier = Context.get(context, Notifier)
    const health = Context.get(databaseContext, Health.Health)
    const sql = Context.get(databaseContext, SqlClient.SqlClient)
    const all = Effect.orDie(notifier.deliveries({ limit: 100 }))
    const check = Effect.map(health.report, (report) => report.checks["notifier"]!)
    return { notifier, sql, all, check, logs, scope }
  })

const first = (deliveries: ReadonlyArray<Delivery>) => deliveries[deliveries.length - 1]!

describe("Notifier", () => {
  it.scoped("webhook: fails, times out, then delivers; same id, signed, with backoff and health", () =>
    Effect.gen(function*() {
      const server = yield* webhookServer(["fail", "hang", "accept"])
      const { all, check, logs, notifier } = yield* setup({
        webhookUrl: Option.some(server.url),
        webhookSecret: Option.some(Redacted.make(SECRET))
      })
      assert.deepStrictEqual(notifier.channels, ["webhook"])
      assert.isTrue(
        logs.some((line) => line.message.includes("webhook to http://127.0.0.1") && !line.message.includes("t0k3n"))
      )

      yield* notifier.enqueue(raised)
      // attempt 1 at once: HTTP 500
      const [afterFirst] = yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the first attempt")
      assert.strictEqual(afterFirst!.status, "pending")
      assert.strictEqual(afterFirst!.lastError, "HTTP 500: boom")
      assert.strictEqual(afterFirst!.nextAttemptAt, 5_000)
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
      assert.strictEqual(afterSecond!.nextAttemptAt, 25_000)
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
      const now = yield* TestClock.currentTimeMillis
      for (const request of server.requests) {
        assert.strictEqual(request.headers["content-type"], "application/json")
        assert.strictEqual(request.headers["user-agent"], "ircam")
        assert.isUndefined(request.headers["traceparent"])
        assert.deepStrictEqual(JSON.parse(request.body), raised)
        const signed = {
          id: request.headers["webhook-id"] as string,
          timestamp: request.headers["webhook-timestamp"] as string,
          signature: request.headers["webhook-signature"] as string,
          body: request.body,
          now
        }
        assert.isTrue(WebhookSignature.verify({ ...signed, secret: SECRET }))
        assert.isFalse(
          WebhookSignature.verify({
            ...signed,
            secret: "whsec_" + Buffer.from("another secret, 32 bytes long..").toString("base64")
          })
        )
      }
      // each attempt carries its own time (seconds)
      assert.deepStrictEqual(server.requests.map((request) => request.headers["webhook-timestamp"]), ["0", "5", "25"])

      const healthy = yield* check
      assert.strictEqual(healthy.status, "ok")
      assert.deepInclude(healthy.details, { channels: ["webhook"], pending: 0, delivered: 1, givenUp: 0, failures: 2 })
      assert.deepStrictEqual(healthy.details["consecutiveFailures"], { webhook: 0 })
      assert.include((healthy.details["lastError"] as { message: string }).message, "no answer within 10s")
      assert.isTrue(logs.some((line) => line.level === "WARN" && line.message.includes("attempt 1 failed")))
      assert.isTrue(logs.some((line) => line.message.includes("delivered at attempt 3")))
    }))

  it.scoped("e-mail: rejected once (451), then delivered to a real SMTP server with the rendered message", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer({ rejectFirst: 1 })
      const { all, check, logs, notifier } = yield* setup({ smtp: Option.some(smtpConfig(smtp.port)) })
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
      assert.strictEqual(parsed.header("from"), "ircam <ircam@example.com>")
      assert.strictEqual(parsed.header("to"), "ops@example.com, boss@example.com")
      assert.strictEqual(parsed.header("subject"), "[ircam] CRITICAL raised: Oven too hot — press max 81.2 °C > 80 °C")
      assert.strictEqual(parsed.header("message-id"), `<${delivered!.messageId}@ircam>`)
      assert.include(parsed.text, "The CRITICAL alarm of rule \"Oven too hot\" was raised.")
      assert.include(parsed.text, "Where:         zone \"press\" (#2)")
      assert.include(parsed.text, "Raised at:     2026-11-24T10:00:00.500Z")
      assert.include(parsed.text, "Event:         #12")
      assert.strictEqual((yield* check).status, "ok")
    }))

  it.scoped("e-mail: STARTTLS is used when offered, and a certificate that cannot be verified fails the attempt", () =>
    Effect.gen(function*() {
      // smtp-server offers STARTTLS with its built-in self-signed certificate
      const smtp = yield* smtpServer({ starttls: true })
      const { all, notifier } = yield* setup({
        smtp: Option.some(smtpConfig(smtp.port, { user: Option.none(), password: Option.none() }))
      })
      yield* notifier.enqueue(cleared)
      const [row] = yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the attempt")
      assert.strictEqual(row!.status, "pending")
      assert.match(row!.lastError!, /certificate/i)
      assert.strictEqual(smtp.received.length, 0)
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
      const { all, notifier } = yield* setup({ smtp: Option.some(smtpConfig(port)) })
      yield* notifier.enqueue(raised)
      yield* eventually(Effect.sync(() => connections.length), (n) => n === 1, "the connection")
      yield* TestClock.adjust("1 minute")
      const [row] = yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the timeout")
      assert.strictEqual(row!.lastError, "not sent within 1m")
    }))

  it.scoped("e-mail: a notification that cannot be read fails its attempts", () =>
    Effect.gen(function*() {
      const smtp = yield* smtpServer()
      const { all } = yield* setup({ smtp: Option.some(smtpConfig(smtp.port)) }, {
        before: Effect.flatMap(SqlClient.SqlClient, (sql) =>
          sql`INSERT INTO outbox (channel, message_id, payload, status, attempts, next_attempt_at, created_at)
            VALUES ('email', 'msg_bad', '{"type":"alarm.raised"}', 'pending', 0, 0, 0)`)
      })
      const [row] = yield* eventually(all, (rows) =>
        rows[0]?.attempts === 1, "the attempt")
      assert.include(row!.lastError, "unreadable notification")
      assert.strictEqual(smtp.received.length, 0)
    }))

  it.scoped("the outbox survives a restart: a failed and an interrupted delivery are each delivered once", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "ircam-notifier-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const databasePath = join(dir, "ircam.db")
      const server = yield* webhookServer(["unavailable", "hang"])
      const config = { databasePath, webhookUrl: Option.some(server.url) }

      const before = yield* setup(config)
      yield* before.notifier.enqueue(raised)
      yield* eventually(before.all, (rows) => rows[0]?.attempts === 1, "the failed attempt")
      yield* before.notifier.enqueue(cleared)
      yield* eventually(Effect.sync(() => server.requests.length), (n) => n === 2, "the hanging attempt")
      // stop while the second attempt is under way
      yield* Scope.close(before.scope, Exit.void)
      const stopped = yield* setup({ databasePath }) // no channel: only to read the outbox
      const kept = yield* stopped.all
      assert.deepStrictEqual(kept.map((row) => [row.type, row.status, row.attempts]), [
        ["alarm.cleared", "pending", 0],
        ["alarm.raised", "pending", 1]
      ])
      assert.isTrue(stopped.logs.some((line) => line.message.includes("2 pending webhook notification(s) kept")))
      yield* Scope.close(stopped.scope, Exit.void)

      // the target is back: the interrupted one goes at once, the failed one when its retry is due
      const after = yield* setup(config)
      yield* eventually(after.all, (rows) => rows[0]?.status === "delivered", "the interrupted delivery")
      assert.strictEqual(first(yield* after.all).status, "pending")
      yield* TestClock.adjust("5 seconds")
      const rows = yield* eventually(
        after.all,
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
        ["alarm.raised", "alarm.cleared", "alarm.cleared", "alarm.raised"]
      )
      assert.strictEqual(server.requests[0]!.headers["webhook-id"], server.requests[3]!.headers["webhook-id"])
      assert.strictEqual(server.requests[1]!.headers["webhook-id"], server.requests[2]!.headers["webhook-id"])
      assert.deepInclude((yield* after.check).details, { pending: 0, delivered: 2 })
    }))

  it.scoped("gives up at the bound: status given_up with the last error, logged, listed and in health", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const { all, check, logs, notifier } = yield* setup(
        { webhookUrl: Option.some(new URL(`http://127.0.0.1:${port}/hook`)) },
        { settings: { giveUpAfter: Duration.minutes(1) } }
      )
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
    }))

  it.scoped("a failing outbox is retried and shown in health; enqueue answers StorageError", () =>
    Effect.gen(function*() {
      const server = yield* webhookServer(["fail"])
      const { all, check, logs, notifier, sql } = yield* setup({ webhookUrl: Option.some(server.url) })
      yield* notifier.enqueue(raised)
      yield* eventually(all, (rows) => rows[0]?.attempts === 1, "the failed attempt")
      // (a statement first prepared while the table is away would stay failed in the driver's
      // prepare cache for 10 minutes: run the health check's statements once before)
      assert.strictEqual((yield* check).status, "degraded")
      yield* sql`ALTER TABLE outbox RENAME TO outbox_away`
      const error = yield* Effect.flip(notifier.enqueue(cleared))
      assert.strictEqual(error._tag, "StorageError")
      assert.include(error.message, "cannot store the alarm.cleared notification")
      const listing = yield* Effect.flip(notifier.deliveries({ limit: 1 }))
      assert.strictEqual(listing._tag, "StorageError")
      // the retry is due: the worker cannot read the outbox
      yield* TestClock.adjust("5 seconds")
      yield* eventually(
        Effect.sync(() => logs.filter((line) => line.message.includes("cannot read or update the outbox"))),
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

  it.scoped("a backlog is delivered in batches, oldest first", () =>
    Effect.gen(function*() {
      const server = yield* webhookServer([])
      const payload = JSON.stringify(raised)
      const { all } = yield* setup({ webhookUrl: Option.some(server.url) }, {
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
      yield* eventually(all, (rows) =>
        rows.every((row) =>
          row.status === "delivered"
        ), "the backlog")
      assert.deepStrictEqual(
        server.requests.map((request) => request.headers["webhook-id"]),
        Array.from({ length: 25 }, (_, i) => `msg_backlog_${i}`)
      )
    }))

  it.scoped("a defect in a delivery is logged, shown in health, and the worker goes on", () =>
    Effect.gen(function*() {
      const { all, check, logs, notifier } = yield* setup({ webhookUrl: Option.some(new URL("http://127.0.0.1:9/")) }, {
        httpClient: Layer.succeed(HttpClient.HttpClient, HttpClient.make(() => Effect.die(new Error("bug"))))
      })
      yield* notifier.enqueue(raised)
      const unexpected = (line: LogLine) => line.message.includes("webhook notifications: unexpected failure: bug")
      yield* eventually(Effect.sync(() => logs.filter(unexpected)), (lines) => lines.length === 1, "the log")
      assert.strictEqual((yield* check).status, "degraded")
      // tried again after 5 s, then 10 s
      yield* TestClock.adjust("5 seconds")
      yield* eventually(Effect.sync(() => logs.filter(unexpected)), (lines) => lines.length === 2, "the second")
      yield* TestClock.adjust("9 seconds")
      assert.strictEqual(logs.filter(unexpected).length, 2)
      assert.deepInclude((yield* all)[0], { status: "pending", attempts: 0 })
    }))

  it.scoped("no channel configured: enqueue stores nothing, health says so", () =>
    Effect.gen(function*() {
      const { all, check, logs, notifier } = yield* setup({})
      assert.deepStrictEqual(notifier.channels, [])
      yield* notifier.enqueue(raised)
      assert.deepStrictEqual(yield* all, [])
      const health = yield* check
      assert.strictEqual(health.status, "ok")
      assert.strictEqual(health.message, "no notification channel configured")
      assert.isTrue(logs.some((line) => line.message.includes("no notification channel configured")))
    }))

  it.scoped("both channels: one row each, with its own id, and the listing filters", () =>
    Effect.gen(function*() {
      const server = yield* webhookServer([])
      const smtp = yield* smtpServer()
      const { all, notifier } = yield* setup({
        webhookUrl: Option.some(server.url),
        smtp: Option.some(smtpConfig(smtp.port, { user: Option.none(), password: Option.none() }))
      })
      assert.deepStrictEqual(notifier.channels, ["webhook", "email"])
      yield* notifier.enqueue(cleared)
      const rows = yield* eventually(all, (rows) =>
        rows.length === 2 && rows.every((row) => row.status === "delivered"), "both")
      assert.notStrictEqual(rows[0]!.messageId, rows[1]!.messageId)
      const email = yield* notifier.deliveries({ channel: "email", limit: 10 })
      assert.deepStrictEqual(
        email.map((row) =>
          row.channel
        ),
        ["email"]
      )
      assert.deepStrictEqual(
        (yield* notifier.deliveries({ before: email[0]!.id, limit: 10 })).map((row) => row.id),
        rows.filter((row) => row.id < email[0]!.id).map((row) => row.id)
      )
      assert.isUndefined(smtp.received[0]!.user)
      const parsed = parseMail(smtp.received[0]!.raw)
      assert.strictEqual(
        parsed.header("subject"),
        "[ircam] WARNING cleared: Cold start — whole frame (was min -2 °C < 0 °C)"
      )
      assert.include(parsed.text, "was cleared")
      assert.include(parsed.text, "Where:         the whole frame")
      assert.include(parsed.text, "Acknowledged:  2026-11-24T10:01:00.000Z")
      assert.include(parsed.text, "Event:         none")
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
        rule: { ...raised.data.rule, zoneName: null, metric: "rate", threshold: 10 }
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
