import { assert, describe, it } from "@effect/vitest"
import { holds, isClear, ok, type Phase, type RuleLimits, step } from "../src/AlarmStateMachine.js"

const above: RuleLimits = { direction: "above", threshold: 60, hysteresis: 2, delaySeconds: 5 }
const below: RuleLimits = { direction: "below", threshold: 5, hysteresis: 1, delaySeconds: 0 }

/** Runs `values` (one a second from t = 0) through the machine; answers the transitions with their times. */
const run = (rule: RuleLimits, values: ReadonlyArray<number>) => {
  let phase: Phase = ok
  const transitions: Array<string> = []
  values.forEach((value, i) => {
    const next = step(rule, phase, value, i * 1000)
    if (next._tag === "Stay") return
    transitions.push(`${i}:${next._tag}`)
    phase = next.phase
  })
  return transitions
}

describe("AlarmStateMachine", () => {
  it("the condition is strict; clearing needs the hysteresis", () => {
    assert.isFalse(holds(above, 60))
    assert.isTrue(holds(above, 60.01))
    assert.isFalse(isClear(above, 58))
    assert.isTrue(isClear(above, 57.99))
    assert.isTrue(holds(below, 4.9))
    assert.isFalse(isClear(below, 6))
    assert.isTrue(isClear(below, 6.1))
  })

  it("raises after the delay only if the condition holds all along", () => {
    assert.deepStrictEqual(run(above, [50, 61, 61, 61, 61, 61, 61, 61]), ["1:Pending", "6:Raise"])
  })

  it("goes back to ok when the condition stops before the delay", () => {
    assert.deepStrictEqual(run(above, [61, 61, 59, 61, 61, 61, 61, 61, 61]), [
      "0:Pending",
      "2:Ok",
      "3:Pending",
      "8:Raise"
    ])
  })

  it("without a delay raises at once", () => {
    assert.deepStrictEqual(run(below, [10, 4, 4]), ["1:Raise"])
  })

  it("a value wavering around the threshold does not flap an active alarm", () => {
    const flapping = [61, 61, 61, 61, 61, 61, 59, 61, 58.5, 60.5, 59, 58.1, 61]
    assert.deepStrictEqual(run(above, flapping), ["0:Pending", "5:Raise"])
  })

  it("clears once past threshold − hysteresis, and can be raised again", () => {
    const values = [61, 61, 61, 61, 61, 61, 57, 61, 61, 61, 61, 61, 61]
    assert.deepStrictEqual(run(above, values), ["0:Pending", "5:Raise", "6:Clear", "7:Pending", "12:Raise"])
  })

  it("below: clears above threshold + hysteresis", () => {
    assert.deepStrictEqual(run(below, [4, 5.5, 6, 6.5, 4]), ["0:Raise", "3:Clear", "4:Raise"])
  })
})
