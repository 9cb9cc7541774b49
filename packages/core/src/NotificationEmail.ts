/**
 * The text of a notification's e-mail, apart from the SMTP sender (EmailSender) that only carries
 * it: what people read is written and tested here, without a server. A plain-text body, and an
 * HTML alternative with the same content and the pictures (AlarmEvidence) inline by content id.
 */
import type { Notification } from "./Alarm.js"
import type { Evidence } from "./AlarmEvidence.js"

const round1 = (value: number) => Number(value.toFixed(1))

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

const none: Evidence = { pictures: [], notes: [] }

/** The e-mail of a notification: subject, plain-text body and HTML body, for people. */
export const renderEmail = (
  notification: Notification,
  evidence: Evidence = none
): { readonly subject: string; readonly text: string; readonly html: string } => {
  const { alarm, links, linksReason, rule } = notification.data
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
  const headline = raised
    ? `The ${severity} alarm of rule "${rule.name}" was raised.`
    : `The ${severity} alarm of rule "${rule.name}" was cleared: the value is back within the threshold.`
  const rows: ReadonlyArray<readonly [string, string]> = [
    ["Rule", `${rule.name} (#${rule.id}): ${rule.metric} ${rule.direction} ${round1(rule.threshold)} ${unit}`],
    ["Where", place],
    ["Value", `${round1(alarm.value)} ${unit} when raised`],
    ["Raised at", alarm.raisedAt],
    ["Acknowledged", alarm.acknowledgedAt ?? "no"],
    ["Cleared at", alarm.clearedAt ?? "still active"],
    ["Alarm", `#${alarm.id}`],
    ["Event", alarm.eventId === null ? "none" : `#${alarm.eventId} (the frames around the trigger)`]
  ]
  const linkRows: ReadonlyArray<readonly [string, string]> = links === null
    ? []
    : [
      ["the alarm", links.alarm],
      ...(links.frame === null ? [] : [["its heat map", links.frame] as const]),
      ...(links.event === null ? [] : [["the event", links.event] as const]),
      ...(links.animation === null ? [] : [["its animation", links.animation] as const])
    ]
  const footer = `Sent by ircam at ${notification.timestamp}.`

  const text = [
    headline,
    "",
    ...rows.map(([name, value]) => `${`${name}:`.padEnd(15)}${value}`),
    ...(evidence.pictures.length === 0 ? [] : [
      "",
      ...evidence.pictures.map((picture) => `${picture.caption}: attached as ${picture.filename}`)
    ]),
    ...(evidence.notes.length === 0 ? [] : ["", ...evidence.notes.map((note) => `Note: ${note}`)]),
    ...(linkRows.length > 0
      ? ["", "Links:", ...linkRows.map(([name, url]) => `  ${name.padEnd(14)}${url}`)]
      : linksReason === undefined
      ? []
      : ["", `No links: ${linksReason}`]),
    "",
    footer,
    ""
  ].join("\n")

  const cell = "padding:2px 12px 2px 0;vertical-align:top"
  const html = [
    "<!DOCTYPE html>",
    "<html><head><meta charset=\"utf-8\"><title>" + escape(subject) + "</title></head>",
    "<body style=\"font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1a1a1a;line-height:1.4\">",
    `<p style="font-size:1.1em"><strong>${escape(headline)}</strong></p>`,
    "<table style=\"border-collapse:collapse\">",
    ...rows.map(([name, value]) =>
      `<tr><th style="${cell};text-align:left">${escape(name)}</th><td style="${cell}">${escape(value)}</td></tr>`
    ),
    "</table>",
    ...evidence.pictures.map((picture) =>
      `<figure style="margin:16px 0"><img src="cid:${
        escape(picture.cid)
      }" width="${picture.width}" height="${picture.height}" ` +
      `alt="${escape(picture.caption)}" style="display:block;max-width:100%;height:auto">` +
      `<figcaption style="color:#555;font-size:0.9em">${escape(picture.caption)}</figcaption></figure>`
    ),
    ...evidence.notes.map((note) => `<p style="color:#555">Note: ${escape(note)}</p>`),
    ...(linkRows.length > 0
      ? [
        `<p>${linkRows.map(([name, url]) => `<a href="${escape(url)}">${escape(name)}</a>`).join(" · ")}</p>`
      ]
      : linksReason === undefined
      ? []
      : [`<p style="color:#555">No links: ${escape(linksReason)}</p>`]),
    `<p style="color:#777;font-size:0.85em">${escape(footer)}</p>`,
    "</body></html>",
    ""
  ].join("\n")
  return { subject, text, html }
}
