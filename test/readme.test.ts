/**
 * The README's API examples, run as written (with curl, against a fresh server) in the order a
 * reader would, and their answers compared with the answers the README shows.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { freePort } from "@ircam/test-support/Port"
import { killAll, start, waitUntilAnswering } from "@ircam/test-support/Process"
import { execFileSync, type StdioOptions } from "node:child_process"
import { readFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

interface Example {
  readonly commands: string
  /** the answer shown right after the commands, if any */
  readonly answer: string | undefined
}

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
const api = readme.slice(readme.indexOf("## The API"), readme.indexOf("## Configuration"))

const examples: ReadonlyArray<Example> = [...api.matchAll(/```sh\n([\s\S]*?)```\s*(?:```json\n([\s\S]*?)```)?/g)]
  .map((match) => ({ commands: match[1]!, answer: match[2] }))

// values that depend on the moment (temperatures, times) are compared by their presence only
const momentary = new Set([
  "temperatures",
  "min",
  "max",
  "mean",
  "ambient",
  "capturedAt",
  "sequence",
  "average",
  // an event's, while it records
  "triggeredAt",
  "startedAt",
  "endedAt",
  "frameCount",
  "peak",
  // an alarm's and its history's
  "value",
  "raisedAt",
  "acknowledgedAt",
  "clearedAt",
  "at"
])

/**
 * `answer` has the shape of `shown`: the same keys at every level (arrays the same length), and
 * the same values except those of momentary keys, which only need to be there.
 */
const assertLike = (answer: unknown, shown: unknown, context: string): void => {
  if (typeof shown !== "object" || shown === null || typeof answer !== "object" || answer === null) {
    assert.deepStrictEqual(answer, shown, context)
    return
  }
  assert.strictEqual(Array.isArray(answer), Array.isArray(shown), context)
  assert.sameMembers(Object.keys(answer), Object.keys(shown), context)
  for (const [key, value] of Object.entries(shown)) {
    if (!momentary.has(key)) assertLike((answer as Record<string, unknown>)[key], value, `${key} of ${context}`)
  }
}

// Node gives a child's stdin as a socket, and bash with its stdin on a socket thinks it was started
// by rshd/sshd and reads ~/.bashrc, whatever that does on this machine (seconds, sometimes)
const noInput: StdioOptions = ["ignore", "pipe", "pipe"]

let dir = ""
let port = 0

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ircam-readme-"))
  port = await freePort()
  const ircam = start(["serve"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_PATH: join(dir, "ircam.db"),
    SENSOR: "simulated"
  }, dir)
  await waitUntilAnswering(ircam, `http://127.0.0.1:${port}/api/v1/health`)
})

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

describe("the README's API examples", () => {
  it("has examples to run", () => {
    assert.isAtLeast(examples.length, 8)
  })

  // some 35 shell commands one after the other: on a busy machine each start of bash and curl costs
  it("work as written and answer what the README shows", { timeout: 120_000 }, () => {
    for (const example of examples) {
      const script = example.commands.replaceAll("localhost:8000", `127.0.0.1:${port}`)
      const output = execFileSync("bash", ["-e", "-c", script], {
        encoding: "utf8",
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", API_TOKEN: "" },
        stdio: noInput
      }).trim()
      if (example.answer === undefined) continue
      const context = `${example.commands}\nanswered ${output}`
      const answer = JSON.parse(output) as Record<string, unknown>
      if (example.answer.includes("…")) {
        // an abridged answer: the same fields
        for (const key of example.answer.matchAll(/"(\w+)":/g)) assert.property(answer, key[1]!, context)
        continue
      }
      assertLike(answer, JSON.parse(example.answer), context)
    }
  })
})

describe("the README's replay example", () => {
  it("decodes the fixture as written", () => {
    const block = /```sh\n(npx ircam mlx90640 decode [^\n]*)\n```/.exec(readme)
    assert.isNotNull(block)
    const output = execFileSync("bash", ["-e", "-c", block![1]!], {
      cwd: new URL("..", import.meta.url),
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: noInput
    })
    const decoded = JSON.parse(output) as { status: number; temperatures: ReadonlyArray<number> }
    assert.strictEqual(decoded.status, 0)
    assert.lengthOf(decoded.temperatures, 768)
  })
})
