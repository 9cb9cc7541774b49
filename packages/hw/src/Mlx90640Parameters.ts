/**
 * MLX90640 calibration parameters: the 832-word EEPROM dump turned into the constants the frame
 * math needs. A port of `MLX90640_ExtractParameters` of the Melexis reference C library
 * (melexis/mlx90640-library, commit f6be7ca), pure (no I/O), and bit-exact against it.
 *
 * Exactness: the C code keeps every parameter in float32 locals and struct fields and only
 * switches to float64 where a double literal or `pow()` enters an expression. Here every step is
 * a JS (float64) operation, rounded with `Math.fround` exactly where C rounds to float32. For
 * + − × ÷ of float32 operands, rounding the float64 result once to float32 gives the correctly
 * rounded float32 result, so the values match the C build bit for bit (the reference vectors
 * come from x86-64 without FMA; JS never fuses). The per-pixel sensitivity, kta and kv are
 * re-quantised to integers with their own scales exactly as the library does, because the frame
 * math works from those integers.
 */

const f = Math.fround

/** Words in an EEPROM dump (0x2400..0x273F). */
export const EEPROM_WORDS = 832

const PIXELS = 768

/**
 * The reference library's `paramsMLX90640`, field for field. Floats hold float32 values.
 * Treat a value as immutable: decoders made from it precompute from its contents.
 */
export interface Mlx90640Parameters {
  readonly kVdd: number
  readonly vdd25: number
  readonly KvPTAT: number
  readonly KtPTAT: number
  readonly vPTAT25: number
  readonly alphaPTAT: number
  readonly gainEE: number
  readonly tgc: number
  readonly cpKv: number
  readonly cpKta: number
  readonly resolutionEE: number
  /** 0x80 when the device was calibrated in chess mode, 0 for interleaved (compare with control bit 12 << 7) */
  readonly calibrationModeEE: number
  readonly KsTa: number
  /** 5 entries; [4] is the library's fixed −0.0002 (as float32) */
  readonly ksTo: ReadonlyArray<number>
  /** 5 corner temperatures in °C; [4] is always 400 and never used */
  readonly ct: ReadonlyArray<number>
  readonly alphaScale: number
  readonly ktaScale: number
  readonly kvScale: number
  readonly cpAlpha: ReadonlyArray<number>
  readonly cpOffset: ReadonlyArray<number>
  readonly ilChessC: ReadonlyArray<number>
  /** up to 5 pixel indices, unused entries 0xFFFF */
  readonly brokenPixels: ReadonlyArray<number>
  /** up to 5 pixel indices, unused entries 0xFFFF */
  readonly outlierPixels: ReadonlyArray<number>
  /** per pixel: scaled inverse sensitivity, round(1e-6 / α · 2^alphaScale) */
  readonly alpha: Uint16Array
  readonly offset: Int16Array
  /** per pixel: kta · 2^ktaScale */
  readonly kta: Int8Array
  /** per pixel: kv · 2^kvScale */
  readonly kv: Int8Array
}

const int8 = (n: number): number => (n << 24) >> 24
const int16 = (n: number): number => (n << 16) >> 16
/** two's complement of a `bits`-wide field */
const signed = (n: number, bits: number): number => (n >= 1 << (bits - 1) ? n - (1 << bits) : n)

// Scratch buffers, reused by every extraction (it is synchronous): allocating typed arrays costs
// more than the arithmetic here.
const scratchEE = new Uint16Array(EEPROM_WORDS)
const scratchRows = new Int32Array(24)
const scratchColumns = new Int32Array(32)
const scratchPixels = new Float32Array(PIXELS)

/** Fills `out` with the row (or column) nibbles stored 4 per word from `ee[start]` on, as signed values. */
const nibbles = (ee: Uint16Array, start: number, out: Int32Array): Int32Array => {
  for (let i = 0; i < out.length; i++) out[i] = signed((ee[start + (i >> 2)]! >> ((i & 3) * 4)) & 15, 4)
  return out
}

/**
 * The doubling loop the library uses to pick a scale: doubles `max` until it reaches `limit`.
 * For a maximum of 0 (or below) the reference never returns (e.g. an all-zero EEPROM makes every
 * kta 0); we stop there and answer scale 0, which leaves those all-zero values at 0.
 */
const scaleFor = (max: number, limit: number): number => {
  let scale = 0
  let temp = max
  while (temp < limit && temp > 0) {
    temp = f(temp * 2)
    scale++
  }
  return scale
}

/** Index 0..3 of a pixel in its 2×2 cell (row parity, column parity), as the kta/kv tables use it. */
const split = (p: number): number => 2 * ((p >> 5) & 1) + (p & 1)

/** The reference's neighbour test: two pixels less than 2 rows and 2 columns apart. */
const adjacent = (a: number, b: number): boolean => {
  const dRow = (a >> 5) - (b >> 5)
  const dCol = (a & 31) - (b & 31)
  return dRow > -2 && dRow < 2 && dCol > -2 && dCol < 2
}

const anyAdjacent = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number> | undefined): boolean => {
  for (let i = 0; i < xs.length; i++) {
    const others = ys ?? xs
    for (let j = ys ? 0 : i + 1; j < others.length; j++) {
      if (adjacent(xs[i]!, others[j]!)) return true
    }
  }
  return false
}

/** Rounds half away from zero to int8, like the library's ±0.5 then truncating conversion. */
const quantise8 = (values: Float32Array, multiplier: number): Int8Array => {
  const out = new Int8Array(PIXELS)
  for (let p = 0; p < PIXELS; p++) {
    const t = f(values[p]! * multiplier)
    out[p] = t < 0 ? t - 0.5 : t + 0.5
  }
  return out
}

/**
 * Broken (word 0) and outlier (bit 0 set) pixels, at most 5 of each: the scan stops as soon as
 * either list is full, as in the reference.
 */
const deviatingPixels = (ee: Uint16Array) => {
  const broken: Array<number> = []
  const outliers: Array<number> = []
  for (let p = 0; p < PIXELS && broken.length < 5 && outliers.length < 5; p++) {
    const word = ee[64 + p]!
    if (word === 0) broken.push(p)
    else if ((word & 1) !== 0) outliers.push(p)
  }
  let status = 0
  if (broken.length > 4) status = -3
  else if (outliers.length > 4) status = -4
  else if (broken.length + outliers.length > 4) status = -5
  else if (anyAdjacent(broken, undefined) || anyAdjacent(outliers, undefined) || anyAdjacent(broken, outliers)) {
    status = -6
  }
  const pad = (list: Array<number>) => [...list, ...Array<number>(5 - list.length).fill(0xffff)]
  return { brokenPixels: pad(broken), outlierPixels: pad(outliers), status }
}

/**
 * Extracts the calibration parameters from an EEPROM dump (832 words, 0x2400 first).
 *
 * `status` is what the reference returns: 0 fine, −3 more than 4 broken pixels, −4 more than 4
 * outliers, −5 more than 4 together, −6 two of them are 8-neighbours. The parameters are
 * extracted in every case, as the reference does. The reference at f6be7ca has no EEPROM
 * validity check, so −7 never comes from here.
 *
 * The caller validates the dump (length, 16-bit words); a dump that is not exactly 832 words
 * long is a programming error and throws a RangeError. Values are taken modulo 2^16.
 */
export const extractParameters = (
  eeprom: ArrayLike<number>
): { readonly status: number; readonly params: Mlx90640Parameters } => {
  if (eeprom.length !== EEPROM_WORDS) {
    throw new RangeError(`MLX90640 EEPROM dump must be ${EEPROM_WORDS} words, got ${eeprom.length}`)
  }
  const ee = scratchEE
  ee.set(eeprom)

  // Vdd
  const kVdd = 32 * int8(ee[51]! >> 8)
  const vdd25 = (((ee[51]! & 0xff) - 256) << 5) - 8192

  // PTAT
  const KvPTAT = f(signed(ee[50]! >> 10, 6) / 4096)
  const KtPTAT = f(signed(ee[50]! & 0x3ff, 10) / 8)
  const vPTAT25 = ee[49]!
  const alphaPTAT = f((ee[16]! & 0xf000) / 2 ** 14 + 8)

  const gainEE = int16(ee[48]!)
  const tgc = f(int8(ee[60]! & 0xff) / 32)
  const resolutionEE = (ee[56]! & 0x3000) >> 12
  const KsTa = f(int8(ee[60]! >> 8) / 8192)

  // KsTo and the corner temperatures
  const step = ((ee[63]! & 0x3000) >> 12) * 10
  const ct2 = ((ee[63]! >> 4) & 15) * step
  const ct = [-40, 0, ct2, ct2 + ((ee[63]! >> 8) & 15) * step, 400]
  const ksToScale = 2 ** ((ee[63]! & 15) + 8)
  const ksTo = [
    f(int8(ee[61]! & 0xff) / ksToScale),
    f(int8(ee[61]! >> 8) / ksToScale),
    f(int8(ee[62]! & 0xff) / ksToScale),
    f(int8(ee[62]! >> 8) / ksToScale),
    f(-0.0002)
  ]

  // Compensation pixels
  const ktaScaleEE = ((ee[56]! >> 4) & 15) + 8
  const kvScaleEE = (ee[56]! >> 8) & 15
  const cpOffset0 = signed(ee[58]! & 0x3ff, 10)
  const cpOffset = [cpOffset0, int16(signed(ee[58]! >> 10, 6) + cpOffset0)]
  const cpAlpha0 = f(signed(ee[57]! & 0x3ff, 10) / 2 ** ((ee[32]! >> 12) + 27))
  const cpAlpha = [cpAlpha0, f(f(1 + signed(ee[57]! >> 10, 6) / 128) * cpAlpha0)]
  const cpKta = f(int8(ee[59]! & 0xff) / 2 ** ktaScaleEE)
  const cpKv = f(int8(ee[59]! >> 8) / 2 ** kvScaleEE)

  // Sensitivity: the float per pixel, then re-quantised to uint16 with a common scale
  const accRemScale = ee[32]! & 15
  const accColumnScale = (ee[32]! >> 4) & 15
  const accRowScale = (ee[32]! >> 8) & 15
  const alphaDivisor = 2 ** ((ee[32]! >> 12) + 30)
  const alphaRef = ee[33]!
  const accRow = nibbles(ee, 34, scratchRows)
  const accColumn = nibbles(ee, 40, scratchColumns)
  const cpAlphaTerm = f(f(tgc * f(cpAlpha[0]! + cpAlpha[1]!)) / 2)
  const alphaTemp = scratchPixels
  let alphaMax = 0
  for (let p = 0; p < PIXELS; p++) {
    let a = f(signed((ee[64 + p]! & 0x3f0) >> 4, 6) * (1 << accRemScale))
    a = f(alphaRef + (accRow[p >> 5]! << accRowScale) + (accColumn[p & 31]! << accColumnScale) + a)
    a = f(f(a / alphaDivisor) - cpAlphaTerm)
    a = f(1e-6 / a)
    alphaTemp[p] = a
    if (p === 0 || a > alphaMax) alphaMax = a
  }
  const alphaScale = scaleFor(alphaMax, 32767.4)
  const alphaMul = 2 ** alphaScale
  const alpha = new Uint16Array(PIXELS)
  // Uint16Array stores truncate like the C double → uint16_t conversion.
  for (let p = 0; p < PIXELS; p++) alpha[p] = f(alphaTemp[p]! * alphaMul) + 0.5

  // Offsets (int16 arithmetic, wrapping like the struct field)
  const occRemScale = ee[16]! & 15
  const occColumnScale = (ee[16]! >> 4) & 15
  const occRowScale = (ee[16]! >> 8) & 15
  const offsetRef = int16(ee[17]!)
  const occRow = nibbles(ee, 18, scratchRows)
  const occColumn = nibbles(ee, 24, scratchColumns)
  const offset = new Int16Array(PIXELS)
  for (let p = 0; p < PIXELS; p++) {
    const o = int16(signed(ee[64 + p]! >> 10, 6) * (1 << occRemScale))
    offset[p] = offsetRef + (occRow[p >> 5]! << occRowScale) + (occColumn[p & 31]! << occColumnScale) + o
  }

  // kta: float per pixel, then re-quantised to int8
  const ktaRC = [int8(ee[54]! >> 8), int8(ee[55]! >> 8), int8(ee[54]! & 0xff), int8(ee[55]! & 0xff)]
  const ktaScale2 = ee[56]! & 15
  const ktaDivisor = 2 ** ktaScaleEE
  const ktaTemp = scratchPixels
  let ktaMax = 0
  for (let p = 0; p < PIXELS; p++) {
    let k = f(signed((ee[64 + p]! & 0x000e) >> 1, 3) * (1 << ktaScale2))
    k = f(f(ktaRC[split(p)]! + k) / ktaDivisor)
    ktaTemp[p] = k
    if (Math.abs(k) > ktaMax) ktaMax = Math.abs(k)
  }
  const ktaScale = scaleFor(ktaMax, 63.4)
  const kta = quantise8(ktaTemp, 2 ** ktaScale)

  // kv: one value per 2×2 cell position, re-quantised to int8
  const kvT = [
    signed(ee[52]! >> 12, 4),
    signed((ee[52]! >> 4) & 15, 4),
    signed((ee[52]! >> 8) & 15, 4),
    signed(ee[52]! & 15, 4)
  ]
  const kvDivisor = 2 ** kvScaleEE
  const kvTemp = scratchPixels
  let kvMax = 0
  for (let p = 0; p < PIXELS; p++) {
    const v = f(kvT[split(p)]! / kvDivisor)
    kvTemp[p] = v
    if (Math.abs(v) > kvMax) kvMax = Math.abs(v)
  }
  const kvScale = scaleFor(kvMax, 63.4)
  const kv = quantise8(kvTemp, 2 ** kvScale)

  // Chess / interleave correction
  const calibrationModeEE = ((ee[10]! & 0x0800) >> 4) ^ 0x80
  const ilChessC = [
    f(signed(ee[53]! & 0x3f, 6) / 16),
    f(signed((ee[53]! & 0x07c0) >> 6, 5) / 2),
    f(signed((ee[53]! & 0xf800) >> 11, 5) / 8)
  ]

  const { brokenPixels, outlierPixels, status } = deviatingPixels(ee)

  return {
    status,
    params: {
      kVdd,
      vdd25,
      KvPTAT,
      KtPTAT,
      vPTAT25,
      alphaPTAT,
      gainEE,
      tgc,
      cpKv,
      cpKta,
      resolutionEE,
      calibrationModeEE,
      KsTa,
      ksTo,
      ct,
      alphaScale,
      ktaScale,
      kvScale,
      cpAlpha,
      cpOffset,
      ilChessC,
      brokenPixels,
      outlierPixels,
      alpha,
      offset,
      kta,
      kv
    }
  }
}
