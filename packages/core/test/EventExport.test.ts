/**
 * The export formats of an event's frames (the API's and the CLI's): JSON and CSV.
 */
import { assert, describe, it } from "@effect/vitest"
import type { StoredFrame } from "../src/Event.js"
import { csvHeader, csvRow, frameJson, toCsv } from "../src/EventExport.js"
import { PIXELS } from "../src/Frame.js"

describe("EventExport", () => {
  it("a pixel without a value is null in JSON and an empty CSV field", () => {
    const temperatures = new Float64Array(PIXELS).fill(21.5)
    temperatures[1] = Number.NaN
    temperatures[2] = -3.25
    const frame: StoredFrame = { capturedAt: Date.UTC(2026, 0, 1), sequence: 7, ambient: 25, temperatures }
    assert.deepStrictEqual(JSON.parse(JSON.stringify(frameJson(frame))).temperatures.slice(0, 4), [
      21.5,
      null,
      -3.25,
      21.5
    ])
    const row = csvRow(frame)
    assert.isTrue(row.startsWith("2026-01-01T00:00:00.000Z,7,21.5,,-3.25,21.5,"))
    assert.lengthOf(row.split(","), 2 + PIXELS)
    assert.strictEqual(toCsv([]), `${csvHeader}\r\n`)
    assert.strictEqual(toCsv([frame, frame]), `${csvHeader}\r\n${row}\r\n${row}\r\n`)
  })

  it("the CSV header names a column a pixel, row-major", () => {
    const columns = csvHeader.split(",")
    assert.lengthOf(columns, 2 + PIXELS)
    assert.deepStrictEqual(columns.slice(0, 4), ["capturedAt", "sequence", "r0c0", "r0c1"])
    assert.strictEqual(columns[2 + 32], "r1c0")
    assert.strictEqual(columns[columns.length - 1], "r23c31")
  })
})
