import { Type, type TSchema } from "@sinclair/typebox";
import { badRequest } from "../../shared/http/errors.js";
import type { RequestCtx } from "../../shared/http/route.js";

/** Keystone's {"links": {"self": ...}} for one entity. */
export const selfLink = (ctx: RequestCtx<any, any, any>, path: string): { self: string } => ({
  self: `${ctx.serviceUrl}/v3/${path}`,
});

/** Keystone's collection links (no paging: Keystone truncates with list_limit instead). */
export const collectionLinks = (
  ctx: RequestCtx<any, any, any>,
): { self: string; previous: null; next: null } => ({
  self: `${ctx.serviceUrl}${ctx.url.split("?")[0]}`,
  previous: null,
  next: null,
});

/** Parse a boolean query parameter Keystone-style ("true"/"false"/"1"/"0"/""), undefined when absent. */
export function queryBool(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  const s = String(v).toLowerCase();
  if (s === "" || s === "true" || s === "1" || s === "yes") return true;
  if (s === "false" || s === "0" || s === "no") return false;
  throw badRequest(`Invalid input for query parameter '${name}': expected a boolean.`);
}

/** A JSON object schema that, like Keystone's, allows extra attributes. */
export const OpenObject = <T extends Record<string, TSchema>>(props: T) =>
  Type.Object(props, { additionalProperties: true });

/** A body wrapper {key: schema}, closed at the top level. */
export const Wrap = <T extends TSchema>(key: string, inner: T) =>
  Type.Object({ [key]: inner }, { additionalProperties: false, required: [key] });

/** Nullable string. */
export const NStr = (opts: object = {}) => Type.Union([Type.String(opts), Type.Null()]);

/** Keystone name: 1..255 chars, not only whitespace. */
export const Name = Type.String({ minLength: 1, maxLength: 255, pattern: "\\S" });

/** Keystone project/domain name: 1..64 chars, not only whitespace. */
export const Name64 = Type.String({ minLength: 1, maxLength: 64, pattern: "\\S" });

/** Extra attributes a request carried beyond the known fields. */
export function extras(obj: Record<string, unknown>, known: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !known.includes(k)));
}
