/**
 * A growing buffer of ASCII text, written as bytes (ASCII is UTF-8). The history's exports are
 * thousands of buckets: writing each value's characters here keeps no object, Date or string per
 * bucket alive until the end, and needs no encoding afterwards. Under the service's small young
 * generation (`--max-semi-space-size=2`), copying such short-lived objects was most of an answer's cost.
 */
import { iso } from "../Time.js"

const daySeconds = 86_400

/** `number` writes hundredths below this (10^7 °C) itself, anything else through `String`. */
const maxHundredths = 1e9

/** The range of `Date` (±8.64e15 ms), in seconds: beyond it `iso` throws, and so does `isoSeconds`. */
const maxIsoSeconds = 8.64e12

export class AsciiWriter {
  private bytes: Uint8Array
  private length = 0
  /** the epoch day `datePart` is of, and its `YYYY-MM-DDT` */
  private day = Number.NaN
  private datePart = ""

  /** `capacity`: the bytes expected; more are made room for when needed. */
  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(capacity, 64))
  }

  private reserve(count: number) {
    if (this.length + count <= this.bytes.length) return
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + count))
    bigger.set(this.bytes.subarray(0, this.length))
    this.bytes = bigger
  }

  /** Writes `text`; a character beyond ASCII is a defect (it would need UTF-8's multi-byte form). */
  text(text: string): this {
    this.reserve(text.length)
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i)
      if (code > 0x7f) throw new RangeError(`not ASCII: ${JSON.stringify(text)}`)
      this.bytes[this.length++] = code
    }
    return this
  }

  /**
   * Writes `n` as `String(n)` does. A whole number of hundredths (every temperature of the history,
   * every count) is written digit by digit, with no string made: for such a number below 10^7,
   * `String` gives exactly its decimal digits, trailing zeros dropped (the shortest decimal that
   * reads back as the same double is the number itself: every other decimal of as few digits is at
   * least 0.01 away, far more than a double's spacing there).
   */
  number(n: number): this {
    const hundredths = Math.round(n * 100)
    if (hundredths / 100 !== n || Math.abs(hundredths) >= maxHundredths) return this.text(String(n))
    if (hundredths < 0) this.text("-")
    const magnitude = Math.abs(hundredths)
    this.digits(Math.floor(magnitude / 100))
    const fraction = magnitude % 100
    if (fraction !== 0) {
      this.reserve(3)
      this.bytes[this.length++] = 46 // .
      this.bytes[this.length++] = 48 + Math.floor(fraction / 10)
      if (fraction % 10 !== 0) this.bytes[this.length++] = 48 + (fraction % 10)
    }
    return this
  }

  /** Writes the whole number `n` (≥ 0) in decimal. */
  private digits(n: number) {
    let count = 1
    for (let power = 10; power <= n; power *= 10) count++
    this.reserve(count)
    for (let at = this.length + count - 1; at >= this.length; at--) {
      this.bytes[at] = 48 + (n % 10)
      n = Math.floor(n / 10)
    }
    this.length += count
  }

  private twoDigits(n: number) {
    this.bytes[this.length++] = 48 + Math.floor(n / 10)
    this.bytes[this.length++] = 48 + (n % 10)
  }

  /**
   * Writes the instant `t` (epoch seconds) as `iso` does, without a `Date` a call: the date part
   * is made once a day (buckets come in order), the time of day is arithmetic.
   */
  isoSeconds(t: number): this {
    if (!Number.isInteger(t) || Math.abs(t) > maxIsoSeconds) return this.text(iso(t * 1000))
    const day = Math.floor(t / daySeconds)
    if (day !== this.day) {
      // `YYYY-MM-DDT` (or `±YYYYYY-MM-DDT` outside years 0 to 9999): what precedes `HH:MM:SS.sssZ`
      this.datePart = iso(day * daySeconds * 1000).slice(0, -13)
      this.day = day
    }
    const seconds = t - day * daySeconds
    this.text(this.datePart).reserve(13)
    this.twoDigits(Math.floor(seconds / 3600))
    this.bytes[this.length++] = 58 // :
    this.twoDigits(Math.floor(seconds / 60) % 60)
    this.bytes[this.length++] = 58
    this.twoDigits(seconds % 60)
    return this.text(".000Z")
  }

  /** The bytes written so far. */
  result(): Uint8Array {
    return this.bytes.subarray(0, this.length)
  }
}
