/**
 * I2cTransportLive: the `I2cTransport` on a Linux I²C adapter, `/dev/i2c-<bus>`.
 *
 * Plain writes (and the general-call reset) go through i2c-bus. Reads are one combined
 * transaction (write the register address, repeated START, read), which i2c-bus cannot do, so
 * they go through our small addon (`packages/hw/native`), one I2C_RDWR ioctl each, off the main
 * thread. Both native modules load at `open`, not at import.
 *
 * Failures are `I2cError`s with the errno name as `code` and, where the errno says what is wrong,
 * what to do on a Raspberry Pi (enable I²C, join the i2c group, check the wiring).
 */
import type { Effect, Scope } from "effect"
import type { I2cError, I2cTransport } from "./I2cBus.js"
import * as internal from "./internal/i2cTransportLive.js"

export interface Options {
  /** The most bytes one read message may carry: 1 to 8192 (Linux i2c-dev's limit, the default). */
  readonly maxReadBytes?: number
}

/**
 * Opens I²C bus `bus`; the scope's end waits for transfers in flight, then closes the bus.
 * Fails with ENOENT or EACCES if `/dev/i2c-<bus>` is missing or not ours, with ENOSYS if the
 * native helpers are not built, with EINVAL for a bad bus number or option.
 */
export const open = (bus: number, options?: Options): Effect.Effect<I2cTransport, I2cError, Scope.Scope> =>
  internal.open({
    bus,
    devicePath: `/dev/i2c-${bus}`,
    maxReadBytes: options?.maxReadBytes ?? internal.maxMessageBytes
  })
