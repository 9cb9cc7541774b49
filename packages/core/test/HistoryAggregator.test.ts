/**
 * HistoryAggregator on hand-made snapshots: what a second holds (every frame, its boundaries),
 * where segments begin (a zone created, changed, deleted; the wall clock going back; a restart),
 * missed frames, and the bounded buffer.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Frame, summarize } from "../src/Frame.js"
import * as HistoryAggregator from "../src/HistoryAggregator.js"
import type { Segment } from "../src/HistoryBucket.js"
import type { Snapshot } from "../src/Monitor.js"
import { type Rect, stats, type ZoneId } from "../src/Zone.js"
import * as TestFrames from "./support/TestFrames.js"

const zone1 = 1 as ZoneId
const plate: Rect = { x: 24, y: 4, width: 4, height: 3 }

/** A snapshot of `frame` as the monitor makes it, with these zones. */
const snapshot = (frame: Frame, zones: ReadonlyArray<readonly [ZoneId, Rect]> = []): Snapshot => ({
  frame,
  summary: summarize(frame.temperatures),
  zones: zones.map(([zoneId, rect]) => ({ zoneId, rect, ...stats(frame, rect) }))
})

/** Frame `sequence` at `at` ms: 20 °C, the plate at `hot`. */
const frame = (sequence: number, at: number, hot = 30, ambient = 25) =>
  TestFrames.make({ sequence, at, temperatures: TestFrames.withRect(plate, hot), ambient })

const summary = (seconds: ReadonlyArray<HistoryAggregator.ClosedSecond>) =>
  seconds.map(({ frames, max, mean, min, segment, t }) => ({ zone: segment.zoneId, t, frames, min, max, mean }))

describe("HistoryAggregator", () => {
  it("a second holds every frame captured in it: min of the mins, max of the maxes, mean of the means", () => {
    const aggregator = HistoryAggregator.make([], 100)
    const hots = [30, 40, 50, 60, 70, 80, 90, 100]
    hots.forEach((hot, i) => aggregator.add(snapshot(frame(i, 1000 + i * 125, hot, 20 + i), [[zone1, plate]])))
    assert.lengthOf(aggregator.pending(), 0, "the second is still open")
    aggregator.add(snapshot(frame(8, 2000), [[zone1, plate]]))
    const [whole, zone] = aggregator.pending()
    assert.deepStrictEqual(summary([whole!, zone!]), [
      {
        zone: null,
        t: 1,
        frames: 8,
        min: 20,
        max: 100,
        mean: hots.reduce((sum, hot) => sum + summarize(frame(0, 0, hot).temperatures).mean, 0) / 8
      },
      { zone: zone1, t: 1, frames: 8, min: 30, max: 100, mean: 65 }
    ])
    assert.strictEqual(whole!.ambient, 23.5, "the sensor's ambient, mean of the second")
    assert.isNull(zone!.ambient)
  })

  it("a frame belongs to the second its label falls in: [s, s + 1)", () => {
    const aggregator = HistoryAggregator.make([], 100)
    aggregator.add(snapshot(frame(0, 4000, 30)))
    aggregator.add(snapshot(frame(1, 4999, 40)))
    aggregator.add(snapshot(frame(2, 5000, 50)))
    aggregator.add(snapshot(frame(3, 5999, 60)))
    aggregator.add(snapshot(frame(4, 6000, 70)))
    assert.deepStrictEqual(aggregator.pending().map((s) => [s.t, s.frames, s.max]), [[4, 2, 40], [5, 2, 60]])
    aggregator.closeOpen()
    assert.deepStrictEqual(aggregator.pending().map((s) => [s.t, s.frames, s.max]), [[4, 2, 40], [5, 2, 60], [
      6,
      1,
      70
    ]])
  })

  it("a zone begins a segment when created; a new rectangle begins another; a deleted zone's second closes", () => {
    const aggregator = HistoryAggregator.make([], 100)
    aggregator.add(snapshot(frame(0, 1000)))
    aggregator.add(snapshot(frame(1, 1500), [[zone1, plate]]))
    const moved: Rect = { x: 0, y: 0, width: 2, height: 2 }
    aggregator.add(snapshot(frame(2, 1750), [[zone1, moved]]))
    const [first] = aggregator.pending()
    assert.deepStrictEqual(summary([first!]), [{ zone: zone1, t: 1, frames: 1, min: 30, max: 30, mean: 30 }])
    assert.strictEqual(first!.segment.reason, "started")
    assert.deepStrictEqual(first!.segment.rect, plate)
    assert.strictEqual(first!.segment.startedAt, 1500)

    aggregator.add(snapshot(frame(3, 2000))) // the zone is deleted
    const closed = aggregator.pending()
    assert.deepStrictEqual(closed.map((s) => [s.segment.zoneId, s.segment.reason, s.t, s.frames, s.max]), [
      [zone1, "started", 1, 1, 30],
      [null, "started", 1, 3, 30],
      [zone1, "zoneChanged", 1, 1, 20]
    ])
    assert.deepStrictEqual(closed[2]!.segment.rect, moved)
    assert.strictEqual(closed[2]!.segment.startedAt, 1750)
    assert.deepStrictEqual(aggregator.segments().map((s) => s.zoneId), [null])

    // created again later (with the same id): a segment of its own
    aggregator.add(snapshot(frame(4, 3000), [[zone1, plate]]))
    const again = aggregator.segments().find((s) => s.zoneId === zone1)!
    assert.strictEqual(again.reason, "started")
    assert.notStrictEqual(again, first!.segment)
  })

  it("the wall clock going back to recorded seconds begins a new segment; the recorded ones stay as they were", () => {
    const aggregator = HistoryAggregator.make([], 100)
    for (let i = 0; i < 24; i++) aggregator.add(snapshot(frame(i, 10_000 + i * 125), [[zone1, plate]]))
    // 13.0 s, then stepped back by 1.5 s
    aggregator.add(snapshot(frame(24, 11_500, 60), [[zone1, plate]]))
    aggregator.add(snapshot(frame(25, 11_625, 60), [[zone1, plate]]))
    aggregator.add(snapshot(frame(26, 12_000, 60), [[zone1, plate]]))
    const seconds = aggregator.pending()
    const before = seconds.filter((s) => s.segment.reason === "started")
    assert.deepStrictEqual(before.map((s) => [s.segment.zoneId, s.t, s.frames, s.max]), [
      [null, 10, 8, 30],
      [zone1, 10, 8, 30],
      [null, 11, 8, 30],
      [zone1, 11, 8, 30],
      [null, 12, 8, 30],
      [zone1, 12, 8, 30]
    ])
    const after = seconds.filter((s) => s.segment.reason === "clockSteppedBack")
    assert.deepStrictEqual(after.map((s) => [s.segment.zoneId, s.t, s.frames, s.max]), [[null, 11, 2, 60], [
      zone1,
      11,
      2,
      60
    ]])
    assert.strictEqual(after[0]!.segment.startedAt, 11_500)
  })

  it("the clock going back within the open second only adds to that second", () => {
    const aggregator = HistoryAggregator.make([], 100)
    aggregator.add(snapshot(frame(0, 5800)))
    aggregator.add(snapshot(frame(1, 5300)))
    aggregator.add(snapshot(frame(2, 6100)))
    assert.deepStrictEqual(aggregator.pending().map((s) => [s.segment.reason, s.t, s.frames]), [["started", 5, 2]])
  })

  it("counts frames it never saw by their sequence numbers; a sensor restarting its count is not a miss", () => {
    const aggregator = HistoryAggregator.make([], 100)
    for (const sequence of [0, 1, 2, 5, 6, 10]) aggregator.add(snapshot(frame(sequence, 1000 + sequence)))
    assert.strictEqual(aggregator.counters.framesMissed, 5)
    aggregator.add(snapshot(frame(0, 2000)))
    aggregator.add(snapshot(frame(1, 2001)))
    assert.strictEqual(aggregator.counters.framesMissed, 5)
  })

  it("a frame without a value for a target leaves that target's second as it was", () => {
    const aggregator = HistoryAggregator.make([], 100)
    aggregator.add(snapshot(frame(0, 1000), [[zone1, plate]]))
    const broken = TestFrames.make({ sequence: 1, at: 1100, temperatures: (i) => (i === 0 ? Number.NaN : 90) })
    aggregator.add(snapshot(broken, [[zone1, plate]]))
    aggregator.closeOpen()
    assert.deepStrictEqual(aggregator.pending().map((s) => [s.segment.zoneId, s.frames, s.max]), [[null, 1, 30], [
      zone1,
      2,
      90
    ]])
  })

  it("keeps at most `maxPending` closed seconds, dropping and counting the oldest", () => {
    const aggregator = HistoryAggregator.make([], 3)
    for (let s = 0; s < 6; s++) aggregator.add(snapshot(frame(s, s * 1000)))
    assert.deepStrictEqual(aggregator.pending().map((s) => s.t), [2, 3, 4])
    assert.strictEqual(aggregator.counters.bucketsDropped, 2)
    const [oldest] = aggregator.pending()
    aggregator.written([oldest!])
    assert.deepStrictEqual(aggregator.pending().map((s) => s.t), [3, 4])
  })

  it("after a restart, continues the stored segments that still fit, and begins new ones for those that do not", () => {
    const stored = (id: number, zoneId: ZoneId | null, rect: Rect | null, lastSecond: number | null) => ({
      segment: { id, zoneId, rect, reason: "started", startedAt: 0 } satisfies Segment,
      lastSecond
    })
    const zone2 = 2 as ZoneId
    const zone3 = 3 as ZoneId
    const aggregator = HistoryAggregator.make([
      stored(1, null, null, 99),
      stored(2, zone1, plate, 99),
      stored(3, zone2, plate, 120),
      stored(4, zone3, plate, null)
    ], 100)
    const other: Rect = { x: 1, y: 1, width: 1, height: 1 }
    aggregator.add(snapshot(frame(0, 100_000), [[zone1, other], [zone2, plate], [zone3, plate]]))
    const segments = new Map(aggregator.segments().map((s) => [s.zoneId, s]))
    assert.strictEqual(segments.get(null)!.id, 1, "the frame's: it goes on")
    assert.strictEqual(segments.get(zone1)!.reason, "zoneChanged", "changed while ircam was stopped")
    assert.isUndefined(segments.get(zone1)!.id)
    assert.strictEqual(segments.get(zone2)!.reason, "clockSteppedBack", "it recorded up to second 120 already")
    assert.strictEqual(segments.get(zone3)!.id, 4, "its seconds aged out: nothing to collide with")
  })
})
