/**
 * Notifier: delivers alarm notifications (`alarm.raised`, `alarm.cleared`) on every channel it is
 * given (`NotificationChannels`: webhook, e-mail, … as Core composes them from the configuration).
 *
 * Durable outbox (OutboxRepo): `enqueue` only inserts one row per channel (a short SQLite write,
 * in the caller's transaction when there is one), so the monitor loop never waits for a network.
 * A worker fiber per channel delivers the due rows, oldest first, woken at once by `enqueue` and
 * otherwise sleeping until the next row is due. A failed attempt is retried after an exponential
 * backoff with jitter (a random time between half and all of 5 s, 10 s, 20 s … capped at 10 min);
 * attempts go on until `giveUpAfter` (24 h) after the notification was queued, the last one at
 * that mark, and a delivery still failing then is marked `given_up`, kept with its last error and
 * logged as a warning. Rows survive restarts: those left pending are attempted at once by the
 * next run. Delivery is at least once (a restart in the middle of an attempt repeats it); the
 * message id stays the same across attempts so a receiver can drop duplicates.
 *
 * When a row is due is kept in memory on the monotonic clock, so a step of the wall clock neither
 * holds retries back nor gives up early; the times stored with a row are wall-clock labels.
 *
 * A channel may carry only some types (`Sender.types`: MQTT also carries `alarm.acknowledged`),
 * deliver in order (`ordered`: no row goes before an older one of its channel is delivered) and
 * say when it can deliver again (`ready`: a broker reconnected), which makes its waiting rows due.
 *
 * The health check is `degraded` while a channel's latest attempt failed or when a delivery was
 * given up within the last hour, and counts pending, delivered and given-up rows.
 */
import { Clock, Duration, Effect, Either, Queue, Random, Schema, Stream } from "effect"
import { Notification } from "./Alarm.js"
import type { DeliveryQuery } from "./Delivery.js"
import type { CheckResult } from "./Health.js"
import { describe } from "./internal/describe.js"
import { type Channel, defaultTypes, newMessageId, NotificationChannels, type Sender } from "./NotificationChannel.js"
import { NotifierSettings } from "./NotifierSettings.js"
import { OutboxRepo, type Pending } from "./OutboxRepo.js"
import { iso, monotonicMs } from "./Time.js"

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

/** Rows attempted per round of a worker. */
const batch = 20

/** A pending row's schedule, on the monotonic clock. */
interface Due {
  /** when the next attempt is due */
  at: number
  /** when the row gives up: its age reaches `giveUpAfter` */
  readonly deadline: number
}

interface Worker extends Sender {
  readonly wake: Queue.Queue<void>
  readonly due: Map<number, Due>
  /** failed attempts since the last delivery */
  consecutiveFailures: number
  /** failed rounds (the outbox could not be read or written) since the last good one */
  roundFailures: number
  /** the channel's latest failure, of a delivery or of a round */
  lastError: string | undefined
  /** deliveries delivered and given up, and attempts failed, since start */
  readonly outcomes: ChannelStats["outcomes"]
}

/** A channel's figures (`Notifier.stats`), for metrics. */
export interface ChannelStats {
  readonly channel: Channel
  readonly outcomes: { delivered: number; givenUp: number; failedAttempts: number }
  /** deliveries waiting for their next attempt */
  readonly pending: number
  /** milliseconds since the oldest of them was queued; null when none is pending */
  readonly oldestPendingMs: number | null
}

export class Notifier extends Effect.Service<Notifier>()("@ircam/core/Notifier", {
  scoped: Effect.gen(function*() {
    const repo = yield* OutboxRepo
    const senders = yield* NotificationChannels
    const settings = yield* NotifierSettings
    const giveUpMs = Duration.toMillis(settings.giveUpAfter)

    const workers = new Map<Channel, Worker>()
    for (const sender of senders) {
      workers.set(sender.channel, {
        ...sender,
        wake: yield* Queue.sliding<void>(1),
        due: new Map(),
        consecutiveFailures: 0,
        roundFailures: 0,
        lastError: undefined,
        outcomes: { delivered: 0, givenUp: 0, failedAttempts: 0 }
      })
    }
    const channels: ReadonlyArray<Channel> = [...workers.keys()]

    let lastError: { readonly at: number; readonly channel: Channel; readonly message: string } | undefined
    /** monotonic times of the deliveries given up, for the last hour's count */
    let givenUp: Array<number> = []

    // Pending rows of an earlier run are due now; their age so far is measured on the wall clock,
    // the only one a restart keeps.
    const wallNow = yield* Clock.currentTimeMillis
    const startedAt = yield* monotonicMs
    for (const worker of workers.values()) {
      const pending = yield* repo.pendingIds(worker.channel).pipe(Effect.orElseSucceed(() => []))
      for (const { createdAt, id } of pending) {
        worker.due.set(id, { at: startedAt, deadline: startedAt + giveUpMs - Math.max(0, wallNow - createdAt) })
      }
    }

    const encode = Schema.encode(Notification)
    const enqueue = Effect.fn("Notifier.enqueue")(
      function*(notification: Notification) {
        const targets = channels.filter((channel) =>
          (workers.get(channel)!.types ?? defaultTypes).includes(notification.type)
        )
        if (targets.length === 0) return
        const payload = JSON.stringify(yield* Effect.orDie(encode(notification)))
        const deliveries = yield* Effect.forEach(
          targets,
          (channel) => Effect.map(newMessageId, (messageId) => ({ channel, messageId }))
        )
        const rows = yield* repo.insert(deliveries, payload, yield* Clock.currentTimeMillis)
        const now = yield* monotonicMs
        for (const { channel, id } of rows) {
          const worker = workers.get(channel)!
          worker.due.set(id, { at: now, deadline: now + giveUpMs })
          yield* Queue.offer(worker.wake, undefined)
        }
      }
    )

    /** One attempt at one row, and its outcome written back; whether it was delivered. */
    const attempt = (worker: Worker, row: Pending, due: Due) =>
      Effect.gen(function*() {
        const result = yield* Effect.either(worker.send(row))
        const at = yield* Clock.currentTimeMillis
        const now = yield* monotonicMs
        const attempts = row.attempts + 1
        const what = `${row.type} ${worker.channel} notification ${row.messageId}`
        if (Either.isRight(result)) {
          yield* repo.delivered(row.id, attempts, at)
          worker.due.delete(row.id)
          worker.consecutiveFailures = 0
          worker.outcomes.delivered++
          yield* Effect.logInfo(`${what} delivered${attempts > 1 ? ` at attempt ${attempts}` : ""}`)
          return true
        }
        const message = result.left.message
        worker.outcomes.failedAttempts++
        worker.consecutiveFailures++
        lastError = { at, channel: worker.channel, message }
        worker.lastError = message
        if (now >= due.deadline) {
          yield* repo.givenUp(row.id, attempts, message, at)
          worker.due.delete(row.id)
          givenUp.push(now)
          worker.outcomes.givenUp++
          yield* Effect.logWarning(
            `${what} given up after ${attempts} attempts over ${
              Duration.format(Duration.millis(Math.round(giveUpMs - (due.deadline - now))))
            }`,
            message
          )
          return false
        }
        const next = Math.min(now + retryDelay(settings, attempts, yield* Random.next), due.deadline)
        yield* repo.failed(row.id, attempts, message, at + (next - now))
        due.at = next
        yield* Effect.logWarning(
          `${what}: attempt ${attempts} failed; next in ${Duration.format(Duration.millis(Math.round(next - now)))}`,
          message
        )
        return false
      })

    /** Delivers the channel's due rows, oldest first, then sleeps until one is due or `enqueue` wakes it. */
    const work = (worker: Worker) => {
      const round = Effect.gen(function*() {
        const now = yield* monotonicMs
        const waiting = [...worker.due].sort(([a], [b]) => a - b)
        // an ordered channel goes when its oldest row is due, and then in order, whatever the younger
        // rows' own times: a row queued while an older one waits never goes before it
        const ids = worker.ordered
          ? (waiting[0] !== undefined && waiting[0][1].at <= now ? waiting.map(([id]) => id) : [])
          : waiting.filter(([, due]) => due.at <= now).map(([id]) => id)
        const rows = yield* repo.pending(ids.slice(0, batch))
        // rows no longer pending (another process, a deleted database) leave the schedule
        for (const id of ids.slice(0, batch)) if (!rows.some((row) => row.id === id)) worker.due.delete(id)
        for (const row of rows) {
          const due = worker.due.get(row.id)!
          // the younger rows of an ordered channel wait for this one's next attempt
          if (!(yield* attempt(worker, row, due)) && worker.ordered) break
        }
        worker.roundFailures = 0
        if (ids.length > batch) return
        const oldest = Math.min(...worker.due.keys())
        const next = worker.ordered
          ? (worker.due.get(oldest)?.at ?? Infinity)
          : Math.min(...[...worker.due.values()].map((due) => due.at))
        if (next === Infinity) return yield* Queue.take(worker.wake)
        const wait = next - (yield* monotonicMs)
        if (wait > 0) yield* Effect.timeoutOption(Queue.take(worker.wake), Duration.millis(wait))
      })
      const failed = (message: string) =>
        Effect.gen(function*() {
          lastError = { at: yield* Clock.currentTimeMillis, channel: worker.channel, message }
          worker.lastError = message
          worker.roundFailures++
          yield* Effect.logWarning(`${worker.channel} notifications: ${message}; trying again`)
          yield* Effect.sleep(Duration.millis(retryDelay(settings, worker.roundFailures, 1)))
        })
      return round.pipe(
        Effect.catchAll((error) => failed(error.message)),
        // a bug must not end deliveries for good
        Effect.catchAllDefect((defect) => failed(`unexpected failure: ${describe(defect)}`)),
        Effect.forever,
        Effect.annotateLogs({ channel: worker.channel })
      )
    }

    yield* Effect.logInfo(
      channels.length === 0
        ? "no notification channel configured (WEBHOOK_URL, SMTP_HOST): alarms are not sent"
        : `notifications: ${senders.map((sender) => sender.label).join("; ")}`
    )
    // rows of a channel switched off since they were queued wait for it to come back
    const stranded = yield* repo.pendingByChannel.pipe(
      Effect.map((rows) => rows.filter((row) => !workers.has(row.channel))),
      Effect.orElseSucceed(() => [])
    )
    for (const { channel, n } of stranded) {
      yield* Effect.logWarning(`${n} pending ${channel} notification(s) kept undelivered: ${channel} is not configured`)
    }

    for (const worker of workers.values()) yield* Effect.forkScoped(work(worker))
    for (const worker of workers.values()) {
      if (worker.ready === undefined) continue
      yield* worker.ready.pipe(
        Stream.runForEach(() =>
          Effect.gen(function*() {
            const now = yield* monotonicMs
            for (const due of worker.due.values()) due.at = Math.min(due.at, now)
            yield* Queue.offer(worker.wake, undefined)
          })
        ),
        Effect.forkScoped
      )
    }

    const health: Effect.Effect<CheckResult> = Effect.gen(function*() {
      const now = yield* monotonicMs
      givenUp = givenUp.filter((at) => now - at < 3_600_000)
      const count = yield* repo.counts
      const problems = [
        ...[...workers.values()].flatMap((worker) =>
          worker.consecutiveFailures > 0 || worker.roundFailures > 0
            ? [`${worker.channel} deliveries failing: ${worker.lastError}`]
            : []
        ),
        ...(givenUp.length > 0 ? [`${givenUp.length} notification(s) given up in the last hour`] : [])
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
          givenUpLastHour: givenUp.length,
          failures: [...workers.values()].reduce((sum, worker) => sum + worker.outcomes.failedAttempts, 0),
          consecutiveFailures: Object.fromEntries(
            [...workers.values()].map((worker) => [worker.channel, worker.consecutiveFailures])
          ),
          lastError: lastError === undefined
            ? null
            : { at: iso(lastError.at), channel: lastError.channel, message: lastError.message }
        }
      }
    }).pipe(
      Effect.catchAll((error) =>
        Effect.succeed({ status: "degraded" as const, message: error.message, details: { channels } })
      )
    )

    return {
      /** The channels configured, in delivery order. */
      channels,
      /** Queues the notification on every configured channel (nothing when none is); returns at once. */
      enqueue,
      /** Outbox rows, newest first, for the API. */
      deliveries: (query: DeliveryQuery) => repo.list(query),
      health,
      /** Each configured channel's figures, from memory. */
      stats: Effect.map(monotonicMs, (now) =>
        [...workers.values()].map((worker): ChannelStats => {
          // a row is queued `giveUpAfter` before its deadline
          const queued = Math.min(...[...worker.due.values()].map((due) => due.deadline - giveUpMs))
          return {
            channel: worker.channel,
            outcomes: { ...worker.outcomes },
            pending: worker.due.size,
            oldestPendingMs: worker.due.size === 0 ? null : Math.max(0, now - queued)
          }
        }))
    } as const
  }).pipe(Effect.annotateLogs({ service: "Notifier" }))
}) {}
