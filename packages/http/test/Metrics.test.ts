/**
 * GET /metrics on the composed application (TestApp: a real server on a random port, in-memory
 * SQLite) with a sensor the test feeds frame by frame: the formats and their negotiation, then
 * what each service's metrics say after the test made it happen. Waits for what other fibers do
 * (alarm evaluation, a webhook over loopback) poll in real time, briefly; ages run on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import type { AppConfigShape } from "@ircam/core/AppConfig"
import { History } from "@ircam/core/History"
import { NotifierSettings } from "@ircam/core/NotifierSettings"
import { Sensor, SensorError } from "@ircam/core/Sensor"
import * as SimulatedSensor from "@ircam/core/SimulatedSensor"
import { Duration, Effect, Fiber, Layer, Option, Stream, TestClock } from "effect"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as TestCore from "../../core/test/support/TestCore.js"
import * as TestFrames from "../../core/test/support/TestFrames.js"
import * as TestMqtt from "../../core/test/support/TestMqtt.js"
import { negotiate, openMetricsFormat, textFormat } from "../src/Metrics.js"
import { find, type Sample, samples, value } from "./support/Exposition.js"
import { advanceTo, appLayer, atStart, awaitFrame, jsonOf, send } from "./support/TestApp.js"

/** What Prometheus 2.42 sends. */
const prometheusAccept =
  "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," +
  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

const inApp = (config: Partial<AppConfigShape> = {}) => Effect.provide(appLayer(TestCore.fedSensor(), config))

const scrape = (headers: Record<string, string> = {}) =>
  Effect.map(send("GET", "/metrics", { headers }), (answer) => {
    assert.strictEqual(answer.status, 200, answer.text)
    return samples(answer.text)
  })

/** Scrapes (in real time, up to 5 s) until `ready` holds. */
const eventually = (ready: (all: ReadonlyArray<Sample>) => boolean) =>
  Effect.gen(function*() {
    for (let attempt = 0; attempt < 250; attempt++) {
      const all = yield* scrape()
      if (ready(all)) return all
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
    }
    return assert.fail("the metrics never got there")
  })

/** Pushes a frame captured now and waits until the monitor has it. */
const pushFrame = (options: TestFrames.FrameOptions) =>
  Effect.gen(function*() {
    const frame = yield* TestFrames.now(options)
    yield* TestCore.push(frame)
    yield* awaitFrame((f) => f.sequence === frame.sequence)
  })

const json = (method: "POST" | "PUT" | "DELETE", path: string, body?: unknown) =>
  Effect.map(send(method, path, body === undefined ? {} : { json: body }), (answer) => {
    assert.isBelow(answer.status, 300, answer.text)
    return answer.text === "" ? undefined : jsonOf(answer) as { readonly id: number }
  })

describe("negotiate", () => {
  it("prefers OpenMetrics only when the Accept header ranks it above the text format", () => {
    assert.strictEqual(negotiate(undefined), textFormat)
    assert.strictEqual(negotiate(""), textFormat)
    assert.strictEqual(negotiate("*/*"), textFormat)
    assert.strictEqual(negotiate("application/json"), textFormat)
    assert.strictEqual(negotiate(prometheusAccept), openMetricsFormat)
    assert.strictEqual(negotiate("application/openmetrics-text"), openMetricsFormat)
    assert.strictEqual(negotiate("Application/OpenMetrics-Text; Version=1.0.0"), openMetricsFormat)
    assert.strictEqual(negotiate("text/plain, application/openmetrics-text;q=0.9"), textFormat)
    assert.strictEqual(negotiate("text/plain;q=0.4, application/openmetrics-text;q=0.5"), openMetricsFormat)
    assert.strictEqual(negotiate("application/openmetrics-text;q=0"), textFormat)
    // a version prom-client does not write
    assert.strictEqual(negotiate("application/openmetrics-text;version=0.0.1"), textFormat)
  })
})

describe("GET /metrics", () => {
  it.live("answers the text format 0.0.4 by default, each family with its HELP and TYPE", () =>
    Effect.gen(function*() {
      const answer = yield* send("GET", "/metrics")
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(answer.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
      assert.include(answer.text, "# TYPE ircam_sensor_frames_total counter\nircam_sensor_frames_total 0")
      assert.include(answer.text, "# TYPE ircam_sensor_last_frame_age_seconds gauge")
      // the process's own
      for (
        const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds"]
      ) {
        assert.lengthOf(find(samples(answer.text), name), 1, name)
      }
      // prom-client's gauges named like counters are left out
      assert.notInclude(answer.text, "nodejs_active_handles_total")
      const build = find(samples(answer.text), "ircam_build_info")
      assert.deepStrictEqual(build.map((s) => [s.labels, s.value]), [[
        { version: "0.1.0", nodejs: process.versions.node },
        1
      ]])
    }).pipe(inApp()))

  it.live("answers OpenMetrics to Prometheus, and the text format keeps its counter names afterwards", () =>
    Effect.gen(function*() {
      const open = yield* send("GET", "/metrics", { headers: { accept: prometheusAccept } })
      assert.strictEqual(open.headers["content-type"], "application/openmetrics-text; version=1.0.0; charset=utf-8")
      assert.isTrue(open.text.endsWith("# EOF\n"))
      assert.include(open.text, "# TYPE ircam_sensor_frames counter\nircam_sensor_frames_total 0")
      const text = yield* send("GET", "/metrics")
      assert.include(text.text, "# TYPE ircam_sensor_frames_total counter\nircam_sensor_frames_total 0")
      assert.include(text.text, "# TYPE process_cpu_seconds_total counter")
    }).pipe(inApp()))

  it.live("is behind the RequestGuard like every path, and absent with METRICS_ENABLED=false", () =>
    Effect.gen(function*() {
      const refused = yield* send("GET", "/metrics", { headers: { host: "evil.example" } })
      assert.strictEqual(refused.status, 421)
      const answer = yield* send("GET", "/metrics")
      assert.strictEqual(answer.headers["x-content-type-options"], "nosniff")
      assert.strictEqual(answer.headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'")
      // the refusal was counted, though no route was matched
      assert.strictEqual(
        value(samples(answer.text), "ircam_http_requests_total", { route: "unmatched", status: "421" }),
        1
      )
    }).pipe(inApp()))

  it.live("METRICS_ENABLED=false: no /metrics", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* send("GET", "/metrics")).status, 404)
      assert.strictEqual((yield* send("GET", "/api/v1/zones")).status, 200)
    }).pipe(inApp({ metricsEnabled: false })))
})

describe("the README", () => {
  it.live("lists every ircam metric in its table, and only those", () =>
    Effect.gen(function*() {
      const text = (yield* send("GET", "/metrics")).text
      const families = new Set([...text.matchAll(/^# TYPE (ircam_\w+) /gm)].map((match) => match[1]!))
      const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8")
      const section = readme.slice(readme.indexOf("## Prometheus metrics"), readme.indexOf("### Scraping it"))
      const rows = section.split("\n").filter((line) => line.startsWith("| `ircam_"))
      const listed = new Set(
        rows.flatMap((row) => [...row.split(" | ")[0]!.matchAll(/`(ircam_\w+)`/g)].map((m) => m[1]!))
      )
      assert.sameMembers([...listed], [...families])
    }).pipe(Effect.provide(appLayer(
      Sensor.layerTest(
        Stream.never,
        {},
        Effect.succeed({
          lastError: null,
          counters: { errors: 0, timeouts: 0, corruptFrames: 0, retries: 0, reinitialisations: 0, restarts: 0 }
        })
      ),
      // MQTT's families exist only when it is configured (nothing need listen there)
      { mqtt: Option.some(TestMqtt.config("mqtt://127.0.0.1:9")) }
    ))))
})

describe("metrics", () => {
  it.live("temperatures: the latest frame's and each zone's, by zone id and name; none before the first frame", () =>
    Effect.gen(function*() {
      const before = yield* scrape()
      for (const name of ["ircam_frame_max_celsius", "ircam_frame_mean_celsius", "ircam_sensor_ambient_celsius"]) {
        assert.lengthOf(find(before, name), 0, `${name} before any frame`)
      }
      const plate = (yield* json("POST", "/api/v1/zones", { name: "plate", x: 0, y: 0, width: 2, height: 2 }))!
      yield* json("POST", "/api/v1/zones", { name: "bench \"2\"", x: 10, y: 10, width: 4, height: 4 })
      yield* pushFrame({
        sequence: 1,
        ambient: 31.5,
        temperatures: (i) =>
          i === 0 ? 80 : i === 1 ? 70 : TestFrames.withRect({ x: 0, y: 0, width: 2, height: 2 }, 60)(i)
      })
      const all = yield* scrape()
      assert.strictEqual(value(all, "ircam_frame_max_celsius"), 80)
      assert.strictEqual(value(all, "ircam_frame_min_celsius"), 20)
      assert.strictEqual(value(all, "ircam_sensor_ambient_celsius"), 31.5)
      // in hundredths, as the API gives it
      assert.strictEqual(value(all, "ircam_frame_mean_celsius"), 20.25)
      const zone = { zone_id: String(plate.id), zone_name: "plate" }
      assert.strictEqual(value(all, "ircam_zone_max_celsius", zone), 80)
      assert.strictEqual(value(all, "ircam_zone_min_celsius", zone), 60)
      assert.strictEqual(value(all, "ircam_zone_average_celsius", zone), 67.5)
      assert.strictEqual(value(all, "ircam_zone_max_celsius", { zone_name: "bench \"2\"" }), 20)

      // a zone deleted is gone at once, before the next frame
      yield* json("DELETE", `/api/v1/zones/${plate.id}`)
      const after = yield* scrape()
      assert.lengthOf(find(after, "ircam_zone_max_celsius"), 1)
      assert.lengthOf(find(after, "ircam_zone_max_celsius", zone), 0)
    }).pipe(inApp()))

  it.live("alarms: active by rule (0/1) with its threshold; transitions by kind and severity", () =>
    Effect.gen(function*() {
      const zone = (yield* json("POST", "/api/v1/zones", { name: "plate", x: 0, y: 0, width: 2, height: 2 }))!
      const warm = (yield* json("POST", "/api/v1/alarms/rules", {
        name: "warm",
        metric: "max",
        direction: "above",
        threshold: 30,
        severity: "warning"
      }))!
      yield* json("POST", "/api/v1/alarms/rules", {
        name: "heating",
        zoneId: zone.id,
        metric: "rate",
        direction: "above",
        threshold: 30,
        severity: "critical"
      })
      const rule = { rule_id: String(warm.id), rule_name: "warm", zone_id: "", severity: "warning" }
      const idle = yield* scrape()
      assert.strictEqual(value(idle, "ircam_alarm_active", rule), 0)
      assert.strictEqual(
        value(idle, "ircam_alarm_rule_threshold_celsius", { ...rule, metric: "max", direction: "above" }),
        30
      )
      assert.strictEqual(
        value(idle, "ircam_alarm_rule_threshold_celsius_per_second", {
          zone_id: String(zone.id),
          rule_name: "heating"
        }),
        0.5
      )

      yield* pushFrame({ sequence: 1, temperatures: 40 })
      const raised = yield* eventually((all) => value(all, "ircam_alarm_active", rule) === 1)
      assert.strictEqual(
        value(raised, "ircam_alarm_transitions_total", { transition: "raised", severity: "warning" }),
        1
      )
      assert.strictEqual(
        value(raised, "ircam_alarm_transitions_total", { transition: "raised", severity: "critical" }),
        0
      )
      assert.isAtLeast(value(raised, "ircam_alarm_evaluations_total"), 1)

      const [alarm] = jsonOf(yield* send("GET", "/api/v1/alarms/active")) as ReadonlyArray<{ readonly id: number }>
      yield* json("POST", `/api/v1/alarms/${alarm!.id}/ack`)
      yield* pushFrame({ sequence: 2, temperatures: 20 })
      const cleared = yield* eventually((all) => value(all, "ircam_alarm_active", rule) === 0)
      for (const transition of ["acknowledged", "cleared"]) {
        assert.strictEqual(value(cleared, "ircam_alarm_transitions_total", { transition, severity: "warning" }), 1)
      }
      assert.strictEqual(value(cleared, "ircam_alarm_evaluation_errors_total"), 0)

      // a disabled rule is not evaluated: it has no series
      yield* json("PUT", `/api/v1/alarms/rules/${warm.id}`, {
        name: "warm",
        metric: "max",
        direction: "above",
        threshold: 30,
        severity: "warning",
        enabled: false
      })
      assert.lengthOf(find(yield* scrape(), "ircam_alarm_active", { rule_name: "warm" }), 0)
    }).pipe(inApp()))

  it.effect("sensor: frames, the age of the last frame and the rate, on the monotonic clock", () =>
    Effect.gen(function*() {
      for (let n = 1; n <= 5; n++) {
        yield* pushFrame({ sequence: n })
        yield* TestClock.adjust(Duration.millis(125))
      }
      yield* TestClock.adjust(Duration.millis(2375))
      const all = yield* scrape()
      assert.strictEqual(value(all, "ircam_sensor_frames_total"), 5)
      assert.strictEqual(value(all, "ircam_sensor_last_frame_age_seconds"), 2.5)
      assert.strictEqual(value(all, "ircam_sensor_frame_rate_hertz"), 8)
      assert.strictEqual(value(all, "ircam_sensor_refresh_rate_hertz"), 8)
      assert.deepStrictEqual(find(all, "ircam_sensor_info")[0]!.labels, {
        kind: "test",
        model: "test frames",
        serial: "test"
      })
      assert.strictEqual(value(all, "ircam_sensor_errors_total", { reason: "Timeout" }), 0)
      // no driver, no driver counters
      assert.lengthOf(all.filter((sample) => sample.name.startsWith("ircam_sensor_driver_")), 0)
      assert.strictEqual(value(all, "ircam_health_status", { check: "sensor", status: "degraded" }), 1)
      assert.strictEqual(value(all, "ircam_health_status", { check: "sensor", status: "ok" }), 0)
    }).pipe(atStart(appLayer(TestCore.fedSensor()))))

  it.effect("sensor: failures of the frame stream by reason, and the driver's counters", () =>
    Effect.gen(function*() {
      const all = yield* scrape()
      assert.strictEqual(value(all, "ircam_sensor_errors_total", { reason: "Bus" }), 1)
      assert.strictEqual(value(all, "ircam_sensor_errors_total", { reason: "Timeout" }), 0)
      assert.strictEqual(value(all, "ircam_sensor_driver_errors_total"), 7)
      assert.strictEqual(value(all, "ircam_sensor_driver_timeouts_total"), 2)
      assert.strictEqual(value(all, "ircam_sensor_driver_corrupt_frames_total"), 3)
      assert.strictEqual(value(all, "ircam_sensor_driver_reinitialisations_total"), 1)
      assert.strictEqual(value(all, "ircam_sensor_driver_restarts_total"), 0)
      // no frame yet: its age is the time since start, there is no rate
      assert.strictEqual(value(all, "ircam_sensor_last_frame_age_seconds"), 0)
      assert.lengthOf(find(all, "ircam_sensor_frame_rate_hertz"), 0)
    }).pipe(atStart(appLayer(Sensor.layerTest(
      Stream.fail(new SensorError({ reason: "Bus", message: "bus error" })),
      { kind: "mlx90640" },
      Effect.succeed({
        lastError: null,
        counters: { errors: 7, timeouts: 2, corruptFrames: 3, retries: 5, reinitialisations: 1 }
      })
    )))))

  it.live("events: recorded, frames stored, the database's size and its limit", () =>
    Effect.gen(function*() {
      yield* pushFrame({ sequence: 1 })
      yield* json("POST", "/api/v1/events")
      const all = yield* eventually((all) =>
        value(all, "ircam_events_recorded_total") === 1 && value(all, "ircam_event_frames_stored_total") >= 1
      )
      assert.strictEqual(value(all, "ircam_event_recording"), 1)
      assert.strictEqual(value(all, "ircam_event_write_errors_total"), 0)
      assert.strictEqual(value(all, "ircam_database_max_size_bytes"), 64 * 1024 * 1024)
      assert.isAbove(value(all, "ircam_database_size_bytes"), 0)
    }).pipe(inApp({ maxDbMb: 64 })))

  it.effect("history: seconds written, pending, dropped and missed, write errors, rows pruned, its size", () =>
    Effect.gen(function*() {
      yield* advanceTo(10_000)
      yield* (yield* History).flush
      const all = yield* scrape()
      // ten seconds of the whole frame (the open eleventh waits in memory until it closes)
      assert.strictEqual(value(all, "ircam_history_seconds_written_total"), 10)
      assert.strictEqual(value(all, "ircam_history_pending_seconds"), 0)
      for (const name of ["seconds_dropped", "frames_missed", "write_errors", "rows_pruned"]) {
        assert.strictEqual(value(all, `ircam_history_${name}_total`), 0, name)
      }
      // measured by the retention that runs at start
      assert.isAbove(value(all, "ircam_history_size_bytes"), 0)
      // no MQTT_URL: no MQTT metrics
      assert.lengthOf(all.filter((sample) => sample.name.startsWith("ircam_mqtt_")), 0)
    }).pipe(atStart(appLayer(SimulatedSensor.layer(), { refreshRateHz: 8 }))))

  it.live("notifications by channel and outcome; pending, and for how long", () =>
    Effect.gen(function*() {
      let status = 500
      const receiver = yield* Effect.acquireRelease(
        Effect.async<ReturnType<typeof createServer>>((resume) => {
          const server = createServer((request, response) => {
            request.resume().on("end", () => {
              response.statusCode = status
              response.end()
            })
          })
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.promise(() => new Promise((resolve) => server.close(resolve)))
      )
      const url = new URL(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`)
      yield* Effect.gen(function*() {
        yield* json("POST", "/api/v1/alarms/rules", {
          name: "warm",
          metric: "max",
          direction: "above",
          threshold: 30,
          severity: "warning"
        })
        yield* pushFrame({ sequence: 1, temperatures: 40 })
        const failing = yield* eventually((all) =>
          value(all, "ircam_notification_failed_attempts_total", { channel: "webhook" }) >= 1
        )
        assert.strictEqual(value(failing, "ircam_notifications_pending", { channel: "webhook" }), 1)
        assert.isAtLeast(value(failing, "ircam_notification_oldest_pending_age_seconds", { channel: "webhook" }), 0)
        assert.strictEqual(value(failing, "ircam_notifications_total", { channel: "webhook", outcome: "delivered" }), 0)
        status = 204
        // the retry is due within a second (NotifierSettings of the test below)
        const delivered = yield* eventually((all) =>
          value(all, "ircam_notifications_total", { channel: "webhook", outcome: "delivered" }) === 1
        )
        assert.strictEqual(value(delivered, "ircam_notifications_pending", { channel: "webhook" }), 0)
        assert.lengthOf(find(delivered, "ircam_notification_oldest_pending_age_seconds"), 0)
        assert.strictEqual(
          value(delivered, "ircam_notifications_total", { channel: "webhook", outcome: "given_up" }),
          0
        )
      }).pipe(
        Effect.provide(
          appLayer(TestCore.fedSensor(), { webhookUrl: Option.some(url) }).pipe(
            Layer.provide(Layer.succeed(NotifierSettings, {
              webhookTimeout: Duration.seconds(5),
              emailTimeout: Duration.seconds(5),
              retryBase: Duration.millis(200),
              retryCap: Duration.millis(400),
              giveUpAfter: Duration.minutes(1)
            }))
          )
        )
      )
    }).pipe(Effect.scoped))

  it.live("HTTP requests by route template (never the raw path) and status, with their latency", () =>
    Effect.gen(function*() {
      yield* send("GET", "/api/v1/zones/41")
      yield* send("GET", "/api/v1/zones/42")
      yield* send("GET", "/api/v1/zones")
      yield* send("GET", "/no/such/path")
      yield* send("GET", "/")
      const all = yield* scrape()
      const zone = { method: "GET", route: "/api/v1/zones/:id" }
      assert.strictEqual(value(all, "ircam_http_requests_total", { ...zone, status: "404" }), 2)
      assert.strictEqual(value(all, "ircam_http_requests_total", { route: "/api/v1/zones", status: "200" }), 1)
      assert.strictEqual(value(all, "ircam_http_requests_total", { route: "/", status: "200" }), 1)
      assert.strictEqual(value(all, "ircam_http_requests_total", { route: "unmatched", status: "404" }), 1)
      assert.isFalse(all.some((sample) => sample.labels["route"]?.includes("41") === true))
      assert.strictEqual(value(all, "ircam_http_request_duration_seconds_count", zone), 2)
      assert.strictEqual(value(all, "ircam_http_request_duration_seconds_bucket", { ...zone, le: "+Inf" }), 2)
      assert.isAbove(value(all, "ircam_http_request_duration_seconds_sum", zone), 0)
    }).pipe(inApp()))

  it.live("live streams open and refused", () =>
    Effect.gen(function*() {
      const first = yield* send("GET", "/api/v1/alarms/stream").pipe(Effect.fork)
      const opened = yield* eventually((all) => value(all, "ircam_streams_open") === 1)
      assert.strictEqual(value(opened, "ircam_streams_max"), 1)
      assert.strictEqual((yield* send("GET", "/api/v1/alarms/stream")).status, 503)
      const all = yield* scrape()
      assert.strictEqual(value(all, "ircam_streams_opened_total"), 1)
      assert.strictEqual(value(all, "ircam_streams_refused_total"), 1)
      assert.strictEqual(value(all, "ircam_stream_frames_skipped_total"), 0)
      yield* Fiber.interrupt(first)
    }).pipe(inApp({ maxStreams: 1 })))

  it.live("health: one status a check, as /api/v1/health reports it", () =>
    Effect.gen(function*() {
      yield* pushFrame({ sequence: 1 })
      const all = yield* scrape()
      const report = jsonOf(yield* send("GET", "/api/v1/health")) as {
        readonly checks: Record<string, { readonly status: string }>
      }
      for (const [check, { status }] of Object.entries(report.checks)) {
        assert.strictEqual(value(all, "ircam_health_status", { check, status }), 1, check)
        assert.lengthOf(find(all, "ircam_health_status", { check }).filter((s) => s.value === 1), 1, check)
      }
      assert.includeMembers(Object.keys(report.checks), ["sensor", "database", "streams"])
    }).pipe(inApp()))
})
