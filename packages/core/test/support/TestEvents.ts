/**
 * Events stored straight through EventRepo, with the frames a test made (TestFrames), for the
 * tests of what reads events back: animations, pictures, exports.
 */
import { Effect, Option } from "effect"
import type { FrameRef } from "../../src/Event.js"
import { EventRepo } from "../../src/EventRepo.js"
import type { Frame } from "../../src/Frame.js"

export interface StoreOptions {
  /** the event's own trigger frame */
  readonly trigger?: FrameRef | null
  /** complete (the default), or still recording */
  readonly complete?: boolean
  /** epoch ms; the first frame's time by default */
  readonly triggeredAt?: number
}

/** Stores `frames` as a manual event in one transaction; answers the event. */
export const store = (frames: ReadonlyArray<Frame>, options: StoreOptions = {}) =>
  Effect.gen(function*() {
    const repo = yield* EventRepo
    const triggeredAt = options.triggeredAt ?? frames[0]?.capturedAt ?? 0
    const id = yield* repo.insert({
      kind: "manual",
      label: null,
      triggeredAt,
      windowEnd: triggeredAt,
      zoneId: null,
      triggerFrame: options.trigger ?? null
    })
    yield* repo.transaction("cannot store the test event")(Effect.gen(function*() {
      yield* repo.appendFrames(id, frames, null)
      if (options.complete ?? true) yield* repo.complete(id)
    }))
    return Option.getOrThrow(yield* repo.get(id))
  })
