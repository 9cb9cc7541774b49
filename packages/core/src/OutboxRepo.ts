/**
 * OutboxRepo: the `outbox` table, the Notifier's durable queue: one row per notification and
 * channel, kept after delivery or giving up. Rows are decoded with Schema; every read and write
 * fails with `StorageError`. When to attempt a row is the Notifier's business.
 */
import { SqlClient, SqlSchema } from "@effect/sql"
import { Effect, Schema } from "effect"
import { Notification } from "./Alarm.js"
import { type Delivery, type DeliveryQuery, DeliveryStatus } from "./Delivery.js"
import { Channel, type Message } from "./NotificationChannel.js"
import * as StorageError from "./StorageError.js"

const isType = Schema.is(Notification.fields.type)

const OutboxRow = Schema.Struct({
  id: Schema.Int,
  channel: Channel,
  messageId: Schema.String,
  payload: Schema.String,
  // whatever a damaged payload holds: only the known types are shown
  type: Schema.NullOr(Schema.Unknown),
  status: DeliveryStatus,
  attempts: Schema.NonNegativeInt,
  nextAttemptAt: Schema.Number,
  lastError: Schema.NullOr(Schema.String),
  createdAt: Schema.Number,
  deliveredAt: Schema.NullOr(Schema.Number)
})

const toDelivery = ({ nextAttemptAt, payload: _, type, ...row }: typeof OutboxRow.Type): Delivery => ({
  ...row,
  type: isType(type) ? type : null,
  nextAttemptAt: row.status === "pending" ? nextAttemptAt : null
})

/** A pending row, as the Notifier attempts it. */
export interface Pending extends Message {
  readonly id: number
  readonly channel: Channel
  readonly type: Notification["type"] | null
  readonly attempts: number
  /** epoch-ms label of when it was queued */
  readonly createdAt: number
}

export class OutboxRepo extends Effect.Service<OutboxRepo>()("@ircam/core/OutboxRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const select = sql`id, channel, message_id, payload,
      CASE WHEN json_valid(payload) THEN json_extract(payload, '$.type') END AS type, status, attempts,
      next_attempt_at, last_error, created_at, delivered_at`

    const byId = SqlSchema.findAll({
      Request: Schema.Array(Schema.Int),
      Result: OutboxRow,
      execute: (ids) => sql`SELECT ${select} FROM outbox WHERE ${sql.in("id", ids)} ORDER BY id`
    })

    return {
      /** Queues `payload` once on each channel, all due now; `at` labels when. */
      insert: (
        deliveries: ReadonlyArray<{ readonly channel: Channel; readonly messageId: string }>,
        payload: string,
        at: number
      ) =>
        sql<{ id: number; channel: Channel }>`INSERT INTO outbox ${
          sql.insert(deliveries.map((delivery) => ({
            ...delivery,
            payload,
            status: "pending",
            attempts: 0,
            nextAttemptAt: at,
            createdAt: at
          })))
        } RETURNING id, channel`.pipe(StorageError.mapError("cannot store the notification")),

      /** The pending rows of a channel, oldest first: their ids and when they were queued. */
      pendingIds: (channel: Channel) =>
        SqlSchema.findAll({
          Request: Channel,
          Result: Schema.Struct({ id: Schema.Int, createdAt: Schema.Number }),
          execute: (channel) =>
            sql`SELECT id, created_at FROM outbox WHERE status = 'pending' AND channel = ${channel} ORDER BY id`
        })(channel).pipe(StorageError.mapError(`cannot read the pending ${channel} notifications`)),

      /** Pending rows by id, oldest first (rows no longer pending are left out). */
      pending: (ids: ReadonlyArray<number>) =>
        byId(ids).pipe(
          Effect.map((rows) =>
            rows.filter((row) => row.status === "pending").map((row): Pending => ({
              id: row.id,
              channel: row.channel,
              messageId: row.messageId,
              payload: row.payload,
              type: isType(row.type) ? row.type : null,
              attempts: row.attempts,
              createdAt: row.createdAt
            }))
          ),
          StorageError.mapError("cannot read the outbox")
        ),

      delivered: (id: number, attempts: number, at: number) =>
        sql`UPDATE outbox SET status = 'delivered', attempts = ${attempts}, delivered_at = ${at} WHERE id = ${id}`
          .pipe(Effect.asVoid, StorageError.mapError("cannot update the outbox")),

      /** A failed attempt; `nextAttemptAt` labels when the next one is due. */
      failed: (id: number, attempts: number, error: string, nextAttemptAt: number) =>
        sql`UPDATE outbox SET attempts = ${attempts}, last_error = ${error}, next_attempt_at = ${nextAttemptAt}
          WHERE id = ${id}`.pipe(Effect.asVoid, StorageError.mapError("cannot update the outbox")),

      /** The last attempt failed too; for a given-up row, next_attempt_at keeps when it was given up. */
      givenUp: (id: number, attempts: number, error: string, at: number) =>
        sql`UPDATE outbox SET status = 'given_up', attempts = ${attempts}, last_error = ${error},
          next_attempt_at = ${at} WHERE id = ${id}`.pipe(
          Effect.asVoid,
          StorageError.mapError("cannot update the outbox")
        ),

      /** Deliveries, newest first, filtered as `query` says. */
      list: (query: DeliveryQuery): Effect.Effect<ReadonlyArray<Delivery>, StorageError.StorageError> =>
        SqlSchema.findAll({
          Request: Schema.Void,
          Result: OutboxRow,
          execute: () =>
            sql`SELECT ${select} FROM outbox WHERE ${
              sql.and([
                ...(query.status === undefined ? [] : [sql`status = ${query.status}`]),
                ...(query.channel === undefined ? [] : [sql`channel = ${query.channel}`]),
                ...(query.before === undefined ? [] : [sql`id < ${query.before}`])
              ])
            } ORDER BY id DESC LIMIT ${query.limit}`
        })(undefined).pipe(
          Effect.map((rows) => rows.map(toDelivery)),
          StorageError.mapError("cannot list the notification deliveries")
        ),

      /** How many rows there are of each status. */
      counts: SqlSchema.findAll({
        Request: Schema.Void,
        Result: Schema.Struct({ status: DeliveryStatus, n: Schema.NonNegativeInt }),
        execute: () => sql`SELECT status, count(*) AS n FROM outbox GROUP BY status`
      })(undefined).pipe(
        Effect.map((rows) => (status: DeliveryStatus) => rows.find((row) => row.status === status)?.n ?? 0),
        StorageError.mapError("cannot read the outbox")
      ),

      /** How many rows are pending on each channel. */
      pendingByChannel: SqlSchema.findAll({
        Request: Schema.Void,
        Result: Schema.Struct({ channel: Channel, n: Schema.NonNegativeInt }),
        execute: () => sql`SELECT channel, count(*) AS n FROM outbox WHERE status = 'pending' GROUP BY channel`
      })(undefined).pipe(StorageError.mapError("cannot read the outbox"))
    } as const
  })
}) {}
