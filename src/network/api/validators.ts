// neutron-lib's attribute validators and converters: each takes the client's value and the attribute's name,
// returns the converted value, or throws Neutron's 400 "Invalid input for ATTR. Reason: ...".
import { invalidAttr } from "../errors.js";
import { canonicalIp, formatCidr, parseCidr } from "../ipam/addr.js";
import { normalizeMac } from "../ipam/mac.js";

/** A validator: the converted value or a thrown 400. */
export type Validator<T> = (v: unknown, attr: string) => T;

const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

/** A string of at most `max` characters (neutron-lib validate_string). */
export const str =
  (max = 255): Validator<string> =>
  (v, attr) => {
    if (typeof v !== "string") throw invalidAttr(attr, `'${show(v)}' is not a valid string`);
    if (v.length > max) throw invalidAttr(attr, `'${v}' exceeds maximum length of ${max}`);
    return v;
  };

/** A string or null. */
export const strOrNull =
  (max = 255): Validator<string | null> =>
  (v, attr) =>
    v === null ? null : str(max)(v, attr);

/** convert_to_boolean: true/false, "true"/"false" in any case, 0/1, "0"/"1". */
export const bool: Validator<boolean> = (v, attr) => {
  if (typeof v === "boolean") return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === "string") {
    const l = v.toLowerCase();
    if (l === "true" || l === "1") return true;
    if (l === "false" || l === "0") return false;
  }
  throw invalidAttr(attr, `'${show(v)}' cannot be converted to boolean`);
};

/** convert_to_int with an inclusive range. */
export const int =
  (min: number, max: number): Validator<number> =>
  (v, attr) => {
    const n = typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n))
      throw invalidAttr(attr, `'${show(v)}' is not an integer`);
    if (n < min) throw invalidAttr(attr, `'${n}' is too small - must be at least '${min}'`);
    if (n > max) throw invalidAttr(attr, `'${n}' is too large - must be no larger than '${max}'`);
    return n;
  };

/** An integer or null. */
export const intOrNull =
  (min: number, max: number): Validator<number | null> =>
  (v, attr) =>
    v === null ? null : int(min, max)(v, attr);

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/** A UUID (validate_uuid). */
export const uuid: Validator<string> = (v, attr) => {
  if (typeof v !== "string" || !UUID.test(v)) throw invalidAttr(attr, `'${show(v)}' is not a valid UUID`);
  return v;
};

/** Whether a value looks like a UUID (for lookups by name-or-id). */
export const isUuid = (v: unknown): v is string => typeof v === "string" && UUID.test(v);

/** An IP address in canonical form (validate_ip_address: no leading zeros, four octets). */
export const ip: Validator<string> = (v, attr) => {
  const c = canonicalIp(v);
  if (c === null) throw invalidAttr(attr, `'${show(v)}' is not a valid IP address`);
  return c;
};

/** An IP address or null. */
export const ipOrNull: Validator<string | null> = (v, attr) => (v === null ? null : ip(v, attr));

/** A prefix in canonical form (validate_subnet); host bits are cleared. */
export const cidr: Validator<string> = (v, attr) => {
  const p = parseCidr(v);
  if (!p) {
    const asIp = canonicalIp(v);
    if (asIp !== null)
      throw invalidAttr(
        attr,
        `'${show(v)}' isn't a recognized IP subnet cidr, '${asIp}/${asIp.includes(":") ? 128 : 32}' is recommended`,
      );
    throw invalidAttr(attr, `'${show(v)}' is not a valid IP subnet`);
  }
  return formatCidr(p.cidr);
};

/** An address or a prefix (allowed address pairs, host route destinations take a prefix). */
export const ipOrCidr: Validator<string> = (v, attr) => {
  if (typeof v === "string" && v.includes("/")) return cidr(v, attr);
  return ip(v, attr);
};

/** A MAC in canonical form (validate_mac_address). */
export const mac: Validator<string> = (v, attr) => {
  const m = normalizeMac(v);
  if (m === null) throw invalidAttr(attr, `'${show(v)}' is not a valid MAC address`);
  return m;
};

/** One of a set of values. */
export const oneOf =
  <T extends string>(values: readonly T[]): Validator<T> =>
  (v, attr) => {
    if (typeof v !== "string" || !(values as readonly string[]).includes(v))
      throw invalidAttr(attr, `'${show(v)}' is not in ${JSON.stringify(values)}`);
    return v as T;
  };

/** One of a set of values, or null. */
export const oneOfOrNull =
  <T extends string>(values: readonly T[]): Validator<T | null> =>
  (v, attr) =>
    v === null ? null : oneOf(values)(v, attr);

/** A list whose items pass a validator; duplicates refused unless allowed. */
export const listOf =
  <T>(item: Validator<T>, opts: { unique?: boolean } = {}): Validator<T[]> =>
  (v, attr) => {
    if (!Array.isArray(v)) throw invalidAttr(attr, `'${show(v)}' is not a list`);
    const out = v.map((x) => item(x, attr));
    if (opts.unique) {
      const seen = new Set<string>();
      for (const x of out) {
        const k = JSON.stringify(x);
        if (seen.has(k)) throw invalidAttr(attr, `Duplicate items in the list: '${show(x)}'`);
        seen.add(k);
      }
    }
    return out;
  };

/** A list as listOf, with null taken as the empty list (Neutron's convert_none_to_empty_list). */
export const listOrNone =
  <T>(item: Validator<T>, opts: { unique?: boolean } = {}): Validator<T[]> =>
  (v, attr) =>
    v === null ? [] : listOf(item, opts)(v, attr);

/** An object (a JSON dictionary), for free-form attributes such as binding:profile. */
export const dict: Validator<Record<string, unknown>> = (v, attr) => {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidAttr(attr, `'${show(v)}' is not a dictionary`);
  return v as Record<string, unknown>;
};

/** An object with exactly the listed keys allowed (some required): its values as given. */
export function record(
  v: unknown,
  attr: string,
  allowed: readonly string[],
  required: readonly string[] = [],
): Map<string, unknown> {
  const d = dict(v, attr);
  const out = new Map<string, unknown>();
  for (const k of Object.keys(d)) {
    if (!allowed.includes(k)) throw invalidAttr(attr, `Unrecognized attribute(s) '${k}'`);
    out.set(k, d[k]);
  }
  for (const k of required) if (!out.has(k)) throw invalidAttr(attr, `Missing required attribute '${k}'`);
  return out;
}
