/**
 * Short excerpts of what a client sent, for error messages: an answer names the field and shows
 * the start of the offending value, never the whole of it, so no input can make an error large.
 */

/** The longest excerpt of a value, in characters. */
export const maxExcerpt = 40

/** `text` cut to `max` characters, with `…` when something was left out. */
export const truncate = (text: string, max = maxExcerpt): string => text.length <= max ? text : `${text.slice(0, max)}…`

/** `text` quoted as JSON, cut to `max` characters first. */
export const quoted = (text: string, max = maxExcerpt): string => JSON.stringify(truncate(text, max))

/** Quoted strings longer than `max` within a message, cut to their first `max` characters. */
export const shortenQuoted = (message: string, max = maxExcerpt): string =>
  message.replace(
    /"((?:[^"\\]|\\.)*)"/g,
    (whole, inner: string) => inner.length <= max ? whole : `"${inner.slice(0, max)}…"`
  )
