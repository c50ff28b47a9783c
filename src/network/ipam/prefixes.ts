// Carving subnets out of a subnet pool's prefixes: the first free block of a prefix length (aligned, not
// overlapping any subnet already taken from the pool), or a check that a requested block is free.
import { bits, cidrRange, cidrWithin, cidrsOverlap, formatCidr, type Cidr } from "./addr.js";

/** The first free block of `prefixlen` in the pool's prefixes, or null. */
export function firstFreeBlock(prefixes: Cidr[], used: Cidr[], prefixlen: number): Cidr | null {
  for (const p of prefixes) {
    if (prefixlen < p.prefix) continue;
    const size = 1n << BigInt(bits(p.version) - prefixlen);
    const { first, last } = cidrRange(p);
    const inside = used
      .filter((u) => u.version === p.version && cidrsOverlap(u, p))
      .map((u) => cidrRange(u))
      .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    const alignUp = (v: bigint): bigint => ((v + size - 1n) / size) * size;
    let cursor = first;
    for (const u of inside) {
      if (cursor + size - 1n < u.first) break;
      if (u.last >= cursor) cursor = alignUp(u.last + 1n);
    }
    if (cursor + size - 1n <= last) return { version: p.version, network: cursor, prefix: prefixlen };
  }
  return null;
}

/** Whether a requested block lies in one of the prefixes and overlaps no used block. */
export function blockFree(prefixes: Cidr[], used: Cidr[], block: Cidr): boolean {
  return prefixes.some((p) => cidrWithin(block, p)) && !used.some((u) => cidrsOverlap(u, block));
}

/** Collapse prefixes (sorted, without those inside another), as Neutron keeps a pool's prefix list. */
export function collapse(prefixes: Cidr[]): string[] {
  const sorted = [...prefixes].sort((a, b) => a.prefix - b.prefix);
  const kept: Cidr[] = [];
  for (const p of sorted) if (!kept.some((k) => cidrWithin(p, k))) kept.push(p);
  return kept
    .sort((a, b) => (a.network < b.network ? -1 : a.network > b.network ? 1 : a.prefix - b.prefix))
    .map(formatCidr);
}
