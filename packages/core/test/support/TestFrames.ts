/**
 * The one frame factory of the tests: a frame whose temperatures a function (or a constant)
 * gives, captured at `at` on both clocks (under the TestClock the wall clock and the monotonic
 * clock agree until a test steps the wall clock, see SteppedClock).
 */
import { Clock, Effect } from "effect"
import { type Frame, PIXELS, WIDTH } from "../../src/Frame.js"
import { monotonicMs } from "../../src/Time.js"

export interface FrameOptions {
  readonly sequence?: number
  /** epoch ms on the wall clock and the monotonic clock (both, unless `monotonicMs` is given) */
  readonly at?: number
  readonly monotonicMs?: number
  /** °C of pixel `i` (row-major, `i = row * 32 + column`), or one value for every pixel; 20 by default */
  readonly temperatures?: number | ((i: number) => number)
  readonly ambient?: number
}

export const make = (options: FrameOptions = {}): Frame => {
  const temperatures = new Float32Array(PIXELS)
  const value = options.temperatures ?? 20
  for (let i = 0; i < PIXELS; i++) temperatures[i] = typeof value === "number" ? value : value(i)
  const at = options.at ?? 0
  return {
    temperatures,
    capturedAt: at,
    monotonicMs: options.monotonicMs ?? at,
    sequence: options.sequence ?? 0,
    ambient: options.ambient ?? 25,
    vdd: 3.3
  }
}

/** A frame captured now, by the clocks in context. */
export const now = (options: Omit<FrameOptions, "at" | "monotonicMs"> = {}): Effect.Effect<Frame> =>
  Effect.gen(function*() {
    return make({ ...options, at: yield* Clock.currentTimeMillis, monotonicMs: yield* monotonicMs })
  })

/** `temperatures` for a frame at `background` °C with the rectangle `x, y, width, height` at `hot` °C. */
export const withRect = (
  rect: { readonly x: number; readonly y: number; readonly width: number; readonly height: number },
  hot: number,
  background = 20
) =>
(i: number): number => {
  const x = i % WIDTH
  const y = Math.floor(i / WIDTH)
  return x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height ? hot : background
}
