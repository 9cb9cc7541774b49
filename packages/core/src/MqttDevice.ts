/**
 * Who ircam is on MQTT: its device id, name and topics. The id defaults to the sensor's serial
 * number (an MLX90640's is unique), or to the host name for a sensor without one of its own (the
 * simulated scene), reduced to what topics and Home Assistant ids allow: `[a-z0-9_-]`.
 */
import { Option } from "effect"
import type { MqttConfig } from "./MqttConfig.js"
import type { SensorInfo } from "./Sensor.js"

export interface Topics {
  /** `online` / `offline`, retained; the last will */
  readonly status: string
  /** the latest frame and zone statistics, retained */
  readonly state: string
  /** the heat map PNG, retained */
  readonly image: string
  /** alarm transitions and recordings, QoS 1 */
  readonly events: string
  /** the rule's alarm state, retained */
  readonly alarm: (ruleId: number) => string
  readonly commands: {
    readonly record: string
    readonly acknowledge: string
    readonly result: string
  }
}

export interface MqttDevice {
  readonly id: string
  readonly name: string
  readonly model: string
  readonly serial: string
  readonly prefix: string
  readonly topics: Topics
}

/** `text` reduced to `[a-z0-9_-]`: lower case, every other run of characters one "-", at most 64 long. */
export const sanitize = (text: string): string =>
  text.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "")

/** The default device id: the sensor's serial number, or the host name for a sensor without one. */
export const defaultId = (info: SensorInfo, hostname: string): string => {
  const own = info.kind === "mlx90640" || info.kind === "emulated" ? sanitize(info.serial) : ""
  return own !== "" ? own : sanitize(hostname) || "ircam"
}

export const topicsOf = (prefix: string): Topics => ({
  status: `${prefix}/status`,
  state: `${prefix}/state`,
  image: `${prefix}/image`,
  events: `${prefix}/events`,
  alarm: (ruleId) => `${prefix}/alarm/${ruleId}`,
  commands: {
    record: `${prefix}/commands/record`,
    acknowledge: `${prefix}/commands/acknowledge`,
    result: `${prefix}/commands/result`
  }
})

export const make = (config: MqttConfig, info: SensorInfo, hostname: string): MqttDevice => {
  const id = Option.getOrElse(config.deviceId, () => defaultId(info, hostname))
  const prefix = Option.getOrElse(config.topicPrefix, () => `ircam/${id}`)
  return {
    id,
    name: Option.getOrElse(config.deviceName, () => `ircam ${id}`),
    model: info.model,
    serial: info.serial,
    prefix,
    topics: topicsOf(prefix)
  }
}
