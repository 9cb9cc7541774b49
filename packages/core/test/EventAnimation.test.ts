/**
 * EventAnimation and AnimatedGif: events stored in a real (in-memory) database, animated, and the
 * GIFs decoded back (omggif): size, frames, delays at the recorded pace (and `speed`), the one
 * colour scale of the whole event at known pixels, the trigger marker, the pace across a clock
 * step, dropped frames, and a long event read and encoded a few frames at a time.
 */
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Option, Stream } from "effect"
import { AlarmRepo } from "../src/AlarmRepo.js"
import * as AnimatedGif from "../src/AnimatedGif.js"
import type { Event, FrameRef } from "../src/Event.js"
import * as EventAnimation from "../src/EventAnimation.js"
import { EventRepo } from "../src/EventRepo.js"
import type { Frame } from "../src/Frame.js"
import { legendHeight } from "../src/HeatmapImage.js"
import { markerColor } from "../src/HeatmapMarks.js"
import { luts } from "../src/Palette.js"
import * as Gif from "./support/Gif.js"
import * as TestCore from "./support/TestCore.js"
import * as TestEvents from "./support/TestEvents.js"
import * as TestFrames from "./support/TestFrames.js"

const start = Date.UTC(2026, 10, 24, 8, 0, 0)
const plate = { x: 24, y: 4, width: 4, height: 3 }

/** Frame `i` of a test event: 20 °C, the plate at 20 + 6·i °C; 8 fps from sequence 100. */
const frame = (i: number, options: Partial<TestFrames.FrameOptions> = {}): Frame =>
  TestFrames.make({
    sequence: 100 + i,
    at: start + i * 125,
    temperatures: TestFrames.withRect(plate, 20 + 6 * i),
    ...options
  })

/** Stores `frames` as a complete event whose own trigger is `trigger`; answers it. */
const storeEvent = (frames: ReadonlyArray<Frame>, trigger: FrameRef | null = null) =>
  TestEvents.store(frames, { trigger, triggeredAt: start })

const gifOf = (event: Event, options: Partial<EventAnimation.AnimationOptions> = {}) =>
  Effect.map(
    EventAnimation.bytes(event, { palette: "iron", scale: 2, speed: 1, ...options }, Infinity),
    (bytes) => Gif.decode(Option.getOrThrow(bytes))
  )

const lut = (entry: number) => Array.from(luts.iron.subarray(entry * 3, entry * 3 + 3))

/** The output pixel at the middle of sensor pixel (x, y) at scale 2: bilinear there reads that pixel and its right/lower neighbours. */
const at2 = (x: number, y: number) => [2 * x + 1, 2 * y + 1] as const

describe("EventAnimation", () => {
  it.effect("a GIF at the recorded pace, one colour scale for the event, the trigger marked, looping", () =>
    Effect.gen(function*() {
      const frames = Array.from({ length: 10 }, (_, i) => frame(i))
      const event = yield* storeEvent(frames, { sequence: 104, capturedAt: start + 4 * 125 })
      // an alarm of the event, raised by frame 7
      const alarms = yield* AlarmRepo
      const rule = yield* alarms.insertRule({
        name: "hot",
        zoneId: null,
        metric: "max",
        direction: "above",
        threshold: 50,
        hysteresis: 1,
        delaySeconds: 0,
        severity: "warning",
        enabled: true
      })
      yield* alarms.insertAlarm({
        ruleId: rule.id,
        zoneId: null,
        severity: "warning",
        value: 62,
        raisedAt: start + 7 * 125,
        eventId: event.id,
        triggerFrame: { sequence: 107, capturedAt: start + 7 * 125 }
      })

      const gif = yield* gifOf(event, { legend: true })
      assert.strictEqual(gif.width, 64)
      assert.strictEqual(gif.height, 48 + legendHeight(2))
      assert.strictEqual(gif.loopCount, 0, "loops forever")
      assert.lengthOf(gif.frames, 10)
      assert.isTrue(gif.frames.every((f) => !f.localPalette), "one colour table for the whole animation")
      // 125 ms a frame: 12 and 13 cs in turn: 125 cs for the 10 frames, their real pace
      assert.deepStrictEqual(gif.frames.map((f) => f.delayCs), [13, 12, 13, 12, 13, 12, 13, 12, 13, 12])

      // one scale for the event, 20 °C to 74 °C: the background is its coldest colour in every frame,
      // the plate climbs through the palette to the hottest colour in the last frame
      const [bx, by] = at2(12, 18)
      const [px, py] = at2(25, 5)
      for (const decoded of gif.frames) assert.deepStrictEqual(decoded.rgb(bx, by), lut(0))
      assert.deepStrictEqual(gif.frames[0]!.rgb(px, py), lut(0))
      assert.deepStrictEqual(gif.frames[9]!.rgb(px, py), lut(255))
      const middle = gif.frames[5]!.rgb(px, py)
      const expected = lut(Math.round((30 / 54) * 255))
      middle.forEach((channel, c) => assert.closeTo(channel, expected[c]!, 12, "a palette step off at most"))

      // the event's trigger (frame 4) and its alarm's (frame 7) are marked: a frame round the image
      const marked = gif.frames.map((f) => JSON.stringify(f.rgb(0, 30)) === JSON.stringify([...markerColor]))
      assert.deepStrictEqual(marked.flatMap((m, i) => m ? [i] : []), [4, 7])
      // the time of each frame, in white, in the top-left corner
      assert.isTrue(
        gif.frames.every((f) => Array.from({ length: 20 }, (_, x) => f.rgb(x + 2, 4)).some((rgb) => rgb[0] === 255)),
        "some text in the corner"
      )
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("speed, and frames too close for browsers dropped (never a trigger frame)", () =>
    Effect.gen(function*() {
      const frames = Array.from({ length: 16 }, (_, i) => frame(i))
      const event = yield* storeEvent(frames, { sequence: 109, capturedAt: start + 9 * 125 })
      const twice = yield* gifOf(event, { speed: 2 })
      assert.lengthOf(twice.frames, 16)
      assert.isTrue(twice.frames.every((f) => f.delayCs === 6 || f.delayCs === 7))
      // 125 ms at 8× is 1.6 cs, under the 2 cs a browser shows: about one frame in two is left out
      const fast = yield* gifOf(event, { speed: 8 })
      assert.isBelow(fast.frames.length, 12)
      assert.isAtLeast(fast.frames.length, 7)
      assert.isTrue(fast.frames.every((f) => f.delayCs >= 2))
      const total = fast.frames.reduce((sum, f) => sum + f.delayCs, 0)
      assert.closeTo(total, (16 * 125) / 8 / 10, 1, "the same pace")
      assert.strictEqual(
        fast.frames.filter((f) => JSON.stringify(f.rgb(0, 30)) === JSON.stringify([...markerColor])).length,
        1,
        "the trigger frame is kept"
      )
      // maxFrames: fewer frames, the same pace
      const few = yield* EventAnimation.bytes(event, { palette: "grey", scale: 1, speed: 1, maxFrames: 4 }, Infinity)
      const decoded = Gif.decode(Option.getOrThrow(few))
      assert.isAtMost(decoded.frames.length, 5)
      assert.closeTo(decoded.frames.reduce((sum, f) => sum + f.delayCs, 0), 16 * 12.5, 1)
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("the pace holds across a step of the wall clock and a restart of the sensor", () =>
    Effect.gen(function*() {
      const frames = [
        frame(0),
        frame(1),
        frame(2),
        // the wall clock stepped back a minute
        frame(3, { at: start + 3 * 125 - 60_000 }),
        frame(4, { at: start + 4 * 125 - 60_000 }),
        // the sensor restarted: the sequence starts again, a second later
        frame(5, { sequence: 0, at: start + 5 * 125 - 59_000 }),
        frame(6, { sequence: 1, at: start + 6 * 125 - 59_000 }),
        // a frame missed: twice the period
        frame(7, { sequence: 3, at: start + 7 * 125 - 58_875 })
      ]
      const gif = yield* gifOf(yield* storeEvent(frames))
      assert.deepStrictEqual(gif.frames.map((f) => f.delayCs), [13, 12, 13, 12, 13, 12, 25, 13])
    }).pipe(Effect.provide(TestCore.storage())))

  it("pace: a late frame and the burst after it keep their real times; a clock step takes the smoothed period", () => {
    const timing = EventAnimation.pace()
    const ref = (sequence: number, capturedAt: number) => ({ sequence, capturedAt })
    assert.strictEqual(timing.between(ref(0, 0), ref(1, 125)), 125)
    assert.strictEqual(timing.between(ref(1, 125), ref(2, 614)), 489)
    assert.strictEqual(timing.between(ref(2, 614), ref(3, 614)), 0)
    assert.closeTo(timing.between(ref(3, 614), ref(4, -59_000)), 125, 25)
    assert.strictEqual(timing.between(ref(4, 0), ref(5, 60_000)), timing.period(), "stepped forward")
    assert.strictEqual(timing.between(ref(9, 0), ref(0, 300)), timing.period(), "the sensor restarted")
    assert.strictEqual(timing.between(ref(0, 0), ref(100, 100_000)), EventAnimation.maxFrameMs, "a long gap")
  })

  it.effect("fixed ends of the colour scale; an event with no frame dies, saying so", () =>
    Effect.gen(function*() {
      const event = yield* storeEvent([frame(0), frame(1)])
      const gif = yield* gifOf(event, { min: 20, max: 26, palette: "grey" })
      const [px, py] = at2(25, 5)
      assert.deepStrictEqual(gif.frames[1]!.rgb(px, py), [255, 255, 255])
      assert.deepStrictEqual(gif.frames[0]!.rgb(px, py), [0, 0, 0])

      const empty = yield* storeEvent([])
      const exit = yield* Effect.exit(gifOf(empty))
      assert.include(String(exit), `event ${empty.id} has no stored frame`)
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("a long event is read and encoded a few frames at a time", () =>
    Effect.gen(function*() {
      const total = 600
      const event = yield* storeEvent(
        Array.from({ length: total }, (_, i) => frame(i, { temperatures: TestFrames.withRect(plate, 20 + (i % 50)) }))
      )
      let read = 0
      const counting = Layer.effect(
        EventRepo,
        Effect.map(EventRepo, (repo) =>
          new EventRepo({
            ...repo,
            framesAfter: (id, rowid, limit) => Effect.tap(repo.framesAfter(id, rowid, limit), (f) => read += f.length)
          }))
      )
      const chunks = yield* EventAnimation.stream(event, { palette: "iron", scale: 1, speed: 1 }).pipe(
        Stream.mapAccum(0, (n, chunk) => {
          // the scan read every frame once; the encoding at most a batch ahead of what it gave out
          assert.isAtMost(read - total, n + 1 + EventAnimation.batchSize)
          return [n + 1, chunk.length]
        }),
        Stream.runCollect,
        Effect.provide(counting)
      )
      assert.strictEqual(Chunk.size(chunks), total, "one chunk a frame")
      assert.isBelow(Math.max(...chunks), 4096, "no chunk holds more than a frame")
      assert.strictEqual(read, 2 * total)
    }).pipe(Effect.provide(TestCore.storage())))

  it.effect("bytes gives up past its limit", () =>
    Effect.gen(function*() {
      const event = yield* storeEvent(Array.from({ length: 20 }, (_, i) => frame(i)))
      const options = { palette: "iron" as const, scale: 4, speed: 1 }
      const whole = Option.getOrThrow(yield* EventAnimation.bytes(event, options, Infinity))
      assert.deepStrictEqual(yield* EventAnimation.bytes(event, options, whole.length - 1), Option.none())
      assert.deepStrictEqual(yield* EventAnimation.bytes(event, options, whole.length), Option.some(whole))
    }).pipe(Effect.provide(TestCore.storage())))
})

describe("AnimatedGif", () => {
  it("maps overlay colours exactly and palette colours to their nearest entry; refuses frames of another size", () => {
    const palette = AnimatedGif.palette("rainbow", [[1, 2, 3], [1, 2, 3], [9, 9, 9]])
    assert.lengthOf(palette.colors, 256)
    assert.deepStrictEqual(palette.colors.slice(0, 2), [[1, 2, 3], [9, 9, 9]], "duplicates once")
    const rgba = Uint8Array.from([1, 2, 3, 255, 9, 9, 9, 255, 0, 0, 255, 255, 255, 0, 0, 255, 200, 100, 50, 255])
    const index = palette.index(rgba)
    assert.deepStrictEqual(Array.from(index.subarray(0, 2)), [0, 1])
    assert.deepStrictEqual(palette.colors[index[2]!], [0, 0, 255])
    assert.deepStrictEqual(palette.colors[index[3]!], [255, 0, 0])
    // a colour neither drawn by the palette nor an overlay: the nearest entry
    const [r, g, b] = palette.colors[index[4]!]!
    assert.isBelow(Math.abs(r - 200) + Math.abs(g - 100) + Math.abs(b - 50), 120)
    assert.throws(() => AnimatedGif.palette("iron", Array.from({ length: 65 }, (_, i) => [i, 0, 0])), /64/)
    const encoder = AnimatedGif.encoder(palette, 2, 1)
    assert.throws(() => encoder.frame({ width: 1, height: 1, rgba: new Uint8Array(4) }, 10), /2×1/)
  })
})
