// User metadata headers (X-Account-Meta-*, X-Container-Meta-*, X-Object-Meta-*) and their removal headers
// (X-Remove-<type>-Meta-*), within Swift's limits. Stored keys are the lower-cased header names.
import type { ObjectLimits } from "../limits.js";
import { swiftText } from "../errors.js";
import type { Ctx } from "./request.js";

/** Which resource a metadata header belongs to. */
export type MetaType = "account" | "container" | "object";

/**
 * A metadata string's size in bytes, as Swift counts it: header values arrive as one character per byte (latin1),
 * so UTF-8 sent by a client is already bytes; a string with wider characters (set by a layer above) counts as UTF-8.
 */
const bytes = (s: string): number => (/[\u0100-\uffff]/.test(s) ? Buffer.byteLength(s, "utf8") : s.length);

/** The value a removal header (X-Remove-<type>-Meta-*) maps to; an empty value removes too, but on objects. */
export const REMOVE = "\u0000";

/**
 * The metadata changes a request asks for: header → new value (REMOVE, or "" but on objects, removes it).
 * Underscores in names read as hyphens, as Swift's WSGI layer has them. Without `removals`, removal headers are left
 * out (the metadata headers alone).
 */
export function metaChanges(ctx: Ctx, type: MetaType, removals = true): Map<string, string> {
  const prefix = `x-${type}-meta-`;
  const remove = `x-remove-${type}-meta-`;
  const out = new Map<string, string>();
  for (const [raw_name, raw] of Object.entries(ctx.headers)) {
    const name = raw_name.replace(/_/g, "-");
    const value = (Array.isArray(raw) ? raw.join(",") : (raw ?? "")).trim();
    if (name.startsWith(prefix)) out.set(name, value);
    else if (removals && name.startsWith(remove)) out.set(prefix + name.slice(remove.length), REMOVE);
  }
  return out;
}

/** Swift's check_metadata over the request's metadata headers: 400 with Swift's words when over a limit. */
export function checkMeta(changes: Map<string, string>, type: MetaType, limits: ObjectLimits): void {
  const prefix = `x-${type}-meta-`;
  let count = 0;
  let size = 0;
  for (const [key, raw] of changes) {
    const value = raw === REMOVE ? "" : raw;
    const name = key.slice(prefix.length);
    if (name === "") throw swiftText(400, "Metadata name cannot be empty");
    if (bytes(name) > limits.max_meta_name_length)
      throw swiftText(400, `Metadata name too long: ${prefix}${name}; max ${limits.max_meta_name_length}`);
    if (bytes(value) > limits.max_meta_value_length)
      throw swiftText(400, `Metadata value longer than ${limits.max_meta_value_length}: ${prefix}${name}`);
    count++;
    size += bytes(name) + bytes(value);
  }
  if (count > limits.max_meta_count)
    throw swiftText(400, `Too many metadata items; max ${limits.max_meta_count}`);
  if (size > limits.max_meta_overall_size)
    throw swiftText(400, `Total metadata too large; max ${limits.max_meta_overall_size}`);
}

/** Apply changes to stored metadata ("" removes), then check the result's totals as well. */
export function applyMeta(
  current: Map<string, string>,
  changes: Map<string, string>,
  type: MetaType,
  limits: ObjectLimits,
): Map<string, string> {
  const next = new Map(current);
  for (const [k, v] of changes) {
    if (v === REMOVE || (v === "" && type !== "object")) next.delete(k);
    else next.set(k, v);
  }
  const prefix = `x-${type}-meta-`;
  checkMeta(new Map([...next].filter(([k]) => k.startsWith(prefix))), type, limits);
  return next;
}

/** Stored metadata as response headers (system metadata, X-<type>-Sysmeta-*, is never shown). */
export function metaHeaders(meta: Map<string, string>): Record<string, string> {
  return Object.fromEntries([...meta].filter(([k]) => !/^x-(account|container|object)-sysmeta-/.test(k)));
}
