/**
 * Live updates as Server-Sent Events: frames, alarm transitions and recordings.
 *
 *   Monitor.changes ─► one JSON serialisation a frame ─► sliding PubSub ─┐
 *   AlarmEngine.changes, EventStore.changes ──────────────────────────────┼─► each open stream
 *   a comment every 15 s ─────────────────────────────────────────────────┘
 *
 * Frames go through a sliding PubSub of two: a client whose socket does not keep up misses
 * frames (it gets the newest when it is ready again) instead of queueing them, so a slow client
 * costs neither memory nor time in the monitor loop. At most `MAX_STREAMS` streams are open.
 */
import { HttpServerResponse } from "@effect/platform"
import { type AlarmChange, AlarmEngine } from "@ircam/core/AlarmEngine"
import { AppConfig } from "@ircam/core/AppConfig"
import { toJson as eventJson } from "@ircam/core/Event"
import { EventStore, type RecordingChange } from "@ircam/core/EventStore"
import { toJson as frameJson } from "@ircam/core/Frame"
import type { CheckResult } from "@ircam/core/Health"
import { Monitor, type Snapshot } from "@ircam/core/Monitor"
import { Deferred, Effect, Option, PubSub, type Queue, Schedule, Stream } from "effect"
import { TooManyStreams } from "./ApiErrors.js"

/** Idle proxies and browsers drop a silent connection; a comment line now and then keeps it open. */
export const keepAliveInterval = "15 seconds"

/** Milliseconds an EventSource waits before it reconnects. */
const reconnectMs = 2000

const encoder = new TextEncoder()

const message = (event: string, data: string) => encoder.encode(`event: ${event}\ndata: ${data}\n\n`)

/** A frame's whole message, encoded once for every stream. */
interface FrameMessage {
  readonly sequence: number
  readonly bytes: Uint8Array
}

const frameMessage = ({ frame, summary }: Snapshot): FrameMessage => ({
  sequence: frame.sequence,
  bytes: message("frame", JSON.stringify(frameJson(frame, summary)))
})

const recordingJson = (change: RecordingChange) =>
  JSON.stringify(
    change.transition === "deleted"
      ? { transition: change.transition, id: change.id }
      : { transition: change.transition, event: eventJson(change.event) }
  )

/** Alarms raised, acknowledged or cleared (not rule changes). */
const isAlarmTransition = (change: AlarmChange): change is Extract<AlarmChange, { readonly alarm: unknown }> =>
  "alarm" in change

export interface StreamOptions {
  /** one frame message every this many sensor frames; none: no frames at all */
  readonly every: Option.Option<number>
}

export class LiveStream extends Effect.Service<LiveStream>()("@ircam/http/LiveStream", {
  scoped: Effect.gen(function*() {
    const monitor = yield* Monitor
    const alarms = yield* AlarmEngine
    const events = yield* EventStore
    const { maxStreams } = yield* AppConfig
    const framePubSub = yield* Effect.acquireRelease(PubSub.sliding<FrameMessage>(2), PubSub.shutdown)
    // open streams end when the server stops, or its closing would wait for them for ever
    const stopping = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(stopping, undefined))

    let open = 0
    // of them, those that carry frames (an alarms-only stream needs none serialised)
    let withFrames = 0
    let opened = 0
    let refused = 0
    // frames a client missed because it did not keep up
    let skipped = 0
    let latest: FrameMessage | undefined

    yield* Stream.unwrapScoped(monitor.changes).pipe(
      Stream.runForEach((snapshot) => {
        // nobody watching, nothing to serialise
        if (withFrames === 0) {
          latest = undefined
          return Effect.void
        }
        latest = frameMessage(snapshot)
        return PubSub.publish(framePubSub, latest)
      }),
      Effect.forkScoped
    )

    const stats = Effect.sync(() => ({ open, max: maxStreams, opened, refused, framesSkipped: skipped }))
    const health: Effect.Effect<CheckResult> = Effect.map(stats, (details) => ({ status: "ok", details }))

    /** The latest frame's message. */
    const current = Effect.map(
      monitor.latest,
      Option.map((snapshot) => latest?.sequence === snapshot.frame.sequence ? latest : frameMessage(snapshot))
    )

    /** Every `every`-th frame from the subscription, starting with the latest frame. */
    const frameMessages = (subscription: Queue.Dequeue<FrameMessage>, every: number) => {
      let last: number | undefined
      return Stream.fromEffect(current).pipe(
        Stream.filterMap((frame) => frame),
        Stream.concat(Stream.fromQueue(subscription)),
        Stream.filter((frame) => {
          // the subscription may hold the latest frame too
          if (last !== undefined && frame.sequence - last < every) return false
          if (last !== undefined) skipped += Math.max(0, Math.floor((frame.sequence - last) / every) - 1)
          last = frame.sequence
          return true
        }),
        Stream.map((frame) => frame.bytes)
      )
    }

    const keepAlive = Stream.fromSchedule(Schedule.spaced(keepAliveInterval)).pipe(
      Stream.as(encoder.encode(": keep-alive\n\n"))
    )

    /**
     * The answer of a stream request. It subscribes at once, so nothing that happens after the
     * answer's headers is missed; the subscriptions and the slot it takes are given back when the
     * request's scope closes: after the answer ends, the client goes away or the server stops.
     */
    const respond = (options: StreamOptions) =>
      Effect.gen(function*() {
        if (open >= maxStreams) {
          refused++
          return yield* new TooManyStreams({
            message: `${maxStreams} live streams are open already (MAX_STREAMS); close one or try again later`
          })
        }
        const frames = Option.isSome(options.every) ? 1 : 0
        yield* Effect.acquireRelease(
          Effect.sync(() => {
            open++
            withFrames += frames
            opened++
          }),
          () =>
            Effect.sync(() => {
              open--
              withFrames -= frames
            })
        )
        const sources: Array<Stream.Stream<Uint8Array>> = [
          Stream.filterMap(yield* alarms.changes, (change) =>
            isAlarmTransition(change) ? Option.some(message("alarm", JSON.stringify(change))) : Option.none()),
          Stream.map(yield* events.changes, (change) =>
            message("recording", recordingJson(change))),
          keepAlive
        ]
        if (Option.isSome(options.every)) {
          sources.unshift(frameMessages(yield* PubSub.subscribe(framePubSub), options.every.value))
        }
        const body = Stream.make(encoder.encode(`retry: ${reconnectMs}\n\n`)).pipe(
          // a buffer of one: what a slow client misses is dropped upstream, not queued here
          Stream.concat(Stream.mergeAll(sources, { concurrency: "unbounded", bufferSize: 1 })),
          Stream.interruptWhen(Deferred.await(stopping))
        )
        return HttpServerResponse.stream(body, {
          contentType: "text/event-stream",
          headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
        })
      })

    return {
      respond,
      /** the `streams` check: streams open, opened, refused, frames skipped for slow clients */
      health,
      /** what the `streams` check counts, for metrics */
      stats
    } as const
  })
}) {}
