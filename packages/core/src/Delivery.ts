/**
 * A delivery: one notification on one channel, as the Notifier's durable outbox keeps it, and
 * its JSON form (`GET /alarms/notifications`).
 */
import { Schema } from "effect"
import { Notification } from "./Alarm.js"
import { IsoTime } from "./Frame.js"
import { Channel } from "./NotificationChannel.js"
import { iso, isoOrNull } from "./Time.js"

export const DeliveryStatus = Schema.Literal("pending", "delivered", "given_up").annotations({
  description: "`pending` until delivered (`delivered`) or given up after the retry bound (`given_up`)"
})
export type DeliveryStatus = typeof DeliveryStatus.Type

/** One notification on one channel. Times are epoch-ms wall-clock labels. */
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
    description:
      "`alarm.raised`, `alarm.cleared` (or `alarm.acknowledged`, MQTT only); null only when the stored notification cannot be read"
  }),
  status: DeliveryStatus,
  attempts: Schema.NonNegativeInt,
  lastError: Schema.NullOr(Schema.String).annotations({ description: "why the latest failed attempt failed" }),
  createdAt: IsoTime,
  deliveredAt: Schema.NullOr(IsoTime),
  nextAttemptAt: Schema.NullOr(IsoTime).annotations({ description: "when the next attempt is due, while pending" })
}).annotations({ identifier: "NotificationDelivery" })
export type DeliveryJson = typeof DeliveryJson.Type

export const toJson = (delivery: Delivery): DeliveryJson => ({
  ...delivery,
  createdAt: iso(delivery.createdAt),
  deliveredAt: isoOrNull(delivery.deliveredAt),
  nextAttemptAt: isoOrNull(delivery.nextAttemptAt)
})
