/**
 * Where an export goes: stdout (waiting until the OS has it: a pipe may be slower than the exit)
 * or a file (its failure a StorageError naming the file).
 */
import { FileSystem, Path } from "@effect/platform"
import { StorageError } from "@ircam/core/StorageError"
import { Effect } from "effect"

/** Writes to stdout and waits until it is handed to the OS. */
export const writeStdout = (text: string) =>
  Effect.async<void>((resume) => {
    process.stdout.write(text, () => resume(Effect.void))
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
