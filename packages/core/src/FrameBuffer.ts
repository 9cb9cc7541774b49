/**
 * FrameBuffer: a bounded ring of the latest frames (`FRAME_BUFFER_SECONDS` × refresh rate).
 * Pushing is O(1) and allocates nothing; the oldest frame is overwritten when full.
 */
import { Effect, Option } from "effect"
import { AppConfig } from "./AppConfig.js"
import type { Frame } from "./Frame.js"
import type { CheckResult } from "./Health.js"

export interface Ring {
  readonly capacity: number
  readonly push: (frame: Frame) => Effect.Effect<void>
  readonly latest: Effect.Effect<Option.Option<Frame>>
  /** the frames captured at or after `since` on the monotonic clock (`Frame.monotonicMs`), oldest first */
  readonly snapshot: (since: number) => Effect.Effect<ReadonlyArray<Frame>>
  readonly size: Effect.Effect<number>
}

/** A ring of `capacity` frames. Operations are synchronous, so concurrent fibers always see a whole ring. */
export const make = (capacity: number): Ring => {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer`)
  const slots = new Array<Frame | undefined>(capacity).fill(undefined)
  let next = 0 // slot the next push writes
  let count = 0
  const at = (age: number) => slots[(next - 1 - age + capacity) % capacity]! // age 0 = newest

  return {
    capacity,
    push: (frame) =>
      Effect.sync(() => {
        slots[next] = frame
        next = (next + 1) % capacity
        if (count < capacity) count++
      }),
    latest: Effect.sync(() => (count === 0 ? Option.none() : Option.some(at(0)))),
    snapshot: (since) =>
      Effect.sync(() => {
        let n = 0
        while (n < count && at(n).monotonicMs >= since) n++
        const frames = new Array<Frame>(n)
        for (let i = 0; i < n; i++) frames[i] = at(n - 1 - i)
        return frames
      }),
    size: Effect.sync(() => count)
  }
}

export class FrameBuffer extends Effect.Service<FrameBuffer>()("@ircam/core/FrameBuffer", {
  /** Sized from `FRAME_BUFFER_SECONDS` × `REFRESH_RATE_HZ`. */
  effect: Effect.map(AppConfig, (config) => {
    const ring = make(Math.max(1, Math.ceil(config.frameBufferSeconds * config.refreshRateHz)))
    const health: Effect.Effect<CheckResult> = Effect.map(ring.snapshot(-Infinity), (frames) => ({
      status: "ok",
      details: {
        frames: frames.length,
        capacity: ring.capacity,
        seconds: frames.length > 1 ? (frames[frames.length - 1]!.monotonicMs - frames[0]!.monotonicMs) / 1000 : 0
      }
    }))
    return { ...ring, health }
  })
}) {}
