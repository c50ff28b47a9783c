// IPv4 and IPv6 addresses and prefixes as bigints: strict parsing (as neutron-lib's validators), canonical
// formatting (dotted quads; RFC 5952 for IPv6) and the arithmetic IPAM needs.

/** An IP address: its version and its value as an unsigned integer. */
export interface Ip {
  version: 4 | 6;
  value: bigint;
}

/** A prefix (subnet): the network address (host bits zero), its length and version. */
export interface Cidr {
  version: 4 | 6;
  network: bigint;
  prefix: number;
}

/** Address width in bits per version. */
export const bits = (version: 4 | 6): number => (version === 4 ? 32 : 128);

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): bigint | null {
  const m = V4.exec(s);
  if (!m) return null;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const part = m[i];
    const n = Number(part);
    // A leading zero could be read as octal: refuse it (neutron-lib does).
    if (n > 255 || (part.length > 1 && part[0] === "0")) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return null;
  let tail: bigint | null = null;
  let text = s;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail = parseV4(s.slice(lastColon + 1));
    if (tail === null) return null;
    text = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string): string[] | null => {
    if (h === "") return [];
    const g = h.split(":");
    return g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)) ? g : null;
  };
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !rest) return null;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(missing).fill("0"), ...rest];
  let v = 0n;
  for (const g of all) v = (v << 16n) | BigInt(parseInt(g, 16));
  if (tail !== null) v = (v & ~0xffffffffn) | tail;
  return v;
}

/** Parse an address strictly (no whitespace, no leading zeros in IPv4 octets); null when it is not one. */
export function parseIp(s: unknown): Ip | null {
  if (typeof s !== "string") return null;
  if (s.includes(":")) {
    const v = parseV6(s);
    return v === null ? null : { version: 6, value: v };
  }
  const v = parseV4(s);
  return v === null ? null : { version: 4, value: v };
}

/** The canonical text of an address: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as ::). */
export function formatIp(ip: Ip): string {
  if (ip.version === 4)
    return [24n, 16n, 8n, 0n].map((sh) => String(Number((ip.value >> sh) & 0xffn))).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => Number((ip.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The canonical form of an address string, or null when it is not an address. */
export function canonicalIp(s: unknown): string | null {
  const ip = parseIp(s);
  return ip ? formatIp(ip) : null;
}

/** The netmask of a prefix length. */
function mask(version: 4 | 6, prefix: number): bigint {
  const w = BigInt(bits(version));
  return ((1n << w) - 1n) ^ ((1n << (w - BigInt(prefix))) - 1n);
}

/**
 * Parse "address/length": the prefix (host bits cleared) and whether the text had host bits set; null when it
 * is not a prefix. Without "/length", null too (neutron-lib wants the length written).
 */
export function parseCidr(s: unknown): { cidr: Cidr; hostBits: boolean } | null {
  if (typeof s !== "string") return null;
  const slash = s.indexOf("/");
  if (slash < 0) return null;
  const ip = parseIp(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(len)) return null;
  const prefix = Number(len);
  if (prefix > bits(ip.version)) return null;
  const network = ip.value & mask(ip.version, prefix);
  return { cidr: { version: ip.version, network, prefix }, hostBits: network !== ip.value };
}

/** "network/length" in canonical form. */
export const formatCidr = (c: Cidr): string =>
  `${formatIp({ version: c.version, value: c.network })}/${c.prefix}`;

/** The first and last addresses of a prefix. */
export function cidrRange(c: Cidr): { first: bigint; last: bigint } {
  const size = 1n << BigInt(bits(c.version) - c.prefix);
  return { first: c.network, last: c.network + size - 1n };
}

/** Whether a prefix holds an address (of the same version). */
export function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.version !== ip.version) return false;
  const { first, last } = cidrRange(c);
  return ip.value >= first && ip.value <= last;
}

/** Whether two prefixes share an address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.version !== b.version) return false;
  const x = cidrRange(a);
  const y = cidrRange(b);
  return x.first <= y.last && y.first <= x.last;
}

/** Whether prefix `inner` lies entirely inside prefix `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  if (inner.version !== outer.version || inner.prefix < outer.prefix) return false;
  return (inner.network & mask(outer.version, outer.prefix)) === outer.network;
}

/** A prefix from its canonical text (stored values); throws when the text is not one. */
export function cidrOf(text: string): Cidr {
  const p = parseCidr(text);
  if (!p) throw new Error(`not a prefix: ${text}`);
  return p.cidr;
}

/** An address from its canonical text (stored values); throws when the text is not one. */
export function ipOf(text: string): Ip {
  const ip = parseIp(text);
  if (!ip) throw new Error(`not an address: ${text}`);
  return ip;
}
