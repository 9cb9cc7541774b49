/**
 * MLX90640 per-frame math: supply voltage, ambient temperature, object temperature per pixel,
 * the raw compensated image and the bad-pixel correction. A port of `MLX90640_GetVdd`, `GetTa`,
 * `CalculateTo`, `GetImage` and `BadPixelsCorrection` of the Melexis reference C library
 * (melexis/mlx90640-library, commit f6be7ca), pure (no I/O), and bit-exact against it.
 *
 * Exactness: C does these steps in float32 except where a double literal (3.3, 273.15, 1e-6) or
 * `pow()` promotes part of an expression to float64. Each JS operation here is float64 and is
 * rounded with `Math.fround` (or by storing into a Float32Array) exactly where C rounds to
 * float32, and left unrounded where C works in double; for + − × ÷ and √ of float32 operands
 * that gives the correctly rounded float32 result, i.e. the C result bit for bit (no FMA).
 *
 * Speed: `makeDecoder` precomputes what depends only on the EEPROM (per pixel, in typed arrays
 * laid out in the order a sub-page is read: the sensitivity before its Ta correction, the
 * chess/interleave terms, the offsets, an index to the pixel's kta/kv value, whose Ta/Vdd
 * factors are then computed once per distinct value and frame), holding exactly the float32
 * values the library recomputes per pixel and frame, so results do not change. A
 * frame is then a few short passes over its sub-page's 384 pixels, allocating nothing. The
 * float32 roundings (two conversions each) dominate the cost; short passes with independent
 * iterations let the CPU overlap them instead of waiting on one long chain per pixel. The plain
 * functions go through a decoder cached per parameter object: one implementation of the formulas.
 *
 * Longer than 350 lines on purpose: it follows the reference library's per-frame functions in
 * one file, in their order, so that it can be checked against the C source side by side.
 */
import type { Mlx90640Parameters } from "./Mlx90640Parameters.js"

const f = Math.fround

/** Words in a frame: 832 RAM words 0x0400..0x073F, the control register 0x800D, the sub-page number. */
export const FRAME_WORDS = 834

const PIXELS = 768
const SUBPAGE_PIXELS = 384

// Positions of the auxiliary words in a frame (RAM address − 0x0400).
const TA_VBE = 0x0300
const CP_SUBPAGE0 = 0x0308
const GAIN = 0x030a
const TA_PTAT = 0x0320
const CP_SUBPAGE1 = 0x0328
const VDD_PIX = 0x032a
const CONTROL = 832
const SUBPAGE = 833

const int16 = (n: number): number => (n << 16) >> 16

const checkFrame = (frame: ArrayLike<number>): void => {
  if (frame.length !== FRAME_WORDS) {
    throw new RangeError(`MLX90640 frame must be ${FRAME_WORDS} words, got ${frame.length}`)
  }
}

const checkResult = (result: ArrayLike<number>): void => {
  if (result.length < PIXELS) throw new RangeError(`MLX90640 result needs ${PIXELS} pixels, got ${result.length}`)
}

/** The sub-page a frame holds (bit 0 of its last word). */
export const subPageOf = (frame: ArrayLike<number>): 0 | 1 => (frame[SUBPAGE]! & 1) === 1 ? 1 : 0

const vddOf = (frame: ArrayLike<number>, params: Mlx90640Parameters): number => {
  const resolutionRAM = (frame[CONTROL]! & 0x0c00) >> 10
  const correction = f(2 ** params.resolutionEE / 2 ** resolutionRAM)
  // float32 up to the division; "+ 3.3" is a double
  return f(f(f(f(correction * int16(frame[VDD_PIX]!)) - params.vdd25) / params.kVdd) + 3.3)
}

const taOf = (frame: ArrayLike<number>, params: Mlx90640Parameters, vdd: number): number => {
  const ptat = int16(frame[TA_PTAT]!)
  const ptatArt = f(f(ptat / f(f(ptat * params.alphaPTAT) + int16(frame[TA_VBE]!))) * 2 ** 18)
  // the Vdd correction and the vPTAT25 subtraction are done in double, stored once
  const t = f(ptatArt / (1 + params.KvPTAT * (vdd - 3.3)) - params.vPTAT25)
  return f(f(t / params.KtPTAT) + 25)
}

/**
 * The distinct values of a per-pixel int8 coefficient divided by 2^scale (exact in float32), and
 * each pixel's index into them in `index`.
 */
const distinctValues = (values: Int8Array, scale: number, index: Uint8Array): Float64Array => {
  const slot = new Int16Array(256).fill(-1)
  const distinct: Array<number> = []
  for (let p = 0; p < PIXELS; p++) {
    const v = values[p]!
    if (slot[v + 128] === -1) {
      slot[v + 128] = distinct.length
      distinct.push(f(v / scale))
    }
    index[p] = slot[v + 128]!
  }
  return Float64Array.from(distinct)
}

/**
 * The frame math for one set of parameters, with everything that depends only on the EEPROM
 * computed once. Frames are 834 words (`FRAME_WORDS`, else RangeError); a Uint16Array is the
 * fastest, any array of 16-bit words works. Result buffers hold at least 768 pixels (else
 * RangeError). A decoder reuses its own scratch buffers; every call completes synchronously.
 */
export interface FrameDecoder {
  readonly params: Mlx90640Parameters
  /** Supply voltage, V. */
  readonly vdd: (frame: ArrayLike<number>) => number
  /** Ambient temperature, °C. */
  readonly ta: (frame: ArrayLike<number>) => number
  /**
   * Object temperatures (°C) of this frame's sub-page into `result[row * 32 + col]`; the other
   * sub-page's pixels are left as they are. `emissivity` and `tr` (reflected temperature, °C) are
   * taken as float32, like the C arguments.
   */
  readonly calculateTo: (frame: ArrayLike<number>, emissivity: number, tr: number, result: Float32Array) => void
  /** The library's GetImage: compensated IR signal × the stored integer `alpha`, this sub-page only. */
  readonly image: (frame: ArrayLike<number>, result: Float32Array) => void
}

export const makeDecoder = (params: Mlx90640Parameters): FrameDecoder => {
  const { KsTa, calibrationModeEE, cpKta, cpKv, gainEE, tgc } = params
  const cpOffset0 = params.cpOffset[0]!
  const cpOffset1 = params.cpOffset[1]!
  const ilChess0 = params.ilChessC[0]!
  const ilChess1 = params.ilChessC[1]!
  const ilChess2 = params.ilChessC[2]!
  const [ksTo0, ksTo1, ksTo2, ksTo3] = params.ksTo as [number, number, number, number]
  const [ct0, ct1, ct2, ct3] = params.ct as [number, number, number, number]

  // Sensitivity correction per temperature range (float32, as the library computes it per frame).
  const alphaCorr0 = f(1 / f(1 + f(ksTo0 * 40)))
  const alphaCorr2 = f(1 + f(ksTo1 * ct2))
  const alphaCorr3 = f(alphaCorr2 * f(1 + f(ksTo2 * (ct3 - ct2))))
  // First-pass denominator factor; the double literal 273.15 makes it double.
  const firstPassFactor = 1 - ksTo1 * 273.15

  // kta and kv take few distinct values (a handful per 2×2 cell position): their Ta and Vdd
  // factors are computed once per value and frame, and each pixel looks its value's factor up.
  const ktaIndex = new Uint8Array(PIXELS)
  const kvIndex = new Uint8Array(PIXELS)
  const ktaValues = distinctValues(params.kta, 2 ** params.ktaScale, ktaIndex)
  const kvValues = distinctValues(params.kv, 2 ** params.kvScale, kvIndex)
  const ktaFactor = new Float64Array(ktaValues.length)
  const kvFactor = new Float64Array(kvValues.length)

  // Per-pixel constants, laid out by slot: the 384 pixels of each sub-page pattern in a row
  // (interleaved 0, interleaved 1, chess 0, chess 1), so a frame reads them in sequence.
  // Float64Arrays holding float32 values: reading them costs no conversion.
  const SLOTS = 4 * SUBPAGE_PIXELS
  const pixelOf = new Uint16Array(SLOTS)
  const offsetOf = new Float64Array(SLOTS)
  const ktaOf = new Uint8Array(SLOTS)
  const kvOf = new Uint8Array(SLOTS)
  const alphaBaseOf = new Float64Array(SLOTS)
  const alphaIntOf = new Float64Array(SLOTS)
  const ilRowOf = new Float64Array(SLOTS)
  const ilConversionOf = new Float64Array(SLOTS)
  const alphaNumerator = 1e-6 * 2 ** params.alphaScale
  const fill = [0, SUBPAGE_PIXELS, 2 * SUBPAGE_PIXELS, 3 * SUBPAGE_PIXELS]
  for (let p = 0; p < PIXELS; p++) {
    const il = (p >> 5) & 1
    const conversion = (((p + 2) >> 2) - ((p + 3) >> 2) + ((p + 1) >> 2) - (p >> 2)) * (1 - 2 * il)
    for (const list of [il, 2 + (il ^ (p & 1))]) {
      const slot = fill[list]!++
      pixelOf[slot] = p
      offsetOf[slot] = params.offset[p]!
      ktaOf[slot] = ktaIndex[p]!
      kvOf[slot] = kvIndex[p]!
      alphaBaseOf[slot] = f(alphaNumerator / params.alpha[p]!)
      alphaIntOf[slot] = params.alpha[p]!
      ilRowOf[slot] = f(ilChess2 * (2 * il - 1))
      ilConversionOf[slot] = f(ilChess1 * conversion)
    }
  }

  // Per-frame values of the current sub-page's pixels, by position in the sub-page; float32
  // values like the C locals, held as doubles.
  const ir = new Float64Array(SUBPAGE_PIXELS)
  const signal = new Float64Array(SUBPAGE_PIXELS)
  const sensitivity = new Float64Array(SUBPAGE_PIXELS)
  const sxRoot = new Float64Array(SUBPAGE_PIXELS)
  const estimate = new Float64Array(SUBPAGE_PIXELS)
  const denominator = new Float64Array(SUBPAGE_PIXELS)
  // The frame's Vdd, Ta and TGC × compensation-pixel term: passed in a typed array rather than as
  // arguments or results, so that no number gets boxed (no allocation per frame).
  const frameState = new Float64Array(3)
  const VDD = 0
  const TA = 1
  const TGC_CP = 2

  /**
   * Fills `ir` with the pixel signal compensated up to the compensation-pixel step, and
   * `frameState` with Vdd, Ta and the compensation-pixel term: shared by To and the image.
   * Returns the first slot of the sub-page.
   *
   * The work is split into passes over all pixels, here and in calculateTo, rather than one
   * long chain per pixel: a pass's iterations are independent, so the CPU overlaps them, where
   * a single chain of float32 roundings would leave it waiting on each step's latency.
   */
  const compensate = (frame: ArrayLike<number>): number => {
    const vdd = vddOf(frame, params)
    const ta = taOf(frame, params, vdd)
    frameState[VDD] = vdd
    frameState[TA] = ta
    const mode = (frame[CONTROL]! & 0x1000) >> 5
    const subPage = subPageOf(frame)
    const first = ((mode === 0 ? 0 : 2) + subPage) * SUBPAGE_PIXELS
    const ilCorrection = mode !== calibrationModeEE
    const gain = f(gainEE / int16(frame[GAIN]!))
    const ta25 = f(ta - 25)
    const vdd33 = vdd - 3.3 // double: the Vdd factors are double, the Ta factors float32
    const cpTaFactor = f(1 + f(cpKta * ta25))
    const cpVddFactor = 1 + cpKv * vdd33
    const cp = subPage === 0
      ? f(f(int16(frame[CP_SUBPAGE0]!) * gain) - f(cpOffset0 * cpTaFactor) * cpVddFactor)
      : f(
        f(int16(frame[CP_SUBPAGE1]!) * gain) -
          f((ilCorrection ? f(cpOffset1 + ilChess0) : cpOffset1) * cpTaFactor) * cpVddFactor
      )
    frameState[TGC_CP] = f(tgc * cp)
    for (let i = 0; i < ktaValues.length; i++) ktaFactor[i] = f(1 + f(ktaValues[i]! * ta25))
    for (let i = 0; i < kvValues.length; i++) kvFactor[i] = 1 + kvValues[i]! * vdd33
    for (let k = 0, slot = first; k < SUBPAGE_PIXELS; k++, slot++) {
      const raw = int16(frame[pixelOf[slot]!]!)
      ir[k] = f(f(raw * gain) - f(offsetOf[slot]! * ktaFactor[ktaOf[slot]!]!) * kvFactor[kvOf[slot]!]!)
    }
    if (ilCorrection) {
      for (let k = 0, slot = first; k < SUBPAGE_PIXELS; k++, slot++) {
        ir[k] = f(f(ir[k]! + ilRowOf[slot]!) - ilConversionOf[slot]!)
      }
    }
    return first
  }

  const vdd = (frame: ArrayLike<number>): number => {
    checkFrame(frame)
    return vddOf(frame, params)
  }

  const ta = (frame: ArrayLike<number>): number => {
    checkFrame(frame)
    return taOf(frame, params, vddOf(frame, params))
  }

  const calculateTo = (frame: ArrayLike<number>, emissivity: number, tr: number, result: Float32Array): void => {
    checkFrame(frame)
    checkResult(result)
    const first = compensate(frame)
    const taNow = frameState[TA]!
    const e = f(emissivity)
    let ta4 = f(taNow + 273.15)
    ta4 = f(ta4 * ta4)
    ta4 = f(ta4 * ta4)
    let tr4 = f(f(tr) + 273.15)
    tr4 = f(tr4 * tr4)
    tr4 = f(tr4 * tr4)
    const taTr = f(tr4 - f(f(tr4 - ta4) / e))
    const ksTaFactor = f(1 + f(KsTa * f(taNow - 25)))
    const tgcTerm = frameState[TGC_CP]!
    // The library's irData (after the TGC step, over emissivity) and alphaCompensated.
    for (let k = 0, slot = first; k < SUBPAGE_PIXELS; k++, slot++) {
      signal[k] = f(f(ir[k]! - tgcTerm) / e)
      sensitivity[k] = f(alphaBaseOf[slot]! * ksTaFactor)
    }
    // Sx: float32 up to the fourth root, which is double.
    for (let k = 0; k < SUBPAGE_PIXELS; k++) {
      const v = signal[k]!
      const a = sensitivity[k]!
      sxRoot[k] = f(Math.sqrt(Math.sqrt(f(f(f(a * a) * a) * f(v + f(a * taTr))))) * ksTo1)
    }
    // First estimate: double from the 273.15 in the denominator on.
    for (let k = 0; k < SUBPAGE_PIXELS; k++) {
      estimate[k] = f(
        Math.sqrt(Math.sqrt(signal[k]! / (sensitivity[k]! * firstPassFactor + sxRoot[k]!) + taTr)) - 273.15
      )
    }
    // Range pass: float32 up to the roots, which are double. The range constants are picked by
    // branches into locals: much faster here than indexing small tables by range.
    for (let k = 0; k < SUBPAGE_PIXELS; k++) {
      const to = estimate[k]!
      let alphaCorr = 1
      let ks = ksTo1
      let c = ct1
      if (to < ct1) {
        alphaCorr = alphaCorr0
        ks = ksTo0
        c = ct0
      } else if (!(to < ct2)) {
        // (written so that NaN lands in range 3, as in the library)
        if (to < ct3) {
          alphaCorr = alphaCorr2
          ks = ksTo2
          c = ct2
        } else {
          alphaCorr = alphaCorr3
          ks = ksTo3
          c = ct3
        }
      }
      denominator[k] = f(f(sensitivity[k]! * alphaCorr) * f(1 + f(ks * f(to - c))))
    }
    for (let k = 0, slot = first; k < SUBPAGE_PIXELS; k++, slot++) {
      result[pixelOf[slot]!] = Math.sqrt(Math.sqrt(f(f(signal[k]! / denominator[k]!) + taTr))) - 273.15
    }
  }

  const image = (frame: ArrayLike<number>, result: Float32Array): void => {
    checkFrame(frame)
    checkResult(result)
    const first = compensate(frame)
    const tgcTerm = frameState[TGC_CP]!
    for (let k = 0, slot = first; k < SUBPAGE_PIXELS; k++, slot++) {
      result[pixelOf[slot]!] = f(ir[k]! - tgcTerm) * alphaIntOf[slot]!
    }
  }

  return { params, vdd, ta, calculateTo, image }
}

const median = new Float32Array(4)

/** The library's GetMedian for 4 values: its exchange sort (same order, NaN included), mean of the middle two. */
const medianOf4 = (a: number, b: number, c: number, d: number): number => {
  median[0] = a
  median[1] = b
  median[2] = c
  median[3] = d
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 4; j++) {
      if (median[j]! < median[i]!) {
        const t = median[i]!
        median[i] = median[j]!
        median[j] = t
      }
    }
  }
  return f(median[2]! + median[1]!) / 2
}

const isListed = (pixel: number, params: Pick<Mlx90640Parameters, "brokenPixels" | "outlierPixels">): boolean =>
  params.brokenPixels.includes(pixel) || params.outlierPixels.includes(pixel)

/**
 * Replaces the listed pixels of `to` by values from their neighbours (the library's
 * BadPixelsCorrection). `pixels` ends at the first 0xFFFF, or at its end: the reference would
 * read past a full list of 5, we stop. Indices outside 0..767 are skipped. `mode` 1 is chess
 * (diagonal neighbours), anything else interleaved (same row); `params` supplies the deviating
 * pixel lists, whose members are not used as neighbours in interleaved mode.
 */
export const correctBadPixels = (
  pixels: ArrayLike<number>,
  to: Float32Array,
  mode: number,
  params: Pick<Mlx90640Parameters, "brokenPixels" | "outlierPixels">
): void => {
  checkResult(to)
  const mean = (a: number, b: number) => f(to[a]! + to[b]!) / 2
  for (let i = 0; i < pixels.length && pixels[i] !== 0xffff; i++) {
    const p = pixels[i]!
    if (!(p >= 0 && p < PIXELS)) continue
    const line = p >> 5
    const column = p & 31
    if (mode === 1) {
      if (line === 0) {
        to[p] = column === 0 ? to[33]! : column === 31 ? to[62]! : mean(p + 31, p + 33)
      } else if (line === 23) {
        to[p] = column === 0 ? to[705]! : column === 31 ? to[734]! : mean(p - 33, p - 31)
      } else if (column === 0) {
        to[p] = mean(p - 31, p + 33)
      } else if (column === 31) {
        to[p] = mean(p - 33, p + 31)
      } else {
        to[p] = medianOf4(to[p - 33]!, to[p - 31]!, to[p + 31]!, to[p + 33]!)
      }
    } else if (column === 0) {
      to[p] = to[p + 1]!
    } else if (column === 1 || column === 30) {
      to[p] = mean(p - 1, p + 1)
    } else if (column === 31) {
      to[p] = to[p - 1]!
    } else if (!isListed(p - 2, params) && !isListed(p + 2, params)) {
      const right = f(to[p + 1]! - to[p + 2]!)
      const left = f(to[p - 1]! - to[p - 2]!)
      to[p] = Math.abs(right) > Math.abs(left) ? to[p - 1]! + left : to[p + 1]! + right
    } else {
      to[p] = mean(p - 1, p + 1)
    }
  }
}
