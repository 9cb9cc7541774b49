/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the headers `webhook-id`,
 * `webhook-timestamp` (seconds since the epoch) and `webhook-signature`, which is
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed with the secret's bytes. A secret
 * is written `whsec_<base64 of its bytes>`.
 *
 * A receiver verifies a delivery with `verify`: the signature over the raw body as received, and
 * a timestamp not too far from its own clock (against replays).
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** The prefix of a secret in its written form. */
export const secretPrefix = "whsec_"

/** How far a timestamp may be from the receiver's clock by default, in seconds (the specification's 5 minutes). */
export const defaultToleranceSeconds = 300

/** The key bytes of a `whsec_…` secret (a bare base64 secret is accepted too). */
export const secretKey = (secret: string): Buffer =>
  Buffer.from(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret, "base64")

/** The signature of one delivery: `v1,<base64>`. */
export const sign = (secret: string, id: string, timestamp: number | string, body: string): string =>
  `v1,${createHmac("sha256", secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64")}`

export interface Signed {
  readonly "webhook-id": string
  readonly "webhook-timestamp": string
  readonly "webhook-signature"?: string
}

/** The headers of a delivery: signed when a secret is given. */
export const headers = (options: {
  readonly id: string
  /** seconds since the epoch */
  readonly timestamp: number
  readonly body: string
  readonly secret?: string | undefined
}): Signed => ({
  "webhook-id": options.id,
  "webhook-timestamp": String(options.timestamp),
  ...(options.secret === undefined
    ? {}
    : { "webhook-signature": sign(options.secret, options.id, options.timestamp, options.body) })
})

export interface VerifyOptions {
  readonly secret: string
  readonly id: string | undefined
  readonly timestamp: string | undefined
  /** the `webhook-signature` header: one or more space-separated `v1,<base64>` */
  readonly signature: string | undefined
  /** the raw body, exactly as received */
  readonly body: string
  /** the receiver's clock (epoch ms); the timestamp is not checked without it */
  readonly now?: number | undefined
  readonly toleranceSeconds?: number | undefined
}

/** Whether a delivery is signed with `secret` (and, given `now`, recent enough). Never throws. */
export const verify = (options: VerifyOptions): boolean => {
  const { body, id, signature, timestamp } = options
  if (id === undefined || timestamp === undefined || signature === undefined || !/^[0-9]+$/.test(timestamp)) {
    return false
  }
  const seconds = Number(timestamp)
  const tolerance = options.toleranceSeconds ?? defaultToleranceSeconds
  if (options.now !== undefined && Math.abs(options.now / 1000 - seconds) > tolerance) return false
  const expected = Buffer.from(sign(options.secret, id, timestamp, body).slice(3), "base64")
  return signature.split(" ").some((entry) => {
    const [version, value] = entry.split(",", 2)
    if (version !== "v1" || value === undefined) return false
    const given = Buffer.from(value, "base64")
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}
