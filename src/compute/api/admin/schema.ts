// Body checks worded as Nova's jsonschema validation words them ("Invalid input for field/attribute ...").
import { badRequest } from "../../errors.js";
import { BOOL_ENUM, boolValue, pyRepr, pyStr } from "./util.js";

/** jsonschema's additionalProperties message for these unexpected keys. */
export const unexpected = (extra: string[]): string =>
  `Additional properties are not allowed (${extra.map(pyRepr).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`;

/** 400 for a bad value at a field (the last element of its path). */
export const fieldError = (path: string | number, v: unknown, why: string) =>
  badRequest(`Invalid input for field/attribute ${path}. Value: ${pyStr(v)}. ${why}`);

/** Refuse keys outside `allowed` (at the top level when `path` is undefined). */
export function onlyKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path?: string | number,
): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (!extra.length) return;
  throw path === undefined ? badRequest(unexpected(extra)) : fieldError(path, obj, unexpected(extra));
}

/** `'x' is a required property`, at the top level or for the object at `path`. */
export function required(
  obj: Record<string, unknown>,
  keys: readonly string[],
  path?: string | number,
): void {
  for (const k of keys)
    if (obj[k] === undefined) {
      const why = `'${k}' is a required property`;
      throw path === undefined ? badRequest(why) : fieldError(path, obj, why);
    }
}

/** An optional string of 1..255 characters, optionally matching a pattern. */
export function stringField(
  obj: Record<string, unknown>,
  name: string,
  pattern?: RegExp,
): string | undefined {
  const v = obj[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw fieldError(name, v, `${pyRepr(v)} is not of type 'string'`);
  if (pattern && !pattern.test(v))
    throw fieldError(name, v, `${pyRepr(v)} does not match ${pyRepr(pattern.source)}`);
  if (v.length < 1) throw fieldError(name, v, `${pyRepr(v)} is too short`);
  if (v.length > 255) throw fieldError(name, v, `${pyRepr(v)} is too long`);
  return v;
}

/** An optional boolean (Nova's parameter_types.boolean: booleans or their usual strings). */
export function boolField(obj: Record<string, unknown>, name: string): boolean | undefined {
  const v = obj[name];
  if (v === undefined) return undefined;
  if (!BOOL_ENUM.includes(v)) throw fieldError(name, v, `${pyRepr(v)} is not one of ${pyRepr(BOOL_ENUM)}`);
  return boolValue(v);
}

/** An object member, or 400 when it is something else. */
export function objectField(path: string | number, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw fieldError(path, v, `${pyRepr(v)} is not of type 'object'`);
  return v as Record<string, unknown>;
}

/** Nova's FQDN pattern for host names in bodies and queries. */
export const FQDN = /^[a-zA-Z0-9-._]*$/;
