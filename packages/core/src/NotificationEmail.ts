/**
 * The text of a notification's e-mail, apart from the SMTP sender (EmailSender) that only carries
 * it: what people read is written and tested here, without a server.
 */
import type { Notification } from "./Alarm.js"

const round1 = (value: number) => Number(value.toFixed(1))

/** The e-mail of a notification: subject and plain-text body, for people. */
export const renderEmail = (notification: Notification): { readonly subject: string; readonly text: string } => {
  const { alarm, rule } = notification.data
  const unit = rule.metric === "rate" ? "°C/min" : "°C"
  const where = rule.zoneName ?? (rule.zoneId === null ? "whole frame" : `zone ${rule.zoneId}`)
  const condition = `${rule.metric} ${round1(alarm.value)} ${unit} ${rule.direction === "above" ? ">" : "<"} ${
    round1(rule.threshold)
  } ${unit}`
  const raised = notification.type === "alarm.raised"
  const severity = alarm.severity.toUpperCase()
  const subject = raised
    ? `[ircam] ${severity} raised: ${rule.name} — ${where} ${condition}`
    : `[ircam] ${severity} cleared: ${rule.name} — ${where} (was ${condition})`
  const place = rule.zoneId === null
    ? "the whole frame"
    : `zone ${rule.zoneName === null ? "" : `"${rule.zoneName}" `}(#${rule.zoneId})`
  const text = [
    raised
      ? `The ${severity} alarm of rule "${rule.name}" was raised.`
      : `The ${severity} alarm of rule "${rule.name}" was cleared: the value is back within the threshold.`,
    "",
    `Rule:          ${rule.name} (#${rule.id}): ${rule.metric} ${rule.direction} ${round1(rule.threshold)} ${unit}`,
    `Where:         ${place}`,
    `Value:         ${round1(alarm.value)} ${unit} when raised`,
    `Raised at:     ${alarm.raisedAt}`,
    `Acknowledged:  ${alarm.acknowledgedAt ?? "no"}`,
    `Cleared at:    ${alarm.clearedAt ?? "still active"}`,
    `Alarm:         #${alarm.id}`,
    `Event:         ${alarm.eventId === null ? "none" : `#${alarm.eventId} (the frames around the trigger)`}`,
    "",
    `Sent by ircam at ${notification.timestamp}.`,
    ""
  ].join("\n")
  return { subject, text }
}
