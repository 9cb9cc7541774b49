/**
 * A notification channel, and what the Notifier asks of it: one attempt at one message, failing
 * with `DeliveryFailed`; retries and the outbox are the Notifier's. The channels in use are
 * given to the Notifier as `NotificationChannels` by the composition (Core), which builds each
 * channel's sender from the configuration: adding a channel is one module with a `fromConfig`
 * and a line in Core.
 */
import { Context, Effect, Schema, type Stream } from "effect"
import { randomBytes } from "node:crypto"
import type { Notification } from "./Alarm.js"

/** A channel's name, as stored with each delivery: `webhook`, `email`, … */
export const Channel = Schema.String.pipe(
  Schema.pattern(/^[a-z][a-z0-9-]{0,31}$/),
  Schema.annotations({ description: "a notification channel: `webhook`, `email`" })
)
export type Channel = typeof Channel.Type

/** Why one attempt on one channel failed. */
export class DeliveryFailed extends Schema.TaggedError<DeliveryFailed>()("DeliveryFailed", {
  channel: Channel,
  message: Schema.String
}) {}

/**
 * A Standard Webhooks message id: `msg_` and 24 random base64url characters. The Notifier gives
 * one to each delivery, on every channel (the e-mail's Message-ID is made of it too).
 */
export const newMessageId = Effect.sync(() => `msg_${randomBytes(18).toString("base64url")}`)

/** What a sender is given of an outbox row. */
export interface Message {
  /** the Standard Webhooks `webhook-id`, the same for every attempt */
  readonly messageId: string
  /** the notification, JSON-encoded */
  readonly payload: string
}

/** One attempt at sending a message on a channel. */
export type Send = (message: Message) => Effect.Effect<void, DeliveryFailed>

/** A configured channel. */
export interface Sender {
  readonly channel: Channel
  /** where it goes, without secrets, for the log at start-up */
  readonly label: string
  readonly send: Send
  /** the notifications it carries; `defaultTypes` when absent */
  readonly types?: ReadonlyArray<Notification["type"]>
  /** in order: after a failed attempt, no younger notification is attempted before the older one is through */
  readonly ordered?: boolean
  /** ticks when the channel can deliver again (a broker reconnected): what waits for a retry is attempted at once */
  readonly ready?: Stream.Stream<unknown>
}

/** What a channel carries unless it says otherwise: alarms raised and cleared. */
export const defaultTypes: ReadonlyArray<Notification["type"]> = ["alarm.raised", "alarm.cleared"]

/** The channels every notification is delivered on, in order. */
export class NotificationChannels extends Context.Tag("@ircam/core/NotificationChannels")<
  NotificationChannels,
  ReadonlyArray<Sender>
>() {}
