/**
 * What the benchmarks that run the server in a child process share.
 */
import type { ChildProcess } from "node:child_process"
import { createServer } from "node:net"

/** A TCP port that was free a moment ago. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(
        () => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")))
      )
    })
  })

/** SIGTERM, and its exit. */
export const stop = async (child: ChildProcess) => {
  child.kill("SIGTERM")
  if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve))
}
