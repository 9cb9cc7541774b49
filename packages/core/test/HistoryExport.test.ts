/**
 * The history's answer as JSON and CSV, and the arithmetic of buckets: how many a range touches,
 * which step fits, and every slot filled (a gap where nothing was recorded).
 */
import { assert, describe, it } from "@effect/vitest"
import type { AlarmId, RuleId } from "../src/Alarm.js"
import type { EventId } from "../src/Event.js"
import {
  type Bucket,
  chooseStep,
  fill,
  type HistoryAnswer,
  type Slot,
  slotCount,
  toJson
} from "../src/HistoryBucket.js"
import { csvHeader, fileName, toCsv, toCsvBytes, toJsonBytes, toJsonText } from "../src/HistoryExport.js"
import { iso } from "../src/Time.js"
import type { ZoneId } from "../src/Zone.js"

const T0 = Date.UTC(2026, 10, 24, 8, 0, 0)
const t0 = T0 / 1000

const bucket = (t: number, seriesId = 1, ambient: number | null = null): Bucket => ({
  seriesId,
  t,
  frames: 8,
  min: 20.5,
  max: 61.25,
  mean: 33.1,
  ambient
})

describe("HistoryBucket", () => {
  it("counts the buckets a range touches and picks the finest step that fits", () => {
    assert.strictEqual(slotCount(T0, T0, "1s"), 1)
    assert.strictEqual(slotCount(T0 + 999, T0 + 1000, "1s"), 2)
    assert.strictEqual(slotCount(T0, T0 + 3_599_999, "1m"), 60)
    assert.strictEqual(chooseStep(T0, T0 + 59_999, 60), "1s")
    assert.strictEqual(chooseStep(T0, T0 + 60_000, 60), "1m")
    assert.strictEqual(chooseStep(T0, T0 + 7 * 86_400_000, 200), "1h")
    assert.isUndefined(chooseStep(T0, T0 + 7 * 86_400_000, 100))
  })

  it("fills every slot: the buckets recorded in it, one a segment, or a gap", () => {
    const slots = fill([bucket(t0 - 1), bucket(t0 + 1), bucket(t0 + 1, 2), bucket(t0 + 3)], T0, T0 + 3500, "1s")
    assert.deepStrictEqual(slots.map((s) => [s.t - t0, s.frames]), [[0, 0], [1, 8], [1, 8], [2, 0], [3, 8]])
    assert.deepStrictEqual(slots[0], { t: t0, frames: 0, min: null, max: null, mean: null, ambient: null })
  })
})

describe("HistoryExport", () => {
  const answer = (zoneId: ZoneId | null): HistoryAnswer => ({
    zoneId,
    step: "1m",
    from: T0,
    to: T0 + 119_000,
    segments: [{
      id: 3,
      zoneId,
      rect: zoneId === null ? null : { x: 1, y: 2, width: 3, height: 4 },
      reason: "started",
      startedAt: T0 + 5
    }],
    buckets: fill([bucket(t0 + 60, 3, zoneId === null ? 25.5 : null)], T0, T0 + 119_000, "1m"),
    alarms: [{
      ruleId: 1 as RuleId,
      severity: "critical",
      from: T0 + 70_000,
      to: null,
      alarms: 1,
      alarmId: 4 as AlarmId,
      eventId: 9 as EventId
    }]
  })

  it("CSV: a row a bucket, gaps with empty values; the whole frame's with the ambient temperature", () => {
    assert.strictEqual(csvHeader(false), "t,min,max,mean,frames")
    assert.strictEqual(
      toCsv(answer(2 as ZoneId)),
      "t,min,max,mean,frames\r\n2026-11-24T08:00:00.000Z,,,,0\r\n2026-11-24T08:01:00.000Z,20.5,61.25,33.1,8\r\n"
    )
    assert.strictEqual(
      toCsv(answer(null)),
      "t,min,max,mean,frames,ambient\r\n2026-11-24T08:00:00.000Z,,,,0,\r\n" +
        "2026-11-24T08:01:00.000Z,20.5,61.25,33.1,8,25.5\r\n"
    )
    assert.strictEqual(fileName(answer(2 as ZoneId), "csv"), "history-zone-2.csv")
    assert.strictEqual(fileName(answer(null), "json"), "history-frame.json")
  })

  it("JSON: times in ISO-8601, the segments' rectangles, the alarm periods; ambient for the whole frame only", () => {
    const zone = toJson(answer(2 as ZoneId))
    assert.deepStrictEqual(zone.segments, [{
      since: "2026-11-24T08:00:00.005Z",
      reason: "started",
      zone: { x: 1, y: 2, width: 3, height: 4 }
    }])
    assert.deepStrictEqual(zone.buckets[1], {
      t: "2026-11-24T08:01:00.000Z",
      min: 20.5,
      max: 61.25,
      mean: 33.1,
      frames: 8
    })
    assert.deepStrictEqual<ReadonlyArray<unknown>>(zone.alarms, [{
      ruleId: 1,
      severity: "critical",
      from: "2026-11-24T08:01:10.000Z",
      to: null,
      alarms: 1,
      alarmId: 4,
      eventId: 9
    }])
    const frame = JSON.parse(toJsonText(answer(null)))
    assert.deepInclude(frame, {
      zoneId: null,
      step: "1m",
      from: "2026-11-24T08:00:00.000Z",
      to: "2026-11-24T08:01:59.000Z"
    })
    assert.deepStrictEqual(frame.buckets[0], {
      t: "2026-11-24T08:00:00.000Z",
      min: null,
      max: null,
      mean: null,
      frames: 0,
      ambient: null
    })
    assert.strictEqual(frame.segments[0].zone, null)
  })
})

describe("HistoryExport, written bucket by bucket", () => {
  const slot = (
    t: number,
    min: number | null,
    max: number | null,
    mean: number | null,
    ambient: number | null
  ): Slot => ({ t, frames: min === null ? 0 : 8, min, max, mean, ambient })

  /** Every kind of value the writer formats itself, and those it leaves to `String` and `iso`. */
  const edgeCases = (zoneId: ZoneId | null): HistoryAnswer => ({
    zoneId,
    step: "1s",
    from: T0 - 1,
    to: T0 + 86_400_123,
    segments: [
      {
        id: 1,
        zoneId,
        rect: zoneId === null ? null : { x: 0, y: 0, width: 32, height: 24 },
        reason: "started",
        startedAt: 7
      },
      {
        id: 2,
        zoneId,
        rect: zoneId === null ? null : { x: 3, y: 4, width: 5, height: 6 },
        reason: "zoneChanged",
        startedAt: T0 + 999
      }
    ],
    buckets: [
      slot(t0, null, null, null, null), // a gap
      slot(t0 + 1, -0.05, 0.1, 0, 25.1), // below zero, a single hundredth, zero
      slot(t0 + 1, -12.5, -0.5, -3.33, null), // a second segment's bucket of the same second; no ambient
      slot(t0 + 59, 20.05, 61.25, 33.1, -40), // a minute's end, whole and fractional values
      slot(t0 + 86_399, 99_999.99, 1e7, 0.1 + 0.2, 21.123), // beyond hundredths or too big: through String
      slot(t0 + 86_400, 1e21, -1e-7, Number.NaN, Number.POSITIVE_INFINITY), // not JSON numbers: null
      slot(-1, 1, 2, 3, 4), // before 1970
      slot(-62_198_755_200, 1, 2, 3, 4), // year -1 (an extended year)
      slot(253_402_300_800, 1, 2, 3, 4), // year 10000
      slot(t0 + 0.5, 1, 2, 3, 4) // not a whole second: through iso
    ],
    alarms: [
      {
        ruleId: 2 as RuleId,
        severity: "warning",
        from: T0 + 10,
        to: T0 + 20_000,
        alarms: 3,
        alarmId: 7 as AlarmId,
        eventId: null
      },
      {
        ruleId: 1 as RuleId,
        severity: "critical",
        from: T0 + 70_000,
        to: null,
        alarms: 1,
        alarmId: 9 as AlarmId,
        eventId: 4 as EventId
      }
    ]
  })

  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

  it("JSON: exactly the text JSON.stringify gives of the documented shape, for a zone and the whole frame", () => {
    for (const zoneId of [3 as ZoneId, null]) {
      const answer = edgeCases(zoneId)
      const expected = JSON.stringify(toJson(answer))
      assert.strictEqual(text(toJsonBytes(answer)), expected)
      assert.strictEqual(toJsonText(answer), expected)
      assert.deepStrictEqual(toJsonBytes(answer), new TextEncoder().encode(expected), "the same bytes")
    }
    const empty = { ...edgeCases(null), segments: [], buckets: [], alarms: [] }
    assert.strictEqual(toJsonText(empty), JSON.stringify(toJson(empty)))
  })

  it("JSON: a real range, thousands of buckets past the room reserved, the same text", () => {
    const buckets: Array<Bucket> = []
    for (let i = 0; i < 3000; i++) {
      const centi = (i * 7919) % 20_001 - 10_000
      buckets.push({
        seriesId: 1,
        t: t0 + i * 60,
        frames: i,
        min: centi / 100,
        max: (centi + 1) / 100,
        mean: centi / 100,
        ambient: i / 100
      })
    }
    const answer: HistoryAnswer = {
      ...edgeCases(null),
      step: "1m",
      buckets: fill(buckets, T0 - 600_000, T0 + 3000 * 60_000, "1m")
    }
    assert.strictEqual(toJsonText(answer), JSON.stringify(toJson(answer)))
  })

  it("CSV: the bucket's start, its values as String writes them (empty in a gap), its frames", () => {
    for (const zoneId of [3 as ZoneId, null]) {
      const answer = edgeCases(zoneId)
      const field = (value: number | null) => value === null ? "" : String(value)
      const rows = answer.buckets.map((b) =>
        [
          iso(b.t * 1000),
          field(b.min),
          field(b.max),
          field(b.mean),
          String(b.frames),
          ...(zoneId === null ? [field(b.ambient)] : [])
        ]
          .join(",")
      )
      const expected = [csvHeader(zoneId === null), ...rows].join("\r\n") + "\r\n"
      assert.strictEqual(toCsv(answer), expected)
      assert.strictEqual(text(toCsvBytes(answer)), expected)
    }
  })
})
