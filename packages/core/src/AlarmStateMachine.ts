/**
 * The state machine of one alarm rule, pure: `ok → pending → active → (cleared) ok`.
 *
 * - ok: the condition (value above / below the threshold) starts `pending`; with no delay the
 *   alarm is raised at once.
 * - pending: the condition must hold for `delaySeconds`; if it stops first, back to ok.
 * - active: the alarm stays until the value is past the threshold by the hysteresis
 *   (below threshold − hysteresis for `above`, above threshold + hysteresis for `below`), so a
 *   value wavering around the threshold does not make it flap.
 */
import type { Direction } from "./Alarm.js"

export interface RuleLimits {
  readonly direction: Direction
  readonly threshold: number
  readonly hysteresis: number
  readonly delaySeconds: number
}

export type Phase =
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Pending"; readonly since: number }
  | { readonly _tag: "Active" }

export const ok: Phase = { _tag: "Ok" }

/** What a step did: nothing, or one of the transitions to record. */
export type Step =
  | { readonly _tag: "Stay" }
  | { readonly _tag: "Pending"; readonly phase: Phase }
  | { readonly _tag: "Ok"; readonly phase: Phase }
  | { readonly _tag: "Raise"; readonly phase: Phase }
  | { readonly _tag: "Clear"; readonly phase: Phase }

const stay: Step = { _tag: "Stay" }

export const holds = (rule: RuleLimits, value: number): boolean =>
  rule.direction === "above" ? value > rule.threshold : value < rule.threshold

export const isClear = (rule: RuleLimits, value: number): boolean =>
  rule.direction === "above" ? value < rule.threshold - rule.hysteresis : value > rule.threshold + rule.hysteresis

/** The next phase for `value` measured at `now`: monotonic ms, so that no step of the wall clock moves a delay. */
export const step = (rule: RuleLimits, phase: Phase, value: number, now: number): Step => {
  switch (phase._tag) {
    case "Ok":
      if (!holds(rule, value)) return stay
      return rule.delaySeconds <= 0
        ? { _tag: "Raise", phase: { _tag: "Active" } }
        : { _tag: "Pending", phase: { _tag: "Pending", since: now } }
    case "Pending":
      if (!holds(rule, value)) return { _tag: "Ok", phase: ok }
      return now - phase.since >= rule.delaySeconds * 1000 ? { _tag: "Raise", phase: { _tag: "Active" } } : stay
    case "Active":
      return isClear(rule, value) ? { _tag: "Clear", phase: ok } : stay
  }
}
