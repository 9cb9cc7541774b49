import { ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Layer, Option } from "effect"
import { run } from "./Cli.js"
import * as Environment from "./Environment.js"
import * as ErrorReport from "./ErrorReport.js"

run(process.argv).pipe(
  Effect.tapErrorCause((cause) => {
    // @effect/cli has already shown its own usage errors
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) return Effect.void
    if (Cause.isInterruptedOnly(cause)) return Effect.void
    return Console.error(`ircam: ${ErrorReport.describe(cause)}`)
  }),
  Effect.provide(Layer.merge(NodeContext.layer, Environment.layer)),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
