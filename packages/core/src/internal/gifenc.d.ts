// The part of gifenc 1.0.3 (which ships no types) that AnimatedGif uses.
declare module "gifenc" {
  export interface GifStream {
    reset(): void
    bytes(): Uint8Array
  }

  export interface FrameOptions {
    readonly palette?: ReadonlyArray<ReadonlyArray<number>>
    /** with `auto: false`: this frame writes the logical screen and the global colour table */
    readonly first?: boolean
    /** milliseconds, rounded to centiseconds */
    readonly delay?: number
    /** 0: loop forever */
    readonly repeat?: number
  }

  export interface Encoder {
    writeHeader(): void
    writeFrame(index: Uint8Array, width: number, height: number, options?: FrameOptions): void
    finish(): void
    readonly stream: GifStream
  }

  export type Factory = (options?: { readonly auto?: boolean; readonly initialCapacity?: number }) => Encoder

  /** the ES build's (Vite, bundlers that prefer `module`) */
  export const GIFEncoder: Factory | undefined
  /** the CommonJS build's module.exports, as Node imports it */
  const gifenc: { readonly GIFEncoder: Factory }
  export default gifenc
}
