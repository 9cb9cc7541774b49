/**
 * The webhook channel (`WEBHOOK_URL`): the notification as a JSON POST, signed as Standard Webhooks
 * says when `WEBHOOK_SECRET` is set (`webhook-id`, `webhook-timestamp`, `webhook-signature`); any
 * 2xx answer within the timeout delivers it.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, Duration, Effect, Option, Redacted } from "effect"
import { AppConfig } from "./AppConfig.js"
import { describe } from "./internal/describe.js"
import { DeliveryFailed, type Send, type Sender } from "./NotificationChannel.js"
import { NotifierSettings } from "./NotifierSettings.js"
import * as WebhookSignature from "./WebhookSignature.js"

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

/** The webhook channel when `WEBHOOK_URL` is set. */
export const fromConfig: Effect.Effect<Option.Option<Sender>, never, AppConfig | HttpClient.HttpClient> = Effect.gen(
  function*() {
    const { webhookSecret, webhookUrl } = yield* AppConfig
    if (Option.isNone(webhookUrl)) return Option.none()
    const { webhookTimeout } = yield* NotifierSettings
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
    return Option.some({
      channel: "webhook",
      label: `webhook to ${webhookUrl.value.origin} (${Option.isSome(webhookSecret) ? "signed" : "unsigned"})`,
      send: webhookSender(webhookUrl.value, webhookSecret, client, webhookTimeout)
    })
  }
)
