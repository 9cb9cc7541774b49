import { ValidationError } from "@effect/cli"
import { Runtime } from "@effect/platform"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Option } from "effect"
import { run } from "./Cli.js"
import * as Environment from "./Environment.js"
import * as ErrorReport from "./ErrorReport.js"

// `--verbose` anywhere: errors come with their whole cause (stack traces included), not one line
const verbose = process.argv.includes("--verbose")

run(process.argv.filter((arg) => arg !== "--verbose")).pipe(
  Effect.tapErrorCause((cause) => {
    // @effect/cli has already shown its own usage errors
    const failure = Cause.failureOption(cause)
    if (Option.isSome(failure) && ValidationError.isValidationError(failure.value)) return Effect.void
    if (Cause.isInterruptedOnly(cause)) return Effect.void
    return Console.error(verbose ? `ircam: ${Cause.pretty(cause)}` : `ircam: ${ErrorReport.describe(cause)}`)
  }),
  Effect.provide(Layer.merge(NodeContext.layer, Environment.layer)),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    // a failure may name its own exit code (`exitCode`, e.g. 2 for "no sensor"); otherwise 1
    teardown: (exit, onExit) => {
      const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      const code = Option.isSome(failure) && typeof failure.value === "object" && failure.value !== null &&
          "exitCode" in failure.value && typeof failure.value.exitCode === "number"
        ? failure.value.exitCode
        : undefined
      return code === undefined ? Runtime.defaultTeardown(exit, onExit) : onExit(code)
    }
  })
)
