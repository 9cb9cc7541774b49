/**
 * ircam scraped by a real Prometheus: the built `ircam serve` on the emulated MLX90640 with random
 * bus faults (EMULATOR_FAULT_RATE), and Debian's `prometheus` (installed with apt-get when it is
 * missing; these tests skip, saying why, only when that cannot be done) on a free port, scraping
 * it every second with deploy/prometheus's alerting rules loaded. After a few scrapes Prometheus'
 * HTTP API must show the zone temperatures, the alarm the test raised and the injected sensor
 * errors; promtool must pass the exposition, the rules and the example configuration; and every
 * metric the Grafana dashboard and the rules query must be in ircam's output. ircam publishes to a
 * Mosquitto as well, for the MQTT metrics.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as DebianPackage from "@ircam/test-support/DebianPackage"
import * as Mosquitto from "@ircam/test-support/Mosquitto"
import { freePort } from "@ircam/test-support/Port"
import { type Ircam, killAll, serverEnv, start, stop, waitUntilAnswering } from "@ircam/test-support/Process"
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"
import { readFileSync } from "node:fs"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

// installing takes a while: done while the file is collected, so that a skip is a real skip
const unavailable = await DebianPackage.ensure("prometheus", "/usr/bin/prometheus")
if (unavailable !== undefined) {
  console.warn(
    `test/prometheus.test.ts: skipped, Prometheus is not available and could not be installed: ${unavailable}`
  )
}
// ircam publishes to a broker too, for the MQTT metrics and their alert
const noBroker = unavailable === undefined ? await Mosquitto.unavailable() : undefined
if (noBroker !== undefined) {
  console.warn(`test/prometheus.test.ts: skipped, Mosquitto is not available and could not be installed: ${noBroker}`)
}

const deploy = fileURLToPath(new URL("../deploy/", import.meta.url))
const rulesFile = join(deploy, "prometheus/ircam-alerts.yml")
const dashboard = JSON.parse(readFileSync(join(deploy, "grafana/ircam.json"), "utf8")) as Dashboard

interface Target {
  readonly expr: string
  readonly datasource: { readonly type: string; readonly uid: string }
}
interface Panel {
  readonly id: number
  readonly type: string
  readonly datasource?: Target["datasource"]
  readonly targets?: ReadonlyArray<Target>
  readonly panels?: ReadonlyArray<Panel>
}
interface Dashboard {
  readonly panels: ReadonlyArray<Panel>
  readonly templating: {
    readonly list: ReadonlyArray<
      { readonly type: string; readonly name: string; readonly definition?: string; readonly query: unknown }
    >
  }
}

const allPanels = (panels: ReadonlyArray<Panel>): ReadonlyArray<Panel> =>
  panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])])

/** The PromQL expression of every panel of the dashboard. */
const panelExpressions = allPanels(dashboard.panels).flatMap((panel) => (panel.targets ?? []).map((t) => t.expr))

/** The queries of the dashboard's variables (Grafana's `label_values(metric, label)`). */
const variableQueries = dashboard.templating.list.flatMap((v) => v.definition === undefined ? [] : [v.definition])

const dashboardExpressions = [...panelExpressions, ...variableQueries]

/** The metric names an expression reads (ircam's and the process's). */
const metricNames = (expression: string): ReadonlyArray<string> =>
  expression.match(/\b(?:ircam|process|nodejs)_[a-z0-9_]+\b/g) ?? []

/** Runs a program to its end: its exit code and output; `input` on its stdin. */
const run = async (command: string, args: ReadonlyArray<string>, input?: string) => {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] })
  let output = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk))
  child.stdin.end(input ?? "")
  const [code] = await once(child, "close") as [number | null]
  return { code, output }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let dir = ""
let port = 0
let prometheusPort = 0
let ircam: Ircam | undefined
let prometheus: ChildProcess | undefined
let prometheusLog = ""
let broker: Mosquitto.Broker | undefined

const ircamUrl = (path: string) => `http://127.0.0.1:${port}${path}`

const api = async <A>(method: string, path: string, body?: unknown): Promise<A> => {
  const response = await fetch(ircamUrl(`/api/v1${path}`), {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  assert.isTrue(response.ok, `${method} ${path}: ${response.status} ${text}`)
  return JSON.parse(text) as A
}

interface VectorSample {
  readonly metric: Record<string, string>
  readonly value: readonly [number, string]
}

/** Prometheus' answer to an instant query: `status`, and the samples when it succeeded. */
const query = async (expression: string) => {
  const url = new URL(`http://127.0.0.1:${prometheusPort}/api/v1/query`)
  url.searchParams.set("query", expression)
  const body = await (await fetch(url)).json() as {
    readonly status: string
    readonly error?: string
    readonly data?: { readonly result: ReadonlyArray<VectorSample> }
  }
  return { status: body.status, error: body.error, result: body.data?.result ?? [] }
}

/** The samples of `expression` once there are some satisfying `ready` (polling every 250 ms, up to 30 s). */
const eventually = async (expression: string, ready: (result: ReadonlyArray<VectorSample>) => boolean = () => true) => {
  let last: Awaited<ReturnType<typeof query>> | undefined
  for (let attempt = 0; attempt < 120; attempt++) {
    last = await query(expression)
    if (last.status === "success" && last.result.length > 0 && ready(last.result)) return last.result
    await sleep(250)
  }
  throw new Error(
    `Prometheus never answered ${expression} as expected; last: ${JSON.stringify(last)}\n${prometheusLog}`
  )
}

const valueOf = (sample: VectorSample) => Number(sample.value[1])

describe.skipIf(unavailable !== undefined || noBroker !== undefined)("ircam scraped by Prometheus", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ircam-prometheus-"))
    port = await freePort()
    prometheusPort = await freePort()
    broker = await Mosquitto.start()
    const mqttUrl = broker.url
    ircam = start(
      ["serve"],
      serverEnv(dir, port, {
        SENSOR: "emulated",
        EMULATOR_FAULT_RATE: "0.05",
        REFRESH_RATE_HZ: "8",
        MQTT_URL: mqttUrl
      }),
      dir
    )
    await waitUntilAnswering(ircam, ircamUrl("/api/v1/health"))
    const plate = await api<{ readonly id: number }>("POST", "/zones", {
      name: "hot plate",
      x: 24,
      y: 4,
      width: 4,
      height: 3
    })
    // a warm spot is always above 30 °C: raised at the next frame
    await api("POST", "/alarms/rules", {
      name: "something warm",
      metric: "max",
      direction: "above",
      threshold: 30,
      severity: "warning"
    })
    await api("POST", "/alarms/rules", {
      name: "plate too hot",
      zoneId: plate.id,
      metric: "max",
      direction: "above",
      threshold: 60,
      severity: "critical"
    })
    await writeFile(
      join(dir, "prometheus.yml"),
      JSON.stringify({
        global: { scrape_interval: "1s", scrape_timeout: "900ms", evaluation_interval: "1s" },
        rule_files: [rulesFile],
        scrape_configs: [{ job_name: "ircam", static_configs: [{ targets: [`127.0.0.1:${port}`] }] }]
      })
    )
    prometheus = spawn("/usr/bin/prometheus", [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "tsdb")}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`
    ], { stdio: ["ignore", "pipe", "pipe"] })
    prometheus.stderr?.setEncoding("utf8").on("data", (chunk: string) => (prometheusLog += chunk))
    for (let attempt = 0; attempt < 120; attempt++) {
      const ready = await fetch(`http://127.0.0.1:${prometheusPort}/-/ready`).then((r) => r.ok, () => false)
      if (ready) return
      await sleep(250)
    }
    throw new Error(`Prometheus did not start:\n${prometheusLog}`)
  })

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      prometheus.kill("SIGTERM")
      await once(prometheus, "close")
    }
    if (ircam !== undefined) await stop(ircam)
    await killAll()
    await broker?.close()
    if (dir !== "") await rm(dir, { recursive: true, force: true })
  })

  it("scrapes ircam without error", async () => {
    await eventually("up{job=\"ircam\"}", (result) => valueOf(result[0]!) === 1)
    const targets = await (await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/targets`)).json() as {
      readonly data: { readonly activeTargets: ReadonlyArray<{ readonly health: string; readonly lastError: string }> }
    }
    assert.deepStrictEqual(targets.data.activeTargets.map((t) => [t.health, t.lastError]), [["up", ""]])
  })

  it("has the zone temperatures", async () => {
    // the three of one scrape
    const zone = await eventually(
      "{__name__=~\"ircam_zone_(max|min|average)_celsius\",zone_name=\"hot plate\",job=\"ircam\"}",
      (result) => result.length === 3
    )
    const statistic = (name: string) => zone.find((sample) => sample.metric["__name__"] === name)
    const [max, min, average] = ["max", "min", "average"].map((s) => statistic(`ircam_zone_${s}_celsius`))
    // the simulated hot plate, between room temperature and about 80 °C
    assert.isTrue(valueOf(min!) <= valueOf(average!) && valueOf(average!) <= valueOf(max!))
    assert.isTrue(valueOf(min!) > 15 && valueOf(max!) < 90, JSON.stringify([min, max]))
    assert.strictEqual(max!.metric["zone_id"], "1")
    const [frame] = await eventually("ircam_frame_max_celsius")
    assert.isAbove(valueOf(frame!), 30)
  })

  it("has the alarm the test raised, active, which the IrcamAlarm rule turns into a firing alert", async () => {
    await eventually("ircam_alarm_active{rule_name=\"something warm\",severity=\"warning\"} == 1")
    const [raised] = await eventually("ircam_alarm_transitions_total{transition=\"raised\",severity=\"warning\"}")
    assert.isAtLeast(valueOf(raised!), 1)
    const [threshold] = await eventually("ircam_alarm_rule_threshold_celsius{rule_name=\"plate too hot\"}")
    assert.strictEqual(valueOf(threshold!), 60)
    assert.strictEqual(threshold!.metric["zone_id"], "1")
    await eventually("ALERTS{alertname=\"IrcamAlarm\",rule_name=\"something warm\",alertstate=\"firing\"}")
  })

  it("has the MQTT connection, up and publishing", async () => {
    const [connected] = await eventually("ircam_mqtt_connected", (result) => valueOf(result[0]!) === 1)
    assert.strictEqual(connected!.metric["broker"], broker!.url)
    await eventually("ircam_mqtt_messages_published_total", (result) => valueOf(result[0]!) > 0)
  })

  it("has the sensor errors injected on the emulated MLX90640", async () => {
    await eventually("ircam_sensor_info{kind=\"emulated\"}")
    await eventually("ircam_sensor_driver_errors_total", (result) => valueOf(result[0]!) > 0)
    await eventually("ircam_sensor_driver_retries_total", (result) => valueOf(result[0]!) > 0)
    // the driver recovers: frames keep coming
    await eventually("rate(ircam_sensor_frames_total[5s])", (result) => valueOf(result[0]!) > 4)
  })

  it("loads the alerting rules, all healthy; on a healthy ircam only IrcamAlarm fires", async () => {
    await eventually("ALERTS{alertname=\"IrcamAlarm\"}")
    const rules = await (await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/rules`)).json() as {
      readonly data: {
        readonly groups: ReadonlyArray<{
          readonly rules: ReadonlyArray<{ readonly name: string; readonly health: string; readonly state: string }>
        }>
      }
    }
    const loaded = rules.data.groups.flatMap((group) => group.rules)
    assert.deepStrictEqual(loaded.map((rule) => rule.name).sort(), [
      "IrcamAlarm",
      "IrcamDatabaseNearLimit",
      "IrcamDown",
      "IrcamMqttDisconnected",
      "IrcamNoFrame",
      "IrcamOutboxStuck",
      "IrcamSensorDown"
    ])
    for (const rule of loaded) {
      assert.strictEqual(rule.health, "ok", rule.name)
      if (rule.name !== "IrcamAlarm") assert.strictEqual(rule.state, "inactive", rule.name)
    }
  })

  it("passes promtool check metrics, check rules and check config", async () => {
    const text = await (await fetch(ircamUrl("/metrics"))).text()
    const metrics = await run("/usr/bin/promtool", ["check", "metrics"], text)
    assert.strictEqual(metrics.code, 0, metrics.output)
    const checkRules = await run("/usr/bin/promtool", ["check", "rules", rulesFile])
    assert.strictEqual(checkRules.code, 0, checkRules.output)
    const config = await run("/usr/bin/promtool", ["check", "config", join(deploy, "prometheus/prometheus.yml")])
    assert.strictEqual(config.code, 0, config.output)
    assert.include(config.output, "1 rule files found")
  })

  it("has every metric the dashboard and the rules query; every dashboard query is valid PromQL", async () => {
    const text = await (await fetch(ircamUrl("/metrics"))).text()
    // the families declared and the samples written: a family without samples (no channel
    // configured …) still exists
    const declared = new Set([
      ...text.matchAll(/^# TYPE (\S+) /gm),
      ...text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)
    ].map((match) => match[1]!))
    const rules = readFileSync(rulesFile, "utf8")
    const expressions = [...dashboardExpressions, ...[...rules.matchAll(/^\s*expr: (.*)$/gm)].map((m) => m[1]!)]
    const referenced = new Set(expressions.flatMap(metricNames))
    assert.isAbove(referenced.size, 30)
    for (const name of referenced) assert.isTrue(declared.has(name), `${name} is not in the output of /metrics`)
    for (const expression of panelExpressions) {
      const answer = await query(expression.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*"))
      assert.strictEqual(answer.status, "success", `${expression}: ${answer.error}`)
    }
    // the instance variable lists this ircam
    assert.deepStrictEqual(variableQueries, ["label_values(ircam_build_info, instance)"])
    const instances = await (await fetch(
      `http://127.0.0.1:${prometheusPort}/api/v1/label/instance/values?match[]=ircam_build_info`
    )).json() as { readonly data: ReadonlyArray<string> }
    assert.deepStrictEqual(instances.data, [`127.0.0.1:${port}`])
  })
})

describe("deploy/grafana/ircam.json", () => {
  it("asks for its Prometheus data source (a variable), so that it imports into any Grafana", () => {
    const [datasource] = dashboard.templating.list
    assert.deepInclude(datasource, { type: "datasource", name: "datasource", query: "prometheus" })
    const panels = allPanels(dashboard.panels)
    assert.strictEqual(new Set(panels.map((panel) => panel.id)).size, panels.length, "panel ids are unique")
    for (const panel of panels.filter((panel) => panel.type !== "row")) {
      assert.deepStrictEqual(panel.datasource, { type: "prometheus", uid: "${datasource}" }, String(panel.id))
      assert.isAbove(panel.targets?.length ?? 0, 0, String(panel.id))
      for (const target of panel.targets ?? []) {
        assert.deepStrictEqual(target.datasource, { type: "prometheus", uid: "${datasource}" })
      }
    }
    // the zone temperatures with the alarm thresholds, alarms, sensor health, frame rate, event storage
    for (
      const name of [
        "ircam_zone_max_celsius",
        "ircam_alarm_rule_threshold_celsius",
        "ircam_alarm_active",
        "ircam_sensor_frame_rate_hertz",
        "ircam_sensor_errors_total",
        "ircam_database_size_bytes"
      ]
    ) {
      assert.isTrue(dashboardExpressions.some((expression) => metricNames(expression).includes(name)), name)
    }
  })
})
