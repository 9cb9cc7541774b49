import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Fiber, Stream } from "effect"
import * as ChangeFeed from "../src/ChangeFeed.js"

describe("ChangeFeed", () => {
  it.scoped("a subscriber gets every change published after it subscribed, not before", () =>
    Effect.gen(function*() {
      const feed = yield* ChangeFeed.make<number>()
      yield* feed.publish(1)
      const changes = yield* feed.changes
      // published before the stream runs, but after subscribing: kept
      yield* feed.publish(2)
      yield* feed.publish(3)
      assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(changes, 2))), [2, 3])
    }))

  it.scoped("every subscriber gets every change", () =>
    Effect.gen(function*() {
      const feed = yield* ChangeFeed.make<string>()
      const a = yield* feed.changes
      const b = yield* feed.changes
      const both = yield* Effect.fork(
        Effect.all([Stream.runCollect(Stream.take(a, 2)), Stream.runCollect(Stream.take(b, 2))], {
          concurrency: "unbounded"
        })
      )
      yield* feed.publish("x")
      yield* feed.publish("y")
      const [seenA, seenB] = yield* Fiber.join(both)
      assert.deepStrictEqual([Chunk.toReadonlyArray(seenA), Chunk.toReadonlyArray(seenB)], [["x", "y"], ["x", "y"]])
    }))

  it.scoped("a subscriber that does not keep up loses the oldest changes; the publisher never waits", () =>
    Effect.gen(function*() {
      const feed = yield* ChangeFeed.make<number>(4)
      const changes = yield* feed.changes
      // nobody reads: all ten publish at once
      for (let i = 0; i < 10; i++) yield* feed.publish(i)
      assert.deepStrictEqual(Chunk.toReadonlyArray(yield* Stream.runCollect(Stream.take(changes, 4))), [6, 7, 8, 9])
    }))

  it.effect("a subscription ends with its scope", () =>
    Effect.gen(function*() {
      const feed = yield* ChangeFeed.make<number>()
      const seen = yield* Effect.scoped(Effect.gen(function*() {
        const changes = yield* feed.changes
        yield* feed.publish(1)
        return yield* Stream.runCollect(Stream.take(changes, 1))
      }))
      assert.deepStrictEqual(Chunk.toReadonlyArray(seen), [1])
      // no subscriber left: publishing is a no-op, not a leak or a wait
      for (let i = 0; i < 1000; i++) yield* feed.publish(i)
    }))
})
