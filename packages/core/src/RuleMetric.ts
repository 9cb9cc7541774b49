/**
 * RuleMetric: the value a rule compares with its threshold on a snapshot: its zone's (or the
 * whole frame's) average, max or min, or `rate`, the change of the max in °C per minute over the
 * last minute. The rate keeps a short series of maxima per zone, at the frames' monotonic times.
 */
import type { Rule } from "./Alarm.js"
import type { Snapshot } from "./Monitor.js"

/** `rate`: the change of the max over (up to) this window, in °C per minute; needs at least `rateMinSpanMs` of data. */
export const rateWindowMs = 60_000
export const rateMinSpanMs = 10_000
const rateSampleEveryMs = 250

export interface RuleMetric {
  /** Adds the snapshot's maxima to the rate's series; call once for each snapshot, before `valueOf`. */
  readonly sample: (snapshot: Snapshot) => void
  /** The rule's value on the snapshot; none when it cannot be computed (no such zone, too little data for a rate). */
  readonly valueOf: (rule: Rule, snapshot: Snapshot) => number | undefined
}

export const make = (): RuleMetric => {
  // maxima of each scope (zone id, or -1 for the whole frame)
  const samples = new Map<number, Array<{ readonly at: number; readonly max: number }>>()

  const rate = (scope: number, now: number) => {
    const series = samples.get(scope)
    if (series === undefined || series.length < 2) return undefined
    const first = series[0]!
    const last = series[series.length - 1]!
    const span = last.at - first.at
    return span < rateMinSpanMs || now - last.at > rateSampleEveryMs * 4
      ? undefined
      : Math.round((last.max - first.max) / (span / 60_000) * 100) / 100
  }

  return {
    sample: (snapshot) => {
      const at = snapshot.frame.monotonicMs
      const scopes: Array<readonly [number, number]> = [[-1, snapshot.summary.max]]
      for (const zone of snapshot.zones) scopes.push([zone.zoneId, zone.max])
      for (const [scope, max] of scopes) {
        const series = samples.get(scope) ?? []
        const last = series[series.length - 1]
        if (last === undefined || at - last.at >= rateSampleEveryMs) series.push({ at, max })
        while (series.length > 0 && at - series[0]!.at > rateWindowMs) series.shift()
        samples.set(scope, series)
      }
    },
    valueOf: (rule, snapshot) => {
      if (rule.metric === "rate") return rate(rule.zoneId ?? -1, snapshot.frame.monotonicMs)
      if (rule.zoneId === null) {
        const { max, mean, min } = snapshot.summary
        return rule.metric === "average" ? mean : rule.metric === "max" ? max : min
      }
      const zone = snapshot.zones.find((z) => z.zoneId === rule.zoneId)
      return zone === undefined ? undefined : zone[rule.metric]
    }
  }
}
