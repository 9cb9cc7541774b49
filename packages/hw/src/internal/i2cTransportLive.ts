/**
 * The Linux I²C transport behind `I2cTransportLive.open`: i2c-bus for plain writes, our
 * `i2c_transfer` addon for combined write-then-read transfers (I2C_RDWR, which i2c-bus lacks).
 * Both native modules load when a bus is opened, never at import, so @ircam/hw imports on
 * machines where they did not build.
 */
import { Effect } from "effect"
import type * as I2cBusModule from "i2c-bus"
import { open as openFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { I2cError, type I2cTransport } from "../I2cBus.js"

/** The JavaScript side of `native/i2c_transfer.c`. */
export interface I2cTransferAddon {
  /**
   * One I2C_RDWR ioctl on `fd` (a /dev/i2c-N): write `writeBuffer` to `address`, repeated START,
   * read `readBuffer.length` bytes into `readBuffer`; off the main thread. `callback(null)` on
   * success, else an Error with the errno name as `code`. Bad arguments throw a TypeError.
   */
  readonly writeRead: (
    fd: number,
    address: number,
    writeBuffer: Uint8Array,
    readBuffer: Uint8Array,
    callback: (error: NodeJS.ErrnoException | null) => void
  ) => void
}

const require = createRequire(import.meta.url)

export const addonPath = "../../native/build/Release/i2c_transfer.node"

const notBuilt = (detail: string) =>
  new I2cError({
    operation: "open",
    code: "ENOSYS",
    message: `the native I²C helper (packages/hw/native) is not built (${detail}): ` +
      "build it with `npm rebuild @ircam/hw`, which needs python3, make and a C compiler"
  })

const errorText = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/** Loads the addon; `path` is relative to this module. */
export const loadAddon = (path: string = addonPath): Effect.Effect<I2cTransferAddon, I2cError> =>
  Effect.try({
    try: () => require(path) as Partial<I2cTransferAddon>,
    catch: (cause) => notBuilt(errorText(cause))
  }).pipe(
    Effect.filterOrFail(
      (addon): addon is I2cTransferAddon => typeof addon.writeRead === "function",
      () => notBuilt(`${path} has no writeRead`)
    )
  )

/** i2c-bus is an optional dependency: it is missing where its own native build failed. */
const loadI2cBus = Effect.try({
  try: () => require("i2c-bus") as typeof I2cBusModule,
  catch: (cause) =>
    new I2cError({
      operation: "open",
      code: "ENOSYS",
      message: `i2c-bus is not installed or did not build (${errorText(cause)}): ` +
        "run `npm install` again where python3, make and a C compiler are available"
    })
})

/** A string property of an error (Node's system errors have `code`, `syscall` and often `path`). */
const field = (cause: unknown, name: "code" | "path" | "syscall"): string | undefined => {
  const value = typeof cause === "object" && cause !== null ? (cause as Record<string, unknown>)[name] : undefined
  return typeof value === "string" ? value : undefined
}

/**
 * The I2cError for a failure of `operation` on `devicePath` (or the file the error names), with a hint where the errno says what is
 * wrong. Errors without an errno code (none, or Node's ERR_*) come from argument checks, ours, the
 * addon's or i2c-bus's: EINVAL.
 */
export const toI2cError = (operation: I2cError["operation"], devicePath: string, cause: unknown): I2cError => {
  const given = field(cause, "code")
  const code = given !== undefined && /^E[A-Z0-9]+$/.test(given) ? given : "EINVAL"
  const path = field(cause, "path") ?? devicePath
  const detail = errorText(cause)
  const message = (() => {
    switch (code) {
      case "ENOENT":
        return `${path} does not exist: is I²C enabled (raspi-config, or dtparam=i2c_arm=on in ` +
          "/boot/firmware/config.txt) and is I2C_BUS right?"
      case "EACCES":
      case "EPERM":
        return `permission denied on ${path}: add the user to the i2c group (sudo usermod -aG i2c $USER) ` +
          "and log in again"
      case "ENOTTY":
        return `${path} is not an I²C adapter (ENOTTY: ${detail})`
      case "ENXIO":
      case "EREMOTEIO":
        return `the device did not acknowledge (${code}: ${detail}): check its wiring, power and address`
      case "ETIMEDOUT":
        return `the bus timed out (ETIMEDOUT: ${detail}): SDA or SCL stuck low, or no pull-ups?`
      case "EIO":
        return `I/O error on the bus (EIO: ${detail}): check the wiring; long wires or a fast bus clock cause it too`
      case "EBUSY":
        return `busy (EBUSY: ${detail}): another bus master, or a kernel driver owns this address`
      case "EOPNOTSUPP":
        return `the adapter cannot do combined transfers (EOPNOTSUPP: ${detail})`
      default:
        return `${detail} (${code})`
    }
  })()
  return new I2cError({ operation, code, message })
}

/** Linux i2c-dev refuses longer messages (EINVAL). */
export const maxMessageBytes = 8192

export interface OpenOptions {
  readonly bus: number
  /** the adapter's character device; `/dev/i2c-<bus>` except in tests (i2c-bus writes there regardless) */
  readonly devicePath: string
  readonly maxReadBytes: number
  /** relative to this module */
  readonly addonPath?: string
}

const invalid = (message: string) => new I2cError({ operation: "open", code: "EINVAL", message })

export const open = Effect.fn("I2cTransportLive.open")(function*(options: OpenOptions) {
  const { bus, devicePath, maxReadBytes } = options
  if (!Number.isSafeInteger(bus) || bus < 0) {
    return yield* invalid(`I2C_BUS must be an integer >= 0, got ${bus}`)
  }
  if (!Number.isSafeInteger(maxReadBytes) || maxReadBytes < 1 || maxReadBytes > maxMessageBytes) {
    return yield* invalid(`maxReadBytes must be an integer from 1 to ${maxMessageBytes}, got ${maxReadBytes}`)
  }
  const addon = yield* loadAddon(options.addonPath)
  const i2cBus = yield* loadI2cBus

  const handle = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: () => openFile(devicePath, "r+"),
      catch: (cause) => toI2cError("open", devicePath, cause)
    }),
    (handle) => Effect.promise(() => handle.close().catch(() => undefined))
  )
  const fd = handle.fd
  // i2c-bus opens no file before the first write: this fails only for a bad bus number (checked above)
  const state = yield* Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => ({ current: await i2cBus.openPromisified(bus) }),
      catch: (cause) => toI2cError("open", devicePath, cause)
    }),
    (state) => Effect.promise(() => state.current.close().catch(() => undefined))
  )

  // Transfers in flight. The finalizer below runs first and waits for them: a descriptor closed
  // (and its number reused) under a queued transfer would send that transfer to another file.
  const pending = new Set<Promise<void>>()
  const track = <A>(promise: Promise<A>): Promise<A> => {
    const settled = promise.then(() => undefined, () => undefined)
    pending.add(settled)
    void settled.then(() => pending.delete(settled))
    return promise
  }
  let closed = false
  yield* Effect.addFinalizer(() =>
    Effect.promise(() => {
      closed = true
      return Promise.all(pending)
    })
  )
  const whenClosed = (operation: I2cError["operation"]) =>
    new I2cError({ operation, code: "EBADF", message: `${devicePath} is closed: the transport's scope has ended` })

  /**
   * i2c-bus keeps a device's descriptor even when selecting the address on it failed (say EBUSY,
   * a kernel driver owns the address), and later writes would go out to whatever address the
   * descriptor had. Start afresh on such a failure.
   */
  const renew = (failed: I2cBusModule.PromisifiedBus) =>
    Effect.promise(async () => {
      if (state.current !== failed) return
      state.current = await i2cBus.openPromisified(bus)
      await failed.close().catch(() => undefined)
    })

  const write = (address: number, bytes: Uint8Array): Effect.Effect<void, I2cError> =>
    Effect.suspend(() => {
      if (closed) return Effect.fail(whenClosed("write"))
      const current = state.current
      return Effect.tryPromise({
        try: () =>
          track(current.i2cWrite(address, bytes.length, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length))),
        catch: (cause) => cause
      }).pipe(
        Effect.asVoid,
        Effect.catchAll((cause) =>
          Effect.zipRight(
            field(cause, "syscall") === "setAddr" ? renew(current) : Effect.void,
            Effect.fail(toI2cError("write", devicePath, cause))
          )
        )
      )
    })

  const writeRead = (address: number, bytes: Uint8Array, into: Uint8Array): Effect.Effect<void, I2cError> =>
    Effect.async<void, I2cError>((resume) => {
      if (closed) return resume(Effect.fail(whenClosed("read")))
      // Not cancellable once queued: an interrupted transfer runs to its end (and fills `into`).
      track(
        new Promise<void>((settle) => {
          try {
            addon.writeRead(fd, address, bytes, into, (error) => {
              settle()
              resume(error === null ? Effect.void : Effect.fail(toI2cError("read", devicePath, error)))
            })
          } catch (error) {
            settle()
            resume(Effect.fail(toI2cError("read", devicePath, error)))
          }
        })
      )
    })

  return { write, writeRead, maxReadBytes } satisfies I2cTransport
})
