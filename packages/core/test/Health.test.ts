import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"
import * as Health from "../src/Health.js"
import { withSteppedClock } from "./support/SteppedClock.js"

const ok: Health.CheckResult = { status: "ok", details: {} }
const degraded: Health.CheckResult = { status: "degraded", message: "slow", details: { lag: 3 } }
const down: Health.CheckResult = { status: "down", message: "gone", details: {} }

describe("worst", () => {
  it("is ok for no statuses", () => {
    assert.strictEqual(Health.worst([]), "ok")
  })

  it("picks the most severe status regardless of order", () => {
    assert.strictEqual(Health.worst(["ok", "ok"]), "ok")
    assert.strictEqual(Health.worst(["ok", "degraded", "ok"]), "degraded")
    assert.strictEqual(Health.worst(["degraded", "ok"]), "degraded")
    assert.strictEqual(Health.worst(["ok", "down", "degraded"]), "down")
    assert.strictEqual(Health.worst(["down", "degraded", "ok"]), "down")
    assert.strictEqual(Health.worst(new Set<Health.Status>(["degraded", "down"])), "down")
  })
})

describe("Health", () => {
  it.effect("reports ok with no checks", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      const report = yield* health.report
      assert.deepStrictEqual(report, {
        status: "ok",
        checkedAt: "1970-01-01T00:00:00.000Z",
        uptimeSeconds: 0,
        checks: {}
      })
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("folds the statuses of all checks into the report", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("a", Effect.succeed(ok))
      assert.strictEqual((yield* health.report).status, "ok")
      yield* health.register("b", Effect.succeed(degraded))
      const report = yield* health.report
      assert.strictEqual(report.status, "degraded")
      assert.deepStrictEqual(report.checks, { a: ok, b: degraded })
      yield* health.register("c", Effect.succeed(down))
      assert.strictEqual((yield* health.report).status, "down")
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("register replaces a check of the same name", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("db", Effect.succeed(down))
      yield* health.register("db", Effect.succeed(ok))
      const report = yield* health.report
      assert.strictEqual(report.status, "ok")
      assert.deepStrictEqual(Object.keys(report.checks), ["db"])
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("runs each check on every report", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      let runs = 0
      yield* health.register("counter", Effect.sync(() => ({ status: "ok" as const, details: { runs: ++runs } })))
      yield* health.report
      const report = yield* health.report
      assert.deepStrictEqual(report.checks["counter"]?.details, { runs: 2 })
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("a check that fails counts as down with the failure in the message", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("ok", Effect.succeed(ok))
      // a check's type has no error channel; a misbehaving one may still fail at run time
      const failing = Effect.fail(new Error("disk on fire")) as unknown as Effect.Effect<Health.CheckResult>
      yield* health.register("failing", failing)
      const report = yield* health.report
      assert.strictEqual(report.status, "down")
      const check = report.checks["failing"]
      assert.strictEqual(check?.status, "down")
      assert.include(check?.message, "check failed")
      assert.include(check?.message, "disk on fire")
      assert.deepStrictEqual(report.checks["ok"], ok)
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("a check that dies counts as down with the defect in the message", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("dying", Effect.dieMessage("boom"))
      const report = yield* health.report
      assert.strictEqual(report.status, "down")
      assert.strictEqual(report.checks["dying"]?.status, "down")
      assert.include(report.checks["dying"]?.message, "boom")
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("a check slower than checkTimeout counts as down", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("slow", Effect.as(Effect.sleep("1 minute"), ok))
      yield* health.register("fast", Effect.succeed(ok))
      const fiber = yield* Effect.fork(health.report)
      yield* TestClock.adjust(Duration.sum(Health.checkTimeout, Duration.millis(1)))
      const report = yield* Fiber.join(fiber)
      assert.strictEqual(report.status, "down")
      assert.deepStrictEqual(report.checks["slow"], {
        status: "down",
        message: "check did not answer in time",
        details: {}
      })
      assert.deepStrictEqual(report.checks["fast"], ok)
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("a check that answers just within checkTimeout keeps its result", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("slowish", Effect.as(Effect.sleep("1900 millis"), degraded))
      const fiber = yield* Effect.fork(health.report)
      yield* TestClock.adjust("1900 millis")
      const report = yield* Fiber.join(fiber)
      assert.deepStrictEqual(report.checks["slowish"], degraded)
      assert.strictEqual(report.status, "degraded")
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("runs the checks concurrently", () =>
    Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("a", Effect.as(Effect.sleep("1500 millis"), ok))
      yield* health.register("b", Effect.as(Effect.sleep("1500 millis"), ok))
      const fiber = yield* Effect.fork(health.report)
      yield* TestClock.adjust("1500 millis")
      const done = yield* Fiber.poll(fiber)
      assert.isTrue(Option.isSome(done), "both checks finish after 1.5 s only if run side by side")
      const report = yield* Fiber.join(fiber)
      assert.strictEqual(report.status, "ok")
    }).pipe(Effect.provide(Health.Health.Default)))

  it.effect("reports the uptime since the service was made and the time of the check", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("10 seconds")
      yield* Effect.gen(function*() {
        const health = yield* Health.Health
        yield* TestClock.adjust("90 seconds")
        const report = yield* health.report
        assert.strictEqual(report.uptimeSeconds, 90)
        assert.strictEqual(report.checkedAt, "1970-01-01T00:01:40.000Z")
        yield* TestClock.adjust("1400 millis")
        assert.strictEqual((yield* health.report).uptimeSeconds, 91)
      }).pipe(Effect.provide(Health.Health.Default))
    }))

  it.effect("measures the uptime on the monotonic clock: wall-clock steps do not change it", () =>
    withSteppedClock((clock) =>
      Effect.gen(function*() {
        const health = yield* Health.Health
        yield* TestClock.adjust("30 seconds")
        yield* clock.step(-60_000)
        const back = yield* health.report
        assert.strictEqual(back.uptimeSeconds, 30)
        // the time of the check is a label: it shows the stepped clock
        assert.strictEqual(back.checkedAt, "1969-12-31T23:59:30.000Z")
        yield* TestClock.adjust("5 seconds")
        yield* clock.step(180 * 86_400_000)
        assert.strictEqual((yield* health.report).uptimeSeconds, 35)
      }).pipe(Effect.provide(Health.Health.Default))
    ))

  it.effect("register finds the Health service in the context", () =>
    Effect.gen(function*() {
      yield* Health.register("x", Effect.succeed(degraded))
      const report = yield* (yield* Health.Health).report
      assert.deepStrictEqual(report.checks, { x: degraded })
    }).pipe(Effect.provide(Health.Health.Default)))
})
