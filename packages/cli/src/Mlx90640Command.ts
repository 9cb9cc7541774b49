/**
 * `ircam mlx90640 …`: tools for the MLX90640 calibration math.
 */
import { Args, Command, Options } from "@effect/cli"
import { FileSystem } from "@effect/platform"
import * as Mlx90640Dump from "@ircam/hw/Mlx90640Dump"
import { Console, Effect, Schema } from "effect"

const Emissivity = Schema.Number.pipe(
  Schema.greaterThan(0),
  Schema.lessThanOrEqualTo(1),
  Schema.annotations({ message: () => "--emissivity must be greater than 0 and at most 1" })
)

const decode = Command.make("decode", {
  dump: Args.text({ name: "dump.json" }).pipe(
    Args.withDescription("a JSON file with `eeprom` (832 words) and `frames` (834 words each), as in the fixtures")
  ),
  emissivity: Options.float("emissivity").pipe(
    Options.withSchema(Emissivity),
    Options.withDefault(Mlx90640Dump.defaultOptions.emissivity),
    Options.withDescription("emissivity of the scene, 0 < e ≤ 1")
  ),
  trOffset: Options.float("tr-offset").pipe(
    Options.withDefault(Mlx90640Dump.defaultOptions.trOffset),
    Options.withDescription("reflected temperature relative to the sensor's Ta, °C")
  )
}, ({ dump, emissivity, trOffset }) =>
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
  })).pipe(
    Command.withDescription(
      "Replay a dump through the calibration math: prints {status, frames: [{subpage, vdd, ta, to}], temperatures}.\n" +
        "Example: ircam mlx90640 decode dump.json --emissivity 0.98 --tr-offset -5"
    )
  )

export const command = Command.make("mlx90640").pipe(
  Command.withDescription("MLX90640 tools: decode recorded EEPROM and frames"),
  Command.withSubcommands([decode])
)
