// @ts-check
/**
 * Calls to the ircam API (/api/v1) and the JSON types it answers. Reads are open; writes carry the
 * token, and a 401 asks the user for it (again, if the one kept is refused). The token is kept in
 * sessionStorage: this tab only, forgotten when it closes, so it does not outlive the session on a
 * shared screen nor sit on disk for whatever later runs in this origin.
 */

/**
 * @typedef {{ temperatures: number[], width: number, height: number, min: number, max: number, mean: number,
 *   ambient: number, capturedAt: string, sequence: number }} Frame
 * @typedef {{ capturedAt: string, sequence: number, temperatures: (number | null)[] }} EventFrame
 * @typedef {{ name: string, colors: string[] }} Palette
 * @typedef {{ id: number, name: string, color: string, x: number, y: number, width: number, height: number }} Zone
 * @typedef {{ x: number, y: number, width: number, height: number, name?: string, color?: string }} ZoneInput
 * @typedef {{ id: number, ruleId: number, zoneId: number | null, severity: "warning" | "critical",
 *   state: "active" | "cleared", value: number, raisedAt: string, acknowledgedAt: string | null,
 *   clearedAt: string | null, eventId: number | null }} Alarm
 * @typedef {{ id: number, name: string, zoneId: number | null, metric: string, direction: string,
 *   threshold: number, hysteresis: number, delaySeconds: number, severity: string, enabled: boolean }} Rule
 * @typedef {{ id: number, kind: "manual" | "alarm", label: string | null, status: "recording" | "complete",
 *   triggeredAt: string, startedAt: string | null, endedAt: string | null, frameCount: number,
 *   zoneId: number | null, alarmId: number | null, peak: { temperature: number, x: number, y: number } | null
 * }} RecordedEvent
 * @typedef {"ok" | "degraded" | "down"} Status
 * @typedef {{ status: Status, checkedAt: string, uptimeSeconds: number,
 *   checks: Record<string, { status: Status, message?: string }> }} HealthReport
 */

export const base = "/api/v1"

const tokenKey = "ircam.token"
// earlier versions kept it in localStorage, which outlives the session
localStorage.removeItem(tokenKey)

/** An answer that is not a success, with the `_tag` and `message` of its JSON body. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} tag
   * @param {string} message
   */
  constructor(status, tag, message) {
    super(message)
    this.status = status
    this.tag = tag
  }
}

/** @type {(reason: string) => Promise<string | undefined>} */
let askToken = async () => undefined
/** @type {Promise<string | undefined> | undefined} */
let asking

/**
 * How to ask the user for the token (an in-page dialog): answers it, or undefined if they cancel.
 * @param {(reason: string) => Promise<string | undefined>} ask
 */
export const setTokenPrompt = (ask) => {
  askToken = ask
}

// several writes refused at once share one question
const promptOnce = (/** @type {string} */ reason) => {
  asking ??= askToken(reason).finally(() => (asking = undefined))
  return asking
}

/**
 * @param {Response} response
 * @returns {Promise<ApiError>}
 */
const errorOf = async (response) => {
  const text = await response.text()
  try {
    const body = JSON.parse(text)
    return new ApiError(response.status, String(body._tag ?? "Error"), String(body.message ?? text))
  } catch {
    return new ApiError(response.status, "HttpError", `${response.status} ${response.statusText}`)
  }
}

/**
 * A GET of `path` under /api/v1, its JSON body; `accept` lists statuses besides 2xx whose body is
 * an answer too (the health report comes with a 503 when something is down).
 * @template A
 * @param {string} path
 * @param {number[]} [accept]
 * @returns {Promise<A>}
 */
export const get = async (path, accept = []) => {
  const response = await fetch(base + path)
  if (!response.ok && !accept.includes(response.status)) throw await errorOf(response)
  return response.json()
}

/**
 * A POST, PUT or DELETE with a JSON body; answers the JSON body (undefined for 204).
 * @template A
 * @param {"POST" | "PUT" | "DELETE"} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<A>}
 */
export const send = async (method, path, body) => {
  for (;;) {
    const token = sessionStorage.getItem(tokenKey)
    /** @type {Record<string, string>} */
    const headers = {}
    if (body !== undefined) headers["content-type"] = "application/json"
    if (token !== null) headers["authorization"] = `Bearer ${token}`
    const response = await fetch(base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    if (response.status === 401) {
      const reason = token === null ? "This server needs its API token for changes." : "The token was refused."
      const entered = await promptOnce(reason)
      if (entered === undefined) throw await errorOf(response)
      sessionStorage.setItem(tokenKey, entered)
      continue
    }
    if (!response.ok) throw await errorOf(response)
    return response.status === 204 ? /** @type {A} */ (undefined) : response.json()
  }
}

/**
 * A readable message for any failure.
 * @param {unknown} error
 */
export const describe = (error) =>
  error instanceof ApiError
    ? `${error.tag}: ${error.message}`
    : error instanceof Error
    ? error.message
    : String(error)

/** @param {number} value */
export const celsius = (value) => `${value.toFixed(1)} °C`

/** @param {string} iso */
export const time = (iso) => new Date(iso).toLocaleTimeString()

/** @param {string} iso */
export const dateTime = (iso) => new Date(iso).toLocaleString()
