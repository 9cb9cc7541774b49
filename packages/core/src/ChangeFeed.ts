/**
 * ChangeFeed: how every service tells what changed (`changes`). One shape everywhere:
 * `changes` subscribes at once, for the caller's scope, and its stream then gives every change
 * from that moment on. Behind it a sliding PubSub: a subscriber that does not keep up loses the
 * oldest changes; it never holds up the service that publishes.
 */
import { Effect, PubSub, type Scope, Stream } from "effect"

/** Subscribes now (for the scope); the stream gives every change from then on. */
export type Changes<A> = Effect.Effect<Stream.Stream<A>, never, Scope.Scope>

export interface ChangeFeed<A> {
  readonly publish: (change: A) => Effect.Effect<void>
  readonly changes: Changes<A>
}

/** A feed keeping at most `capacity` changes for a subscriber that has not taken them yet. */
export const make = <A>(capacity = 64): Effect.Effect<ChangeFeed<A>> =>
  Effect.map(PubSub.sliding<A>(capacity), (pubsub) => ({
    publish: (change) => Effect.asVoid(PubSub.publish(pubsub, change)),
    changes: Stream.fromPubSub(pubsub, { scoped: true })
  }))
