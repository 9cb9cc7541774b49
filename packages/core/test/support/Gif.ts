/**
 * GIFs decoded back for the tests (omggif): the size, the loop, and each frame's delay and
 * pixels.
 */
import { createRequire } from "node:module"

/** The part of omggif 1.0.10 (CommonJS, without types) that the tests use. */
interface GifReader {
  readonly width: number
  readonly height: number
  numFrames(): number
  /** 0: forever; null without a NETSCAPE block */
  loopCount(): number | null
  /** `delay` in hundredths of a second */
  frameInfo(frame: number): { readonly delay: number; readonly has_local_palette: boolean }
  decodeAndBlitFrameRGBA(frame: number, pixels: Uint8Array): void
}

const omggif = createRequire(import.meta.url)("omggif") as { GifReader: new(bytes: Uint8Array) => GifReader }

export interface DecodedFrame {
  /** hundredths of a second */
  readonly delayCs: number
  readonly localPalette: boolean
  /** the colour of pixel (x, y) */
  readonly rgb: (x: number, y: number) => ReadonlyArray<number>
}

export interface DecodedGif {
  readonly width: number
  readonly height: number
  readonly loopCount: number | null
  readonly frames: ReadonlyArray<DecodedFrame>
}

export const decode = (bytes: Uint8Array): DecodedGif => {
  const reader = new omggif.GifReader(bytes)
  const frames = Array.from({ length: reader.numFrames() }, (_, i): DecodedFrame => {
    const info = reader.frameInfo(i)
    const pixels = new Uint8Array(reader.width * reader.height * 4)
    reader.decodeAndBlitFrameRGBA(i, pixels)
    return {
      delayCs: info.delay,
      localPalette: info.has_local_palette,
      rgb: (x, y) => {
        const o = (y * reader.width + x) * 4
        return Array.from(pixels.subarray(o, o + 3))
      }
    }
  })
  return { width: reader.width, height: reader.height, loopCount: reader.loopCount(), frames }
}
