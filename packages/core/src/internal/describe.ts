/** The message of an error and of its causes, e.g. "fetch failed: connect ECONNREFUSED 127.0.0.1:9". */
export const describe = (cause: unknown): string => {
  const messages: Array<string> = []
  let current: unknown = cause
  while (current instanceof Error && messages.length < 4) {
    if (current.message !== "" && !messages.includes(current.message)) messages.push(current.message)
    current = current.cause
  }
  return messages.length === 0 ? String(cause) : messages.join(": ")
}
