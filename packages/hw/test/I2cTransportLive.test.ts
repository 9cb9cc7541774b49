import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Option, Scope } from "effect"
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { I2cError, make as makeBus } from "../src/I2cBus.js"
import * as I2cTransportLive from "../src/I2cTransportLive.js"
import { type I2cTransferAddon, loadAddon, open, toI2cError } from "../src/internal/i2cTransportLive.js"

/** The typed failure of `exit`, which must be an I2cError. */
const failure = <A>(exit: Exit.Exit<A, I2cError>): I2cError => {
  if (Exit.isSuccess(exit)) return assert.fail("expected a failure")
  const error = Cause.failureOption(exit.cause)
  if (Option.isNone(error)) return assert.fail(`expected an I2cError, got ${Cause.pretty(exit.cause)}`)
  assert.instanceOf(error.value, I2cError)
  return error.value
}

/** A plain file standing in for an adapter's device file: it opens, but it is no I²C adapter. */
const tempDevice = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "i2c-transport-"))
    const path = join(dir, "not-an-adapter")
    writeFileSync(path, "")
    return path
  }),
  (path) => Effect.sync(() => rmSync(join(path, ".."), { recursive: true, force: true }))
)

/** The transport on a plain file; writes go to i2c-bus's /dev/i2c-250, which does not exist. */
const openOnTempFile = (maxReadBytes = 8192) =>
  Effect.flatMap(tempDevice, (devicePath) => open({ bus: 250, devicePath, maxReadBytes }))

/** The addon's writeRead as a promise of its callback's error. */
const writeReadError = (addon: I2cTransferAddon, fd: number, readBuffer = new Uint8Array(4)) =>
  new Promise<NodeJS.ErrnoException | null>((resolve) =>
    addon.writeRead(fd, 0x33, Uint8Array.of(0x24, 0x00), readBuffer, resolve)
  )

const withFd = <A>(path: string, use: (fd: number) => Promise<A>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => openSync(path, "r+")),
    (fd) => Effect.promise(() => use(fd)),
    (fd) => Effect.sync(() => closeSync(fd))
  )

describe("I2cTransportLive.open", () => {
  it.scoped("a bus that does not exist fails with ENOENT, naming the device file and I2C_BUS", () =>
    Effect.gen(function*() {
      const error = failure(yield* Effect.exit(I2cTransportLive.open(250)))
      assert.strictEqual(error.operation, "open")
      assert.strictEqual(error.code, "ENOENT")
      assert.include(error.message, "/dev/i2c-250 does not exist")
      assert.include(error.message, "I2C_BUS")
      assert.include(error.message, "dtparam=i2c_arm=on")
    }))

  it.scoped("a bad bus number or maxReadBytes fails with EINVAL before anything is opened", () =>
    Effect.gen(function*() {
      for (const bus of [-1, 1.5, Number.NaN]) {
        const error = failure(yield* Effect.exit(I2cTransportLive.open(bus)))
        assert.deepStrictEqual([error.operation, error.code], ["open", "EINVAL"])
        assert.include(error.message, "I2C_BUS")
      }
      for (const maxReadBytes of [0, 8193, 2.5]) {
        const error = failure(yield* Effect.exit(I2cTransportLive.open(1, { maxReadBytes })))
        assert.deepStrictEqual([error.operation, error.code], ["open", "EINVAL"])
        assert.include(error.message, `maxReadBytes must be an integer from 1 to 8192, got ${maxReadBytes}`)
      }
    }))

  it.scoped("without the built addon, open fails with ENOSYS and says how to build it", () =>
    Effect.gen(function*() {
      const devicePath = yield* tempDevice
      const exit = yield* Effect.exit(
        open({ bus: 250, devicePath, maxReadBytes: 8192, addonPath: "../../native/build/Release/missing.node" })
      )
      const error = failure(exit)
      assert.deepStrictEqual([error.operation, error.code], ["open", "ENOSYS"])
      assert.include(error.message, "native I²C helper")
      assert.include(error.message, "npm rebuild @ircam/hw")
      assert.include(error.message, "python3, make and a C compiler")
    }))
})

describe("the i2c_transfer addon", () => {
  it.effect("is built and loads (CI builds it from source on npm install)", () =>
    Effect.gen(function*() {
      const addon = yield* loadAddon()
      assert.strictEqual(typeof addon.writeRead, "function")
    }))

  it.effect("a module without writeRead is not taken for the addon", () =>
    Effect.gen(function*() {
      const error = failure(yield* Effect.exit(loadAddon("node:os")))
      assert.strictEqual(error.code, "ENOSYS")
      assert.include(error.message, "has no writeRead")
    }))

  it.effect("a transfer on a descriptor that is no I²C adapter calls back with ENOTTY and leaves the buffer", () =>
    Effect.gen(function*() {
      const addon = yield* loadAddon()
      const readBuffer = new Uint8Array(4).fill(0xa5)
      const error = yield* withFd("/dev/null", (fd) => writeReadError(addon, fd, readBuffer))
      assert.instanceOf(error, Error)
      assert.strictEqual(error?.code, "ENOTTY")
      assert.strictEqual(error?.errno, -25)
      assert.strictEqual(error?.syscall, "ioctl")
      assert.strictEqual(error?.message, "Inappropriate ioctl for device")
      assert.deepStrictEqual([...readBuffer], [0xa5, 0xa5, 0xa5, 0xa5])
    }))

  it.scoped("a regular file gives ENOTTY and a closed descriptor EBADF", () =>
    Effect.gen(function*() {
      const addon = yield* loadAddon()
      const path = yield* tempDevice
      assert.strictEqual((yield* withFd(path, (fd) => writeReadError(addon, fd)))?.code, "ENOTTY")
      const fd = openSync(path, "r")
      closeSync(fd)
      const closed = yield* Effect.promise(() => writeReadError(addon, fd))
      assert.strictEqual(closed?.code, "EBADF")
      assert.strictEqual(closed?.message, "Bad file descriptor")
    }))

  it.effect("many transfers at once all come back", () =>
    Effect.gen(function*() {
      const addon = yield* loadAddon()
      const codes = yield* withFd(
        "/dev/null",
        (fd) => Promise.all(Array.from({ length: 32 }, () => writeReadError(addon, fd).then((e) => e?.code)))
      )
      assert.deepStrictEqual(new Set(codes), new Set(["ENOTTY"]))
    }))

  it.effect("accepts a Buffer and a Uint8Array view into a larger buffer", () =>
    Effect.gen(function*() {
      const addon = yield* loadAddon()
      const view = new Uint8Array(new ArrayBuffer(64), 8, 16)
      const error = yield* withFd("/dev/null", (fd) =>
        new Promise<NodeJS.ErrnoException | null>((resolve) =>
          addon.writeRead(fd, 0x7f, Buffer.from([0x80, 0x0d]), view, resolve)
        ))
      assert.strictEqual(error?.code, "ENOTTY")
    }))

  it.effect("bad arguments throw a TypeError at once", () =>
    Effect.gen(function*() {
      const addon = yield* loadAddon()
      const bytes = new Uint8Array(2)
      const callback = () => assert.fail("no callback after a TypeError")
      const call = (...args: ReadonlyArray<unknown>) => () =>
        (addon.writeRead as unknown as (...args: ReadonlyArray<unknown>) => void)(...args)
      const cases: ReadonlyArray<readonly [ReadonlyArray<unknown>, string]> = [
        [[], "takes 5 arguments"],
        [[0, 0x33, bytes, bytes], "takes 5 arguments"],
        [[-1, 0x33, bytes, bytes, callback], "fd must be"],
        [[1.5, 0x33, bytes, bytes, callback], "fd must be"],
        [["3", 0x33, bytes, bytes, callback], "fd must be"],
        [[Number.NaN, 0x33, bytes, bytes, callback], "fd must be"],
        [[2 ** 31, 0x33, bytes, bytes, callback], "fd must be"],
        [[0, 0x80, bytes, bytes, callback], "7-bit I2C address"],
        [[0, -1, bytes, bytes, callback], "7-bit I2C address"],
        [[0, 0x33, [0x24, 0x00], bytes, callback], "writeBuffer must be"],
        [[0, 0x33, new Uint16Array(1), bytes, callback], "writeBuffer must be"],
        [[0, 0x33, new Uint8Array(0), bytes, callback], "writeBuffer must be"],
        [[0, 0x33, bytes, new Uint8Array(65536), callback], "readBuffer must be"],
        [[0, 0x33, bytes, new DataView(new ArrayBuffer(2)), callback], "readBuffer must be"],
        [[0, 0x33, bytes, null, callback], "readBuffer must be"],
        [[0, 0x33, bytes, bytes, "callback"], "callback must be a function"]
      ]
      for (const [args, message] of cases) {
        assert.throws(call(...args), TypeError, message)
      }
    }))
})

describe("the transport", () => {
  it.scoped("a read on a file that is no adapter fails with ENOTTY, naming the file; `into` is left alone", () =>
    Effect.gen(function*() {
      const transport = yield* openOnTempFile()
      assert.strictEqual(transport.maxReadBytes, 8192)
      const into = new Uint8Array(8).fill(1)
      const error = failure(yield* Effect.exit(transport.writeRead(0x33, Uint8Array.of(0x24, 0x00), into)))
      assert.deepStrictEqual([error.operation, error.code], ["read", "ENOTTY"])
      assert.match(error.message, /i2c-transport-.*not-an-adapter is not an I²C adapter \(ENOTTY: Inappropriate ioctl/)
      assert.deepStrictEqual([...into], [1, 1, 1, 1, 1, 1, 1, 1])
    }))

  it.scoped("maxReadBytes is what was asked for", () =>
    Effect.map(openOnTempFile(1664), (transport) => assert.strictEqual(transport.maxReadBytes, 1664)))

  it.scoped("a read the addon refuses (address over 0x7F) fails with EINVAL", () =>
    Effect.gen(function*() {
      const transport = yield* openOnTempFile()
      const error = failure(yield* Effect.exit(transport.writeRead(0x80, Uint8Array.of(0), new Uint8Array(2))))
      assert.deepStrictEqual([error.operation, error.code], ["read", "EINVAL"])
      assert.include(error.message, "7-bit I2C address")
    }))

  it.scoped("a write goes through i2c-bus, whose errors are mapped the same way", () =>
    Effect.gen(function*() {
      const transport = yield* openOnTempFile()
      const error = failure(yield* Effect.exit(transport.write(0x33, Uint8Array.of(0x80, 0x0d, 0x19, 0x01))))
      assert.deepStrictEqual([error.operation, error.code], ["write", "ENOENT"])
      assert.include(error.message, "/dev/i2c-250 does not exist")
      const invalid = failure(yield* Effect.exit(transport.write(0x80, Uint8Array.of(0))))
      assert.deepStrictEqual([invalid.operation, invalid.code], ["write", "EINVAL"])
      assert.include(invalid.message, "Invalid I2C address")
    }))

  it.scoped("I2cBus on top of it reports the failed read with the register and the errno", () =>
    Effect.gen(function*() {
      const bus = makeBus(yield* openOnTempFile(), { bus: 250, address: 0x33 })
      const error = failure(yield* Effect.exit(bus.read(0x2407, 4)))
      assert.deepStrictEqual([error.operation, error.code], ["read", "ENOTTY"])
      assert.include(error.message, "I²C read of 4 word(s) at 0x2407 (bus 250, device 0x33) failed")
    }))

  it.effect("after its scope ends, the transport fails with EBADF instead of touching a closed descriptor", () =>
    Effect.gen(function*() {
      const transport = yield* Effect.scoped(openOnTempFile())
      const read = failure(yield* Effect.exit(transport.writeRead(0x33, Uint8Array.of(0), new Uint8Array(2))))
      assert.deepStrictEqual([read.operation, read.code], ["read", "EBADF"])
      assert.include(read.message, "is closed")
      const write = failure(yield* Effect.exit(transport.write(0x33, Uint8Array.of(0))))
      assert.deepStrictEqual([write.operation, write.code], ["write", "EBADF"])
    }))

  it.effect("closing the scope with transfers in flight: each still ends with its own result", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const transport = yield* Scope.extend(openOnTempFile(), scope)
      const fibers = yield* Effect.forEach(
        Array.from({ length: 32 }, () => transport.writeRead(0x33, Uint8Array.of(0), new Uint8Array(2))),
        (transfer) => Effect.forkDaemon(Effect.flip(transfer))
      )
      yield* Effect.yieldNow()
      yield* Scope.close(scope, Exit.void)
      const codes = yield* Effect.forEach(fibers, (fiber) => Effect.map(Fiber.join(fiber), (error) => error.code))
      // not EBADF: no queued ioctl met a closed descriptor (libuv's FIFO pool helps here too, the wait makes it sure)
      assert.deepStrictEqual(new Set(codes), new Set(["ENOTTY"]))
    }))
})

describe("toI2cError", () => {
  const errno = (code: string, message: string, extra: Record<string, string> = {}) =>
    Object.assign(new Error(message), { code, ...extra })

  it("explains the errno codes a Raspberry Pi user can act on", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["EACCES", "permission denied on /dev/i2c-1: add the user to the i2c group (sudo usermod -aG i2c $USER)"],
      ["EPERM", "permission denied on /dev/i2c-1"],
      ["ENXIO", "the device did not acknowledge (ENXIO: boom): check its wiring, power and address"],
      ["EREMOTEIO", "the device did not acknowledge (EREMOTEIO: boom)"],
      ["ETIMEDOUT", "the bus timed out (ETIMEDOUT: boom): SDA or SCL stuck low"],
      ["EIO", "I/O error on the bus (EIO: boom): check the wiring"],
      ["EBUSY", "busy (EBUSY: boom): another bus master, or a kernel driver owns this address"],
      ["EOPNOTSUPP", "the adapter cannot do combined transfers (EOPNOTSUPP: boom)"],
      ["EPROTO", "boom (EPROTO)"]
    ]
    for (const [code, message] of cases) {
      const error = toI2cError("read", "/dev/i2c-1", errno(code, "boom"))
      assert.deepStrictEqual([error.operation, error.code], ["read", code])
      assert.include(error.message, message)
    }
  })

  it("names the file the error names, else the adapter's", () => {
    assert.include(
      toI2cError("write", "/dev/i2c-1", errno("ENOENT", "x", { path: "/dev/i2c-7" })).message,
      "/dev/i2c-7 does not exist"
    )
    assert.include(toI2cError("open", "/dev/i2c-1", errno("ENOENT", "x")).message, "/dev/i2c-1 does not exist")
  })

  it("an error without an errno code is an argument error: EINVAL", () => {
    const error = toI2cError("write", "/dev/i2c-1", new Error("Invalid I2C address 200"))
    assert.deepStrictEqual(
      [error.operation, error.code, error.message],
      ["write", "EINVAL", "Invalid I2C address 200 (EINVAL)"]
    )
    const typeError = Object.assign(new TypeError("fd must be a file descriptor"), { code: "ERR_INVALID_ARG_TYPE" })
    assert.strictEqual(toI2cError("read", "/dev/i2c-1", typeError).code, "EINVAL")
    assert.strictEqual(toI2cError("reset", "/dev/i2c-1", "odd").message, "odd (EINVAL)")
  })
})
