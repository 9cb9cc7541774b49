/**
 * A subscriber for the tests, as a user's MQTT client would be (MQTT.js): it keeps every message
 * it receives, with its retain flag, and waits for the ones a test expects. `session` makes it a
 * persistent session (clean: false, QoS 1): the broker keeps what arrives while it is away, across
 * a restart of a broker with persistence.
 */
import { connect, type IClientOptions, type MqttClient } from "mqtt"

export interface Received {
  readonly topic: string
  readonly payload: Buffer
  readonly retain: boolean
  /** the payload as text */
  readonly text: string
}

export interface Subscriber {
  readonly client: MqttClient
  /** every message received, oldest first */
  readonly messages: Array<Received>
  /** those on `topic`, oldest first */
  readonly on: (topic: string) => Array<Received>
  /** the first message from index `from` on that `matches`, waiting up to `timeoutMs` for it */
  readonly waitFor: (matches: (message: Received) => boolean, timeoutMs?: number, from?: number) => Promise<Received>
  readonly publish: (topic: string, payload: string | Buffer, options?: { retain?: boolean }) => Promise<void>
  readonly close: () => Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Connects to `url` and subscribes to `filters` (QoS 1) before resolving. */
export const subscribe = async (
  url: string,
  filters: ReadonlyArray<string>,
  options: IClientOptions & { readonly session?: string } = {}
): Promise<Subscriber> => {
  const { session, ...rest } = options
  const client = connect(url, {
    reconnectPeriod: 100,
    connectTimeout: 5_000,
    ...(session === undefined ? {} : { clientId: session, clean: false }),
    ...rest
  })
  const messages: Array<Received> = []
  client.on(
    "message",
    (topic, payload, packet) => messages.push({ topic, payload, retain: packet.retain, text: payload.toString("utf8") })
  )
  client.on("error", () => {})
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve())
    setTimeout(() => reject(new Error(`the test subscriber could not connect to ${url}`)), 5_000)
  })
  if (filters.length > 0) await client.subscribeAsync([...filters], { qos: 1 })
  return {
    client,
    messages,
    on: (topic) => messages.filter((message) => message.topic === topic),
    waitFor: async (matches, timeoutMs = 10_000, from = 0) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = messages.slice(from).find(matches)
        if (found !== undefined) return found
        if (Date.now() > deadline) {
          throw new Error(
            `no such message within ${timeoutMs} ms; received:\n` +
              messages.slice(-50).map((m) =>
                `${m.topic} ${m.retain ? "(retained) " : ""}${
                  /^[\x20-\x7e\u00a0-\uffff]*$/.test(m.text) ? m.text.slice(0, 200) : `(${m.payload.length} bytes)`
                }`
              ).join("\n")
          )
        }
        await sleep(20)
      }
    },
    publish: async (topic, payload, publishOptions = {}) => {
      await client.publishAsync(topic, payload, { qos: 1, retain: publishOptions.retain ?? false })
    },
    close: () => client.endAsync()
  }
}
