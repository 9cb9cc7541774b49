/**
 * Reading Server-Sent Events in tests: an answer's body as a stream of messages.
 */
import { Stream } from "effect"

export interface SseMessage {
  /** `message` when the message names no event */
  readonly event: string
  readonly data: string
}

interface Pending {
  readonly event: string
  readonly data: ReadonlyArray<string>
}

const empty: Pending = { event: "", data: [] }

/** The next state after a line, and the messages the line dispatches. */
const step = (pending: Pending, line: string): [Pending, ReadonlyArray<SseMessage>] => {
  if (line === "") {
    const dispatched = pending.data.length === 0
      ? []
      : [{ event: pending.event === "" ? "message" : pending.event, data: pending.data.join("\n") }]
    return [empty, dispatched]
  }
  if (line.startsWith(":")) return [pending, []]
  const colon = line.indexOf(":")
  const field = colon === -1 ? line : line.slice(0, colon)
  const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "")
  if (field === "event") return [{ ...pending, event: value }, []]
  if (field === "data") return [{ ...pending, data: [...pending.data, value] }, []]
  return [pending, []]
}

/**
 * The messages of an event stream, as an EventSource dispatches them: lines up to an empty line
 * make a message; comment lines (`:`) and messages without data (such as `retry:`) dispatch nothing.
 */
export const messages = <E, R>(body: Stream.Stream<Uint8Array, E, R>): Stream.Stream<SseMessage, E, R> =>
  body.pipe(
    Stream.decodeText(),
    Stream.splitLines,
    Stream.mapAccum(empty, step),
    Stream.flattenIterables
  )
