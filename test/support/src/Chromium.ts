/**
 * Debian's Chromium for the browser tests, installed with apt-get when it is missing
 * (DebianPackage); when it cannot be, `ensureChromium` answers why, and the tests skip with that
 * message.
 */
import * as DebianPackage from "./DebianPackage.js"

export const executablePath = "/usr/bin/chromium"

/** Flags for a headless run in a container: no sandbox (root), no GPU, no calls home. */
export const launchArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/**
 * Makes sure `/usr/bin/chromium` exists, installing Debian's `chromium` if needed. Answers
 * `undefined` when Chromium is there, else the reason it is not.
 */
export const ensureChromium = (): Promise<string | undefined> => DebianPackage.ensure("chromium", executablePath)
