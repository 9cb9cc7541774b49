export interface DecodedFrame {
    /** hundredths of a second */
    readonly delayCs: number;
    readonly localPalette: boolean;
    /** the colour of pixel (x, y) */
    readonly rgb: (x: number, y: number) => ReadonlyArray<number>;
}
export interface DecodedGif {
    readonly width: number;
    readonly height: number;
    readonly loopCount: number | null;
    readonly frames: ReadonlyArray<DecodedFrame>;
}
export declare const decode: (bytes: Uint8Array) => DecodedGif;
