/**
 * Metrics: ircam's figures for Prometheus at `GET /metrics`, in the text exposition format 0.0.4
 * or in OpenMetrics 1.0 when the scraper's `Accept` prefers it (Prometheus does), rendered by
 * prom-client, together with the process's own metrics (CPU, memory, heap, event-loop lag).
 *
 * Values are read when scraped: each service's metrics are defined once on the registry, with
 * an update (`onScrape`) that sets them from what the service keeps anyway (its counters, the
 * latest snapshot, the database's size). Nothing is counted per frame for them. Only HTTP
 * requests are observed as they happen (HttpMetrics).
 */
import { Effect } from "effect"
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  type OpenMetricsContentType,
  type PrometheusContentType,
  Registry
} from "prom-client"

export type ContentType = PrometheusContentType | OpenMetricsContentType

export const textFormat: PrometheusContentType = Registry.PROMETHEUS_CONTENT_TYPE
export const openMetricsFormat: OpenMetricsContentType = Registry.OPENMETRICS_CONTENT_TYPE

/**
 * The format an `Accept` header asks for: OpenMetrics 1.0 when it ranks it above the text
 * format (by `q`), the text format otherwise, also when it asks for neither.
 */
export const negotiate = (accept: string | undefined): ContentType => {
  let openMetrics = 0
  let text = 0
  for (const range of (accept ?? "").split(",")) {
    const [type, ...parameters] = range.split(";").map((part) => part.trim().toLowerCase())
    const value = (name: string) => parameters.find((p) => p.startsWith(`${name}=`))?.slice(name.length + 1)
    const q = value("q") === undefined ? 1 : Number(value("q"))
    if (!(q > 0)) continue
    const version = value("version")
    if (type === "application/openmetrics-text" && (version === undefined || version === "1.0.0")) {
      openMetrics = Math.max(openMetrics, q)
    }
    if (type === "text/plain" || type === "text/*" || type === "*/*") text = Math.max(text, q)
  }
  return openMetrics > text ? openMetricsFormat : textFormat
}

/**
 * The process's metrics (prom-client's defaults: CPU, resident memory, heap, event-loop lag,
 * garbage collection …), made once per process however many servers run in it (tests run many):
 * they measure the process, and their observers of the event loop and the garbage collector
 * cannot be taken back.
 */
let processRegistry: Registry | undefined
const misnamedDefaults = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total"
]
const processMetrics = (): Registry => {
  if (processRegistry === undefined) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
    // gauges named like counters, which Prometheus' naming rules (`promtool check metrics`) refuse;
    // `nodejs_active_handles` and `nodejs_active_resources` count the same by type
    for (const name of misnamedDefaults) processRegistry.removeSingleMetric(name)
  }
  return processRegistry
}

// prom-client renames counters while it renders OpenMetrics (`x_total` becomes the family `x`)
// and does not rename them back: renders take turns, and the names are restored after each.
const renderLock = Effect.unsafeMakeSemaphore(1)

/** The metrics of `registries` in `contentType`. */
const render = (registries: ReadonlyArray<Registry>, contentType: ContentType): Effect.Effect<string> =>
  Effect.promise(async () => {
    const target = new Registry<ContentType>()
    target.setContentType(contentType)
    // getMetricsAsArray gives the metric objects themselves, typed by the fields a render reads
    // (`name` among them), getSingleMetric the same objects as what a registry registers
    const objects = registries.flatMap((registry) => registry.getMetricsAsArray())
    const names = objects.map((object) => object.name)
    for (const registry of registries) {
      for (const { name } of registry.getMetricsAsArray()) target.registerMetric(registry.getSingleMetric(name)!)
    }
    try {
      return await target.metrics()
    } finally {
      objects.forEach((object, i) => (object.name = names[i]!))
    }
  })

export class Metrics extends Effect.Service<Metrics>()("@ircam/http/Metrics", {
  sync: () => {
    const registry = new Registry()
    const updates: Array<Effect.Effect<void>> = []
    return {
      registry,
      gauge: <L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []) =>
        new Gauge<L>({ name, help, labelNames, registers: [registry] }),
      counter: <L extends string = never>(name: string, help: string, labelNames: ReadonlyArray<L> = []) =>
        new Counter<L>({ name, help, labelNames, registers: [registry] }),
      histogram: <L extends string = never>(
        name: string,
        help: string,
        labelNames: ReadonlyArray<L>,
        buckets: ReadonlyArray<number>
      ) => new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers: [registry] }),
      /** Runs `update` at each scrape, before rendering: it sets a service's metrics from the service's state. */
      onScrape: (update: Effect.Effect<void>) => Effect.sync(() => void updates.push(update)),
      /** Every metric, up to date, in the format `accept` prefers. */
      scrape: (accept: string | undefined) => {
        const contentType = negotiate(accept)
        return Effect.all(updates, { discard: true }).pipe(
          Effect.zipRight(render([processMetrics(), registry], contentType)),
          Effect.map((body) => ({ contentType, body })),
          renderLock.withPermits(1)
        )
      }
    } as const
  }
}) {}

type Labels<L extends string> = Partial<Record<L, string | number>>

/** Sets `gauge` to exactly these samples: label sets not among them (a deleted zone …) are gone. */
export const setGauge = <L extends string>(
  gauge: Gauge<L>,
  samples: Iterable<readonly [labels: Labels<L>, value: number]>
): void => {
  gauge.reset()
  for (const [labels, value] of samples) if (Number.isFinite(value)) gauge.set(labels, value)
}

/** Sets an unlabelled gauge; none (rather than 0) when there is no value. */
export const setValue = (gauge: Gauge, value: number | null | undefined): void => {
  if (value == null || !Number.isFinite(value)) gauge.remove()
  else gauge.set(value)
}

/** Sets `counter` to totals a service keeps: counters are only ever set from such totals. */
export const setCounter = <L extends string>(
  counter: Counter<L>,
  samples: Iterable<readonly [labels: Labels<L>, value: number]>
): void => {
  counter.reset()
  for (const [labels, value] of samples) counter.inc(labels, value)
}

/** Sets an unlabelled counter to a service's total. */
export const setTotal = (counter: Counter, value: number): void => {
  counter.reset()
  counter.inc(value)
}
