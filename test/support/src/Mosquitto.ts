/**
 * A real MQTT broker for the tests: Debian's Mosquitto (installed when missing, as Chromium is),
 * on free ports of loopback, configured by files the test writes in a directory of its own: users
 * in a password file (mosquitto_passwd), an ACL, a TLS listener with a certificate of a test CA
 * (made with openssl), persistence (so a broker restarted keeps retained messages and the queued
 * messages of persistent sessions, as a real one configured so does). Stopped and started again on
 * the same ports.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { once } from "node:events"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ensure } from "./DebianPackage.js"
import { freePort } from "./Port.js"

export const binary = "/usr/sbin/mosquitto"

/** Why Mosquitto cannot be run here (it is installed if it can be), or undefined when it can. */
export const unavailable = (): Promise<string | undefined> => ensure("mosquitto", binary)

export interface BrokerOptions {
  /** user → password; when given, anonymous clients are refused */
  readonly users?: Readonly<Record<string, string>>
  /** the text of the ACL file (`user <name>` / `topic read|write|readwrite <filter>` lines) */
  readonly acl?: string
  /** a TLS listener too, its certificate (for 127.0.0.1 and localhost) signed by a test CA */
  readonly tls?: boolean
}

export interface Broker {
  readonly port: number
  /** mqtt://127.0.0.1:<port> */
  readonly url: string
  /** with `tls`: mqtts://127.0.0.1:<port> and the test CA's certificate (a PEM file) */
  readonly tls: { readonly url: string; readonly caFile: string } | undefined
  readonly dir: string
  /** Stops it (SIGTERM: it saves its persistence file) and waits for its end. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same ports, with what it saved (nothing when it runs). */
  readonly start: () => Promise<void>
  /** Stops it and removes its directory. */
  readonly close: () => Promise<void>
  /** what it logged */
  readonly log: () => string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const accepting = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resolve(true)
    })
    socket.once("error", () => resolve(false))
  })

/** A test CA and a certificate for 127.0.0.1 and localhost signed by it, in `dir`. */
const certificates = (dir: string) => {
  const openssl = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" })
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
  openssl("req", "-x509", ...key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=ircam test CA")
  openssl("req", ...key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "2",
    "-extfile",
    "san.ext"
  )
  return { ca: join(dir, "ca.crt"), cert: join(dir, "server.crt"), key: join(dir, "server.key") }
}

/** Starts a broker as `options` say; fails (with its log) when it does not listen within 10 s. */
export const start = async (options: BrokerOptions = {}): Promise<Broker> => {
  const dir = mkdtempSync(join(tmpdir(), "ircam-mosquitto-"))
  const port = await freePort()
  const tlsPort = options.tls ? await freePort() : undefined
  const lines = [
    // it runs as whoever starts it (as root it would switch to the user mosquitto, who cannot read dir)
    "user root",
    "per_listener_settings false",
    `persistence true`,
    `persistence_location ${dir}/`,
    `allow_anonymous ${options.users === undefined}`,
    "log_dest stderr",
    "log_type error",
    "log_type warning",
    "log_type notice",
    "log_type information",
    "connection_messages true"
  ]
  if (options.users !== undefined) {
    const file = join(dir, "passwd")
    writeFileSync(file, "")
    for (const [user, password] of Object.entries(options.users)) {
      execFileSync("mosquitto_passwd", ["-b", file, user, password], { stdio: "pipe" })
    }
    lines.push(`password_file ${file}`)
  }
  if (options.acl !== undefined) {
    writeFileSync(join(dir, "acl"), options.acl)
    lines.push(`acl_file ${join(dir, "acl")}`)
  }
  lines.push(`listener ${port} 127.0.0.1`)
  let caFile: string | undefined
  if (tlsPort !== undefined) {
    const files = certificates(dir)
    caFile = files.ca
    lines.push(`listener ${tlsPort} 127.0.0.1`, `cafile ${files.ca}`, `certfile ${files.cert}`, `keyfile ${files.key}`)
  }
  const config = join(dir, "mosquitto.conf")
  writeFileSync(config, lines.join("\n") + "\n")

  let child: ChildProcess | undefined
  let log = ""
  const run = async () => {
    if (child !== undefined && child.exitCode === null) return
    const started = spawn(binary, ["-c", config], { stdio: ["ignore", "pipe", "pipe"] })
    started.stdout?.setEncoding("utf8").on("data", (chunk: string) => (log += chunk))
    started.stderr?.setEncoding("utf8").on("data", (chunk: string) => (log += chunk))
    child = started
    for (let i = 0; i < 200; i++) {
      if (started.exitCode !== null) break
      if (await accepting(port) && (tlsPort === undefined || await accepting(tlsPort))) return
      await sleep(50)
    }
    throw new Error(`mosquitto did not start listening on ${port}:\n${log}`)
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    const exited = once(running, "exit")
    running.kill("SIGTERM")
    await exited
  }
  await run()
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    tls: tlsPort === undefined ? undefined : { url: `mqtts://127.0.0.1:${tlsPort}`, caFile: caFile! },
    dir,
    stop,
    start: run,
    close: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
    log: () => log
  }
}
