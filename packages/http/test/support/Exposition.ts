/**
 * Reads the samples of a Prometheus text exposition (or OpenMetrics) answer, for the tests to
 * look values up by name and labels.
 */

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \S+)?$/
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

const unescape = (value: string) => value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c))

/** Every sample line of `text`; throws on a line that is neither a sample, a comment nor blank. */
export const samples = (text: string): ReadonlyArray<Sample> =>
  text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).map((line) => {
    const match = sampleLine.exec(line)
    if (match === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, name, value] of (match[2] ?? "").matchAll(labelPair)) labels[name!] = unescape(value!)
    return { name: match[1]!, labels, value: Number(match[3]) }
  })

/** The samples named `name` whose labels include `labels`. */
export const find = (
  all: ReadonlyArray<Sample>,
  name: string,
  labels: Readonly<Record<string, string>> = {}
): ReadonlyArray<Sample> =>
  all.filter((sample) =>
    sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
  )

/** The value of the one sample named `name` with `labels`; throws when there is not exactly one. */
export const value = (all: ReadonlyArray<Sample>, name: string, labels: Readonly<Record<string, string>> = {}) => {
  const found = find(all, name, labels)
  if (found.length !== 1) {
    throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}; expected one`)
  }
  return found[0]!.value
}
