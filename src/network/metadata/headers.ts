// The header rules of the metadata path for the linux data plane: what the in-namespace proxy passes on from a
// guest (everything but identity and hop-by-hop headers), what it adds (the caller's address and network, which
// only it knows), and how the host-side agent reads those two back. Kept free of other imports: the in-namespace
// proxy loads it before it drops its privileges.
import { isIPv4, isIPv6 } from "node:net";

/** The caller's address, as the in-namespace proxy saw it on the connection. */
export const FORWARDED_FOR = "x-forwarded-for";
/** The network whose namespace the request came into (Neutron's X-Neutron-Network-ID). */
export const NETWORK_ID = "x-neutron-network-id";

/** Hop-by-hop headers (RFC 9110 7.6.1), Host and Expect (this proxy's own business): never forwarded. */
const HOP_BY_HOP = new Set([
  "expect",
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/** Whether a guest-sent header could claim an identity (dropped, whatever its case or value). */
export function isIdentityHeader(name: string): boolean {
  const n = name.toLowerCase();
  return (
    n.startsWith("x-instance-id") ||
    n === "x-tenant-id" ||
    n === FORWARDED_FOR ||
    n === "forwarded" ||
    n === "x-real-ip" ||
    n.startsWith("x-neutron-")
  );
}

/** A plain id (what network ids are): letters, digits, `-`, `_`, at most 64. */
export const PLAIN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** The address a socket reports, without the IPv4-mapped prefix of a dual-stack socket. */
export function callerAddress(remote: string | undefined): string | null {
  if (!remote) return null;
  const a = remote.startsWith("::ffff:") && isIPv4(remote.slice(7)) ? remote.slice(7) : remote;
  return isIPv4(a) || isIPv6(a) ? a : null;
}

/**
 * The headers the in-namespace proxy sends upstream for a guest's request: the guest's own minus identity and
 * hop-by-hop ones, plus the caller's address and the network id (set here, so anything the guest sent is gone).
 * `raw` is Node's rawHeaders (name, value, name, value ...).
 */
export function upstreamHeaders(
  raw: readonly string[],
  caller: { address: string; networkId: string },
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (HOP_BY_HOP.has(name.toLowerCase()) || isIdentityHeader(name)) continue;
    out.push([name, raw[i + 1]!]);
  }
  out.push([FORWARDED_FOR, caller.address], [NETWORK_ID, caller.networkId]);
  return out;
}

/** Who the in-namespace proxy says is calling, or why the request cannot be attributed. */
export type ProxiedCaller = { networkId: string; address: string } | { error: string };

/** Read the caller the in-namespace proxy added: exactly one network id and one address, both well formed. */
export function proxiedCaller(headers: Readonly<Record<string, string[] | undefined>>): ProxiedCaller {
  const net = headers[NETWORK_ID];
  const fwd = headers[FORWARDED_FOR];
  if (!net || net.length !== 1 || !PLAIN_ID.test(net[0]!))
    return { error: "X-Neutron-Network-ID is not valid" };
  if (!fwd || fwd.length !== 1) return { error: "X-Forwarded-For is not valid" };
  const address = callerAddress(fwd[0]!.trim());
  if (!address) return { error: "X-Forwarded-For is not valid" };
  return { networkId: net[0]!, address };
}
