/**
 * HistoryAggregator: folds the monitor's snapshots into one bucket a wall-clock second for the
 * whole frame and for each zone (min of the frames' mins, max of their maxes, mean of their
 * means: every frame of the second, none sampled), and decides where a segment begins. Plain
 * synchronous code: `History` feeds it from a fiber of its own and its writer stores what it
 * closed.
 *
 * A frame belongs to the second its wall-clock label falls in, `[s, s + 1)`. A second closes
 * when a frame of another second arrives (or when frames stop: `closeOpen`). A frame labelled
 * with a second at or before one its segment already closed means the wall clock went back: a
 * new segment starts, and the seconds recorded before stay as they were (a step back within the
 * open second only adds its frames to it).
 */
import type { Segment, SegmentReason } from "./HistoryBucket.js"
import type { Snapshot } from "./Monitor.js"
import type { Rect, ZoneId } from "./Zone.js"

/** A segment being recorded; its `id` is set once the writer has stored its series. */
export interface OpenSegment {
  id: number | undefined
  readonly zoneId: ZoneId | null
  readonly rect: Rect | null
  readonly reason: SegmentReason
  /** wall-clock label (epoch ms) of its first frame */
  readonly startedAt: number
}

/** A second that is over, for the writer. Temperatures in °C as measured. */
export interface ClosedSecond {
  readonly segment: OpenSegment
  /** epoch seconds */
  readonly t: number
  readonly frames: number
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly ambient: number | null
}

/** The latest stored segment of a target, which recording continues after a restart if it still fits. */
export interface StoredSegment {
  readonly segment: Segment
  /** the last second it covers (epoch seconds), whichever resolution still holds it */
  readonly lastSecond: number | null
}

interface Second {
  readonly t: number
  frames: number
  min: number
  max: number
  sum: number
  ambientSum: number
  ambientFrames: number
}

interface Target {
  segment: OpenSegment
  /** the last second this segment closed */
  lastSecond: number | null
  open: Second | undefined
  /** the snapshot that last had it (a zone missing from one was deleted) */
  seen: number
}

export interface Counters {
  /** frames the monitor processed that never reached the history (by their sequence numbers) */
  framesMissed: number
  /** closed seconds dropped from a full buffer while the disk could not take them */
  bucketsDropped: number
}

const sameRect = (a: Rect | null, b: Rect | null) =>
  a === b || (a !== null && b !== null && a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height)

const rectOf = (rect: Rect | null): Rect | null =>
  rect === null ? null : { x: rect.x, y: rect.y, width: rect.width, height: rect.height }

export interface HistoryAggregator {
  /** Adds a snapshot's frame to the open second of every target. */
  readonly add: (snapshot: Snapshot) => void
  /** Closes every open second (frames stopped, or the service stops). */
  readonly closeOpen: () => void
  /** The closed seconds not stored yet, oldest first. */
  readonly pending: () => ReadonlyArray<ClosedSecond>
  /** Forgets closed seconds the writer has stored. */
  readonly written: (seconds: ReadonlyArray<ClosedSecond>) => void
  /** The segments being recorded. */
  readonly segments: () => ReadonlyArray<OpenSegment>
  readonly counters: Readonly<Counters>
}

/**
 * An aggregator that continues the `stored` segments (the latest of each target) where they still
 * fit, and keeps at most `maxPending` closed seconds for the writer (the oldest go first).
 */
export const make = (stored: ReadonlyArray<StoredSegment>, maxPending: number): HistoryAggregator => {
  const resumable = new Map(stored.map((s) => [s.segment.zoneId, s] as const))
  const targets = new Map<ZoneId | null, Target>()
  let pending: Array<ClosedSecond> = []
  let snapshots = 0
  let lastSequence: number | undefined
  const counters: Counters = { framesMissed: 0, bucketsDropped: 0 }

  const segment = (zoneId: ZoneId | null, rect: Rect | null, reason: SegmentReason, at: number): OpenSegment => ({
    id: undefined,
    zoneId,
    rect: rectOf(rect),
    reason,
    startedAt: at
  })

  /** The target's first frame since start-up (or since the zone was created): continue or start a segment. */
  const begin = (zoneId: ZoneId | null, rect: Rect | null, second: number, at: number): Target => {
    const previous = resumable.get(zoneId)
    resumable.delete(zoneId)
    const fresh = (reason: SegmentReason): Target => ({
      segment: segment(zoneId, rect, reason, at),
      lastSecond: null,
      open: undefined,
      seen: snapshots
    })
    if (previous === undefined) return fresh("started")
    if (!sameRect(previous.segment.rect, rect)) return fresh("zoneChanged")
    if (previous.lastSecond !== null && second <= previous.lastSecond) return fresh("clockSteppedBack")
    return { segment: { ...previous.segment }, lastSecond: previous.lastSecond, open: undefined, seen: snapshots }
  }

  const close = (target: Target) => {
    const open = target.open
    if (open === undefined) return
    target.open = undefined
    target.lastSecond = open.t
    pending.push({
      segment: target.segment,
      t: open.t,
      frames: open.frames,
      min: open.min,
      max: open.max,
      mean: open.sum / open.frames,
      ambient: open.ambientFrames === 0 ? null : open.ambientSum / open.ambientFrames
    })
    if (pending.length > maxPending) {
      const excess = pending.length - maxPending
      pending.splice(0, excess)
      counters.bucketsDropped += excess
    }
  }

  const record = (
    zoneId: ZoneId | null,
    rect: Rect | null,
    values: { readonly min: number; readonly max: number; readonly mean: number },
    ambient: number | null,
    second: number,
    at: number
  ) => {
    let target = targets.get(zoneId)
    if (target === undefined) {
      target = begin(zoneId, rect, second, at)
      targets.set(zoneId, target)
    } else if (!sameRect(target.segment.rect, rect)) {
      close(target)
      target.segment = segment(zoneId, rect, "zoneChanged", at)
      target.lastSecond = null
    }
    target.seen = snapshots
    // a pixel without a value makes the mean NaN: that frame says nothing about this target
    if (!(Number.isFinite(values.min) && Number.isFinite(values.max) && Number.isFinite(values.mean))) return
    let open = target.open
    if (open === undefined || open.t !== second) {
      close(target)
      if (target.lastSecond !== null && second <= target.lastSecond) {
        target.segment = segment(zoneId, rect, "clockSteppedBack", at)
        target.lastSecond = null
      }
      open = { t: second, frames: 0, min: Infinity, max: -Infinity, sum: 0, ambientSum: 0, ambientFrames: 0 }
      target.open = open
    }
    open.frames++
    if (values.min < open.min) open.min = values.min
    if (values.max > open.max) open.max = values.max
    open.sum += values.mean
    if (ambient !== null && Number.isFinite(ambient)) {
      open.ambientSum += ambient
      open.ambientFrames++
    }
  }

  return {
    add: ({ frame, summary, zones }) => {
      snapshots++
      // a sequence that goes back is another sensor session, not missed frames
      if (lastSequence !== undefined && frame.sequence > lastSequence + 1) {
        counters.framesMissed += frame.sequence - lastSequence - 1
      }
      lastSequence = frame.sequence
      const second = Math.floor(frame.capturedAt / 1000)
      record(null, null, summary, frame.ambient, second, frame.capturedAt)
      for (const zone of zones) {
        record(
          zone.zoneId,
          zone.rect,
          { min: zone.min, max: zone.max, mean: zone.average },
          null,
          second,
          frame.capturedAt
        )
      }
      // a zone no longer in the snapshot was deleted: its last second is over
      for (const [zoneId, target] of targets) {
        if (zoneId !== null && target.seen !== snapshots) {
          close(target)
          targets.delete(zoneId)
        }
      }
    },
    closeOpen: () => {
      for (const target of targets.values()) close(target)
    },
    pending: () => pending,
    written: (seconds) => {
      const done = new Set(seconds)
      pending = pending.filter((second) => !done.has(second))
    },
    segments: () => Array.from(targets.values(), (target) => target.segment),
    counters
  }
}
