/**
 * The systemd unit in deploy/: valid for systemd, and pointing at what the repository has.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const unitPath = fileURLToPath(new URL("../deploy/ircam.service", import.meta.url))
const unit = readFileSync(unitPath, "utf8")
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")

const setting = (name: string): ReadonlyArray<string> =>
  [...unit.matchAll(new RegExp(`^${name}=(.*)$`, "gm"))].map((match) => match[1]!)

const hasSystemdAnalyze = (() => {
  try {
    execFileSync("systemd-analyze", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

describe("deploy/ircam.service", () => {
  it.runIf(hasSystemdAnalyze)("passes systemd-analyze verify", () => {
    // throws (non-zero exit) on a setting systemd does not understand or a missing executable
    const output = execFileSync("systemd-analyze", ["verify", unitPath], { encoding: "utf8", stdio: "pipe" })
    assert.strictEqual(output.trim(), "")
  })

  it("runs the built CLI from /opt/ircam with node and node options only", () => {
    const [execStart] = setting("ExecStart")
    const [node, ...rest] = execStart!.split(" ")
    const [script, command] = rest.slice(-2)
    assert.strictEqual(node, "/usr/bin/node")
    assert.strictEqual(command, "serve")
    assert.strictEqual(script, "/opt/ircam/packages/cli/bin/ircam.js")
    assert.isTrue(existsSync(script!.replace("/opt/ircam/", root)), `${script} is in the repository`)
    for (const option of rest.slice(0, -2)) assert.match(option, /^--[a-z-]+(=\S+)?$/)
    assert.deepStrictEqual(setting("WorkingDirectory"), ["/opt/ircam"])
  })

  it("may open the I²C devices and keeps its database in its state directory", () => {
    assert.deepStrictEqual(setting("SupplementaryGroups"), ["i2c"])
    assert.deepStrictEqual(setting("DeviceAllow"), ["char-i2c rw"])
    assert.deepStrictEqual(setting("StateDirectory"), ["ircam"])
    assert.include(setting("Environment"), "DATABASE_PATH=/var/lib/ircam/ircam.db")
    assert.deepStrictEqual(setting("EnvironmentFile"), ["-/etc/ircam.env"])
  })

  it("is the unit the README's service instructions install", () => {
    assert.include(readme, "sudo cp deploy/ircam.service /etc/systemd/system/")
    assert.include(readme, "/etc/ircam.env")
  })
})
