import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, TestClock } from "effect"
import * as EmulatedMlx90640 from "../src/EmulatedMlx90640.js"
import { I2cBus } from "../src/I2cBus.js"
import * as Raw from "../src/Mlx90640Raw.js"
import { CONTROL, EEPROM_WORDS, serialOf } from "../src/Mlx90640Registers.js"

const timing: Raw.Timing = { poll: Duration.millis(10), deadline: Duration.millis(1500) }

const withDevice = <A, E>(
  f: (bus: I2cBus["Type"], device: EmulatedMlx90640.EmulatedMlx90640Shape) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const bus = yield* I2cBus
    const device = yield* EmulatedMlx90640.EmulatedMlx90640
    return yield* f(bus, device)
  }).pipe(Effect.provide(EmulatedMlx90640.layer()))

/** Runs `effect` while the TestClock moves on in steps, so the emulated device measures. */
const driven = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 100; i++) yield* TestClock.adjust("50 millis")
    return yield* Fiber.await(fiber)
  })

describe("Mlx90640Raw", () => {
  it.effect("readEeprom: the 832 words, two reads agreeing", () =>
    withDevice((bus) =>
      Effect.gen(function*() {
        const eeprom = yield* Raw.readEeprom(bus)
        assert.lengthOf(eeprom, EEPROM_WORDS)
        assert.strictEqual(serialOf(eeprom), "1710a2240185")
        assert.strictEqual(yield* Raw.readControl(bus), (yield* bus.read(CONTROL, 1))[0])
      })
    ))

  it.effect("readSubPage: 834 words, sub-pages alternating, control and sub-page at the end", () =>
    withDevice((bus) =>
      Effect.gen(function*() {
        const exit = yield* driven(Effect.all([Raw.readSubPage(bus, timing), Raw.readSubPage(bus, timing)]))
        assert.isTrue(Exit.isSuccess(exit))
        if (Exit.isFailure(exit)) return
        const [a, b] = exit.value
        assert.lengthOf(a, 834)
        assert.strictEqual(a[832], yield* Raw.readControl(bus))
        assert.deepStrictEqual([a[833], b[833]], [0, 1])
      })
    ))

  it.effect("readSubPage: rejects unwritten words as CorruptFrame", () =>
    withDevice((bus, device) =>
      Effect.gen(function*() {
        yield* device.inject(new EmulatedMlx90640.CorruptFrames({ measurements: 1 }))
        const exit = yield* driven(Raw.readSubPage(bus, timing))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isSuccess(exit)) return
        const error = exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.strictEqual(error?.reason, "CorruptFrame")
      })
    ))

  it.effect("readSubPage: times out when data-ready never sets, and maps bus errors", () =>
    withDevice((bus, device) =>
      Effect.gen(function*() {
        yield* device.inject(new EmulatedMlx90640.StuckDataReady())
        const timeout = yield* driven(Raw.readSubPage(bus, timing))
        assert.isTrue(
          Exit.isFailure(timeout) && timeout.cause._tag === "Fail" && timeout.cause.error.reason === "Timeout"
        )
        yield* device.clearFaults
        yield* device.inject(new EmulatedMlx90640.BusError({ code: "EIO" }))
        const failed = yield* driven(Raw.readSubPage(bus, timing))
        assert.isTrue(Exit.isFailure(failed) && failed.cause._tag === "Fail" && failed.cause.error.reason === "Bus")
      })
    ))
})
