/**
 * End to end: `ircam serve` as a child process, driven over real HTTP, stopped with SIGTERM and
 * started again on the same database.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { freePort } from "@ircam/test-support/Port"
import { killAll, runToExit, start, stop, waitUntilAnswering } from "@ircam/test-support/Process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

interface FrameJson {
  readonly temperatures: ReadonlyArray<number>
  readonly width: number
  readonly height: number
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly capturedAt: string
  readonly sequence: number
}
interface ZoneJson {
  readonly id: number
  readonly name: string
  readonly color: string
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}
interface ErrorJson {
  readonly _tag: string
  readonly message: string
  readonly field?: string
  readonly issues?: ReadonlyArray<{ readonly path: ReadonlyArray<string | number> }>
}

let dir = ""
let port = 0
let env: Record<string, string> = {}
const base = () => `http://127.0.0.1:${port}/api/v1`

const call = async <A>(method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base()}${path}`, {
    method,
    ...(body === undefined ? {} : {
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body)
    })
  })
  const text = await response.text()
  return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as A }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

beforeAll(async () => {
  // a fresh working directory: no .env is picked up
  dir = await mkdtemp(join(tmpdir(), "ircam-e2e-"))
  port = await freePort()
  env = {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_PATH: join(dir, "data", "ircam.db"),
    SENSOR: "simulated",
    REFRESH_RATE_HZ: "16",
    LOG_FORMAT: "json"
  }
})

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

describe("ircam serve", () => {
  let zonesBeforeStop: ReadonlyArray<ZoneJson> = []

  it("serves every endpoint, then stops cleanly on SIGTERM", async () => {
    const ircam = start(["serve"], env, dir)
    await waitUntilAnswering(ircam, `${base()}/health`)

    // real-time: a full frame, and a newer one a little later
    const first = await call<FrameJson>("GET", "/thermal/real-time")
    assert.strictEqual(first.status, 200)
    assert.lengthOf(first.body.temperatures, 768)
    assert.strictEqual(first.body.width, 32)
    assert.strictEqual(first.body.height, 24)
    assert.isTrue(first.body.min <= first.body.mean && first.body.mean <= first.body.max)
    assert.strictEqual(new Date(first.body.capturedAt).toISOString(), first.body.capturedAt)
    let next = first
    for (let attempt = 0; attempt < 100 && next.body.sequence === first.body.sequence; attempt++) {
      await sleep(20)
      next = await call<FrameJson>("GET", "/thermal/real-time")
    }
    assert.isAbove(next.body.sequence, first.body.sequence)
    assert.notDeepEqual(next.body.temperatures, first.body.temperatures)

    // zones, in both forms
    const canonical = await call<ZoneJson>("POST", "/zones", { x: 0, y: 0, width: 4, height: 3 })
    assert.strictEqual(canonical.status, 201)
    assert.deepInclude(canonical.body, { x: 0, y: 0, width: 4, height: 3 })
    const corner = await call<ZoneJson>("POST", "/zones", { x1: 24, y1: 4, x2: 27, y2: 6, name: "hot plate" })
    assert.strictEqual(corner.status, 201)
    assert.deepInclude(corner.body, { name: "hot plate", x: 24, y: 4, width: 4, height: 3 })

    const third = await call<ErrorJson>("POST", "/zones", { x: 5, y: 5, width: 1, height: 1 })
    assert.strictEqual(third.status, 409)
    assert.strictEqual(third.body._tag, "ZoneLimitReached")

    const garbage = await call<ErrorJson>("POST", "/zones", "{garbage")
    assert.strictEqual(garbage.status, 400)
    assert.strictEqual(garbage.body._tag, "MalformedBody")
    const wrongType = await call<ErrorJson>("POST", "/zones", { x: "left", y: 0, width: 1, height: 1 })
    assert.strictEqual(wrongType.status, 400)
    assert.deepStrictEqual(wrongType.body.issues?.[0]?.path, ["x"])

    const outside = await call<ErrorJson>("POST", "/zones", { x: 30, y: 0, width: 4, height: 1 })
    assert.strictEqual(outside.status, 422)
    assert.strictEqual(outside.body._tag, "ZoneOutOfBounds")
    assert.strictEqual(outside.body.field, "width")

    const average = await call<{ zoneId: number; average: number; min: number; max: number; capturedAt: string }>(
      "GET",
      `/zones/${corner.body.id}/average`
    )
    assert.strictEqual(average.status, 200)
    assert.strictEqual(average.body.zoneId, corner.body.id)
    assert.isTrue(average.body.min <= average.body.average && average.body.average <= average.body.max)

    const moved = await call<ZoneJson>("PUT", `/zones/${canonical.body.id}`, { x: 10, y: 10, width: 2, height: 2 })
    assert.strictEqual(moved.status, 200)
    assert.deepStrictEqual(moved.body, { ...canonical.body, x: 10, y: 10, width: 2, height: 2 })

    assert.strictEqual((await call("DELETE", `/zones/${canonical.body.id}`)).status, 204)
    assert.strictEqual((await call("GET", `/zones/${canonical.body.id}`)).status, 404)
    const again = await call<ZoneJson>("POST", "/zones", { x1: 0, y1: 20, x2: 31, y2: 23, name: "floor" })
    assert.strictEqual(again.status, 201)

    const list = await call<ReadonlyArray<ZoneJson>>("GET", "/zones")
    assert.strictEqual(list.status, 200)
    assert.deepStrictEqual(list.body.map((zone) => zone.name), ["hot plate", "floor"])
    zonesBeforeStop = list.body

    const health = await call<{ status: string; checks: Record<string, { status: string }> }>("GET", "/health")
    assert.strictEqual(health.status, 200)
    assert.strictEqual(health.body.status, "ok")
    assert.includeMembers(Object.keys(health.body.checks), ["sensor", "database", "buffer", "monitor"])

    const unknown = await call<ErrorJson>("GET", "/nope")
    assert.strictEqual(unknown.status, 404)
    assert.strictEqual(unknown.body._tag, "RouteNotFound")

    assert.strictEqual(await stop(ircam), 0, ircam.stderr())
    // LOG_FORMAT=json: every line of the log is one JSON object
    const log = ircam.stdout().trim().split("\n").map((line) => JSON.parse(line) as { message: unknown })
    const messages = log.map((entry) => entry.message)
    assert.include(messages, "ircam started")
    assert.include(messages, `Listening on http://127.0.0.1:${port}`)
    assert.isTrue(messages.some((message) => typeof message === "string" && message.startsWith("ircam stopped")))
    assert.strictEqual(ircam.stderr(), "")
  })

  it("finds its zones again after a restart on the same database", async () => {
    assert.lengthOf(zonesBeforeStop, 2)
    const ircam = start(["serve"], env, dir)
    await waitUntilAnswering(ircam, `${base()}/health`)
    const list = await call<ReadonlyArray<ZoneJson>>("GET", "/zones")
    assert.deepStrictEqual(list.body, zonesBeforeStop)
    // MAX_ZONES counts the zones stored before the restart
    const created = await call<ZoneJson>("POST", "/zones", { x: 0, y: 0, width: 1, height: 1 })
    assert.strictEqual(created.status, 409)
    assert.strictEqual(await stop(ircam), 0, ircam.stderr())
  })
})

describe("ircam serve on the emulated MLX90640 with bus faults injected", () => {
  it("keeps serving fresh frames through the real driver and shows the recovered errors in health", async () => {
    const emulatedEnv = {
      ...env,
      DATABASE_PATH: ":memory:",
      SENSOR: "emulated",
      EMULATOR_FAULT_RATE: "0.05",
      REFRESH_RATE_HZ: "16"
    }
    const ircam = start(["serve"], emulatedEnv, dir)
    await waitUntilAnswering(ircam, `${base()}/health`)
    let first = await call<FrameJson>("GET", "/thermal/real-time")
    for (let attempt = 0; attempt < 300 && first.status !== 200; attempt++) {
      await sleep(20)
      first = await call<FrameJson>("GET", "/thermal/real-time")
    }
    assert.strictEqual(first.status, 200, "a first frame arrives")
    let latest = first
    for (let attempt = 0; attempt < 300 && latest.body.sequence < first.body.sequence + 24; attempt++) {
      await sleep(20)
      latest = await call<FrameJson>("GET", "/thermal/real-time")
    }
    assert.isAtLeast(latest.body.sequence, first.body.sequence + 24, "frames keep coming despite the faults")
    // the simulated scene's room, read back through the calibration math
    assert.isTrue(latest.body.min > 15 && latest.body.max < 100, JSON.stringify(latest.body))

    type SensorCheck = { status: string; details: { kind: string; driver: { errors: number; retries: number } } }
    const health = await call<{ status: string; checks: { sensor: SensorCheck } }>("GET", "/health")
    assert.strictEqual(health.status, 200, JSON.stringify(health.body))
    const sensor = health.body.checks.sensor
    assert.strictEqual(sensor.status, "ok")
    assert.strictEqual(sensor.details.kind, "emulated")
    assert.isAbove(sensor.details.driver.errors, 0, "faults were injected and recovered from")
    assert.isAbove(sensor.details.driver.retries, 0)
    assert.strictEqual(await stop(ircam), 0, ircam.stderr())
  })
})

describe("ircam serve refuses to start", () => {
  // bus 250 exists nowhere, so SENSOR=mlx90640 fails the same way on every machine
  const refusedEnv = (): Record<string, string> => ({
    ...env,
    DATABASE_PATH: join(dir, "refused", "ircam.db"),
    I2C_BUS: "250"
  })
  const oneLine = (stderr: string) => {
    const lines = stderr.trim().split("\n")
    assert.lengthOf(lines, 1, stderr)
    return lines[0]!
  }

  it.concurrent("with PORT=abc, naming PORT", async () => {
    const { code, stderr } = await runToExit(["serve"], { ...refusedEnv(), PORT: "abc" }, dir)
    assert.notStrictEqual(code, 0)
    const line = oneLine(stderr)
    assert.match(line, /^ircam: invalid configuration/)
    assert.include(line, "PORT")
  })

  it.concurrent("with SENSOR=mlx90640, in one line", async () => {
    const { code, stderr } = await runToExit(["serve"], { ...refusedEnv(), SENSOR: "mlx90640" }, dir)
    assert.notStrictEqual(code, 0)
    const line = oneLine(stderr)
    assert.match(line, /^ircam: SensorError: SENSOR=mlx90640: no working MLX90640 on I²C bus 250 at 0x33: /)
    assert.include(line, "/dev/i2c-250 does not exist")
    assert.include(line, "Check: is I²C enabled")
  })

  it.concurrent("with the settings of ./.env, where the environment wins", async () => {
    const cwd = await mkdtemp(join(dir, "dotenv-"))
    await writeFile(join(cwd, ".env"), "SENSOR=mlx90640\nMAX_ZONES=many\n")
    const { SENSOR: _sensor, ...withoutSensor } = refusedEnv()
    const fromFile = await runToExit(["serve"], { ...withoutSensor, MAX_ZONES: "2" }, cwd)
    assert.notStrictEqual(fromFile.code, 0)
    assert.match(oneLine(fromFile.stderr), /SENSOR=mlx90640/)

    const fromBoth = await runToExit(["serve"], { ...withoutSensor }, cwd)
    assert.notStrictEqual(fromBoth.code, 0)
    assert.include(oneLine(fromBoth.stderr), "MAX_ZONES")
  })
})
