/**
 * ircam's core embedded in another Effect program. The code between the README markers is the
 * README's example, as it is: keep it short and readable.
 */
import { afterEach, assert, describe, it, vi } from "@effect/vitest"
import { readFileSync } from "node:fs"

// README:embed:start
import { AppConfig } from "@ircam/core/AppConfig"
import * as Core from "@ircam/core/Core"
import { Monitor } from "@ircam/core/Monitor"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Console, Effect, Layer, Option, Stream } from "effect"

// The monitor loop, the zones (SQLite) and health, fed by the simulated scene
const IrcamLive = Core.layer.pipe(
  Layer.provide(SimulatedSensor.layer()),
  Layer.provide(AppConfig.layerWith({ databasePath: ":memory:" }))
)

const program = Effect.gen(function*() {
  const zones = yield* ZoneRepo
  const monitor = yield* Monitor

  const plate = yield* zones.create({ name: "hot plate", x: 24, y: 4, width: 4, height: 3 })

  // the zone's statistics on the first frame measured since the zone exists
  const stats = yield* Stream.unwrapScoped(monitor.changes).pipe(
    Stream.filterMap((snapshot) => Option.fromNullable(snapshot.zones.find((z) => z.zoneId === plate.id))),
    Stream.runHead,
    Effect.flatten
  )
  yield* Console.log(
    `${plate.name}: ${stats.average.toFixed(1)} °C (min ${stats.min.toFixed(1)}, max ${stats.max.toFixed(1)})`
  )
  return stats
})

// run it: Effect.runPromise(program.pipe(Effect.provide(IrcamLive)))
// README:embed:end

afterEach(() => {
  vi.restoreAllMocks()
})

describe("embedding ircam's core", () => {
  it.live("creates a zone and reads its statistics from the monitor", () =>
    Effect.gen(function*() {
      const printed: Array<string> = []
      vi.spyOn(console, "log").mockImplementation((line: unknown) => {
        printed.push(String(line))
      })

      const stats = yield* program.pipe(Effect.provide(IrcamLive))

      assert.isTrue(stats.min <= stats.average && stats.average <= stats.max)
      assert.isAbove(stats.min, 15)
      assert.isBelow(stats.max, 100)
      // the program's one line, among the core's own log lines (Effect's default logger also uses console.log)
      const lines = printed.filter((line) => line.startsWith("hot plate"))
      assert.lengthOf(lines, 1)
      assert.match(lines[0]!, /^hot plate: \d+\.\d °C \(min \d+\.\d, max \d+\.\d\)$/)
    }))
})

describe("the README", () => {
  it("shows this example as it is", () => {
    const source = readFileSync(new URL(import.meta.url), "utf8")
    const example = source.split("// README:embed:start\n")[1]!.split("// README:embed:end")[0]!.trim()
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    assert.include(readme, "```ts\n" + example + "\n```")
  })
})
