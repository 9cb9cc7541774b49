import { Effect } from "effect"
import { createServer } from "node:net"

/** A TCP port that was free a moment ago: bind port 0 on loopback, read the port, close. */
export const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(port > 0 ? Effect.succeed(port) : Effect.die(new Error("no port was assigned"))))
  })
})
