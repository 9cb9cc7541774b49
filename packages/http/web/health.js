// @ts-check
/** The server's health (`GET /health`), polled every 10 s: one line per subsystem. */
import { describe, get } from "./api.js"
import { byTestId, element } from "./dom.js"

/** @typedef {import("./api.js").HealthReport} HealthReport */

export const healthEveryMs = 10_000

/** @param {HTMLElement} section the health panel */
export const startHealth = (section) => {
  const status = byTestId("health-status", section)
  const checks = byTestId("health-checks", section)
  const poll = async () => {
    try {
      /** @type {HealthReport} */
      const report = await get("/health", [503]) // 503 still answers the report
      status.textContent = report.status
      status.dataset["status"] = report.status
      checks.replaceChildren(
        ...Object.entries(report.checks).map(([name, check]) => {
          const item = element("li", "", { "data-status": check.status })
          item.append(element("strong", name), element("span", ` ${check.status}`))
          if (check.message !== undefined) item.append(element("span", ` — ${check.message}`))
          return item
        })
      )
    } catch (error) {
      status.textContent = "unreachable"
      status.dataset["status"] = "down"
      checks.replaceChildren(element("li", describe(error)))
    }
  }
  void poll()
  setInterval(() => {
    if (!document.hidden) void poll() // nobody is looking
  }, healthEveryMs)
}
