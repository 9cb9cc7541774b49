/**
 * `ircam mlx90640 …`: tools for the MLX90640 calibration math (the options are in Commands.ts).
 */
import { FileSystem } from "@effect/platform"
import * as Mlx90640Dump from "@ircam/hw/Mlx90640Dump"
import { Console, Effect } from "effect"
import type { DecodeOptions } from "./Commands.js"

/** `ircam mlx90640 decode`. */
export const decode = ({ dump, emissivity, trOffset }: DecodeOptions) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(dump).pipe(
      Effect.mapError((error) => new Mlx90640Dump.DumpError({ message: `cannot read ${dump}: ${error.message}` }))
    )
    const decoded = Mlx90640Dump.decode(yield* Mlx90640Dump.parse(text, dump), { emissivity, trOffset })
    if (decoded.status !== 0) {
      return yield* new Mlx90640Dump.DumpError({
        message: `${dump}: parameter extraction failed with status ${decoded.status} (${
          Mlx90640Dump.explainStatus(decoded.status)
        })`
      })
    }
    yield* Console.log(JSON.stringify(decoded))
  })
