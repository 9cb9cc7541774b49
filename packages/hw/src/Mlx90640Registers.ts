/**
 * The MLX90640's register map and the bit fields the driver and the emulated device share
 * (datasheet section 11; the reference library's MLX90640_API.h).
 */

/** The factory I²C address (7-bit). */
export const DEFAULT_ADDRESS = 0x33

/** RAM: 768 pixel words from 0x0400, then 64 auxiliary words (Ta, Vdd, gain, compensation pixels). */
export const RAM_START = 0x0400
export const RAM_WORDS = 832
export const PIXEL_WORDS = 768
export const AUX_START = 0x0700
export const AUX_WORDS = 64

/** EEPROM: 832 words of calibration data from 0x2400 (read-only for ircam). */
export const EEPROM_START = 0x2400
export const EEPROM_WORDS = 832
/** EEPROM word (index from 0x2400) holding the control register's power-on value. */
export const EEPROM_CONTROL_DEFAULT = 0x000c

/** Status register 0x8000: bit 0 last measured sub-page, bit 3 new data, bit 4 overwrite enabled. */
export const STATUS = 0x8000
export const STATUS_SUBPAGE = 0x0001
export const STATUS_DATA_READY = 0x0008
export const STATUS_OVERWRITE = 0x0010
/** Written to the status register to clear "new data" with overwrite enabled (the reference's value). */
export const STATUS_CLEAR = 0x0030

/** Control register 0x800D: sub-pages, refresh rate, ADC resolution and reading pattern. */
export const CONTROL = 0x800d
export const CONTROL_SUBPAGES_ENABLED = 0x0001
const REFRESH_SHIFT = 7
const REFRESH_MASK = 0x7 << REFRESH_SHIFT
const RESOLUTION_SHIFT = 10
const RESOLUTION_MASK = 0x3 << RESOLUTION_SHIFT
export const CONTROL_CHESS = 0x1000

/** Refresh rates (sub-pages per second) by their control-register code 0..7. */
export const refreshRates = [0.5, 1, 2, 4, 8, 16, 32, 64] as const

/** ADC resolutions (bits) by their control-register code 0..3. */
export const resolutions = [16, 17, 18, 19] as const

export type Pattern = "chess" | "interleaved"

export interface Settings {
  /** sub-pages per second, one of `refreshRates` */
  readonly refreshRateHz: number
  /** ADC resolution in bits, one of `resolutions` */
  readonly resolutionBits: number
  readonly pattern: Pattern
}

const codeOf = (list: ReadonlyArray<number>, value: number, what: string): number => {
  const code = list.indexOf(value)
  if (code < 0) throw new RangeError(`MLX90640 ${what} must be one of ${list.join(", ")}, got ${value}`)
  return code
}

/** `control` with sub-pages enabled and the refresh rate, resolution and pattern of `settings`; other bits kept. */
export const withSettings = (control: number, settings: Settings): number => {
  const refresh = codeOf(refreshRates, settings.refreshRateHz, "refresh rate") << REFRESH_SHIFT
  const resolution = codeOf(resolutions, settings.resolutionBits, "resolution") << RESOLUTION_SHIFT
  const pattern = settings.pattern === "chess" ? CONTROL_CHESS : 0
  return ((control & ~(REFRESH_MASK | RESOLUTION_MASK | CONTROL_CHESS)) | refresh | resolution | pattern |
    CONTROL_SUBPAGES_ENABLED) & 0xffff
}

/** The settings a control register value holds. */
export const settingsOf = (control: number): Settings => ({
  refreshRateHz: refreshRates[(control & REFRESH_MASK) >> REFRESH_SHIFT]!,
  resolutionBits: resolutions[(control & RESOLUTION_MASK) >> RESOLUTION_SHIFT]!,
  pattern: (control & CONTROL_CHESS) !== 0 ? "chess" : "interleaved"
})

/** The sub-page (0 or 1) a pixel is measured in: alternate rows (interleaved) or a chessboard. */
export const subPageOfPixel = (pixel: number, pattern: Pattern): 0 | 1 => {
  const row = pixel >> 5
  return ((pattern === "chess" ? row ^ pixel : row) & 1) as 0 | 1
}

/** A word the sensor leaves in RAM where a measurement has not been written (yet). */
export const UNWRITTEN = 0x7fff

// Auxiliary words (index from 0x0700) that must hold a measurement; the rest are reserved.
const checkedAux = [0, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32]
  .concat([40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 52, 53, 54, 56, 57, 58, 59, 60, 61, 62, 63])

/**
 * Whether a RAM read (832 words from 0x0400) of `subPage` holds unwritten words, as the reference
 * checks them: the first pixel of each of the sub-page's rows, and the used auxiliary words.
 */
export const hasUnwrittenWords = (ram: ArrayLike<number>, subPage: 0 | 1): boolean => {
  for (let row = subPage; row < 24; row += 2) if (ram[row * 32] === UNWRITTEN) return true
  for (const i of checkedAux) if (ram[PIXEL_WORDS + i] === UNWRITTEN) return true
  return false
}

/** The device's serial number: EEPROM words 0x2407..0x2409 as 12 hex digits. */
export const serialOf = (eeprom: ArrayLike<number>): string =>
  [7, 8, 9].map((i) => (eeprom[i]! & 0xffff).toString(16).padStart(4, "0")).join("")
