// What every volume route shares: the caller, body and query checks in Cinder's words, time format, links,
// sorting and limit/marker pagination.
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { Caller } from "../core.js";
import { badRequest, invalidInput, notFound } from "../errors.js";

/** A volume route's request context. */
export type Ctx = RequestCtx<any, Record<string, string | undefined>, Record<string, string>>;

/** The caller: project, user, admin-ness and cloud-wide reads. */
export function callerOf(ctx: Ctx): Caller {
  const isAdmin = ctx.allowed("cloud_admin", {});
  return {
    projectId: ctx.auth?.projectId ?? null,
    userId: ctx.auth?.userId ?? "",
    isAdmin,
    readsAll: isAdmin || ctx.allowed("cloud_reader", {}),
  };
}

/** The project new resources belong to: the token's, else (system scope) the URL's. */
export const ownerOf = (ctx: Ctx): string => ctx.auth?.projectId ?? ctx.params.project_id ?? "";

/** The policy target for creating in the caller's project. */
export const ownTarget = (ctx: Ctx): Target => ({
  project_id: ownerOf(ctx),
  user_id: ctx.auth?.userId ?? "",
});

/** A list's two GET routes, plain and `/detail`, under one policy rule and the caller's own project. */
export function listRoutes(
  path: string,
  policy: string,
  list: (ctx: Ctx, detail: boolean) => unknown,
): Route[] {
  return [
    route({ method: "GET", path, policy, target: ownTarget, handler: (ctx) => list(ctx, false) }),
    route({
      method: "GET",
      path: `${path}/detail`,
      policy,
      target: ownTarget,
      handler: (ctx) => list(ctx, true),
    }),
  ];
}

/** A JSON object body or 400. */
export function objectBody(ctx: Ctx): Record<string, unknown> {
  const b: unknown = ctx.body;
  if (b === null || typeof b !== "object" || Array.isArray(b))
    throw badRequest("The request body is malformed or not a JSON object.");
  return b as Record<string, unknown>;
}

/** The object under `key` of the body (e.g. {"volume": {...}}) or 400. */
export function wrapped(ctx: Ctx, key: string): Record<string, unknown> {
  const b = objectBody(ctx);
  const v = Object.hasOwn(b, key) ? b[key] : undefined;
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw badRequest(`Missing required element '${key}' in request body.`);
  return v as Record<string, unknown>;
}

/** An own property of a body object. */
export const field = (o: Record<string, unknown>, k: string): unknown =>
  Object.hasOwn(o, k) ? o[k] : undefined;

/** An optional string (null allowed) of at most `max` characters, or 400. */
export function optString(o: Record<string, unknown>, k: string, max = 255): string | null | undefined {
  const v = field(o, k);
  if (v === undefined || v === null) return v as undefined | null;
  if (typeof v !== "string") throw invalidInput(`${k} must be a string.`);
  if (v.length > max) throw invalidInput(`${k} has more than ${max} characters.`);
  return v;
}

/** A boolean as Cinder takes it (true/false, or their strings), or 400. */
export function boolOf(k: string, v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && /^(true|false|t|f|yes|no|y|n|on|off|1|0)$/i.test(v))
    return /^(true|t|yes|y|on|1)$/i.test(v);
  throw invalidInput(`${k} must be a boolean.`);
}

/** A positive size in GiB (integer or integer string), or 400. */
export function sizeOf(v: unknown, k = "size"): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1)
    throw invalidInput(`${k} must be an integer and greater than 0.`);
  return n;
}

/** A metadata map (string keys of 1-255 characters, string values up to 255), or 400. */
export function metadataOf(v: unknown, k = "metadata"): Map<string, string> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidInput(`${k} must be a dictionary.`);
  const out = new Map<string, string>();
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 128) throw invalidInput(`${k} has more than 128 items.`);
  for (const [key, val] of entries) {
    if (key.length < 1 || key.length > 255) throw invalidInput(`${k} keys must be 1 to 255 characters.`);
    if (typeof val !== "string") throw invalidInput(`${k} values must be strings.`);
    if (val.length > 255) throw invalidInput(`${k} values must be at most 255 characters.`);
    out.set(key, val);
  }
  return out;
}

/** Cinder's timestamps: ISO 8601 with microseconds, no zone ("2022-08-31T12:00:00.000000"). */
export function isoTime(stored: string | null | undefined): string | null {
  if (!stored) return null;
  const ms = Date.parse(stored);
  if (Number.isNaN(ms)) return stored;
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000");
}

/** self and bookmark links of a resource. */
export function links(ctx: Ctx, project: string, collection: string, id: string) {
  return [
    { rel: "self", href: `${ctx.serviceUrl}/v3/${project}/${collection}/${id}` },
    { rel: "bookmark", href: `${ctx.serviceUrl}/${project}/${collection}/${id}` },
  ];
}

/** The largest page (osapi_max_limit). */
export const MAX_LIMIT = 1000;

/** A sort spec from `sort=k1:d1,k2` or sort_key/sort_dir, keys limited to `allowed`; default created_at desc. */
export function sortSpec(ctx: Ctx, allowed: readonly string[]): Array<[string, "asc" | "desc"]> {
  const q = ctx.query;
  const out: Array<[string, "asc" | "desc"]> = [];
  const dirOf = (d: string | undefined): "asc" | "desc" => {
    if (d === undefined || d === "") return "desc";
    if (d !== "asc" && d !== "desc") throw invalidInput(`Unknown sort direction, must be 'desc' or 'asc'.`);
    return d;
  };
  if (q.sort !== undefined) {
    if (q.sort_key !== undefined || q.sort_dir !== undefined)
      throw invalidInput(
        "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
      );
    for (const item of q.sort.split(",")) {
      const [k, d] = item.trim().split(":", 2);
      out.push([k, dirOf(d)]);
    }
  } else if (q.sort_key !== undefined) out.push([q.sort_key, dirOf(q.sort_dir)]);
  else out.push(["created_at", dirOf(q.sort_dir)]);
  // Cinder's column names are aliases of the API's: display_name sorts by name.
  for (const e of out) if (e[0] === "display_name") e[0] = "name";
  for (const [k] of out) if (!allowed.includes(k)) throw invalidInput(`Invalid sort key ${k}.`);
  return out;
}

/** Sort rows by a spec (then by id for a stable order). */
export function sortRows<T extends { id: string }>(
  rows: T[],
  spec: Array<[string, "asc" | "desc"]>,
  valueOf: (row: T, key: string) => unknown,
): T[] {
  const cmp = (a: unknown, b: unknown): number => {
    if (a === b) return 0;
    if (a === null || a === undefined) return -1;
    if (b === null || b === undefined) return 1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a) < String(b) ? -1 : 1;
  };
  return [...rows].sort((x, y) => {
    for (const [k, d] of spec) {
      const c = cmp(valueOf(x, k), valueOf(y, k));
      if (c !== 0) return d === "asc" ? c : -c;
    }
    return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  });
}

/** One page of sorted rows by limit and marker (404 for an unknown marker), with the next link's need. */
export function page<T extends { id: string }>(
  ctx: Ctx,
  rows: T[],
): { rows: T[]; more: boolean; limit: number } {
  const q = ctx.query;
  let limit = MAX_LIMIT;
  if (q.limit !== undefined) {
    if (!/^\d+$/.test(q.limit)) throw invalidInput("limit must be an integer 0 or greater.");
    limit = Math.min(Number(q.limit), MAX_LIMIT);
  }
  let start = 0;
  if (q.marker !== undefined) {
    const i = rows.findIndex((r) => r.id === q.marker);
    if (i < 0) throw notFound(`Marker ${q.marker} could not be found.`);
    start = i + 1;
  }
  if (q.offset !== undefined) {
    if (!/^\d{1,9}$/.test(q.offset)) throw invalidInput("offset must be an integer 0 or greater.");
    start += Number(q.offset);
  }
  const out = rows.slice(start, start + limit);
  // As Cinder: a full page has a next link, even when it holds the last item (the next page is then empty).
  return { rows: out, more: out.length > 0 && out.length >= limit, limit };
}

/** The next-page link of a collection (same query with limit and marker). */
export function nextLinks(ctx: Ctx, marker: string, limit: number) {
  const [path, qs] = ctx.url.split("?", 2);
  const q = new URLSearchParams(qs ?? "");
  q.set("limit", String(limit));
  q.set("marker", marker);
  return [{ rel: "next", href: `${ctx.serviceUrl}${path}?${q.toString()}` }];
}

/** Whether a list asks for every project (all_tenants, honoured for cloud readers only). */
export function allTenants(ctx: Ctx, caller: Caller): boolean {
  const v = ctx.query.all_tenants;
  if (v === undefined || !caller.readsAll) return false;
  return v === "" || boolOf("all_tenants", v);
}
