/**
 * Standard Webhooks signatures: the specification's published example, headers, and what
 * `verify` accepts and refuses.
 */
import { assert, describe, it } from "@effect/vitest"
import * as WebhookSignature from "../src/WebhookSignature.js"

// the example of the Standard Webhooks specification's reference libraries
const example = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: "{\"test\": 2432232314}",
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
}

const valid = {
  secret: example.secret,
  id: example.id,
  timestamp: String(example.timestamp),
  signature: example.signature,
  body: example.body
}

describe("WebhookSignature", () => {
  it("signs as the specification's example does", () => {
    assert.strictEqual(
      WebhookSignature.sign(example.secret, example.id, example.timestamp, example.body),
      example.signature
    )
    // the bare base64 form of the same secret is the same key
    assert.strictEqual(
      WebhookSignature.sign(example.secret.slice(6), example.id, example.timestamp, example.body),
      example.signature
    )
  })

  it("builds the headers, signed only with a secret", () => {
    assert.deepStrictEqual(
      WebhookSignature.headers({ id: example.id, timestamp: example.timestamp, body: example.body }),
      { "webhook-id": example.id, "webhook-timestamp": "1614265330" }
    )
    assert.deepStrictEqual(
      WebhookSignature.headers({ ...example, secret: example.secret }),
      { "webhook-id": example.id, "webhook-timestamp": "1614265330", "webhook-signature": example.signature }
    )
  })

  it("verifies a good signature, among several, within the tolerance", () => {
    assert.isTrue(WebhookSignature.verify(valid))
    assert.isTrue(WebhookSignature.verify({ ...valid, signature: `v1,bm9wZQ== v2,xyz ${example.signature}` }))
    assert.isTrue(WebhookSignature.verify({ ...valid, now: (example.timestamp + 299) * 1000 }))
    assert.isTrue(WebhookSignature.verify({ ...valid, now: (example.timestamp - 299) * 1000 }))
  })

  it("refuses a wrong secret, a changed body, id or timestamp, a stale timestamp and malformed headers", () => {
    assert.isFalse(
      WebhookSignature.verify({ ...valid, secret: "whsec_" + Buffer.from("another secret!!").toString("base64") })
    )
    assert.isFalse(WebhookSignature.verify({ ...valid, body: "{\"test\": 2432232315}" }))
    assert.isFalse(WebhookSignature.verify({ ...valid, id: "msg_other" }))
    assert.isFalse(WebhookSignature.verify({ ...valid, timestamp: "1614265331" }))
    assert.isFalse(WebhookSignature.verify({ ...valid, now: (example.timestamp + 301) * 1000 }))
    assert.isFalse(
      WebhookSignature.verify({ ...valid, now: (example.timestamp + 3000) * 1000, toleranceSeconds: 2000 })
    )
    assert.isFalse(WebhookSignature.verify({ ...valid, id: undefined }))
    assert.isFalse(WebhookSignature.verify({ ...valid, timestamp: undefined }))
    assert.isFalse(WebhookSignature.verify({ ...valid, timestamp: "16142653.30" }))
    assert.isFalse(WebhookSignature.verify({ ...valid, signature: undefined }))
    assert.isFalse(WebhookSignature.verify({ ...valid, signature: example.signature.replace("v1,", "v2,") }))
    assert.isFalse(WebhookSignature.verify({ ...valid, signature: "v1" }))
    assert.isFalse(WebhookSignature.verify({ ...valid, signature: "v1,c2hvcnQ=" }))
  })
})
