import { NodeContext } from "@effect/platform-node"
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { runToExit } from "@ircam/test-support/Process"
import { Effect, Exit } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { run } from "../src/Cli.js"
import { describe as describeCause } from "../src/ErrorReport.js"

const fixturePath = (name: string) =>
  fileURLToPath(new URL(`../../hw/test/fixtures/mlx90640/${name}.json`, import.meta.url))

interface Fixture {
  readonly eeprom: ReadonlyArray<number>
  readonly frames: ReadonlyArray<ReadonlyArray<number>>
  readonly expected: {
    readonly perFrame: ReadonlyArray<{
      readonly subpage: number
      readonly vdd: number
      readonly ta: number
      readonly results: ReadonlyArray<{ readonly to: ReadonlyArray<number | null> }>
    }>
    readonly combined: ReadonlyArray<{ readonly toBadPixelsCorrected: ReadonlyArray<number> }>
  }
}

interface Decoded {
  readonly status: number
  readonly frames: ReadonlyArray<
    { readonly subpage: number; readonly vdd: number; readonly ta: number; readonly to: ReadonlyArray<number | null> }
  >
  readonly temperatures: ReadonlyArray<number>
}

const load = (name: string) => JSON.parse(readFileSync(fixturePath(name), "utf8")) as Fixture

/** Runs `ircam mlx90640 decode …` in this process and returns what it printed. */
const decode = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const printed: Array<string> = []
    vi.spyOn(console, "log").mockImplementation((line: unknown) => void printed.push(String(line)))
    const exit = yield* Effect.exit(run(["node", "ircam", "mlx90640", "decode", ...args]))
    return { exit, printed }
  }).pipe(Effect.provide(NodeContext.layer))

const sameFloat32 = (actual: number | null, expected: number | null, what: string) => {
  if (expected === null) return assert.isNull(actual, what)
  assert.isNotNull(actual, what)
  // the output is the shortest decimal of the float32: reading it back as float32 gives the exact value
  assert.strictEqual(Math.fround(actual!), Math.fround(expected), what)
}

const checkAgainst = (fixture: Fixture, decoded: Decoded, setting: number) => {
  assert.strictEqual(decoded.status, 0)
  assert.lengthOf(decoded.frames, fixture.frames.length)
  decoded.frames.forEach((frame, i) => {
    const expected = fixture.expected.perFrame[i]!
    assert.strictEqual(frame.subpage, expected.subpage)
    sameFloat32(frame.vdd, expected.vdd, `vdd of frame ${i}`)
    sameFloat32(frame.ta, expected.ta, `ta of frame ${i}`)
    assert.lengthOf(frame.to, 768)
    frame.to.forEach((t, p) => sameFloat32(t, expected.results[setting]!.to[p]!, `to[${p}] of frame ${i}`))
  })
  decoded.temperatures.forEach((t, p) =>
    sameFloat32(t, fixture.expected.combined[setting]!.toBadPixelsCorrected[p]!, `temperature ${p}`)
  )
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe("ircam mlx90640 decode", () => {
  for (const name of ["melexis-example", "datasheet-example", "synthetic-interleaved"]) {
    it.live(`reproduces ${name} (emissivity 0.95, tr-offset -8 by default)`, () =>
      Effect.gen(function*() {
        const { exit, printed } = yield* decode([fixturePath(name)])
        assert.isTrue(Exit.isSuccess(exit))
        assert.lengthOf(printed, 1)
        checkAgainst(load(name), JSON.parse(printed[0]!) as Decoded, 0)
      }))
  }

  it.live("takes --emissivity and a negative --tr-offset", () =>
    Effect.gen(function*() {
      const { exit, printed } = yield* decode([
        "--emissivity",
        "1",
        "--tr-offset",
        "-8",
        fixturePath("melexis-example")
      ])
      assert.isTrue(Exit.isSuccess(exit))
      checkAgainst(load("melexis-example"), JSON.parse(printed[0]!) as Decoded, 1)
    }))

  it.live("prints numbers in their shortest round-trip form", () =>
    Effect.gen(function*() {
      const { printed } = yield* decode([fixturePath("melexis-example")])
      const decoded = JSON.parse(printed[0]!) as Decoded
      const numbers = [...decoded.temperatures, ...decoded.frames.flatMap((f) => [f.vdd, f.ta])]
      for (const n of numbers) {
        const digits = String(Math.abs(n)).split("e")[0]!.replace(".", "").replace(/^0+/, "").length
        // one digit fewer would no longer read back to the same float32
        if (digits > 1) assert.notStrictEqual(Math.fround(Number(n.toPrecision(digits - 1))), Math.fround(n), String(n))
      }
    }))

  describe("refuses, with one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "ircam-decode-"))
    const write = (name: string, content: string) => {
      const file = join(dir, name)
      writeFileSync(file, content)
      return file
    }

    const failure = (args: ReadonlyArray<string>) =>
      Effect.map(decode(args), ({ exit, printed }) => {
        assert.deepStrictEqual(printed, [])
        assert.isTrue(Exit.isFailure(exit))
        const line = Exit.isFailure(exit) ? describeCause(exit.cause) : ""
        assert.notInclude(line, "\n")
        return line
      })

    it.live("a file that is not JSON", () =>
      Effect.map(failure([write("garbage.json", "{not json")]), (line) => assert.include(line, "garbage.json")))

    it.live("a frame of the wrong length, naming where", () =>
      Effect.gen(function*() {
        const fixture = load("melexis-example")
        const file = write(
          "short.json",
          JSON.stringify({ eeprom: fixture.eeprom, frames: [fixture.frames[0]!.slice(1)] })
        )
        const line = yield* failure([file])
        assert.include(line, "frames.0")
      }))

    it.live("a missing file", () =>
      Effect.map(failure([join(dir, "nope.json")]), (line) => assert.include(line, "cannot read")))

    it.live("an EEPROM whose extraction fails, with its status", () =>
      Effect.gen(function*() {
        const fixture = load("melexis-example")
        const eeprom = [...fixture.eeprom]
        for (const pixel of [10, 200, 300, 500, 700]) eeprom[64 + pixel] = 0 // five broken pixels
        const line = yield* failure([write("broken.json", JSON.stringify({ eeprom, frames: fixture.frames }))])
        assert.include(line, "status -3")
      }))

    it.live("an emissivity outside (0, 1]", () =>
      Effect.map(
        decode(["--emissivity", "1.5", fixturePath("melexis-example")]),
        ({ exit }) => assert.isTrue(Exit.isFailure(exit))
      ))

    it.live("exits with code 1 and one line on stderr as a process", () =>
      Effect.gen(function*() {
        const { code, stderr, stdout } = yield* Effect.promise(() =>
          runToExit(["mlx90640", "decode", write("bad.json", "[]")], {}, dir)
        )
        assert.strictEqual(code, 1)
        assert.strictEqual(stdout, "")
        assert.strictEqual(stderr.trim().split("\n").length, 1)
        assert.match(stderr, /^ircam: DumpError: .*bad\.json/)
        rmSync(dir, { recursive: true, force: true })
      }))
  })
})
