/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): the headers `webhook-id`,
 * `webhook-timestamp` (seconds since the epoch) and `webhook-signature`, which is
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` keyed with the secret's bytes. A secret
 * is written `whsec_<base64 of its bytes>`.
 *
 * Receivers verify it with any Standard Webhooks library (the tests use the reference one).
 */
import { createHmac } from "node:crypto"

/** The prefix of a secret in its written form. */
export const secretPrefix = "whsec_"

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
