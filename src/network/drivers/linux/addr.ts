// IP address and CIDR checks: every address that reaches a command line or a config file passes through here first,
// so it is a well-formed address (node:net's parser) and nothing else.
import { isIP } from "node:net";
import { InvalidSpec } from "./errors.js";

/** A parsed CIDR. */
export interface Cidr {
  address: string;
  prefix: number;
  version: 4 | 6;
}

/** 4 or 6 for an address; InvalidSpec otherwise. */
export function ipVersion(address: string, what = "address"): 4 | 6 {
  const v = isIP(address);
  if (v === 4 || v === 6) return v;
  throw new InvalidSpec(`${what} ${JSON.stringify(address)} is not an IP address`);
}

/** Parse `addr/prefix` (or a bare address, as a host prefix); InvalidSpec when malformed. */
export function parseCidr(cidr: string, what = "CIDR"): Cidr {
  const slash = cidr.indexOf("/");
  const address = slash < 0 ? cidr : cidr.slice(0, slash);
  const version = ipVersion(address, what);
  const max = version === 4 ? 32 : 128;
  const p = slash < 0 ? String(max) : cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max)
    throw new InvalidSpec(`${what} ${JSON.stringify(cidr)} is malformed`);
  return { address, prefix: Number(p), version };
}

/** The CIDR as `addr/prefix` text (validated). */
export function cidrText(cidr: string, what = "CIDR"): string {
  const c = parseCidr(cidr, what);
  return `${c.address}/${c.prefix}`;
}

/** Dotted IPv4 netmask of a prefix length. */
export function netmask4(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join(".");
}

/** A MAC address in lower case (unicast, colon-separated); InvalidSpec otherwise. */
export function macText(mac: string, what = "MAC address"): string {
  const m = mac.toLowerCase();
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m))
    throw new InvalidSpec(`${what} ${JSON.stringify(mac)} is malformed`);
  if (parseInt(m.slice(0, 2), 16) & 1) throw new InvalidSpec(`${what} ${m} is a multicast address`);
  return m;
}
