/**
 * Where the CLI's configuration comes from: the environment, then `.env` in the working
 * directory for what the environment does not set.
 */
import { PlatformConfigProvider } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { Layer } from "effect"

export const dotEnvPath = ".env"

export const layer = PlatformConfigProvider.layerDotEnvAdd(dotEnvPath).pipe(Layer.provide(NodeContext.layer))
