// The Accept header as Swift's swob reads it (Accept.best_match): each comma-separated media range must be
// type/subtype with ;name=value parameters, else the whole header is malformed; ranges are tried by quality, exact
// ones before globs at equal quality, each against the offered types in order, case-sensitively.

/** A token of RFC 2616 (section 2.2). */
const TOKEN = '[^()<>@,;:"/\\[\\]?={}\\x00-\\x20\\x7f]+';
const QUOTED = '"(?:[^"]|\\\\.)*"';
const PARAM = `(?:\\s*;\\s*(?:${TOKEN})\\s*=\\s*(?:${TOKEN}|${QUOTED}))`;
const RANGE = new RegExp(`^\\s*(${TOKEN})/(${TOKEN})(${PARAM}*?\\s*)$`);
/** What Python's float() reads (the q value): decimal or exponent forms with digit separators, inf, nan. */
const FLOAT =
  /^[+-]?(?:(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:e[+-]?\d(?:_?\d)*)?|inf(?:inity)?|nan)$/i;

/** One media range: a pattern for the types it covers, its quality, and whether it names a type exactly. */
interface Range {
  pattern: RegExp;
  q: number;
  exact: boolean;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** The header's media ranges, best first; null when it is malformed. */
function ranges(header: string): Range[] | null {
  const out: Range[] = [];
  for (const part of header.split(",")) {
    const m = RANGE.exec(part);
    if (!m) return null;
    const [, type, subtype, params] = m;
    let q = 1;
    let seenQ = false;
    for (const p of params.split(";").map((x) => x.trim())) {
      if (!p) continue;
      const kv = p.split("=");
      if (kv.length !== 2) return null;
      if (kv[0].trim() !== "q") continue;
      const v = kv[1].trim();
      if (seenQ || !FLOAT.test(v)) return null;
      seenQ = true;
      const lower = v.toLowerCase().replace(/_/g, "");
      q = /inf/.test(lower) ? (lower.startsWith("-") ? -Infinity : Infinity) : Number(lower);
    }
    const part1 = type === "*" ? TOKEN : escape(type);
    const part2 = subtype === "*" ? TOKEN : escape(subtype);
    out.push({ pattern: new RegExp(`^${part1}/${part2}$`), q, exact: type !== "*" && subtype !== "*" });
  }
  // Stable: equal ranges keep the header's order.
  return out.sort((a, b) => b.q - a.q || Number(b.exact) - Number(a.exact));
}

/**
 * The offered type that best matches an Accept header: the first offered when the header is absent or empty,
 * "invalid" when it is malformed, null when it accepts none of them.
 */
export function acceptMatch<T extends string>(
  header: string | undefined,
  offered: readonly T[],
): T | null | "invalid" {
  if (!header) return offered[0] ?? null;
  const rs = ranges(header);
  if (!rs) return "invalid";
  for (const r of rs) for (const o of offered) if (r.pattern.test(o)) return o;
  return null;
}

/** acceptMatch, with a malformed header matching nothing (as Swift's bulk treats it). */
export function bestMatch<T extends string>(header: string | undefined, offered: readonly T[]): T | null {
  const m = acceptMatch(header, offered);
  return m === "invalid" ? null : m;
}
