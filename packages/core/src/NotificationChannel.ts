/**
 * A notification channel, and what the Notifier asks of its sender: one attempt at one outbox
 * row, failing with `DeliveryFailed`; retries and the outbox are the Notifier's. Apart from the
 * Notifier so the senders (WebhookSender, EmailSender) need not import it.
 */
import { type Effect, Schema } from "effect"

export const Channel = Schema.Literal("webhook", "email")
export type Channel = typeof Channel.Type

/** Why one attempt on one channel failed. */
export class DeliveryFailed extends Schema.TaggedError<DeliveryFailed>()("DeliveryFailed", {
  channel: Channel,
  message: Schema.String
}) {}

/** What a sender is given of an outbox row. */
export interface Message {
  /** the Standard Webhooks `webhook-id`, the same for every attempt */
  readonly messageId: string
  /** the notification, JSON-encoded */
  readonly payload: string
}

/** One attempt at sending a message on a channel. */
export type Send = (message: Message) => Effect.Effect<void, DeliveryFailed>
