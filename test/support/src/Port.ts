/**
 * Ports for servers the tests and benchmarks start.
 */
import { createServer } from "node:net"

/** A TCP port that was free a moment ago: bind port 0 on loopback, read the port, close. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("no port was assigned"))))
    })
  })
