/** Why the bundle may not run, or undefined when it is newer than every source file. */
export declare const staleBuild: () => string | undefined
