/**
 * The e-mail channel (`SMTP_HOST`, …): a message to `SMTP_TO` through nodemailer, plain text with
 * an HTML alternative showing the alarm's pictures inline (AlarmEvidence, rendered from the stored
 * frames at each attempt), upgraded with STARTTLS whenever the server offers it (TLS from the
 * start on port 465), the certificate verified, authenticated when `SMTP_USER` is set.
 */
import { Duration, Effect, Option, Redacted, Schema, type Scope } from "effect"
import { createTransport } from "nodemailer"
import { Notification } from "./Alarm.js"
import * as AlarmEvidence from "./AlarmEvidence.js"
import type { AlarmRepo } from "./AlarmRepo.js"
import { AppConfig, type SmtpConfig } from "./AppConfig.js"
import type { EventRepo } from "./EventRepo.js"
import { describe } from "./internal/describe.js"
import { DeliveryFailed, type Message, type Send, type Sender } from "./NotificationChannel.js"
import { renderEmail } from "./NotificationEmail.js"
import { NotifierSettings } from "./NotifierSettings.js"
import type { ZoneRepo } from "./ZoneRepo.js"

/** A sender on one SMTP transport, closed with the scope; the Message-ID is the delivery's id. */
export const emailSender = (
  smtp: SmtpConfig,
  timeout: Duration.Duration
): Effect.Effect<Send, never, Scope.Scope | EventRepo | AlarmRepo | ZoneRepo> =>
  Effect.gen(function*() {
    const repositories = yield* Effect.context<EventRepo | AlarmRepo | ZoneRepo>()
    const transport = createTransport({
      host: smtp.host,
      port: smtp.port,
      // implicit TLS on 465; elsewhere STARTTLS whenever the server offers it (nodemailer's default)
      secure: smtp.port === 465,
      auth: Option.match(smtp.user, {
        onNone: () => undefined,
        onSome: (user) => ({ user, pass: Option.getOrUndefined(Option.map(smtp.password, Redacted.value)) })
      }),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => transport.close()))
    const decode = Schema.decodeUnknown(Schema.parseJson(Notification))
    return (message: Message) =>
      Effect.gen(function*() {
        const notification = yield* decode(message.payload).pipe(
          Effect.mapError((error) =>
            new DeliveryFailed({ channel: "email", message: `unreadable notification: ${error.message}` })
          )
        )
        const evidence = yield* AlarmEvidence.forNotification(notification, message.messageId).pipe(
          Effect.provide(repositories),
          Effect.mapError((error) =>
            new DeliveryFailed({ channel: "email", message: `cannot render the pictures: ${error.message}` })
          )
        )
        const { html, subject, text } = renderEmail(notification, evidence)
        yield* Effect.tryPromise({
          try: () =>
            transport.sendMail({
              from: smtp.from,
              to: [...smtp.to],
              subject,
              text,
              html,
              attachments: evidence.pictures.map((picture) => ({
                filename: picture.filename,
                content: Buffer.from(picture.content.buffer, picture.content.byteOffset, picture.content.byteLength),
                contentType: picture.contentType,
                cid: picture.cid
              })),
              messageId: `<${message.messageId}@ircam>`
            }),
          catch: (cause) => new DeliveryFailed({ channel: "email", message: describe(cause) })
        })
      }).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new DeliveryFailed({ channel: "email", message: `not sent within ${Duration.format(timeout)}` })
        })
      )
  })

/** The e-mail channel when `SMTP_HOST` is set; its transport is closed with the scope. */
export const fromConfig: Effect.Effect<
  Option.Option<Sender>,
  never,
  AppConfig | Scope.Scope | EventRepo | AlarmRepo | ZoneRepo
> = Effect.gen(
  function*() {
    const { smtp } = yield* AppConfig
    if (Option.isNone(smtp)) return Option.none()
    const { emailTimeout } = yield* NotifierSettings
    const { host, port, to } = smtp.value
    return Option.some({
      channel: "email",
      label: `e-mail via ${host}:${port} to ${to.join(", ")}`,
      send: yield* emailSender(smtp.value, emailTimeout)
    })
  }
)
