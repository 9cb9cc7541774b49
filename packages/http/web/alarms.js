// @ts-check
/**
 * The active alarms, fetched once and then kept up to date from the stream's `alarm` messages,
 * with an Acknowledge button; the rules are listed for reference.
 */
import { celsius, get, send, time } from "./api.js"
import { button, byTestId, element } from "./dom.js"

/** @typedef {import("./api.js").Alarm} Alarm */
/** @typedef {import("./api.js").Rule} Rule */
/** @typedef {{ transition: "raised" | "acknowledged" | "cleared", alarm: Alarm }} AlarmMessage */

export class Alarms {
  /**
   * @param {HTMLElement} section the alarms panel
   * @param {(error: unknown) => void} report shows an error
   */
  constructor(section, report) {
    this.report = report
    this.list = byTestId("alarm-list", section)
    this.empty = byTestId("no-alarms", section)
    this.ruleList = byTestId("rule-list", section)
    this.count = byTestId("alarm-count", section)
    /** @type {Map<number, Alarm>} by id */
    this.alarms = new Map()
    /** @type {Map<number, Rule>} by id */
    this.rules = new Map()
  }

  async load() {
    const [alarms] = await Promise.all([get("/alarms/active"), this.loadRules()])
    this.alarms = new Map(/** @type {Alarm[]} */ (alarms).map((alarm) => [alarm.id, alarm]))
    this.render()
  }

  async loadRules() {
    /** @type {Rule[]} */
    const rules = await get("/alarms/rules")
    this.rules = new Map(rules.map((rule) => [rule.id, rule]))
    this.ruleList.replaceChildren(...rules.map((rule) =>
      element(
        "li",
        `${rule.name}: ${rule.zoneId === null ? "whole frame" : `zone ${rule.zoneId}`} ${rule.metric} ` +
          `${rule.direction} ${rule.threshold}${rule.metric === "rate" ? " °C/min" : " °C"}` +
          `${rule.delaySeconds > 0 ? ` for ${rule.delaySeconds} s` : ""}, ${rule.severity}` +
          `${rule.enabled ? "" : " (disabled)"}`
      )
    ))
  }

  /** @param {AlarmMessage} message */
  onMessage({ alarm, transition }) {
    if (transition === "cleared") this.alarms.delete(alarm.id)
    else this.alarms.set(alarm.id, alarm)
    // a rule created since the page loaded: fetch its name
    if (!this.rules.has(alarm.ruleId)) void this.loadRules().then(() => this.render(), this.report)
    else this.render()
  }

  /** @param {Alarm} alarm */
  async acknowledge(alarm) {
    try {
      /** @type {Alarm} */
      const answer = await send("POST", `/alarms/${alarm.id}/ack`)
      if (answer.state === "active") this.alarms.set(answer.id, answer)
      else this.alarms.delete(answer.id)
    } catch (error) {
      this.report(error)
      await this.load().catch(this.report) // e.g. cleared meanwhile (409)
    }
    this.render()
  }

  render() {
    const alarms = [...this.alarms.values()].sort((a, b) => b.raisedAt.localeCompare(a.raisedAt))
    this.empty.hidden = alarms.length > 0
    this.count.textContent = String(alarms.length)
    this.count.classList.toggle("hot", alarms.some((alarm) => alarm.acknowledgedAt === null))
    this.list.replaceChildren(...alarms.map((alarm) => {
      const rule = this.rules.get(alarm.ruleId)
      const item = element("li", "", { "data-testid": "alarm", "data-alarm-id": String(alarm.id) })
      item.className = `alarm ${alarm.severity}${alarm.acknowledgedAt === null ? "" : " acknowledged"}`
      const title = element("strong", rule?.name ?? `rule ${alarm.ruleId}`)
      const detail = element(
        "span",
        `${alarm.severity} · ${celsius(alarm.value)} · since ${time(alarm.raisedAt)}` +
          (alarm.acknowledgedAt === null ? "" : ` · acknowledged ${time(alarm.acknowledgedAt)}`)
      )
      item.append(title, detail)
      if (alarm.acknowledgedAt === null) {
        const ack = button("Acknowledge", () => void this.acknowledge(alarm))
        ack.dataset["testid"] = "ack"
        item.append(ack)
      }
      return item
    }))
  }
}
