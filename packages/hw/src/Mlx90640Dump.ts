/**
 * MLX90640 dumps: the raw EEPROM and frames of a sensor, in the layout of the reference vectors
 * (`eeprom`: 832 words 0x2400..0x273F; `frames[i]`: 832 RAM words 0x0400..0x073F, the control
 * register, the sub-page number). Bug reports and recordings use it; `decode` replays one through
 * the calibration math.
 */
import { Effect, ParseResult, Schema } from "effect"
import { correctBadPixels, FRAME_WORDS, makeDecoder, subPageOf } from "./Mlx90640Frame.js"
import { EEPROM_WORDS, extractParameters } from "./Mlx90640Parameters.js"

const Word = Schema.Int.pipe(Schema.between(0, 0xffff)).annotations({
  message: () => "expected a 16-bit word 0..65535"
})

export const Dump = Schema.Struct({
  eeprom: Schema.Array(Word).pipe(Schema.itemsCount(EEPROM_WORDS)),
  frames: Schema.NonEmptyArray(Schema.Array(Word).pipe(Schema.itemsCount(FRAME_WORDS)))
})
export type Dump = typeof Dump.Type

export class DumpError extends Schema.TaggedError<DumpError>()("DumpError", { message: Schema.String }) {}

/** Reads a dump from JSON text; a malformed one fails with the first problem, in one line. */
export const parse = (text: string, source: string): Effect.Effect<Dump, DumpError> =>
  Schema.decodeUnknown(Schema.parseJson(Dump))(text).pipe(
    Effect.mapError((error) => {
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : ""
      return new DumpError({ message: `${source} is not an MLX90640 dump${where}: ${issue?.message ?? error.message}` })
    })
  )

export interface DecodeOptions {
  readonly emissivity: number
  /** reflected temperature relative to Ta, °C */
  readonly trOffset: number
}

export const defaultOptions: DecodeOptions = { emissivity: 0.95, trOffset: -8 }

export interface DecodedFrame {
  readonly subpage: 0 | 1
  readonly vdd: number
  readonly ta: number
  /** 768 temperatures from this frame alone; null for the other sub-page's pixels */
  readonly to: ReadonlyArray<number | null>
}

export interface Decoded {
  /** the parameter extraction status, 0 when fine */
  readonly status: number
  readonly frames: ReadonlyArray<DecodedFrame>
  /** every frame folded in order into one image, then bad-pixel corrected */
  readonly temperatures: ReadonlyArray<number>
}

const statusMeanings: Record<number, string> = {
  [-3]: "more than 4 broken pixels",
  [-4]: "more than 4 outlier pixels",
  [-5]: "more than 4 broken and outlier pixels together",
  [-6]: "two deviating pixels are neighbours"
}

/** What a non-zero parameter extraction status means. */
export const explainStatus = (status: number): string => statusMeanings[status] ?? "unknown extraction status"

/** The shortest decimal that reads back to the same float32, so output carries no false digits. */
export const shortestFloat32 = (value: number): number => {
  if (!Number.isFinite(value)) return value
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits))
    if (Math.fround(candidate) === value) return candidate
  }
  return Number(value.toPrecision(9))
}

/**
 * Replays `dump` through the calibration math: per frame its sub-page's temperatures, then all
 * frames folded and bad-pixel corrected (mode from the last frame's control register, bit 12).
 */
export const decode = (dump: Dump, options: DecodeOptions = defaultOptions): Decoded => {
  const { params, status } = extractParameters(dump.eeprom)
  if (status !== 0) return { status, frames: [], temperatures: [] }
  const decoder = makeDecoder(params)
  const emissivity = Math.fround(options.emissivity)
  const folded = new Float32Array(768).fill(Number.NaN)
  const single = new Float32Array(768)
  const frames = dump.frames.map((frame): DecodedFrame => {
    const ta = decoder.ta(frame)
    const tr = Math.fround(ta + options.trOffset)
    single.fill(Number.NaN)
    decoder.calculateTo(frame, emissivity, tr, single)
    decoder.calculateTo(frame, emissivity, tr, folded)
    return {
      subpage: subPageOf(frame),
      vdd: shortestFloat32(decoder.vdd(frame)),
      ta: shortestFloat32(ta),
      to: Array.from(single, (t) => (Number.isNaN(t) ? null : shortestFloat32(t)))
    }
  })
  const mode = (dump.frames[dump.frames.length - 1]![FRAME_WORDS - 2]! >> 12) & 1
  correctBadPixels(params.brokenPixels, folded, mode, params)
  correctBadPixels(params.outlierPixels, folded, mode, params)
  return { status, frames, temperatures: Array.from(folded, shortestFloat32) }
}
