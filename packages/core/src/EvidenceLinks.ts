/**
 * Links to an alarm's evidence, absolute under `PUBLIC_URL` (the address people reach ircam at):
 * the alarm, the heat map of the frame that raised it, the event recorded around it and that event
 * as an animated GIF. Notifications carry them on every channel; without `PUBLIC_URL` ircam does not
 * know its own address, and a notification says so instead.
 */
import { Option, Schema } from "effect"

export const EvidenceLinks = Schema.Struct({
  alarm: Schema.String.annotations({ description: "the alarm, as GET /api/v1/alarms/{id} answers it" }),
  frame: Schema.NullOr(Schema.String).annotations({
    description: "the frame that raised it, as a heat-map PNG (zones and legend drawn); null without an event"
  }),
  event: Schema.NullOr(Schema.String).annotations({ description: "the event recorded around it; null without one" }),
  animation: Schema.NullOr(Schema.String).annotations({
    description: "that event as an animated GIF (complete once the recording is); null without an event"
  })
}).annotations({ identifier: "EvidenceLinks", description: "absolute URLs under PUBLIC_URL" })
export type EvidenceLinks = typeof EvidenceLinks.Type

/** Why a notification has no links. */
export const noPublicUrl = "PUBLIC_URL is not set: ircam does not know the address it is reached at"

/** A path of the API (without its leading `/`) as an absolute URL under `publicUrl` (whose path ends with `/`). */
export const absolute = (publicUrl: URL, path: string): string => new URL(`api/v1/${path}`, publicUrl).href

/** The links of an alarm and its event, or why there are none. */
export const of = (
  publicUrl: Option.Option<URL>,
  alarmId: number,
  eventId: number | null
): { readonly links: EvidenceLinks | null; readonly linksReason?: string } =>
  Option.match(publicUrl, {
    onNone: () => ({ links: null, linksReason: noPublicUrl }),
    onSome: (base) => ({
      links: {
        alarm: absolute(base, `alarms/${alarmId}`),
        frame: eventId === null ? null : absolute(base, `alarms/${alarmId}/frame.png?zones=true&legend=true`),
        event: eventId === null ? null : absolute(base, `events/${eventId}`),
        animation: eventId === null ? null : absolute(base, `events/${eventId}/animation.gif?zones=true&legend=true`)
      }
    })
  })
