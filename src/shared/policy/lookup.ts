// Reading values out of credentials and targets, and comparing them the way policy checks do.

/** Reads a value from a plain object: `obj[key]` first, then the dotted path `key` through nested objects. */
export type Getter = (obj: Record<string, unknown>) => unknown;

const hasOwn = Object.prototype.hasOwnProperty;

/** Builds a fast getter for `key`; only own properties are read, so `%(constructor)s` finds nothing. */
export function makeGetter(key: string): Getter {
  if (!key.includes(".")) return (obj) => (hasOwn.call(obj, key) ? obj[key] : undefined);
  const path = key.split(".");
  return (obj) => {
    if (hasOwn.call(obj, key)) return obj[key];
    let cur: unknown = obj;
    for (const part of path) {
      if (cur === null || typeof cur !== "object" || !hasOwn.call(cur, part)) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  };
}

/** The string form a value is compared by: booleans as `True`/`False`; undefined when not a scalar. */
export function asText(v: unknown): string | undefined {
  switch (typeof v) {
    case "string":
      return v;
    case "number":
    case "bigint":
      return String(v);
    case "boolean":
      return v ? "True" : "False";
    default:
      return undefined;
  }
}

/** Whether a credential value (or any element of a list value) equals `want` as a string. */
export function textMatches(v: unknown, want: string): boolean {
  if (Array.isArray(v)) return v.some((x) => asText(x) === want);
  // oslo.policy compares str(creds[key]): an unset (null) credential reads "None" (as in "not domain_id:None").
  if (v === null) return want === "None";
  return asText(v) === want;
}

/** Whether a credential value (or any element of a list value) is the boolean `want` (or its spelling). */
export function boolMatches(v: unknown, want: boolean): boolean {
  if (Array.isArray(v)) return v.some((x) => boolMatches(x, want));
  if (typeof v === "string") return v.toLowerCase() === (want ? "true" : "false");
  return v === want;
}
