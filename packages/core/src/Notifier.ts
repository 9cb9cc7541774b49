/**
 * Notifier: delivers alarm notifications (`alarm.raised`, `alarm.cleared`) on each channel the
 * configuration turns on: webhook (`WEBHOOK_URL`, see WebhookSender) and e-mail (`SMTP_HOST`, …,
 * see EmailSender, and NotificationEmail for its text).
 *
 * Durable outbox: `enqueue` only inserts one `outbox` row per channel (a short SQLite write), so
 * the monitor loop never waits for a network. A worker fiber per channel delivers the due rows,
 * oldest first, woken at once by `enqueue` and otherwise sleeping until the next row is due. A
 * failed attempt is retried after an exponential backoff with jitter (a random time between half
 * and all of 5 s, 10 s, 20 s … capped at 10 min); attempts go on until `giveUpAfter` (24 h) after
 * the alarm, the last one at that mark, and a delivery still failing then is marked `given_up`,
 * kept with its last error and logged as a warning. Rows survive restarts: those left pending are
 * delivered by the next run. Delivery is at least once (a restart in the middle of an attempt
 * repeats it); the `webhook-id` (and the e-mail's Message-ID) stays the same across attempts so a
 * receiver can drop duplicates.
 *
 * The `notifier` health check is `degraded` while a channel's latest attempt failed or when a
 * delivery was given up within the last hour, and counts pending, delivered and given-up rows.
 */
import { HttpClient } from "@effect/platform"
import { SqlClient, type SqlError } from "@effect/sql"
import { Clock, Context, Duration, Effect, Either, Option, Queue, Random, Schema } from "effect"
import { Notification } from "./Alarm.js"
import { AppConfig } from "./AppConfig.js"
import { emailSender } from "./EmailSender.js"
import { StorageError } from "./EventStore.js"
import { IsoTime } from "./Frame.js"
import * as Health from "./Health.js"
import { describe } from "./internal/describe.js"
import { Channel, type Send } from "./NotificationChannel.js"
import { newMessageId, webhookSender } from "./WebhookSender.js"

export const DeliveryStatus = Schema.Literal("pending", "delivered", "given_up").annotations({
  description: "`pending` until delivered (`delivered`) or given up after the retry bound (`given_up`)"
})
export type DeliveryStatus = typeof DeliveryStatus.Type

/** One notification on one channel, as the outbox keeps it. Times are epoch ms. */
export interface Delivery {
  readonly id: number
  readonly channel: Channel
  /** the Standard Webhooks `webhook-id`, the same for every attempt */
  readonly messageId: string
  /** null only when the stored payload cannot be read */
  readonly type: Notification["type"] | null
  readonly status: DeliveryStatus
  readonly attempts: number
  /** why the latest failed attempt failed; kept after a later success */
  readonly lastError: string | null
  readonly createdAt: number
  readonly deliveredAt: number | null
  /** when the next attempt is due; null unless pending */
  readonly nextAttemptAt: number | null
}

export interface DeliveryQuery {
  readonly status?: DeliveryStatus | undefined
  readonly channel?: Channel | undefined
  /** only deliveries with a smaller id (the next page) */
  readonly before?: number | undefined
  /** at most this many, newest first */
  readonly limit: number
}

/** The JSON form of a delivery served by the API. */
export const DeliveryJson = Schema.Struct({
  id: Schema.Int,
  channel: Channel,
  messageId: Schema.String.annotations({ description: "the webhook-id, the same for every attempt" }),
  type: Schema.NullOr(Notification.fields.type).annotations({
    description: "`alarm.raised` or `alarm.cleared`; null only when the stored notification cannot be read"
  }),
  status: DeliveryStatus,
  attempts: Schema.NonNegativeInt,
  lastError: Schema.NullOr(Schema.String).annotations({ description: "why the latest failed attempt failed" }),
  createdAt: IsoTime,
  deliveredAt: Schema.NullOr(IsoTime),
  nextAttemptAt: Schema.NullOr(IsoTime).annotations({ description: "when the next attempt is due, while pending" })
}).annotations({ identifier: "NotificationDelivery" })
export type DeliveryJson = typeof DeliveryJson.Type

const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString()

export const toJson = (delivery: Delivery): DeliveryJson => ({
  ...delivery,
  createdAt: iso(delivery.createdAt)!,
  deliveredAt: iso(delivery.deliveredAt),
  nextAttemptAt: iso(delivery.nextAttemptAt)
})

/** Timeouts and the retry policy; the defaults suit production, tests shorten them. */
export class NotifierSettings extends Context.Reference<NotifierSettings>()("@ircam/core/NotifierSettings", {
  defaultValue: () => ({
    /** one webhook attempt, from connecting to the end of the answer */
    webhookTimeout: Duration.seconds(10) as Duration.Duration,
    /** one e-mail attempt (nodemailer's own connection and greeting timeouts are 10 s) */
    emailTimeout: Duration.seconds(60) as Duration.Duration,
    /** the backoff after the first failed attempt; it doubles after each further one */
    retryBase: Duration.seconds(5) as Duration.Duration,
    retryCap: Duration.minutes(10) as Duration.Duration,
    /** no attempt is made later than this after the notification was enqueued */
    giveUpAfter: Duration.hours(24) as Duration.Duration
  })
}) {}

/**
 * The wait after the `failures`-th failed attempt of a delivery: a random time between half and
 * all of base·2^(failures−1), capped (`random` in [0, 1)).
 */
export const retryDelay = (
  settings: { readonly retryBase: Duration.Duration; readonly retryCap: Duration.Duration },
  failures: number,
  random: number
): number => {
  const nominal = Math.min(
    Duration.toMillis(settings.retryCap),
    Duration.toMillis(settings.retryBase) * 2 ** Math.min(Math.max(failures - 1, 0), 30)
  )
  return Math.round(nominal / 2 + random * nominal / 2)
}

interface OutboxRow {
  readonly id: number
  readonly channel: Channel
  readonly messageId: string
  readonly payload: string
  readonly type: Notification["type"] | null
  readonly status: DeliveryStatus
  readonly attempts: number
  readonly nextAttemptAt: number
  readonly lastError: string | null
  readonly createdAt: number
  readonly deliveredAt: number | null
}

const toDelivery = ({ nextAttemptAt, payload: _, ...row }: OutboxRow): Delivery => ({
  ...row,
  nextAttemptAt: row.status === "pending" ? nextAttemptAt : null
})

const storageError = (what: string) => (error: SqlError.SqlError) =>
  new StorageError({
    message: `${what}: ${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ""}`
  })

interface ChannelState {
  readonly send: Send
  /** for the log at start-up: where it goes, without secrets */
  readonly label: string
  readonly wake: Queue.Queue<void>
  /** failed attempts since the last delivery */
  consecutiveFailures: number
  /** the channel's latest failure, of a delivery or of the worker */
  lastError: string | undefined
  /** failed rounds of the worker (the outbox could not be read or written) since the last good one */
  workerFailures: number
}

export class Notifier extends Effect.Service<Notifier>()("@ircam/core/Notifier", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const config = yield* AppConfig
    const settings = yield* NotifierSettings
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    const giveUpMs = Duration.toMillis(settings.giveUpAfter)

    const states = new Map<Channel, ChannelState>()
    const add = (channel: Channel, send: Send, label: string) =>
      Effect.map(
        Queue.sliding<void>(1),
        (wake) =>
          states.set(channel, { send, label, wake, consecutiveFailures: 0, workerFailures: 0, lastError: undefined })
      )
    if (Option.isSome(config.webhookUrl)) {
      const url = config.webhookUrl.value
      yield* add(
        "webhook",
        webhookSender(url, config.webhookSecret, client, settings.webhookTimeout),
        `webhook to ${url.origin} (${Option.isSome(config.webhookSecret) ? "signed" : "unsigned"})`
      )
    }
    if (Option.isSome(config.smtp)) {
      const smtp = config.smtp.value
      yield* add(
        "email",
        yield* emailSender(smtp, settings.emailTimeout),
        `e-mail via ${smtp.host}:${smtp.port} to ${smtp.to.join(", ")}`
      )
    }
    const channels: ReadonlyArray<Channel> = [...states.keys()]

    /** failed attempts since start */
    let failures = 0
    let lastError: { readonly at: number; readonly channel: Channel; readonly message: string } | undefined

    const encode = Schema.encode(Notification)
    const enqueue = Effect.fn("Notifier.enqueue")(
      function*(notification: Notification) {
        if (channels.length === 0) return
        const payload = JSON.stringify(yield* Effect.orDie(encode(notification)))
        const now = yield* Clock.currentTimeMillis
        const rows = yield* Effect.forEach(channels, (channel) =>
          Effect.map(newMessageId, (messageId) => ({
            channel,
            messageId,
            payload,
            status: "pending",
            attempts: 0,
            nextAttemptAt: now,
            createdAt: now
          })))
        yield* sql`INSERT INTO outbox ${sql.insert(rows)}`.pipe(
          Effect.mapError(storageError(`cannot store the ${notification.type} notification`))
        )
        for (const state of states.values()) yield* Queue.offer(state.wake, undefined)
      }
    )

    const columns = sql`id, channel, message_id, payload,
      CASE WHEN json_valid(payload) THEN json_extract(payload, '$.type') END AS type, status, attempts,
      next_attempt_at, last_error, created_at, delivered_at`

    const deliveries = (query: DeliveryQuery): Effect.Effect<ReadonlyArray<Delivery>, StorageError> => {
      const clauses = [
        sql`1 = 1`,
        ...(query.status === undefined ? [] : [sql`status = ${query.status}`]),
        ...(query.channel === undefined ? [] : [sql`channel = ${query.channel}`]),
        ...(query.before === undefined ? [] : [sql`id < ${query.before}`])
      ]
      const where = sql.and(clauses)
      return sql<OutboxRow>`SELECT ${columns} FROM outbox WHERE ${where} ORDER BY id DESC LIMIT ${query.limit}`.pipe(
        Effect.map((rows) => rows.map(toDelivery)),
        Effect.mapError(storageError("cannot list the notification deliveries"))
      )
    }

    /** One attempt at one row, and its outcome written back. */
    const attempt = (channel: Channel, state: ChannelState, row: OutboxRow) =>
      Effect.gen(function*() {
        const result = yield* Effect.either(state.send(row))
        const now = yield* Clock.currentTimeMillis
        const attempts = row.attempts + 1
        const what = `${row.type} ${channel} notification ${row.messageId}`
        if (Either.isRight(result)) {
          yield* sql`UPDATE outbox SET status = 'delivered', attempts = ${attempts}, delivered_at = ${now}
            WHERE id = ${row.id}`
          state.consecutiveFailures = 0
          yield* Effect.logInfo(`${what} delivered${attempts > 1 ? ` at attempt ${attempts}` : ""}`)
          return
        }
        const message = result.left.message
        failures++
        state.consecutiveFailures++
        lastError = { at: now, channel, message }
        state.lastError = message
        const deadline = row.createdAt + giveUpMs
        if (now >= deadline) {
          // for a given-up row, next_attempt_at keeps the time it was given up
          yield* sql`UPDATE outbox SET status = 'given_up', attempts = ${attempts}, last_error = ${message},
            next_attempt_at = ${now} WHERE id = ${row.id}`
          yield* Effect.logWarning(
            `${what} given up after ${attempts} attempts over ${Duration.format(Duration.millis(now - row.createdAt))}`,
            message
          )
          return
        }
        const delay = retryDelay(settings, attempts, yield* Random.next)
        const next = Math.min(now + delay, deadline)
        yield* sql`UPDATE outbox SET attempts = ${attempts}, last_error = ${message}, next_attempt_at = ${next}
          WHERE id = ${row.id}`
        yield* Effect.logWarning(
          `${what}: attempt ${attempts} failed; next in ${Duration.format(Duration.millis(next - now))}`,
          message
        )
      })

    /** Delivers the channel's due rows, oldest first, then sleeps until one is due or `enqueue` wakes it. */
    const worker = (channel: Channel, state: ChannelState) => {
      const round = Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const due = yield* sql<OutboxRow>`SELECT ${columns} FROM outbox
          WHERE status = 'pending' AND channel = ${channel} AND next_attempt_at <= ${now}
          ORDER BY id LIMIT 20`
        for (const row of due) yield* attempt(channel, state, row)
        state.workerFailures = 0
        if (due.length === 20) return
        const [next] = yield* sql<{ at: number | null }>`SELECT min(next_attempt_at) AS at FROM outbox
          WHERE status = 'pending' AND channel = ${channel}`
        if (next === undefined || next.at === null) return yield* Queue.take(state.wake)
        const wait = next.at - (yield* Clock.currentTimeMillis)
        if (wait > 0) yield* Effect.timeoutOption(Queue.take(state.wake), Duration.millis(wait))
      })
      const failed = (message: string) =>
        Effect.gen(function*() {
          lastError = { at: yield* Clock.currentTimeMillis, channel, message }
          state.lastError = message
          state.workerFailures++
          yield* Effect.logWarning(`${channel} notifications: ${message}; trying again`)
          yield* Effect.sleep(Duration.millis(retryDelay(settings, state.workerFailures, 1)))
        })
      return round.pipe(
        Effect.catchAll((error) => failed(storageError("cannot read or update the outbox")(error).message)),
        // a bug must not end deliveries for good
        Effect.catchAllDefect((defect) => failed(`unexpected failure: ${describe(defect)}`)),
        Effect.forever,
        Effect.annotateLogs({ channel })
      )
    }

    yield* Effect.logInfo(
      channels.length === 0
        ? "no notification channel configured (WEBHOOK_URL, SMTP_HOST): alarms are not sent"
        : `notifications: ${[...states.values()].map((state) => state.label).join("; ")}`
    )
    // rows of a channel switched off since they were queued wait for it to come back
    const stranded = yield* sql<{ channel: Channel; n: number }>`
      SELECT channel, count(*) AS n FROM outbox WHERE status = 'pending' GROUP BY channel`.pipe(
      Effect.map((rows) => rows.filter((row) => !states.has(row.channel))),
      Effect.orElseSucceed(() => [])
    )
    for (const { channel, n } of stranded) {
      yield* Effect.logWarning(`${n} pending ${channel} notification(s) kept undelivered: ${channel} is not configured`)
    }

    for (const [channel, state] of states) yield* Effect.forkScoped(worker(channel, state))

    yield* Health.register(
      "notifier",
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const counts = yield* sql<{ status: DeliveryStatus; n: number }>`
          SELECT status, count(*) AS n FROM outbox GROUP BY status`
        const [recent] = yield* sql<{ n: number }>`
          SELECT count(*) AS n FROM outbox WHERE status = 'given_up' AND next_attempt_at >= ${now - 3_600_000}`
        const count = (status: DeliveryStatus) => counts.find((row) => row.status === status)?.n ?? 0
        const givenUpLastHour = recent?.n ?? 0
        const problems = [
          ...channels.flatMap((channel) => {
            const state = states.get(channel)!
            return state.consecutiveFailures > 0 || state.workerFailures > 0
              ? [`${channel} deliveries failing: ${state.lastError}`]
              : []
          }),
          ...(givenUpLastHour > 0 ? [`${givenUpLastHour} notification(s) given up in the last hour`] : [])
        ]
        return {
          status: problems.length > 0 ? "degraded" as const : "ok" as const,
          ...(problems.length > 0
            ? { message: problems.join("; ") }
            : channels.length === 0
            ? { message: "no notification channel configured" }
            : {}),
          details: {
            channels,
            pending: count("pending"),
            delivered: count("delivered"),
            givenUp: count("given_up"),
            givenUpLastHour,
            failures,
            consecutiveFailures: Object.fromEntries(
              channels.map((channel) => [channel, states.get(channel)!.consecutiveFailures])
            ),
            lastError: lastError === undefined
              ? null
              : { at: new Date(lastError.at).toISOString(), channel: lastError.channel, message: lastError.message }
          }
        }
      }).pipe(
        Effect.catchAll((error) =>
          Effect.succeed({
            status: "degraded" as const,
            message: storageError("cannot read the outbox")(error).message,
            details: { channels }
          })
        )
      )
    )

    return {
      /** The channels configured, in delivery order. */
      channels,
      /** Queues the notification on every configured channel (nothing when none is); returns at once. */
      enqueue,
      /** Outbox rows, newest first, for the API. */
      deliveries
    } as const
  }).pipe(Effect.annotateLogs({ service: "Notifier" }))
}) {}
