/**
 * A Raspberry Pi without a battery-backed clock gets its time stepped by NTP. Here `ircam serve`
 * runs under libfaketime (Debian's package, installed when missing), whose offset file the test
 * rewrites: the wall clock of the server is stepped back a minute two seconds into a recording,
 * while its monotonic clock runs on. The event must hold exactly the frames of its real pre and
 * post windows, complete on time, and health must show the step.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as DebianPackage from "@ircam/test-support/DebianPackage"
import { freePort } from "@ircam/test-support/Port"
import { killAll, serverEnv, start, waitUntilAnswering } from "@ircam/test-support/Process"
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** /usr/lib/<architecture>/faketime/libfaketime.so.1, if installed. */
const libraryFor = () =>
  readdirSync("/usr/lib").map((arch) => `/usr/lib/${arch}/faketime/libfaketime.so.1`).find((file) => existsSync(file))
const unavailable = libraryFor() === undefined
  ? await DebianPackage.ensure("libfaketime", "/usr/share/doc/libfaketime/copyright")
  : undefined
const library = libraryFor()

const rateHz = 8
const preSeconds = 2
const postSeconds = 4

let dir = ""
afterAll(async () => {
  await killAll()
  if (dir !== "") rmSync(dir, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface EventJson {
  readonly id: number
  readonly status: string
  readonly frameCount: number
}
interface FrameJson {
  readonly capturedAt: string
  readonly sequence: number
}

describe.skipIf(unavailable !== undefined || library === undefined)(
  `the wall clock stepped back a minute during a recording${
    unavailable === undefined ? "" : ` (skipped: ${unavailable})`
  }`,
  () => {
    let base = ""
    let offsetFile = ""
    const get = async <A>(path: string) => (await (await fetch(`${base}${path}`)).json()) as A

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "ircam-clock-"))
      offsetFile = join(dir, "faketime")
      writeFileSync(offsetFile, "+0s\n")
      const port = await freePort()
      base = `http://127.0.0.1:${port}/api/v1`
      const ircam = start(
        ["serve"],
        {
          ...serverEnv(dir, port, {
            REFRESH_RATE_HZ: String(rateHz),
            PRE_EVENT_SECONDS: String(preSeconds),
            POST_EVENT_SECONDS: String(postSeconds)
          }),
          // the wall clock reads the offset in this file (re-read at most every second); the
          // monotonic clock is left alone, as NTP leaves CLOCK_MONOTONIC
          LD_PRELOAD: library!,
          FAKETIME_TIMESTAMP_FILE: offsetFile,
          FAKETIME_CACHE_DURATION: "1",
          DONT_FAKE_MONOTONIC: "1"
        },
        dir
      )
      await waitUntilAnswering(ircam, `${base}/health`)
      // more than the pre-event window of frames in the buffer
      await sleep(3000)
    })

    it("keeps exactly the frames of the real windows, completes on time, and shows the step", async () => {
      const before = await get<FrameJson>("/thermal/real-time")
      const triggered = performance.now()
      const answer = await fetch(`${base}/events`, { method: "POST" })
      assert.strictEqual(answer.status, 202)
      const { id } = (await answer.json()) as EventJson
      await sleep(2000)
      writeFileSync(offsetFile, "-60s\n")

      // complete once its post window has passed, measured by the monotonic clock (not a minute later)
      let event = await get<EventJson>(`/events/${id}`)
      while (event.status !== "complete" && performance.now() - triggered < 20_000) {
        await sleep(200)
        event = await get<EventJson>(`/events/${id}`)
      }
      const completedAfter = (performance.now() - triggered) / 1000
      assert.strictEqual(event.status, "complete")
      assert.isBelow(completedAfter, postSeconds + 3)

      const frames = await get<ReadonlyArray<FrameJson>>(`/events/${id}/frames`)
      assert.strictEqual(frames.length, event.frameCount)
      const sequences = frames.map((frame) => frame.sequence)
      // none lost, none twice: consecutive sequence numbers
      sequences.forEach((sequence, i) => assert.strictEqual(sequence, sequences[0]! + i))
      // from PRE_EVENT_SECONDS before the trigger to POST_EVENT_SECONDS after it, give or take a frame
      assert.approximately(sequences[0]!, before.sequence - preSeconds * rateHz, 2)
      assert.approximately(sequences[sequences.length - 1]!, before.sequence + postSeconds * rateHz, 3)

      // the labels are the wall clock as it was: one step back of about a minute among them
      const times = frames.map((frame) => Date.parse(frame.capturedAt))
      const jumps = times.slice(1).map((t, i) => t - times[i]!).filter((delta) => delta < 0)
      assert.lengthOf(jumps, 1)
      assert.approximately(jumps[0]!, -60_000 + 1000 / rateHz, 1500)

      const health = await get<{
        checks: Record<string, { status: string; message?: string; details: Record<string, number> }>
      }>("/health")
      assert.strictEqual(health.checks["clock"]!.status, "degraded")
      assert.match(health.checks["clock"]!.message ?? "", /stepped back by 6\d(\.\d)? s/)
      assert.strictEqual(health.checks["events"]!.details["framesMissed"], 0)
      // the sensor goes on at its rate, and its last frame is fresh
      assert.strictEqual(health.checks["sensor"]!.status, "ok")
      assert.approximately(health.checks["sensor"]!.details["frameRate"]!, rateHz, 1)
    })
  }
)
