/**
 * `npm run bench`: every benchmark in turn, or only those named (`npm run bench -- startup
 * memory`); each prints its figures next to the budget it is held to. `--minutes N` sets how long
 * the memory benchmark runs (2 minutes unless given; its budget is for an hour), and the memory part
 * of the MQTT one.
 */
import { Effect } from "effect"
import * as EventGif from "./event-gif.js"
import * as EventPersist from "./event-persist.js"
import * as FrameMath from "./frame-math.js"
import * as History from "./history.js"
import * as LiveView from "./live-view.js"
import * as Memory from "./memory.js"
import * as Metrics from "./metrics.js"
import * as MonitorLoop from "./monitor-loop.js"
import * as Mqtt from "./mqtt.js"
import * as RealTimeEndpoint from "./realtime-endpoint.js"
import * as Startup from "./startup.js"

const args = process.argv.slice(2)
const minutesAt = args.indexOf("--minutes")
const minutes = minutesAt < 0 ? 2 : Number(args[minutesAt + 1])

const benchmarks: Record<string, () => Promise<void>> = {
  "startup": Startup.run,
  "frame-math": async () => FrameMath.run(),
  "monitor-loop": () => Effect.runPromise(MonitorLoop.run),
  "realtime-endpoint": () => Effect.runPromise(RealTimeEndpoint.run),
  "event-persist": () => Effect.runPromise(EventPersist.run),
  "event-gif": () => Effect.runPromise(EventGif.run),
  "live-view": () => Effect.runPromise(LiveView.run),
  "history": History.run,
  "memory": () => Memory.run(minutes),
  "metrics": () => Effect.runPromise(Metrics.run),
  "mqtt": () => Mqtt.run(minutes)
}

const main = async () => {
  const named = args.filter((arg, i) => !arg.startsWith("--") && args[i - 1] !== "--minutes")
  const unknown = named.filter((name) => !(name in benchmarks))
  if (unknown.length > 0 || !(minutes > 0)) {
    throw new Error(
      `usage: npm run bench -- [${Object.keys(benchmarks).join(" | ")} …] [--minutes N] ` +
        `(${unknown.length > 0 ? `no benchmark ${unknown.join(", ")}` : "--minutes must be a positive number"})`
    )
  }
  console.log(`ircam benchmarks on Node ${process.version}, ${process.platform}/${process.arch}\n`)
  for (const name of named.length > 0 ? named : Object.keys(benchmarks)) await benchmarks[name]!()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
