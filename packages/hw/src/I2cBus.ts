/**
 * I2cBus: one I²C device's 16-bit registers, as the MLX90640 (and Melexis' other sensors) expose
 * them. Register addresses and words go big-endian on the wire; a read is one combined
 * transaction (write the address, repeated START, read), because the MLX90640 forgets the
 * address at a STOP. Long reads are split into blocks no larger than the transport's message
 * limit, each with its own address.
 *
 * Built on an `I2cTransport`, which moves bytes: the Linux one (`I2cTransportLive`) and the
 * emulated MLX90640 (`EmulatedMlx90640`) both plug in here, so everything above the bytes is
 * the same code in production and in tests.
 */
import type { Duration } from "effect"
import { Context, Effect, Schema } from "effect"

export class I2cError extends Schema.TaggedError<I2cError>()("I2cError", {
  operation: Schema.Literal("open", "read", "write", "reset"),
  /** errno name (EIO, ENXIO, EREMOTEIO, ETIMEDOUT, ENOENT, EACCES …) */
  code: Schema.String,
  message: Schema.String
}) {}

/** errno codes that say the transfer failed this time, not that the bus cannot work (those are ENOENT, EACCES …). */
const transientCodes = new Set(["EIO", "EREMOTEIO", "ENXIO", "ETIMEDOUT", "EAGAIN", "EBUSY", "EPROTO", "EBADMSG"])

export const isTransient = (error: I2cError): boolean => transientCodes.has(error.code)

/** Moves bytes to and from devices on one bus. */
export interface I2cTransport {
  /** START, address+W, `bytes`, STOP. */
  readonly write: (address: number, bytes: Uint8Array) => Effect.Effect<void, I2cError>
  /** START, address+W, `bytes`, repeated START, address+R, `into.length` bytes into `into`, STOP. */
  readonly writeRead: (address: number, bytes: Uint8Array, into: Uint8Array) => Effect.Effect<void, I2cError>
  /** The most bytes one read message may carry (Linux i2c-dev: 8192). */
  readonly maxReadBytes: number
}

export interface I2cBusShape {
  readonly bus: number
  /** the device's 7-bit address */
  readonly address: number
  /** `words` 16-bit registers from `register` on. */
  readonly read: (register: number, words: number) => Effect.Effect<Uint16Array, I2cError>
  readonly write: (register: number, value: number) => Effect.Effect<void, I2cError>
  /** The I²C general-call reset (address 0, byte 0x06): every device on the bus that supports it restarts. */
  readonly generalReset: Effect.Effect<void, I2cError>
}

export class I2cBus extends Context.Tag("@ircam/hw/I2cBus")<I2cBus, I2cBusShape>() {}

export interface Options {
  readonly bus: number
  readonly address: number
  /**
   * A transfer that takes longer than this fails with ETIMEDOUT (default 500 ms: the longest
   * MLX90640 read, the 1664-byte EEPROM at 100 kHz, takes about 150 ms).
   */
  readonly timeout?: Duration.DurationInput
}

export const hex = (n: number, digits = 4): string => `0x${n.toString(16).toUpperCase().padStart(digits, "0")}`

export const make = (transport: I2cTransport, options: Options): I2cBusShape => {
  const { address, bus } = options
  const timeout = options.timeout ?? "500 millis"
  const blockWords = Math.max(1, Math.floor(transport.maxReadBytes / 2))

  const guarded = <A>(
    effect: Effect.Effect<A, I2cError>,
    operation: I2cError["operation"],
    what: string
  ): Effect.Effect<A, I2cError> =>
    effect.pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => new I2cError({ operation, code: "ETIMEDOUT", message: "no answer in time" })
      }),
      Effect.mapError((error) =>
        new I2cError({
          operation,
          code: error.code,
          message: `I²C ${what} (bus ${bus}, device ${hex(address, 2)}) failed (${error.code}): ${error.message}`
        })
      )
    )

  const readBlock = (register: number, words: number, into: Uint16Array, at: number) =>
    Effect.suspend(() => {
      const bytes = new Uint8Array(words * 2)
      return transport.writeRead(address, Uint8Array.of(register >> 8, register & 0xff), bytes).pipe(
        Effect.map(() => {
          for (let i = 0; i < words; i++) into[at + i] = (bytes[2 * i]! << 8) | bytes[2 * i + 1]!
        })
      )
    })

  return {
    bus,
    address,
    read: (register, words) =>
      Effect.suspend(() => {
        const result = new Uint16Array(words)
        const blocks: Array<Effect.Effect<void, I2cError>> = []
        for (let at = 0; at < words; at += blockWords) {
          blocks.push(readBlock(register + at, Math.min(blockWords, words - at), result, at))
        }
        return Effect.as(Effect.all(blocks, { discard: true }), result)
      }).pipe((read) => guarded(read, "read", `read of ${words} word(s) at ${hex(register)}`)),
    write: (register, value) =>
      guarded(
        transport.write(address, Uint8Array.of(register >> 8, register & 0xff, (value >> 8) & 0xff, value & 0xff)),
        "write",
        `write of ${hex(value)} to ${hex(register)}`
      ),
    generalReset: guarded(transport.write(0x00, Uint8Array.of(0x06)), "reset", "general-call reset")
  }
}
