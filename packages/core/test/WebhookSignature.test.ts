/**
 * Standard Webhooks signatures: the specification's published example, the headers, and what
 * the reference implementation (the `standardwebhooks` package) accepts and refuses.
 */
import { assert, describe, it } from "@effect/vitest"
import { Webhook, WebhookVerificationError } from "standardwebhooks"
import * as WebhookSignature from "../src/WebhookSignature.js"

// the example of the Standard Webhooks specification's reference libraries
const example = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
  timestamp: 1614265330,
  body: "{\"test\": 2432232314}",
  signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
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

  it("is accepted by the reference implementation, for a bare base64 secret too", () => {
    const timestamp = Math.floor(Date.now() / 1000)
    const signed = WebhookSignature.headers({ ...example, timestamp, secret: example.secret })
    assert.deepStrictEqual(new Webhook(example.secret).verify(example.body, { ...signed }), { test: 2432232314 })
    const bare = WebhookSignature.headers({ ...example, timestamp, secret: example.secret.slice(6) })
    assert.deepStrictEqual(bare, signed)
  })

  it("covers the id, the timestamp, the body and the secret: the reference implementation refuses any change", () => {
    const timestamp = Math.floor(Date.now() / 1000)
    const signed = WebhookSignature.headers({ ...example, timestamp, secret: example.secret })
    const refused = (secret: string, body: string, headers: Record<string, string>) =>
      assert.throws(() => new Webhook(secret).verify(body, headers), WebhookVerificationError)
    refused(example.secret, "{\"test\": 2432232315}", { ...signed })
    refused(example.secret, example.body, { ...signed, "webhook-id": "msg_other" })
    refused(example.secret, example.body, { ...signed, "webhook-timestamp": String(timestamp + 1) })
    refused("whsec_" + Buffer.from("another secret!!").toString("base64"), example.body, { ...signed })
    // without a secret there is no signature to check
    refused(example.secret, example.body, {
      ...WebhookSignature.headers({ id: example.id, timestamp, body: example.body })
    })
  })
})
