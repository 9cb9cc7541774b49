/**
 * Where an export goes: stdout (waiting until the OS has it: a pipe may be slower than the exit)
 * or a file (its failure a StorageError naming the file).
 */
import { FileSystem, Path } from "@effect/platform"
import { StorageError } from "@ircam/core/StorageError"
import { Effect, Sink, Stream } from "effect"

/** Writes to stdout and waits until it is handed to the OS. */
export const writeStdout = (text: string) =>
  Effect.async<void>((resume) => {
    process.stdout.write(text, () => resume(Effect.void))
  })

/** Writes `bytes` to stdout as they come, each chunk handed to the OS before the next is taken. */
export const streamStdout = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>) =>
  Stream.runForEach(
    bytes,
    (chunk) => Effect.async<void>((resume) => void process.stdout.write(chunk, () => resume(Effect.void)))
  )

/** Writes `bytes` to `file` (relative to the working directory) as they come; answers its absolute path. */
export const streamFile = <E, R>(file: string, bytes: Stream.Stream<Uint8Array, E, R>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const absolute = (yield* Path.Path).resolve(file)
    yield* Stream.run(
      bytes,
      fs.sink(absolute).pipe(
        Sink.mapError((error) => new StorageError({ message: `cannot write ${absolute}: ${error.message}` }))
      )
    )
    return absolute
  })

/** Writes `text` to `file` (relative to the working directory); answers its absolute path. */
export const writeFile = (file: string, text: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const absolute = (yield* Path.Path).resolve(file)
    yield* fs.writeFileString(absolute, text).pipe(
      Effect.mapError((error) => new StorageError({ message: `cannot write ${absolute}: ${error.message}` }))
    )
    return absolute
  })
