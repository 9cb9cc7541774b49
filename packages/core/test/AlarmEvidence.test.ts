/**
 * AlarmEvidence without a mail server: which pictures a notification gets from what its event
 * stored, and the notes that say what is missing and why; waiting (on the TestClock) for an event
 * still recording. NotificationEmail's text and HTML around them. (A real SMTP server receives
 * them in Notifier.test.ts.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import type { AlarmId, Notification, RuleId } from "../src/Alarm.js"
import * as AlarmEvidence from "../src/AlarmEvidence.js"
import type { EventId } from "../src/Event.js"
import { EventRepo } from "../src/EventRepo.js"
import { renderEmail } from "../src/NotificationEmail.js"
import * as Gif from "./support/Gif.js"
import * as TestCore from "./support/TestCore.js"
import * as TestEvents from "./support/TestEvents.js"
import * as TestFrames from "./support/TestFrames.js"

const start = Date.UTC(2026, 11, 1, 9, 0, 0)
const frames = Array.from({ length: 6 }, (_, i) => TestFrames.make({ sequence: 40 + i, at: start + i * 250 }))

const notification = (
  type: Notification["type"],
  eventId: number | null,
  triggerFrame: { readonly sequence: number; readonly capturedAt: number } | null = {
    sequence: 42,
    capturedAt: start + 500
  }
): Notification => ({
  type,
  timestamp: "2026-12-01T09:00:05.000Z",
  data: {
    alarm: {
      id: 3 as AlarmId,
      ruleId: 1 as RuleId,
      zoneId: null,
      severity: "warning",
      state: type === "alarm.raised" ? "active" : "cleared",
      value: 31.25,
      raisedAt: "2026-12-01T09:00:00.500Z",
      acknowledgedAt: null,
      clearedAt: type === "alarm.raised" ? null : "2026-12-01T09:00:04.000Z",
      eventId: eventId as EventId | null,
      triggerFrame: triggerFrame === null
        ? null
        : { sequence: triggerFrame.sequence, capturedAt: new Date(triggerFrame.capturedAt).toISOString() }
    },
    rule: {
      id: 1 as RuleId,
      name: "warm <bench> & co",
      zoneId: null,
      zoneName: null,
      metric: "max",
      direction: "above",
      threshold: 30,
      severity: "warning"
    },
    links: null,
    linksReason: "PUBLIC_URL is not set: ircam does not know the address it is reached at"
  }
})

const evidence = (n: Notification) => AlarmEvidence.forNotification(n, "msg_1")

describe("AlarmEvidence", () => {
  it.effect("what cannot be shown is said: no event, no trigger frame recorded, a frame or an event gone", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* evidence(notification("alarm.raised", null)), {
        pictures: [],
        notes: ["no picture: no event was recorded for this alarm"]
      })
      const event = yield* TestEvents.store(frames)
      assert.deepStrictEqual((yield* evidence(notification("alarm.raised", event.id, null))).notes, [
        "no picture: this alarm was raised before ircam recorded which frame raised it"
      ])
      assert.deepStrictEqual(
        (yield* evidence(notification("alarm.raised", event.id, { sequence: 99, capturedAt: start }))).notes,
        [`no picture: event ${event.id} no longer holds the frame that raised the alarm (deleted since?)`]
      )
      const raised = yield* evidence(notification("alarm.raised", event.id))
      assert.deepStrictEqual(raised.pictures.map((p) => [p.filename, p.contentType, p.cid]), [
        ["alarm-3.png", "image/png", "alarm-3-frame.msg_1@ircam"]
      ])

      yield* (yield* EventRepo).remove(event.id)
      assert.deepStrictEqual((yield* evidence(notification("alarm.cleared", event.id))).notes, [
        `no picture: event ${event.id} was deleted`
      ])
      const empty = yield* TestEvents.store([])
      assert.deepStrictEqual((yield* evidence(notification("alarm.cleared", empty.id))).notes, [
        `no picture: event ${empty.id} stored no frame`
      ])
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a cleared alarm's event still recording is waited for: its GIF once complete, else a note", () =>
    Effect.gen(function*() {
      const event = yield* TestEvents.store(frames, { complete: false })
      const waiting = yield* Effect.fork(evidence(notification("alarm.cleared", event.id)))
      yield* TestClock.adjust("3 seconds")
      yield* (yield* EventRepo).complete(event.id)
      yield* TestClock.adjust("1 second")
      const done = yield* Fiber.join(waiting)
      assert.deepStrictEqual(done.notes, [])
      assert.deepStrictEqual(done.pictures.map((p) => p.contentType), ["image/png", "image/gif"])
      assert.lengthOf(Gif.decode(done.pictures[1]!.content).frames, 6)

      const still = yield* TestEvents.store(frames, { complete: false })
      const given = yield* Effect.fork(evidence(notification("alarm.cleared", still.id)))
      yield* TestClock.adjust("30 seconds")
      const up = yield* Fiber.join(given)
      assert.deepStrictEqual(up.pictures.map((p) => p.contentType), ["image/png"])
      assert.deepStrictEqual(up.notes, [`the animation of event ${still.id} is not attached: it was still recording`])
    }).pipe(Effect.provide(TestCore.storage())))
})

describe("renderEmail with pictures", () => {
  it("the HTML escapes what people wrote, shows each picture by its content id, and says why there are no links", () => {
    const picture: AlarmEvidence.Picture = {
      cid: "alarm-3-frame.msg_1@ircam",
      filename: "alarm-3.png",
      contentType: "image/png",
      content: new Uint8Array(0),
      width: 320,
      height: 280,
      caption: "The frame that raised the alarm"
    }
    const { html, text } = renderEmail(notification("alarm.raised", 5), { pictures: [picture], notes: ["a note"] })
    assert.include(html, "warm &lt;bench&gt; &amp; co")
    assert.notInclude(html, "<bench>")
    assert.include(html, "<img src=\"cid:alarm-3-frame.msg_1@ircam\" width=\"320\" height=\"280\"")
    assert.include(html, "<p style=\"color:#555\">Note: a note</p>")
    assert.include(html, "No links: PUBLIC_URL is not set")
    assert.include(text, "The frame that raised the alarm: attached as alarm-3.png")
    assert.include(text, "Note: a note")
    assert.include(text, "No links: PUBLIC_URL is not set: ircam does not know the address it is reached at")
    // a notification queued before links existed has neither links nor a reason
    const older = { ...notification("alarm.raised", 5), data: { ...notification("alarm.raised", 5).data } }
    delete (older.data as { linksReason?: string }).linksReason
    assert.notInclude(renderEmail(older).text, "links")
  })
})
