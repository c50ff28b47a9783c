// MAC addresses: generated from the base MAC's first three octets (Neutron's base_mac), validated and normalized
// as neutron-lib does, and the EUI-64 interface id SLAAC addresses are made of.
import { randomBytes } from "node:crypto";

const MAC =
  /^([0-9a-fA-F]{1,2})([:-])([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})\2([0-9a-fA-F]{1,2})$/;
const INVALID = new Set(["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"]);

/** A MAC in canonical form (lower case, colons, two digits per octet), or null when it is not a usable MAC. */
export function normalizeMac(s: unknown): string | null {
  if (typeof s !== "string") return null;
  const m = MAC.exec(s);
  if (!m) return null;
  const mac = [m[1], m[3], m[4], m[5], m[6], m[7]].map((o) => o.toLowerCase().padStart(2, "0")).join(":");
  return INVALID.has(mac) ? null : mac;
}

/** A random MAC with the base's first three octets (the random source is injectable for tests). */
export function generateMac(base: string, random: (n: number) => Buffer = randomBytes): string {
  const prefix = base.toLowerCase().split(":").slice(0, 3);
  const tail = [...random(3)].map((b) => b.toString(16).padStart(2, "0"));
  return [...prefix, ...tail].join(":");
}

/** The EUI-64 interface identifier of a MAC (ff:fe in the middle, universal/local bit flipped). */
export function eui64(mac: string): bigint {
  const o = mac.split(":").map((x) => parseInt(x, 16));
  const bytes = [o[0] ^ 0x02, o[1], o[2], 0xff, 0xfe, o[3], o[4], o[5]];
  return bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n);
}
