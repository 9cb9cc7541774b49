/**
 * Mlx90640Raw: the MLX90640's raw words, as the driver reads them and as dumps record them
 * (`Mlx90640Dump`): the 832 EEPROM words, and each sub-page as 834 words (832 RAM words
 * 0x0400..0x073F, the control register, the sub-page number from status bit 0).
 *
 * Shared by the driver (`Mlx90640Sensor`) and the maintenance CLI (`ircam sensor …`), so a
 * capture for a bug report is read exactly as the driver reads.
 */
import { SensorError } from "@ircam/core/Sensor"
import { Duration, Effect, Schedule } from "effect"
import { type I2cBusShape, type I2cError, isTransient } from "./I2cBus.js"
import { FRAME_WORDS, subPageOf } from "./Mlx90640Frame.js"
import * as Registers from "./Mlx90640Registers.js"

/** Start-up transfers: a few quick retries (50, 100, 200 ms) of transient errors only. */
export const startupRetry = Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

export interface Timing {
  /** time between status polls while waiting for a sub-page */
  readonly poll: Duration.Duration
  /** a sub-page that has not arrived by then is a timeout */
  readonly deadline: Duration.Duration
}

export const busError = (error: I2cError): SensorError =>
  new SensorError({ reason: "Bus", message: error.message, cause: error })

const sameWords = (a: Uint16Array, b: Uint16Array) => a.every((word, i) => word === b[i])

/** The control register (one read, no retry). */
export const readControl = (bus: I2cBusShape): Effect.Effect<number, I2cError> =>
  bus.read(Registers.CONTROL, 1).pipe(Effect.map((words) => words[0]!))

/**
 * The 832 EEPROM words, read until two consecutive reads agree (at most 5 reads; transient bus
 * errors retried), so a bus glitch cannot become a wrong calibration.
 */
export const readEeprom = (bus: I2cBusShape): Effect.Effect<Uint16Array, SensorError | I2cError> =>
  Effect.gen(function*() {
    const read = bus.read(Registers.EEPROM_START, Registers.EEPROM_WORDS).pipe(
      Effect.retry({ schedule: startupRetry, while: isTransient })
    )
    let previous = yield* read
    for (let attempt = 0; attempt < 4; attempt++) {
      const next = yield* read
      if (sameWords(previous, next)) return next
      previous = next
    }
    return yield* new SensorError({
      reason: "Calibration",
      message: "the EEPROM reads differently every time: the I²C bus is unreliable " +
        "(check the wiring, the pull-up resistors and the bus clock)"
    })
  })

/** Polls the status register every `timing.poll` until "new data", failing with a timeout after `timing.deadline`. */
export const waitForData = (bus: I2cBusShape, timing: Timing): Effect.Effect<number, SensorError> =>
  bus.read(Registers.STATUS, 1).pipe(
    Effect.map((words) => words[0]!),
    Effect.repeat({
      schedule: Schedule.addDelay(Schedule.identity<number>(), () => timing.poll),
      until: (status) => (status & Registers.STATUS_DATA_READY) !== 0
    }),
    Effect.mapError(busError),
    Effect.timeoutFail({
      duration: timing.deadline,
      onTimeout: () =>
        new SensorError({
          reason: "Timeout",
          message: `no new data from the MLX90640 within ${Duration.format(timing.deadline)}`
        })
    })
  )

/**
 * Waits for the next sub-page, clears "new data" (before reading, as the reference does, so the
 * next measurement is not held up) and reads it: 834 words, not checked for unwritten words.
 */
export const readSubPageUnchecked = (bus: I2cBusShape, timing: Timing): Effect.Effect<Uint16Array, SensorError> =>
  Effect.gen(function*() {
    const status = yield* waitForData(bus, timing)
    const [ram, control] = yield* Effect.all([
      Effect.zipRight(
        bus.write(Registers.STATUS, Registers.STATUS_CLEAR),
        bus.read(Registers.RAM_START, Registers.RAM_WORDS)
      ),
      readControl(bus)
    ]).pipe(Effect.mapError(busError))
    const frame = new Uint16Array(FRAME_WORDS)
    frame.set(ram)
    frame[FRAME_WORDS - 2] = control
    frame[FRAME_WORDS - 1] = status & Registers.STATUS_SUBPAGE
    return frame
  })

/** Fails with `CorruptFrame` if the frame's RAM words hold unwritten words (0x7FFF) of its sub-page. */
export const checkWritten = (frame: Uint16Array): Effect.Effect<Uint16Array, SensorError> => {
  const subPage = subPageOf(frame)
  return Registers.hasUnwrittenWords(frame, subPage)
    ? new SensorError({
      reason: "CorruptFrame",
      message: `sub-page ${subPage} held unwritten words (0x7FFF); rejected`
    })
    : Effect.succeed(frame)
}

/** `readSubPageUnchecked`, rejecting a read that holds unwritten words (`CorruptFrame`). */
export const readSubPage = (bus: I2cBusShape, timing: Timing): Effect.Effect<Uint16Array, SensorError> =>
  Effect.flatMap(readSubPageUnchecked(bus, timing), checkWritten)
