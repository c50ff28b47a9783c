// Access IP addresses: validated as Nova's schema does (ipv4/ipv6 formats) and shown in canonical form.
import { isIPv4, isIPv6 } from "node:net";
import { invalid } from "../common.js";

/** The 8 hextets of an IPv6 address (with an embedded IPv4 tail converted). */
function hextets(addr: string): number[] {
  let a = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const [p, q, r, s] = v4[1].split(".").map(Number);
    a = a.slice(0, -v4[1].length) + `${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const [head, tail] = a.includes("::") ? a.split("::") : [a, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((x) => parseInt(x, 16));
}

/** RFC 5952 text of an IPv6 address (lower case, longest run of zero hextets as "::"), as Python prints it. */
export function canonicalIPv6(addr: string): string {
  const parts = hextets(addr);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (parts[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = parts.map((p) => p.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** accessIPv4: a dotted quad, or 400. */
export function accessIPv4(field: string, v: unknown): string {
  if (typeof v !== "string" || !isIPv4(v)) throw invalid(field, v, `${JSON.stringify(v)} is not a 'ipv4'`);
  return v;
}

/** accessIPv6: an IPv6 address (stored canonical), or 400. */
export function accessIPv6(field: string, v: unknown): string {
  if (typeof v !== "string" || !isIPv6(v)) throw invalid(field, v, `${JSON.stringify(v)} is not a 'ipv6'`);
  return canonicalIPv6(v);
}
