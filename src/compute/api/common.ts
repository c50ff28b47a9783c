import type { RequestCtx } from "../../shared/http/route.js";
import { badRequest } from "../errors.js";

export type Ctx = RequestCtx<any, Record<string, string | undefined>, Record<string, string>>;

/** Whether the caller is a cloud admin (Nova's context.is_admin; rule cloud_admin, not an admin of any project). */
export const isAdmin = (ctx: Ctx): boolean => ctx.allowed("cloud_admin", {});

/** A JSON object body or 400. */
export function objectBody(ctx: Ctx): Record<string, unknown> {
  const b = ctx.body;
  if (b === null || typeof b !== "object" || Array.isArray(b))
    throw badRequest("The request body is malformed or not a JSON object.");
  return b as Record<string, unknown>;
}

/** Nova's jsonschema-style message for one bad field. */
export const invalid = (field: string, value: unknown, why: string) =>
  badRequest(`Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${why}`);

/** A non-negative integer query parameter (limit), or 400. */
export function intParam(name: string, raw: string | undefined, min = 0): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw badRequest(
      `Invalid input for query parameters ${name}. Value: ${raw}. '${raw}' is not a valid integer.`,
    );
  return Number(raw);
}

/** Nova's default page size cap (osapi_max_limit). */
export const MAX_LIMIT = 1000;

/** A page of a list by the `limit` and `offset` query parameters (Nova's common.limited). */
export function limited<T>(ctx: Ctx, items: T[]): T[] {
  const limit = Math.min(intParam("limit", ctx.query.limit, 0) ?? MAX_LIMIT, MAX_LIMIT);
  const offset = intParam("offset", ctx.query.offset, 0) ?? 0;
  return items.slice(offset, offset + limit);
}

/** The page URL for a next link: the same path with limit and marker replaced. */
export function nextLink(ctx: Ctx, marker: string, limit: number): Array<{ href: string; rel: string }> {
  const [path, qs] = ctx.url.split("?", 2);
  const q = new URLSearchParams(qs ?? "");
  q.set("limit", String(limit));
  q.set("marker", marker);
  const p = path.startsWith("/v2.1") ? path : `/v2.1${path}`;
  return [{ href: `${ctx.serviceUrl}${p}?${q.toString()}`, rel: "next" }];
}

/** Whether a string holds a control character (C0 or DEL). */
export const hasControl = (s: string): boolean =>
  [...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
