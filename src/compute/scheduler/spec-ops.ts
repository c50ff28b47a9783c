// The small comparison language of flavor extra specs matched against host values ("capabilities:*",
// "aggregate_instance_extra_specs:*"): an optional operator, then its operand.
//   "= N"     host value is at least N (numeric)       "== N", "!= N", ">= N", "<= N"   numeric comparisons
//   "s== X"   string equal ("s!=", "s<", "s<=", "s>", "s>=" likewise)
//   "<in> X"  host value contains X (substring, or member of a list)
//   "<all-in> A B"  every word is in the host's list     "<or> A <or> B"  equal to any alternative
//   "X"       no operator: plain string equality

/** A host value the specs can be matched against. */
export type SpecValue = string | number | boolean | string[];

const NUMERIC = new Map<string, (a: number, b: number) => boolean>([
  ["=", (a, b) => a >= b],
  ["==", (a, b) => a === b],
  ["!=", (a, b) => a !== b],
  [">=", (a, b) => a >= b],
  ["<=", (a, b) => a <= b],
]);

const STRING = new Map<string, (a: string, b: string) => boolean>([
  ["s==", (a, b) => a === b],
  ["s!=", (a, b) => a !== b],
  ["s<", (a, b) => a < b],
  ["s<=", (a, b) => a <= b],
  ["s>", (a, b) => a > b],
  ["s>=", (a, b) => a >= b],
]);

function numberOf(v: string): number | null {
  const n = Number(v);
  return v.trim() !== "" && Number.isFinite(n) ? n : null;
}

/** Whether one scalar host value satisfies `spec`. */
function matchScalar(actual: string, op: string, operand: string): boolean {
  const numeric = NUMERIC.get(op);
  if (numeric) {
    const a = numberOf(actual);
    const b = numberOf(operand);
    return a !== null && b !== null && numeric(a, b);
  }
  const string = STRING.get(op);
  if (string) return string(actual, operand);
  if (op === "<in>") return actual.includes(operand);
  return actual === operand;
}

/** Whether `actual` satisfies the extra-spec `spec` (undefined actual never matches). */
export function matchesSpec(actual: SpecValue | undefined, spec: string): boolean {
  if (actual === undefined) return false;
  const words = spec.trim().split(/\s+/);
  const op = words[0] ?? "";
  const operand = words.slice(1).join(" ");
  const list = Array.isArray(actual) ? actual : null;
  const value = list ? "" : String(actual);
  if (op === "<or>") {
    const alternatives = spec
      .split("<or>")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    return alternatives.some((alt) => (list ? list.includes(alt) : value === alt));
  }
  if (op === "<all-in>") {
    const wanted = words.slice(1);
    return wanted.length > 0 && wanted.every((w) => (list ? list.includes(w) : value.includes(w)));
  }
  if (op === "<in>") return list ? list.includes(operand) : value.includes(operand);
  if (NUMERIC.has(op) || STRING.has(op)) {
    return list ? list.some((v) => matchScalar(v, op, operand)) : matchScalar(value, op, operand);
  }
  return list ? list.includes(spec.trim()) : value === spec.trim();
}
