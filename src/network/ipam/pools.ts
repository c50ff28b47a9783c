// Allocation pools of a subnet: the defaults Neutron generates around the gateway, and the checks it makes on
// pools a client gives (inside the prefix, no overlap, the gateway outside them).
import { conflict, nerr } from "../errors.js";
import { cidrRange, formatCidr, formatIp, parseIp, type Cidr, type Ip } from "./addr.js";

/** An inclusive range of addresses of one version. */
export interface Range {
  version: 4 | 6;
  first: bigint;
  last: bigint;
}

/** A pool as the API shows it. */
export interface PoolText {
  start: string;
  end: string;
}

/** "start-end", as Neutron names a range in its messages. */
export const rangeText = (r: Range): string =>
  `${formatIp({ version: r.version, value: r.first })}-${formatIp({ version: r.version, value: r.last })}`;

/** A range as the API shows it. */
export const poolText = (r: Range): PoolText => ({
  start: formatIp({ version: r.version, value: r.first }),
  end: formatIp({ version: r.version, value: r.last }),
});

/** Addresses in the ranges. */
export const rangesSize = (rs: Range[]): bigint => rs.reduce((n, r) => n + (r.last - r.first + 1n), 0n);

/** The range minus one address (zero, one or two ranges). */
function without(r: Range, v: bigint): Range[] {
  if (v < r.first || v > r.last) return [r];
  const out: Range[] = [];
  if (v > r.first) out.push({ version: r.version, first: r.first, last: v - 1n });
  if (v < r.last) out.push({ version: r.version, first: v + 1n, last: r.last });
  return out;
}

/**
 * Neutron's default pools: every host address (not the network address; not the broadcast on IPv4) but the
 * gateway. A single-address prefix is its own pool; an IPv4 /31 has none.
 */
export function defaultPools(cidr: Cidr, gateway: Ip | null): Range[] {
  const { first, last } = cidrRange(cidr);
  if (first === last) return [{ version: cidr.version, first, last }];
  const lo = first + 1n;
  const hi = cidr.version === 4 ? last - 1n : last;
  if (lo >= hi) return [];
  const whole: Range = { version: cidr.version, first: lo, last: hi };
  return gateway ? without(whole, gateway.value) : [whole];
}

/** The addresses a client's pool may span: as the defaults, before the gateway is taken out. */
function usable(cidr: Cidr): Range {
  const { first, last } = cidrRange(cidr);
  if (first === last) return { version: cidr.version, first, last };
  return { version: cidr.version, first: first + 1n, last: cidr.version === 4 ? last - 1n : last };
}

/** Parse and check a client's pools against the prefix; 400 with Neutron's error types. */
export function checkPools(raw: PoolText[], cidr: Cidr): Range[] {
  const pools: Range[] = [];
  const bounds = usable(cidr);
  for (const p of raw) {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    const text = `${p.start}-${p.end}`;
    if (!s || !e || s.version !== cidr.version || e.version !== cidr.version || s.value > e.value)
      throw nerr(400, "InvalidAllocationPool", `The allocation pool ${text} is not valid.`);
    if (s.value < bounds.first || e.value > bounds.last)
      throw nerr(
        400,
        "OutOfBoundsAllocationPool",
        `The allocation pool ${text} spans beyond the subnet cidr ${formatCidr(cidr)}.`,
      );
    pools.push({ version: cidr.version, first: s.value, last: e.value });
  }
  const sorted = [...pools].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  for (let i = 1; i < sorted.length; i++)
    if (sorted[i].first <= sorted[i - 1].last)
      throw nerr(
        400,
        "OverlappingAllocationPools",
        `Found overlapping allocation pools: ${rangeText(sorted[i - 1])} ${rangeText(sorted[i])} for subnet ${formatCidr(cidr)}.`,
      );
  return pools;
}

/** 409 when the gateway lies in one of the pools. */
export function checkGatewayOutsidePools(gateway: Ip | null, pools: Range[]): void {
  if (!gateway) return;
  const hit = pools.find((r) => gateway.value >= r.first && gateway.value <= r.last);
  if (hit)
    throw conflict(
      "GatewayConflictWithAllocationPools",
      `Gateway ip ${formatIp(gateway)} conflicts with allocation pool ${rangeText(hit)}`,
    );
}

/** Ranges from their stored form. */
export function rangesOf(version: 4 | 6, stored: PoolText[]): Range[] {
  return stored.map((p) => ({
    version,
    first: (parseIp(p.start) as Ip).value,
    last: (parseIp(p.end) as Ip).value,
  }));
}
