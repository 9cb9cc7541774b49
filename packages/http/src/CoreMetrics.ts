/**
 * The core services' metrics, one set a service: each defines its metrics on the registry and
 * sets them at every scrape from what the service keeps (`Metrics.onScrape`). Names follow
 * Prometheus' practices: the `ircam_` prefix, base units in the name (`_celsius`, `_seconds`,
 * `_bytes`, `_hertz`), `_total` for counters, labels of few values (ids and names of zones and
 * rules, reasons, channels).
 */
import { OpenApi } from "@effect/platform"
import { AlarmEngine } from "@ircam/core/AlarmEngine"
import { AppConfig } from "@ircam/core/AppConfig"
import { EventStore } from "@ircam/core/EventStore"
import { round2 } from "@ircam/core/Frame"
import { Health, Status } from "@ircam/core/Health"
import { History } from "@ircam/core/History"
import { Monitor } from "@ircam/core/Monitor"
import { Mqtt } from "@ircam/core/Mqtt"
import { Notifier } from "@ircam/core/Notifier"
import { Sensor, SensorError } from "@ircam/core/Sensor"
import { ZoneRepo } from "@ircam/core/ZoneRepo"
import { Context, Effect, Option } from "effect"
import { IrcamApi } from "./Api.js"
import { Metrics, setCounter, setGauge, setTotal, setValue } from "./Metrics.js"

/** `ircam_build_info`: the version of ircam and of Node.js, always 1. */
export const build = Effect.gen(function*() {
  const { gauge } = yield* Metrics
  const version = Option.getOrElse(Context.getOption(IrcamApi.annotations, OpenApi.Version), () => "unknown")
  gauge("ircam_build_info", "The version of ircam and of Node.js running it (always 1)", ["version", "nodejs"])
    .set({ version, nodejs: process.versions.node }, 1)
})

/** The latest frame's temperatures and every zone's statistics on it. */
export const temperatures = Effect.gen(function*() {
  const { gauge, onScrape } = yield* Metrics
  const monitor = yield* Monitor
  const zones = yield* ZoneRepo
  const frameMax = gauge("ircam_frame_max_celsius", "The hottest pixel of the latest frame (°C)")
  const frameMin = gauge("ircam_frame_min_celsius", "The coldest pixel of the latest frame (°C)")
  const frameMean = gauge("ircam_frame_mean_celsius", "The mean of the latest frame's pixels (°C)")
  const ambient = gauge("ircam_sensor_ambient_celsius", "The sensor's own temperature at the latest frame (°C)")
  const labels = ["zone_id", "zone_name"] as const
  const zoneAverage = gauge("ircam_zone_average_celsius", "A zone's average on the latest frame (°C)", labels)
  const zoneMin = gauge("ircam_zone_min_celsius", "A zone's coldest pixel on the latest frame (°C)", labels)
  const zoneMax = gauge("ircam_zone_max_celsius", "A zone's hottest pixel on the latest frame (°C)", labels)
  yield* onScrape(Effect.gen(function*() {
    const latest = Option.getOrUndefined(yield* monitor.latest)
    const names = new Map((yield* zones.list).map((zone) => [zone.id, zone.name]))
    // in hundredths, as the API and MQTT give them (the pixels are 32-bit floats)
    const celsius = (value: number | undefined) => value === undefined ? undefined : round2(value)
    setValue(frameMax, celsius(latest?.summary.max))
    setValue(frameMin, celsius(latest?.summary.min))
    setValue(frameMean, celsius(latest?.summary.mean))
    setValue(ambient, celsius(latest?.frame.ambient))
    // zones deleted since the frame are left out
    const stats = (latest?.zones ?? []).filter((zone) => names.has(zone.zoneId))
    const of = (zone: (typeof stats)[number]) => ({ zone_id: zone.zoneId, zone_name: names.get(zone.zoneId)! })
    setGauge(zoneAverage, stats.map((zone) => [of(zone), round2(zone.average)] as const))
    setGauge(zoneMin, stats.map((zone) => [of(zone), round2(zone.min)] as const))
    setGauge(zoneMax, stats.map((zone) => [of(zone), round2(zone.max)] as const))
  }))
})

/** What the driver counts (`Sensor.diagnostics`), each a counter of its own. */
const driverCounters: ReadonlyArray<readonly [key: string, name: string, help: string]> = [
  ["errors", "ircam_sensor_driver_errors_total", "Failed sub-page reads the driver recovered from"],
  ["timeouts", "ircam_sensor_driver_timeouts_total", "Sub-pages that were not ready before their deadline"],
  ["corruptFrames", "ircam_sensor_driver_corrupt_frames_total", "Sub-page reads rejected as corrupt"],
  ["retries", "ircam_sensor_driver_retries_total", "Sub-page reads retried"],
  ["reinitialisations", "ircam_sensor_driver_reinitialisations_total", "Times the driver re-initialised the sensor"],
  ["restarts", "ircam_sensor_driver_restarts_total", "Times the sensor restarted by itself and was configured again"]
]

/** The sensor: frames, failures, the age of the last frame, the achieved rate, the driver's counters. */
export const sensor = Effect.gen(function*() {
  const { counter, gauge, onScrape } = yield* Metrics
  const monitor = yield* Monitor
  const { diagnostics, info } = yield* Sensor
  gauge("ircam_sensor_info", "The sensor in use (always 1)", ["kind", "model", "serial"])
    .set({ kind: info.kind, model: info.model, serial: info.serial }, 1)
  gauge("ircam_sensor_refresh_rate_hertz", "Frames per second the sensor is set to deliver").set(info.refreshRateHz)
  const rate = gauge("ircam_sensor_frame_rate_hertz", "Frames per second achieved over the last 16 frames")
  const age = gauge(
    "ircam_sensor_last_frame_age_seconds",
    "Seconds since the latest frame (since start while there has been none)"
  )
  const frames = counter("ircam_sensor_frames_total", "Frames the monitor loop has processed")
  const errors = counter(
    "ircam_sensor_errors_total",
    "Failures of the sensor's frame stream (each retried with backoff), by reason",
    ["reason"]
  )
  const driver = diagnostics === undefined
    ? []
    : driverCounters.map(([key, name, help]) => [key, counter(name, help)] as const)
  yield* onScrape(Effect.gen(function*() {
    const stats = yield* monitor.sensorStats
    setValue(rate, stats.frameRate)
    setValue(age, stats.lastFrameAgeMs / 1000)
    setTotal(frames, stats.frames)
    setCounter(errors, SensorError.fields.reason.literals.map((reason) => [{ reason }, stats.errors[reason] ?? 0]))
    if (diagnostics === undefined) return
    const { counters } = yield* diagnostics
    for (const [key, metric] of driver) setTotal(metric, counters[key] ?? 0)
  }))
})

/** Alarms: which rules' alarms are active, the rules' thresholds, the transitions. */
export const alarms = Effect.gen(function*() {
  const { counter, gauge, onScrape } = yield* Metrics
  const engine = yield* AlarmEngine
  const rule = ["rule_id", "rule_name", "zone_id", "severity"] as const
  const active = gauge(
    "ircam_alarm_active",
    "1 while an enabled rule's alarm is active (raised and not cleared, acknowledged or not), else 0; zone_id is " +
      "empty for a rule on the whole frame",
    rule
  )
  const threshold = gauge(
    "ircam_alarm_rule_threshold_celsius",
    "The threshold of each enabled rule on a temperature (max, min or average of its zone or the frame; °C)",
    [...rule, "metric", "direction"]
  )
  const rateThreshold = gauge(
    "ircam_alarm_rule_threshold_celsius_per_second",
    "The threshold of each enabled rule on the rate of change of a max (°C per second; the rule says it per minute)",
    [...rule, "direction"]
  )
  const transitions = counter(
    "ircam_alarm_transitions_total",
    "Alarms raised, acknowledged and cleared, by severity",
    ["transition", "severity"]
  )
  const evaluations = counter("ircam_alarm_evaluations_total", "Frames the alarm rules were evaluated on")
  const errors = counter("ircam_alarm_evaluation_errors_total", "Alarm evaluations that failed (storage …)")
  yield* onScrape(Effect.map(engine.stats, (stats) => {
    const labels = (r: (typeof stats.rules)[number]) => ({
      rule_id: r.id,
      rule_name: r.name,
      zone_id: r.zoneId ?? "",
      severity: r.severity
    })
    const on = new Set(stats.active.map((alarm) => alarm.ruleId))
    setGauge(active, stats.rules.map((r) => [labels(r), on.has(r.id) ? 1 : 0] as const))
    const rates = stats.rules.filter((r) => r.metric === "rate")
    const levels = stats.rules.filter((r) => r.metric !== "rate")
    setGauge(
      threshold,
      levels.map((r) => [{ ...labels(r), metric: r.metric, direction: r.direction }, r.threshold] as const)
    )
    setGauge(rateThreshold, rates.map((r) => [{ ...labels(r), direction: r.direction }, r.threshold / 60] as const))
    setCounter(
      transitions,
      Object.entries(stats.transitions).flatMap(([transition, bySeverity]) =>
        Object.entries(bySeverity).map(([severity, n]) => [{ transition, severity }, n] as const)
      )
    )
    setTotal(evaluations, stats.evaluations)
    setTotal(errors, stats.errors)
  }))
})

/** Event recording and the database it fills. */
export const events = Effect.gen(function*() {
  const { counter, gauge, onScrape } = yield* Metrics
  const store = yield* EventStore
  const { maxDbMb } = yield* AppConfig
  const totals = [
    ["eventsRecorded", counter("ircam_events_recorded_total", "Events recorded (started)")],
    ["framesStored", counter("ircam_event_frames_stored_total", "Frames stored with events")],
    ["framesMissed", counter("ircam_event_frames_missed_total", "Frames of events that left the buffer unstored")],
    ["writeErrors", counter("ircam_event_write_errors_total", "Failed writes of event frames (each retried)")],
    ["eventsPruned", counter("ircam_events_pruned_total", "Events deleted by retention")]
  ] as const
  const recording = gauge("ircam_event_recording", "1 while an event is being recorded, else 0")
  const size = gauge("ircam_database_size_bytes", "Bytes the database's pages hold (what MAX_DB_MB limits)")
  gauge("ircam_database_max_size_bytes", "MAX_DB_MB in bytes: retention deletes the oldest events beyond it")
    .set(maxDbMb * 1024 * 1024)
  yield* onScrape(Effect.gen(function*() {
    const stats = yield* store.stats
    for (const [key, metric] of totals) setTotal(metric, stats[key])
    setValue(recording, stats.recording ? 1 : 0)
    setValue(size, Option.getOrUndefined(yield* Effect.option(store.databaseBytes)))
  }))
})

/** The temperature history's writer and retention. */
export const history = Effect.gen(function*() {
  const { counter, gauge, onScrape } = yield* Metrics
  const writer = yield* History
  const totals = [
    [
      "secondsWritten",
      counter("ircam_history_seconds_written_total", "Seconds of history stored (whole frame and zones)")
    ],
    [
      "secondsDropped",
      counter("ircam_history_seconds_dropped_total", "Seconds of history dropped while the disk could not take them")
    ],
    [
      "framesMissed",
      counter("ircam_history_frames_missed_total", "Frames the monitor processed that the history never saw")
    ],
    ["writeErrors", counter("ircam_history_write_errors_total", "Failed writes of the history (each retried)")],
    ["rowsPruned", counter("ircam_history_rows_pruned_total", "Rows of history deleted by retention")]
  ] as const
  const pending = gauge("ircam_history_pending_seconds", "Closed seconds of history in memory, waiting to be stored")
  const size = gauge(
    "ircam_history_size_bytes",
    "Bytes the history holds in the database, as retention measured them (every 10 minutes; none before the first)"
  )
  yield* onScrape(Effect.map(writer.stats, (stats) => {
    for (const [key, metric] of totals) setTotal(metric, stats[key])
    setValue(pending, stats.pendingSeconds)
    setValue(size, stats.bytes)
  }))
})

/** The MQTT connection, when MQTT_URL is set (none of these otherwise). */
export const mqtt = Effect.gen(function*() {
  const { counter, gauge, onScrape } = yield* Metrics
  const connection = yield* Mqtt
  if (Option.isNone(connection.setup)) return
  const { broker } = connection.setup.value
  const connected = gauge("ircam_mqtt_connected", "1 while connected to the broker, else 0", ["broker"])
  const totals = [
    ["attempts", counter("ircam_mqtt_connection_attempts_total", "Attempts to connect to the broker")],
    ["connections", counter("ircam_mqtt_connections_total", "Connections made to the broker")],
    ["published", counter("ircam_mqtt_messages_published_total", "Messages the broker (QoS 1) or the socket took")],
    [
      "dropped",
      counter(
        "ircam_mqtt_messages_dropped_total",
        "Messages dropped while not connected (states and pictures, published again once connected)"
      )
    ],
    ["failed", counter("ircam_mqtt_publish_failures_total", "Publishes that failed (notifications are retried)")],
    [
      "received",
      counter(
        "ircam_mqtt_messages_received_total",
        "Messages received on ircam's subscriptions (Home Assistant's status, its retained discovery configs, commands)"
      )
    ]
  ] as const
  yield* onScrape(Effect.map(connection.stats, (stats) => {
    connected.set({ broker }, stats.connected ? 1 : 0)
    for (const [key, metric] of totals) setTotal(metric, stats[key])
  }))
})

/** Alarm notifications, by channel. */
export const notifications = Effect.gen(function*() {
  const { counter, gauge, onScrape } = yield* Metrics
  const notifier = yield* Notifier
  const outcomes = counter(
    "ircam_notifications_total",
    "Notifications delivered, or given up after retrying for 24 hours, by channel",
    ["channel", "outcome"]
  )
  const failed = counter(
    "ircam_notification_failed_attempts_total",
    "Delivery attempts that failed (each retried until given up), by channel",
    ["channel"]
  )
  const pending = gauge("ircam_notifications_pending", "Notifications waiting in the outbox, by channel", ["channel"])
  const oldest = gauge(
    "ircam_notification_oldest_pending_age_seconds",
    "Seconds since the oldest pending notification was queued, by channel (none when nothing is pending)",
    ["channel"]
  )
  yield* onScrape(Effect.map(notifier.stats, (channels) => {
    setCounter(
      outcomes,
      channels.flatMap(({ channel, outcomes }) => [
        [{ channel, outcome: "delivered" }, outcomes.delivered] as const,
        [{ channel, outcome: "given_up" }, outcomes.givenUp] as const
      ])
    )
    setCounter(failed, channels.map(({ channel, outcomes }) => [{ channel }, outcomes.failedAttempts] as const))
    setGauge(pending, channels.map(({ channel, pending }) => [{ channel }, pending] as const))
    setGauge(
      oldest,
      channels.flatMap(({ channel, oldestPendingMs }) =>
        oldestPendingMs === null ? [] : [[{ channel }, oldestPendingMs / 1000] as const]
      )
    )
  }))
})

/** Every health check's status, as `/api/v1/health` reports it: 1 for the current status, 0 for the others. */
export const health = Effect.gen(function*() {
  const { gauge, onScrape } = yield* Metrics
  const registry = yield* Health
  const status = gauge(
    "ircam_health_status",
    "Each health check's status (ok, degraded, down): 1 for the current one, 0 for the others",
    ["check", "status"]
  )
  yield* onScrape(Effect.map(registry.report, (report) => {
    setGauge(
      status,
      Object.entries(report.checks).flatMap(([check, result]) =>
        Status.literals.map((s) => [{ check, status: s }, result.status === s ? 1 : 0] as const)
      )
    )
  }))
})
