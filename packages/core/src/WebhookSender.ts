/**
 * The webhook channel (`WEBHOOK_URL`): the notification as a JSON POST, signed as Standard Webhooks
 * says when `WEBHOOK_SECRET` is set (`webhook-id`, `webhook-timestamp`, `webhook-signature`); any
 * 2xx answer within the timeout delivers it.
 */
import { type HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Duration, Effect, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { describe } from "./internal/describe.js"
import { DeliveryFailed, type Send } from "./NotificationChannel.js"
import * as WebhookSignature from "./WebhookSignature.js"

/**
 * A Standard Webhooks message id: `msg_` and 24 random base64url characters. The Notifier gives
 * one to each delivery, on every channel (the e-mail's Message-ID is made of it too).
 */
export const newMessageId = Effect.sync(() => `msg_${randomBytes(18).toString("base64url")}`)

/** A sender posting to `url` through `client`, signed when `secret` is given. */
export const webhookSender = (
  url: URL,
  secret: Option.Option<Redacted.Redacted<string>>,
  client: HttpClient.HttpClient,
  timeout: Duration.Duration
): Send =>
(message) =>
  Effect.gen(function*() {
    const timestamp = Math.floor((yield* Clock.currentTimeMillis) / 1000)
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders({
        ...WebhookSignature.headers({
          id: message.messageId,
          timestamp,
          body: message.payload,
          secret: Option.getOrUndefined(Option.map(secret, Redacted.value))
        }),
        "user-agent": "ircam"
      }),
      HttpClientRequest.bodyText(message.payload, "application/json")
    )
    const response = yield* client.execute(request)
    // read the answer in any case: it frees the connection
    const text = yield* Effect.orElseSucceed(response.text, () => "")
    if (response.status < 200 || response.status >= 300) {
      const excerpt = text.trim().slice(0, 200)
      return yield* new DeliveryFailed({
        channel: "webhook",
        message: `HTTP ${response.status}${excerpt === "" ? "" : `: ${excerpt}`}`
      })
    }
  }).pipe(
    // the client's errors, without the URL: it may hold a token
    Effect.mapError((error) =>
      error._tag === "DeliveryFailed"
        ? error
        : new DeliveryFailed({ channel: "webhook", message: `${error.reason}: ${describe(error.cause)}` })
    ),
    Effect.timeoutFail({
      duration: timeout,
      onTimeout: () =>
        new DeliveryFailed({ channel: "webhook", message: `no answer within ${Duration.format(timeout)}` })
    })
  )
