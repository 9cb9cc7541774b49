/**
 * Home Assistant MQTT discovery: the retained config messages that make ircam appear in Home
 * Assistant as one device with its entities, each on its own topic
 * `<discovery prefix>/<component>/<device id>/<object id>/config` (the documented layout, the
 * device id as the optional node id, so one ACL line covers a device's configs). Each config
 * names the device (`device`), what published it (`origin`) and the availability topic
 * (`<prefix>/status`, `online`/`offline`, Home Assistant's default payloads). An empty retained
 * message on a config topic removes the entity.
 *
 * Entities: temperature sensors (°C, `state_class: measurement`) for the frame's max, min and mean,
 * the ambient (sensor die) temperature and each zone's average, min and max, all read from the
 * state JSON; a binary sensor per alarm rule (`heat` for a rule above its threshold, `cold`
 * below) read from the rule's alarm topic; the heat map (`image`, PNG); diagnostics (the sensor's
 * status, frame rate and error count); and, only while commands are enabled, two buttons.
 */
import type { Rule } from "./Alarm.js"
import type { MqttDevice } from "./MqttDevice.js"
import type { Zone } from "./Zone.js"

/** What ircam reports as its software version. */
export const softwareVersion = "0.1.0"

export interface DiscoveryInput {
  readonly device: MqttDevice
  readonly discoveryPrefix: string
  /** the web page, for the device's `configuration_url` */
  readonly configurationUrl: string | undefined
  readonly zones: ReadonlyArray<Zone>
  readonly rules: ReadonlyArray<Rule>
  /** whether the heat map is published */
  readonly image: boolean
  /** whether commands are taken (then the buttons exist) */
  readonly commands: boolean
}

/** A config message: what Home Assistant reads from it is documented per component. */
export type Config = Readonly<Record<string, unknown>>

/** The topic filter matching every config topic of the device (`+` for the component and the object). */
export const configFilter = (discoveryPrefix: string, deviceId: string): string =>
  `${discoveryPrefix}/+/${deviceId}/+/config`

/** A Home Assistant (Jinja) template giving `expression`. */
const template = (expression: string) => `{{ ${expression} }}`

/** Every config topic of the device with its config, as `input` describes it. */
export const configs = (input: DiscoveryInput): ReadonlyMap<string, Config> => {
  const { device, discoveryPrefix } = input
  const { topics } = device
  const common = {
    availability_topic: topics.status,
    device: {
      identifiers: [`ircam_${device.id}`],
      name: device.name,
      manufacturer: "ircam",
      model: device.model,
      serial_number: device.serial,
      sw_version: softwareVersion,
      ...(input.configurationUrl === undefined ? {} : { configuration_url: input.configurationUrl })
    },
    origin: { name: "ircam", sw_version: softwareVersion }
  }
  const result = new Map<string, Config>()
  const add = (component: string, objectId: string, config: Config) =>
    result.set(`${discoveryPrefix}/${component}/${device.id}/${objectId}/config`, {
      ...config,
      unique_id: `ircam_${device.id}_${objectId}`,
      ...common
    })
  const temperature = (name: string, value: string) => ({
    name,
    state_topic: topics.state,
    value_template: template(value),
    device_class: "temperature",
    state_class: "measurement",
    unit_of_measurement: "°C",
    suggested_display_precision: 1
  })

  add("sensor", "frame_max", temperature("Frame max", "value_json.max"))
  add("sensor", "frame_min", temperature("Frame min", "value_json.min"))
  add("sensor", "frame_mean", temperature("Frame mean", "value_json.mean"))
  add("sensor", "ambient", temperature("Ambient", "value_json.ambient"))
  for (const zone of input.zones) {
    for (const stat of ["average", "min", "max"] as const) {
      add(
        "sensor",
        `zone_${zone.id}_${stat}`,
        temperature(`${zone.name} ${stat}`, `value_json.zones['${zone.id}'].${stat}`)
      )
    }
  }
  for (const rule of input.rules) {
    add("binary_sensor", `rule_${rule.id}`, {
      name: rule.name,
      state_topic: topics.alarm(rule.id),
      value_template: template("'ON' if value_json.state == 'active' else 'OFF'"),
      json_attributes_topic: topics.alarm(rule.id),
      device_class: rule.direction === "above" ? "heat" : "cold"
    })
  }
  if (input.image) {
    add("image", "heat_map", { name: "Heat map", image_topic: topics.image, content_type: "image/png" })
  }
  add("sensor", "sensor_status", {
    name: "Sensor status",
    state_topic: topics.state,
    value_template: template("value_json.sensor.status"),
    device_class: "enum",
    options: ["ok", "degraded", "down"],
    entity_category: "diagnostic"
  })
  add("sensor", "frame_rate", {
    name: "Frame rate",
    state_topic: topics.state,
    value_template: template("value_json.sensor.frameRate"),
    unit_of_measurement: "fps",
    state_class: "measurement",
    entity_category: "diagnostic"
  })
  add("sensor", "sensor_errors", {
    name: "Sensor errors",
    state_topic: topics.state,
    value_template: template("value_json.sensor.errors"),
    state_class: "total_increasing",
    entity_category: "diagnostic"
  })
  if (input.commands) {
    add("button", "record_event", {
      name: "Record event",
      command_topic: topics.commands.record,
      payload_press: JSON.stringify({ label: "Home Assistant" }),
      icon: "mdi:record-rec"
    })
    add("button", "acknowledge_alarms", {
      name: "Acknowledge alarms",
      command_topic: topics.commands.acknowledge,
      payload_press: JSON.stringify({ all: true }),
      icon: "mdi:bell-check"
    })
  }
  return result
}
