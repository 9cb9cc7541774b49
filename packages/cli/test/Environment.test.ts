import { assert, describe, it } from "@effect/vitest"
import { Config, Effect } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Environment from "../src/Environment.js"

// Environment.layer reads ./.env: run the check in a temporary working directory
const inDirectory = <A, E>(dotEnv: string | undefined, effect: Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const previous = process.cwd()
      const dir = mkdtempSync(join(tmpdir(), "ircam-env-"))
      if (dotEnv !== undefined) writeFileSync(join(dir, Environment.dotEnvPath), dotEnv)
      process.chdir(dir)
      return { previous, dir }
    }),
    () => effect.pipe(Effect.provide(Environment.layer)),
    ({ dir, previous }) =>
      Effect.sync(() => {
        process.chdir(previous)
        rmSync(dir, { recursive: true, force: true })
      })
  )

const both = Config.all([
  Config.string("IRCAM_TEST_FROM_FILE"),
  Config.string("IRCAM_TEST_FROM_BOTH"),
  Config.string("IRCAM_TEST_MISSING").pipe(Config.withDefault("default"))
])

describe("Environment.layer", () => {
  it.effect("reads ./.env for what the environment does not set; the environment wins", () =>
    Effect.gen(function*() {
      process.env.IRCAM_TEST_FROM_BOTH = "environment"
      const values = yield* inDirectory(
        "# a comment\nIRCAM_TEST_FROM_FILE=file\nIRCAM_TEST_FROM_BOTH=file\n",
        both
      ).pipe(Effect.ensuring(Effect.sync(() => delete process.env.IRCAM_TEST_FROM_BOTH)))
      assert.deepStrictEqual(values, ["file", "environment", "default"])
    }))

  it.effect("works without a .env file", () =>
    Effect.gen(function*() {
      const value = yield* inDirectory(undefined, Config.string("IRCAM_TEST_MISSING").pipe(Config.withDefault("none")))
      assert.strictEqual(value, "none")
    }))
})
