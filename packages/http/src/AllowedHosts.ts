/**
 * The host names this server answers to, against DNS rebinding: a page on another site that
 * re-points its own name at this machine reaches it with that name in `Host`, and is refused.
 * Allowed: loopback (`localhost`, `*.localhost`, 127.0.0.0/8, ::1), the machine's host name and
 * `<hostname>.local`, its interface addresses, the address it listens on, and ALLOWED_HOSTS;
 * any port.
 */
import { canonicalHost } from "@ircam/core/AppConfig"
import { Option } from "effect"
import { hostname, networkInterfaces } from "node:os"

/** The canonical host of a `Host` header (`name`, `name:port`, `[v6]:port`), none when it is not one. */
export const hostOfHeader = (header: string): Option.Option<string> => {
  const match = /^(\[[^\]]*\]|[^:]*)(?::[0-9]{1,5})?$/.exec(header)
  return match === null ? Option.none() : canonicalHost(match[1]!)
}

/** The canonical host of an `Origin` header (`scheme://host[:port]`), none for `null` or anything else. */
export const hostOfOrigin = (origin: string): Option.Option<string> => {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]+)$/i.exec(origin)
  return match === null ? Option.none() : hostOfHeader(match[1]!)
}

const isLoopback = (host: string) =>
  host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\.[0-9.]+$/.test(host)

/** This machine's names and addresses now: they may change while it runs (DHCP, a new interface). */
const ownHosts = (listenHost: string): ReadonlySet<string> => {
  const name = hostname()
  const short = name.split(".")[0]!
  const names = [name, short, `${short}.local`, listenHost]
  for (const addresses of Object.values(networkInterfaces())) {
    for (const { address } of addresses ?? []) names.push(address)
  }
  return new Set(names.flatMap((text) => Option.toArray(canonicalHost(text))))
}

/**
 * Whether a canonical host is allowed, with `allowedHosts` from ALLOWED_HOSTS (which adds to the
 * defaults). The machine's own names are read again when a host is not found among them.
 */
export const make = (allowedHosts: ReadonlyArray<string>, listenHost: string): (host: string) => boolean => {
  if (allowedHosts.includes("*")) return () => true
  const exact = new Set(allowedHosts.filter((host) => !host.startsWith("*.")))
  const suffixes = allowedHosts.filter((host) => host.startsWith("*.")).map((host) => host.slice(1))
  let own = ownHosts(listenHost)
  return (host) => {
    if (isLoopback(host) || exact.has(host) || suffixes.some((suffix) => host.endsWith(suffix))) return true
    if (own.has(host)) return true
    own = ownHosts(listenHost)
    return own.has(host)
  }
}
