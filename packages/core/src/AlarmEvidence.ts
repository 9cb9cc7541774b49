/**
 * The pictures that go with an alarm notification, rendered when it is sent from what the event
 * stored (so another attempt sends the same pictures): for `alarm.raised` the heat map of the frame
 * that raised it; for `alarm.cleared` the event's hottest frame and, once the recording is complete,
 * the event as an animated GIF (within a size limit). Each heat map has the current zones drawn,
 * the hottest pixel outlined with its temperature, the time, and the colour scale in a legend.
 * What cannot be shown is said in a note.
 */
import { Context, Duration, Effect, Option } from "effect"
import type { Notification } from "./Alarm.js"
import type { AlarmRepo } from "./AlarmRepo.js"
import type { Event, EventId, StoredFrame } from "./Event.js"
import * as EventAnimation from "./EventAnimation.js"
import { EventRepo } from "./EventRepo.js"
import * as HeatmapImage from "./HeatmapImage.js"
import * as HeatmapMarks from "./HeatmapMarks.js"
import type { StorageError } from "./StorageError.js"
import { iso } from "./Time.js"
import { ZoneRepo } from "./ZoneRepo.js"

/** How the pictures are made; tests shorten the waits and the limit. */
export class EvidenceSettings extends Context.Reference<EvidenceSettings>()("@ircam/core/EvidenceSettings", {
  defaultValue: () => ({
    /** output pixels per sensor pixel of the PNGs (320 × 240, and the legend) */
    pngScale: 10,
    /** of the GIF (192 × 144, and the legend) */
    gifScale: 6,
    /** a longer event shows fewer frames a second, at the same pace */
    gifMaxFrames: 400,
    /** a larger GIF is not attached (the link stands for it) */
    gifMaxBytes: 5 * 1024 * 1024,
    /** a cleared alarm's event still recording is waited for this long, for its GIF */
    recordingWait: Duration.seconds(30) as Duration.Duration,
    /** how often it is looked at meanwhile */
    recordingPoll: Duration.seconds(1) as Duration.Duration
  })
}) {}

export interface Picture {
  /** unique in the message */
  readonly cid: string
  readonly filename: string
  readonly contentType: "image/png" | "image/gif"
  readonly content: Uint8Array
  readonly width: number
  readonly height: number
  /** what it shows, for people */
  readonly caption: string
}

export interface Evidence {
  readonly pictures: ReadonlyArray<Picture>
  /** what is not shown and why */
  readonly notes: ReadonlyArray<string>
}

const currentZones = Effect.flatMap(ZoneRepo, (zones) => zones.list)

/** The time of a frame, as the pictures write it. */
const label = (capturedAt: number) => `${iso(capturedAt).slice(0, 19).replace("T", " ")} UTC`

/** A stored frame as a PNG for people: zones, legend, time, hottest pixel. */
export const framePicture = (
  frame: StoredFrame,
  zones: ReadonlyArray<HeatmapImage.ZoneOverlay>,
  scale: number
): { readonly png: Uint8Array; readonly width: number; readonly height: number } => {
  const image = HeatmapImage.render(frame.temperatures, { palette: "iron", scale, zones, legend: true })
  HeatmapMarks.drawTime(image, label(frame.capturedAt), scale)
  HeatmapMarks.drawHottest(image, frame.temperatures, scale)
  return { png: HeatmapImage.toPng(image), width: image.width, height: image.height }
}

const png = (
  cid: string,
  filename: string,
  frame: StoredFrame,
  zones: ReadonlyArray<HeatmapImage.ZoneOverlay>,
  scale: number,
  caption: string
): Picture => {
  const { height, png, width } = framePicture(frame, zones, scale)
  return { cid, filename, contentType: "image/png", content: png, width, height, caption }
}

/** The event, once it is no longer recording or `recordingWait` has passed. */
const settled = (id: EventId) =>
  Effect.gen(function*() {
    const repo = yield* EventRepo
    const settings = yield* EvidenceSettings
    const polls = Math.max(
      0,
      Math.floor(Duration.toMillis(settings.recordingWait) / Duration.toMillis(settings.recordingPoll))
    )
    let event = yield* repo.get(id)
    for (let i = 0; i < polls && Option.exists(event, (e) => e.status === "recording"); i++) {
      yield* Effect.sleep(settings.recordingPoll)
      event = yield* repo.get(id)
    }
    return event
  })

const raised = (notification: Notification, eventId: EventId, unique: string) =>
  Effect.gen(function*() {
    const { alarm } = notification.data
    const settings = yield* EvidenceSettings
    if (alarm.triggerFrame === null) {
      return { pictures: [], notes: ["no picture: this alarm was raised before ircam recorded which frame raised it"] }
    }
    const ref = { sequence: alarm.triggerFrame.sequence, capturedAt: Date.parse(alarm.triggerFrame.capturedAt) }
    const frame = yield* Effect.flatMap(EventRepo, (repo) => repo.frameOf(eventId, ref))
    if (Option.isNone(frame)) {
      return {
        pictures: [],
        notes: [`no picture: event ${eventId} no longer holds the frame that raised the alarm (deleted since?)`]
      }
    }
    return {
      pictures: [
        png(
          `alarm-${alarm.id}-frame.${unique}@ircam`,
          `alarm-${alarm.id}.png`,
          frame.value,
          yield* currentZones,
          settings.pngScale,
          `The frame that raised the alarm (${label(frame.value.capturedAt)}), the hottest pixel outlined`
        )
      ],
      notes: []
    }
  })

const cleared = (notification: Notification, eventId: EventId, unique: string) =>
  Effect.gen(function*() {
    const settings = yield* EvidenceSettings
    const found = yield* settled(eventId)
    if (Option.isNone(found)) return { pictures: [], notes: [`no picture: event ${eventId} was deleted`] }
    const event: Event = found.value
    const scan = yield* EventAnimation.scan(eventId)
    if (scan.peak === undefined) return { pictures: [], notes: [`no picture: event ${eventId} stored no frame`] }
    const zones = yield* currentZones
    const pictures = [
      png(
        `event-${eventId}-peak.${unique}@ircam`,
        `event-${eventId}-peak.png`,
        scan.peak,
        zones,
        settings.pngScale,
        `The hottest moment of event ${eventId} (${label(scan.peak.capturedAt)}): ${scan.max.toFixed(1)} °C`
      )
    ]
    const link = notification.data.links?.animation
    const elsewhere = link === null || link === undefined ? "" : `: ${link}`
    if (event.status === "recording") {
      return {
        pictures,
        notes: [`the animation of event ${eventId} is not attached: it was still recording${elsewhere}`]
      }
    }
    const gif = yield* EventAnimation.bytes(
      event,
      {
        palette: "iron",
        scale: settings.gifScale,
        zones,
        legend: true,
        speed: 1,
        maxFrames: settings.gifMaxFrames
      },
      settings.gifMaxBytes,
      scan
    )
    if (Option.isNone(gif)) {
      const mb = (settings.gifMaxBytes / 1_048_576).toFixed(1)
      return {
        pictures,
        notes: [`the animation of event ${eventId} is not attached: it would be larger than ${mb} MB${elsewhere}`]
      }
    }
    const { height, width } = HeatmapImage.size(settings.gifScale, true)
    return {
      pictures: [...pictures, {
        cid: `event-${eventId}-animation.${unique}@ircam`,
        filename: `event-${eventId}.gif`,
        contentType: "image/gif" as const,
        content: gif.value,
        width,
        height,
        caption: `Event ${eventId}, ${event.frameCount} frames at their recorded pace, the trigger marked`
      }],
      notes: []
    }
  })

/** The pictures of a notification; `unique` (the delivery's message id) makes their content ids unique. */
export const forNotification = (
  notification: Notification,
  unique: string
): Effect.Effect<Evidence, StorageError, EventRepo | AlarmRepo | ZoneRepo> => {
  const eventId = notification.data.alarm.eventId
  if (eventId === null) {
    return Effect.succeed({ pictures: [], notes: ["no picture: no event was recorded for this alarm"] })
  }
  return notification.type === "alarm.raised"
    ? raised(notification, eventId, unique)
    : cleared(notification, eventId, unique)
}
