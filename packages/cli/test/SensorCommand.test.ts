import { NodeContext } from "@effect/platform-node"
import { afterAll, afterEach, assert, describe, it, vi } from "@effect/vitest"
import { runToExit } from "@ircam/test-support/Process"
import { Effect, Exit } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { run } from "../src/Cli.js"
import { describe as describeCause } from "../src/ErrorReport.js"

const dir = mkdtempSync(join(tmpdir(), "ircam-sensor-"))

/** Runs `ircam …` in this process; what it printed on stdout and stderr. */
const ircam = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const stdout: Array<string> = []
    const stderr: Array<string> = []
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void stdout.push(String(line)))
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void stderr.push(String(line)))
    const exit = yield* Effect.exit(run(["node", "ircam", ...args]))
    vi.restoreAllMocks()
    return { exit, stdout, stderr }
  }).pipe(Effect.provide(NodeContext.layer))

/** Runs `ircam …` as a process (no I²C configuration from the environment). */
const process_ = (args: ReadonlyArray<string>) => Effect.promise(() => runToExit(args, {}, dir))

afterEach(() => {
  vi.restoreAllMocks()
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

interface Decoded {
  readonly status: number
  readonly frames: ReadonlyArray<{ readonly subpage: number }>
  readonly temperatures: ReadonlyArray<number>
}

describe("ircam sensor", () => {
  it.live("probe --emulated prints model, serial and the control register's settings", () =>
    Effect.gen(function*() {
      const text = yield* ircam(["sensor", "probe", "--emulated"])
      assert.isTrue(Exit.isSuccess(text.exit))
      const out = text.stdout.join("\n")
      assert.include(out, "MLX90640 (emulated) on I²C bus 1 at 0x33")
      assert.include(out, "serial:       1710a2240185")
      assert.include(out, "refresh rate: 2 Hz")
      assert.include(out, "resolution:   18 bits")
      assert.include(out, "pattern:      chess")
      const json = yield* ircam(["sensor", "probe", "--emulated", "--json", "--bus", "3", "--address", "0x34"])
      assert.deepStrictEqual(JSON.parse(json.stdout[0]!), {
        model: "MLX90640 (emulated)",
        bus: 3,
        address: "0x34",
        serial: "1710a2240185",
        control: "0x1901",
        refreshRateHz: 2,
        resolutionBits: 18,
        pattern: "chess"
      })
    }))

  it.live("dump-eeprom --out writes the 832 words", () =>
    Effect.gen(function*() {
      const file = join(dir, "eeprom.json")
      const { exit, stdout } = yield* ircam(["sensor", "dump-eeprom", "--emulated", "--out", file])
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(stdout, [])
      const dump = JSON.parse(readFileSync(file, "utf8")) as { serial: string; eeprom: Array<number> }
      assert.strictEqual(dump.serial, "1710a2240185")
      assert.lengthOf(dump.eeprom, 832)
      const printed = yield* ircam(["sensor", "dump-eeprom", "--emulated"])
      assert.deepStrictEqual(JSON.parse(printed.stdout[0]!), dump)
    }))

  it.live("capture -n 4 --emulated writes a dump that `mlx90640 decode` replays", () =>
    Effect.gen(function*() {
      const file = join(dir, "dump.json")
      const { exit, stderr, stdout } = yield* ircam(["sensor", "capture", "--emulated", "-n", "4", "--out", file])
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(stdout, [])
      assert.deepStrictEqual(stderr, [
        "captured 1/4 (sub-page 0)",
        "captured 2/4 (sub-page 1)",
        "captured 3/4 (sub-page 0)",
        "captured 4/4 (sub-page 1)"
      ])
      const dump = JSON.parse(readFileSync(file, "utf8")) as { eeprom: Array<number>; frames: Array<Array<number>> }
      assert.lengthOf(dump.eeprom, 832)
      assert.lengthOf(dump.frames, 4)
      for (const frame of dump.frames) assert.lengthOf(frame, 834)

      const decoded = yield* ircam(["mlx90640", "decode", file])
      assert.isTrue(Exit.isSuccess(decoded.exit))
      const result = JSON.parse(decoded.stdout[0]!) as Decoded
      assert.strictEqual(result.status, 0)
      assert.deepStrictEqual(result.frames.map((f) => f.subpage), [0, 1, 0, 1])
      assert.lengthOf(result.temperatures, 768)
      for (const t of result.temperatures) assert.isTrue(t > -20 && t < 150, `implausible temperature ${t}`)
    }), 30_000)

  it.live("refuses a bad --address or -n with one line, without touching the bus", () =>
    Effect.gen(function*() {
      const address = yield* ircam(["sensor", "probe", "--emulated", "--address", "0x99"])
      assert.isTrue(Exit.isFailure(address.exit))
      const frames = yield* ircam(["sensor", "capture", "--emulated", "-n", "0"])
      assert.isTrue(Exit.isFailure(frames.exit))
    }))

  it.live("without the bus: SensorUnavailable naming what to check", () =>
    Effect.gen(function*() {
      const { exit } = yield* ircam(["sensor", "probe", "--bus", "250"])
      assert.isTrue(Exit.isFailure(exit))
      const line = Exit.isFailure(exit) ? describeCause(exit.cause) : ""
      assert.match(line, /^SensorUnavailable: no working MLX90640 on I²C bus 250 at 0x33/)
      assert.include(line, "ls /dev/i2c-*")
      assert.notInclude(line, "\n")
    }))

  describe("as a process", () => {
    it.live("probe exits 2 with one line when there is no sensor", () =>
      Effect.gen(function*() {
        const { code, stderr, stdout } = yield* process_(["sensor", "probe", "--bus", "250"])
        assert.strictEqual(code, 2)
        assert.strictEqual(stdout, "")
        assert.strictEqual(stderr.trim().split("\n").length, 1)
        assert.match(stderr, /^ircam: SensorUnavailable: no working MLX90640 on I²C bus 250/)
      }), 30_000)

    it.live("capture exits 1 on bad usage; probe --emulated exits 0", () =>
      Effect.gen(function*() {
        const bad = yield* process_(["sensor", "capture", "--emulated", "-n", "0"])
        assert.strictEqual(bad.code, 1)
        const ok = yield* process_(["sensor", "probe", "--emulated", "--json"])
        assert.strictEqual(ok.code, 0)
        assert.strictEqual(JSON.parse(ok.stdout).serial, "1710a2240185")
      }), 30_000)

    it.live("capture --emulated to a file, progress on stderr, then decode as a process", () =>
      Effect.gen(function*() {
        const file = join(dir, "process-dump.json")
        const capture = yield* process_(["sensor", "capture", "--emulated", "-n", "2", "-o", file])
        assert.strictEqual(capture.code, 0)
        assert.strictEqual(capture.stdout, "")
        assert.include(capture.stderr, "captured 2/2 (sub-page 1)")
        const decoded = yield* process_(["mlx90640", "decode", file])
        assert.strictEqual(decoded.code, 0)
        assert.strictEqual((JSON.parse(decoded.stdout) as Decoded).status, 0)
      }), 30_000)

    it.live("--help shows examples", () =>
      Effect.gen(function*() {
        const { code, stdout } = yield* process_(["sensor", "capture", "--help"])
        assert.strictEqual(code, 0)
        assert.include(stdout, "ircam sensor capture -n 4 --out dump.json")
      }), 30_000)
  })
})
