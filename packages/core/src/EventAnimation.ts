/**
 * An event as an animated GIF: its stored frames as heat maps at their recorded pace (or `speed`
 * times it), one colour scale for the whole event, each frame's time written on it and the frames
 * that triggered it (the event's own, its alarms') marked.
 *
 * Bounded memory, however long the event: frames are read in small batches (keyset on rowid) and
 * each GIF frame is handed on as soon as it is encoded. The colour scale of the whole event needs a
 * first pass over its frames (`scan`), unless `min` and `max` are given.
 *
 * The pace comes from the frames' sequence numbers and wall-clock labels: the time between two
 * frames is their wall-clock difference while it is plausible for the sequence step (not negative,
 * at most 2 s a frame, the slowest refresh rate), else (the clock was stepped, the sensor
 * restarted) the frame period seen so far (smoothed) times the step. Browsers show frames shorter than 2 cs for 10 cs, so
 * frames closer than that are dropped (never a trigger frame: it takes the place of the one
 * before); `maxFrames` drops more, evenly, for a long event in a small file.
 */
import { Chunk, Effect, Option, Stream } from "effect"
import { AlarmRepo } from "./AlarmRepo.js"
import * as AnimatedGif from "./AnimatedGif.js"
import type { Event, EventId, FrameRef, StoredFrame } from "./Event.js"
import { EventRepo, type StoredFrameAt } from "./EventRepo.js"
import * as HeatmapImage from "./HeatmapImage.js"
import * as HeatmapMarks from "./HeatmapMarks.js"
import { fromHex, noData, type PaletteName } from "./Palette.js"
import type { StorageError } from "./StorageError.js"
import { iso } from "./Time.js"

export interface AnimationOptions {
  readonly palette: PaletteName
  /** output pixels per sensor pixel, 1–`HeatmapImage.MAX_SCALE` */
  readonly scale: number
  /** °C at the ends of the colour scale; the event's own (all its frames) when absent */
  readonly min?: number | undefined
  readonly max?: number | undefined
  readonly zones?: ReadonlyArray<HeatmapImage.ZoneOverlay> | undefined
  readonly legend?: boolean | undefined
  /** 1: the recorded pace; 2: twice as fast … */
  readonly speed: number
  /** at most about this many frames: a longer event shows fewer frames a second, at the same pace */
  readonly maxFrames?: number | undefined
}

/** Frames read at once. */
export const batchSize = 32
/** Longest a frame is shown: a gap in a recording does not freeze the animation. */
export const maxFrameMs = 5000
/** Longest plausible time between two consecutive frames (0.5 Hz, the slowest refresh rate). */
const maxPeriodMs = 2000
/** The period assumed until two frames have shown one (8 Hz, the default rate). */
const defaultPeriodMs = 125
/** Browsers show a frame of less than 2 cs for 10 cs: none is shorter. */
export const minDelayCs = 2

/** Follows the pace of consecutive stored frames (see the module's comment). */
export const pace = () => {
  let period: number | undefined
  return {
    /** The time (ms) from `previous` to `next`. */
    between: (previous: FrameRef, next: FrameRef): number => {
      const steps = next.sequence - previous.sequence
      const wall = next.capturedAt - previous.capturedAt
      if (steps >= 1 && wall >= 0 && wall <= steps * maxPeriodMs) {
        // smoothed, so that one late frame (and the one right after it) does not set the period
        period = period === undefined ? wall / steps : 0.9 * period + 0.1 * (wall / steps)
        return Math.min(wall, maxFrameMs)
      }
      return Math.min((period ?? defaultPeriodMs) * Math.max(1, steps), maxFrameMs)
    },
    /** The frame period seen (smoothed). */
    period: () => period ?? defaultPeriodMs
  }
}

/** What a first pass over an event's frames finds. */
export interface Scan {
  /** the coldest and the hottest temperature of all its frames (NaN without any value) */
  readonly min: number
  readonly max: number
  readonly frames: number
  /** from its first frame to its last, at the recorded pace (ms) */
  readonly durationMs: number
  /** the frame with the hottest pixel */
  readonly peak: StoredFrame | undefined
}

/** Reads an event's frames in batches, oldest first, each batch handed to `f`. */
const forEachBatch = (id: EventId, f: (frames: ReadonlyArray<StoredFrameAt>) => void) =>
  Effect.flatMap(EventRepo, (repo) =>
    Effect.iterate(0, {
      while: (rowid) => rowid >= 0,
      body: (rowid) =>
        Effect.map(repo.framesAfter(id, rowid, batchSize), (frames) => {
          f(frames)
          return frames.length < batchSize ? -1 : frames[frames.length - 1]!.rowid
        })
    }))

/** A first pass over an event's frames: its range of temperatures, duration and peak frame. */
export const scan = (id: EventId): Effect.Effect<Scan, StorageError, EventRepo> => {
  let min = Infinity
  let max = -Infinity
  let frames = 0
  let durationMs = 0
  let peak: StoredFrame | undefined
  let previous: StoredFrame | undefined
  const timing = pace()
  return forEachBatch(id, (batch) => {
    for (const frame of batch) {
      let hottest = -Infinity
      for (const t of frame.temperatures) {
        if (!Number.isFinite(t)) continue
        if (t < min) min = t
        if (t > hottest) hottest = t
      }
      if (hottest > max) {
        max = hottest
        peak = frame
      }
      if (previous !== undefined) durationMs += timing.between(previous, frame)
      previous = frame
      frames++
    }
  }).pipe(Effect.map(() => ({ min: frames > 0 ? min : NaN, max: frames > 0 ? max : NaN, frames, durationMs, peak })))
}

/** The frames that triggered an event: its own trigger and each of its alarms'. */
export const triggers = (id: EventId): Effect.Effect<ReadonlyArray<FrameRef>, StorageError, EventRepo | AlarmRepo> =>
  Effect.map(
    Effect.all([
      Effect.flatMap(EventRepo, (repo) => repo.triggerFrame(id)),
      Effect.flatMap(AlarmRepo, (repo) => repo.triggersOfEvent(id))
    ]),
    ([own, alarms]) => [...Option.toArray(own), ...alarms]
  )

/** Lets the event loop run (timers, sockets: the monitor loop) between two frames of work. */
const breathe = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** The colours an animation's frames are drawn with, besides the palette's. */
const overlayColors = (options: AnimationOptions) => [
  noData[options.palette],
  HeatmapImage.legendBackground,
  HeatmapImage.legendText,
  ...HeatmapMarks.colors,
  ...(options.zones ?? []).map((zone) => fromHex(zone.color))
]

interface Pending {
  frame: StoredFrame
  readonly cs: number
  trigger: boolean
}

/**
 * The GIF of an event with at least one stored frame, chunk by chunk (the header with the first
 * frame, then one chunk a frame, then the trailer). `scanned` saves the first pass when the
 * caller has made it.
 */
export const stream = (
  event: Event,
  options: AnimationOptions,
  scanned?: Scan
): Stream.Stream<Uint8Array, StorageError, EventRepo | AlarmRepo> =>
  Stream.unwrap(Effect.gen(function*() {
    const repo = yield* EventRepo
    const needsScan = options.min === undefined || options.max === undefined || options.maxFrames !== undefined
    const pass = scanned ?? (needsScan ? yield* scan(event.id) : undefined)
    const range = HeatmapImage.colourRange(pass === undefined ? [] : [pass.min, pass.max], options.min, options.max)
    const marked = yield* triggers(event.id)
    const isTrigger = (frame: StoredFrame) =>
      marked.some((ref) => ref.sequence === frame.sequence && ref.capturedAt === frame.capturedAt)
    const renderOptions: HeatmapImage.RenderOptions = {
      palette: options.palette,
      scale: options.scale,
      min: range.min,
      max: range.max,
      zones: options.zones,
      legend: options.legend
    }
    const { height, width } = HeatmapImage.size(options.scale, options.legend === true)
    const encoder = AnimatedGif.encoder(AnimatedGif.palette(options.palette, overlayColors(options)), width, height)
    const step = Math.max(
      minDelayCs,
      options.maxFrames === undefined || pass === undefined ? 0 : Math.ceil(pass.durationMs / 10 / options.maxFrames)
    )

    const draw = (pending: Pending, delayCs: number) => {
      const image = HeatmapImage.render(pending.frame.temperatures, renderOptions)
      HeatmapMarks.drawTime(image, `${iso(pending.frame.capturedAt).slice(11, 21)} UTC`, options.scale)
      if (pending.trigger) HeatmapMarks.drawTrigger(image, options.scale)
      return encoder.frame(image, delayCs)
    }

    const timing = pace()
    let batch: ReadonlyArray<StoredFrameAt> = []
    let next = 0
    let rowid = 0
    let exhausted = false
    let previous: StoredFrame | undefined
    let elapsed = 0
    let pending: Pending | undefined
    let finished = false

    /** The next chunk: frames are read until one is due to be drawn (the one before it is then complete). */
    const pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<StorageError>> = Effect.gen(function*() {
      if (finished) return yield* Effect.fail(Option.none())
      for (;;) {
        if (next >= batch.length) {
          if (exhausted) break
          batch = yield* Effect.mapError(repo.framesAfter(event.id, rowid, batchSize), Option.some)
          next = 0
          exhausted = batch.length < batchSize
          if (batch.length === 0) break
          rowid = batch[batch.length - 1]!.rowid
        }
        const frame = batch[next++]!
        if (previous !== undefined) elapsed += timing.between(previous, frame) / options.speed
        previous = frame
        const cs = Math.round(elapsed / 10)
        if (pending === undefined) {
          pending = { frame, cs, trigger: isTrigger(frame) }
          continue
        }
        if (cs - pending.cs < step) {
          // dropped; a trigger frame takes the place of the one shown before it
          if (isTrigger(frame)) {
            pending.frame = frame
            pending.trigger = true
          }
          continue
        }
        yield* breathe
        const bytes = draw(pending, cs - pending.cs)
        pending = { frame, cs, trigger: isTrigger(frame) }
        return Chunk.of(bytes)
      }
      finished = true
      if (pending === undefined) return yield* Effect.dieMessage(`event ${event.id} has no stored frame`)
      yield* breathe
      // shown until a frame period after the last frame read (the frames dropped at the end included)
      const end = Math.round((elapsed + timing.period() / options.speed) / 10)
      const last = draw(pending, Math.max(step, end - pending.cs))
      const trailer = encoder.finish()
      const bytes = new Uint8Array(last.length + trailer.length)
      bytes.set(last)
      bytes.set(trailer, last.length)
      return Chunk.of(bytes)
    })

    return Stream.repeatEffectChunkOption(pull)
  }))

/**
 * The whole GIF of an event, or none when it would be larger than `maxBytes` (encoding stops
 * there).
 */
export const bytes = (
  event: Event,
  options: AnimationOptions,
  maxBytes: number,
  scanned?: Scan
): Effect.Effect<Option.Option<Uint8Array>, StorageError, EventRepo | AlarmRepo> =>
  stream(event, options, scanned).pipe(
    Stream.runFoldWhile(
      { chunks: [] as Array<Uint8Array>, size: 0 },
      (state) => state.size <= maxBytes,
      (state, chunk) => {
        state.chunks.push(chunk)
        return { chunks: state.chunks, size: state.size + chunk.length }
      }
    ),
    Effect.map(({ chunks, size }) => {
      if (size > maxBytes) return Option.none()
      const out = new Uint8Array(size)
      let at = 0
      for (const chunk of chunks) {
        out.set(chunk, at)
        at += chunk.length
      }
      return Option.some(out)
    })
  )
