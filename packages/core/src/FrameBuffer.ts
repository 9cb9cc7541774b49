/**
 * FrameBuffer: a bounded ring of the latest frames (`FRAME_BUFFER_SECONDS` × refresh rate).
 * Pushing is O(1) and allocates nothing; the oldest frame is overwritten when full.
 */
import { Context, Effect, Layer, Option } from "effect"
import { AppConfig } from "./AppConfig.js"
import type { Frame } from "./Frame.js"
import * as Health from "./Health.js"

export interface FrameBufferShape {
  readonly capacity: number
  readonly push: (frame: Frame) => Effect.Effect<void>
  readonly latest: Effect.Effect<Option.Option<Frame>>
  /** the frames captured at or after `since` (epoch ms), oldest first */
  readonly snapshot: (since: number) => Effect.Effect<ReadonlyArray<Frame>>
  readonly size: Effect.Effect<number>
}

/** A ring of `capacity` frames. Operations are synchronous, so concurrent fibers always see a whole ring. */
export const make = (capacity: number): FrameBufferShape => {
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
        while (n < count && at(n).capturedAt >= since) n++
        const frames = new Array<Frame>(n)
        for (let i = 0; i < n; i++) frames[i] = at(n - 1 - i)
        return frames
      }),
    size: Effect.sync(() => count)
  }
}

export class FrameBuffer extends Context.Tag("@ircam/core/FrameBuffer")<FrameBuffer, FrameBufferShape>() {
  /** Sized from `FRAME_BUFFER_SECONDS` × `REFRESH_RATE_HZ`, with a `buffer` health check. */
  static readonly layer: Layer.Layer<FrameBuffer, never, AppConfig | Health.Health> = Layer.effect(
    FrameBuffer,
    Effect.gen(function*() {
      const config = yield* AppConfig
      const buffer = make(Math.max(1, Math.ceil(config.frameBufferSeconds * config.refreshRateHz)))
      yield* Health.register(
        "buffer",
        Effect.gen(function*() {
          const size = yield* buffer.size
          const frames = yield* buffer.snapshot(0)
          const span = frames.length > 1 ? (frames[frames.length - 1]!.capturedAt - frames[0]!.capturedAt) / 1000 : 0
          return { status: "ok", details: { frames: size, capacity: buffer.capacity, seconds: span } }
        })
      )
      return buffer
    })
  )

  /** A buffer of `capacity` frames and nothing else: the test layer. */
  static readonly layerTest = (capacity: number): Layer.Layer<FrameBuffer> =>
    Layer.sync(FrameBuffer, () => make(capacity))
}
