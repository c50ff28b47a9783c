// Choosing addresses: a free address of a subnet's pools, starting at a random offset and probing upward (so
// racing allocators rarely pick the same one; when they do, the database's unique key decides and the loser
// retries), and the EUI-64 address of a SLAAC subnet.
import { cidrOf, formatIp, parseIp, type Cidr, type Ip } from "./addr.js";
import { eui64 } from "./mac.js";
import type { Range } from "./pools.js";

/** A random bigint below `n` (from `random` bytes). */
function randomBelow(n: bigint, random: (k: number) => Buffer): bigint {
  if (n <= 1n) return 0n;
  const v = random(16).reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return v % n;
}

/**
 * A free address of the ranges: not in `taken` (canonical texts), picked from a random offset and probing
 * upward with wrap-around; null when every address is taken.
 */
export function pickFree(ranges: Range[], taken: Set<string>, random: (k: number) => Buffer): string | null {
  const size = ranges.reduce((n, r) => n + (r.last - r.first + 1n), 0n);
  if (size === 0n) return null;
  const takenValues = new Set<bigint>();
  for (const t of taken) {
    const ip = parseIp(t);
    if (ip) takenValues.add(ip.value);
  }
  const start = randomBelow(size, random);
  // Walk at most every address once; a pool larger than what is taken finds a free one within |taken| + 1 steps.
  const steps = size < BigInt(takenValues.size) + 1n ? size : BigInt(takenValues.size) + 1n;
  for (let k = 0n; k < steps; k++) {
    let i = (start + k) % size;
    for (const r of ranges) {
      const n = r.last - r.first + 1n;
      if (i < n) {
        const v = r.first + i;
        if (!takenValues.has(v)) return formatIp({ version: r.version, value: v });
        break;
      }
      i -= n;
    }
  }
  return null;
}

/** The SLAAC (EUI-64) address of a MAC in a /64 prefix. */
export function slaacAddress(cidr: string, mac: string): string {
  const c: Cidr = cidrOf(cidr);
  const ip: Ip = { version: 6, value: c.network | eui64(mac) };
  return formatIp(ip);
}
