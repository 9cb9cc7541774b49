/**
 * The Notifier's timeouts and retry policy, with the defaults production uses; tests shorten them
 * with `Effect.provideService` / `Layer.succeed`.
 */
import { Context, Duration } from "effect"

export class NotifierSettings extends Context.Reference<NotifierSettings>()("@ircam/core/NotifierSettings", {
  defaultValue: () => ({
    /** one webhook attempt, from connecting to the end of the answer */
    webhookTimeout: Duration.seconds(10) as Duration.Duration,
    /** one e-mail attempt (nodemailer's own connection and greeting timeouts are 10 s) */
    emailTimeout: Duration.seconds(60) as Duration.Duration,
    /** the backoff after the first failed attempt; it doubles after each further one */
    retryBase: Duration.seconds(5) as Duration.Duration,
    retryCap: Duration.minutes(10) as Duration.Duration,
    /** no attempt is made later than this after the notification was queued */
    giveUpAfter: Duration.hours(24) as Duration.Duration
  })
}) {}
