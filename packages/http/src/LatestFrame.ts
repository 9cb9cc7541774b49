/**
 * The latest frame as the handlers answer it: the monitor's latest snapshot, or `NoFrameYet`
 * before the first frame; and what is derived from it, computed once a frame. Clients poll
 * faster than frames arrive (and a page may show several palettes): each answer is made once a
 * frame and kept until the next one comes.
 */
import type { Frame } from "@ircam/core/Frame"
import { Monitor } from "@ircam/core/Monitor"
import { Effect, Option } from "effect"
import { NoFrameYet } from "./ApiErrors.js"

/** The latest frame with the statistics of every zone on it; `NoFrameYet` before the first. */
export const snapshot = Effect.flatMap(Monitor, (monitor) => monitor.latest).pipe(
  Effect.flatMap(Option.match({ onNone: () => Effect.fail(NoFrameYet.instance), onSome: Effect.succeed }))
)

/**
 * Values derived from one frame, by key: `get(frame, key, make)` makes the value once for that
 * frame and key. A new frame empties the cache, and so does reaching `limit` keys, should a
 * client vary its parameters on every request.
 */
export const makeCache = <A>(limit = 1) => {
  let cache: { readonly frame: Frame; readonly values: Map<string, A> } | undefined
  return (frame: Frame, key: string, make: () => A): A => {
    if (cache?.frame !== frame || cache.values.size >= limit) cache = { frame, values: new Map() }
    let value = cache.values.get(key)
    if (value === undefined) {
      value = make()
      cache.values.set(key, value)
    }
    return value
  }
}
