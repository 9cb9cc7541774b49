/**
 * `npm run bench`: every benchmark in turn; each prints its figures and the budget it is held to.
 */
import { Effect } from "effect"
import * as EventPersist from "./event-persist.js"
import * as FrameMath from "./frame-math.js"
import * as LiveView from "./live-view.js"
import * as Memory from "./memory.js"
import * as MonitorLoop from "./monitor-loop.js"
import * as RealTimeEndpoint from "./realtime-endpoint.js"

const program = Effect.gen(function*() {
  console.log(`ircam benchmarks on Node ${process.version}, ${process.platform}/${process.arch}\n`)
  yield* Effect.sync(FrameMath.run)
  yield* MonitorLoop.run
  yield* RealTimeEndpoint.run
  yield* EventPersist.run
  yield* LiveView.run
  yield* Memory.run
})

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
