// Lists as Neutron serves them: filters on attributes (repeated values OR-ed; unknown attributes refused, as the
// filter-validation extension does), tag filters, sort_key/sort_dir, limit/marker/page_reverse with
// `<collection>_links`, and `fields=` to select attributes. Lists are built from the views the caller may see,
// then filtered, sorted and paged in memory with the id as the last sort key.
import { badRequest } from "../errors.js";
import type { RequestCtx } from "../../shared/http/route.js";

type Ctx = RequestCtx<any, any, any>;

/** How a filter value compares with a view's attribute. */
export type FilterKind =
  "string" | "bool" | "int" | ((view: Record<string, unknown>, values: string[]) => boolean);

/** What a resource's list supports. */
export interface ListSpec {
  collection: string;
  /** Attributes that may be filtered on, and how. */
  filters: ReadonlyMap<string, FilterKind>;
  /** Attributes that may be sorted on. */
  sortKeys: ReadonlySet<string>;
  /** The 404 a marker that names nothing gets. */
  markerNotFound: (id: string) => Error;
}

const RESERVED = new Set([
  "fields",
  "sort_key",
  "sort_dir",
  "limit",
  "marker",
  "page_reverse",
  "tags",
  "tags-any",
  "not-tags",
  "not-tags-any",
]);

/** The query string as ordered pairs (repeated keys kept). */
export function queryPairs(ctx: Ctx): Array<[string, string]> {
  const i = ctx.url.indexOf("?");
  return i < 0 ? [] : [...new URLSearchParams(ctx.url.slice(i + 1)).entries()];
}

/** Every value of one query parameter (empty values dropped, as Neutron does). */
export function queryAll(ctx: Ctx, key: string): string[] {
  return queryPairs(ctx)
    .filter(([k, v]) => k === key && v !== "")
    .map(([, v]) => v);
}

const asBool = (s: string): boolean | undefined => {
  const l = s.toLowerCase();
  return l === "true" || l === "1" ? true : l === "false" || l === "0" ? false : undefined;
};

function matches(kind: FilterKind, view: Record<string, unknown>, key: string, values: string[]): boolean {
  if (typeof kind === "function") return kind(view, values);
  const v = Object.hasOwn(view, key) ? view[key] : undefined;
  if (kind === "bool") return values.some((s) => asBool(s) === v);
  if (kind === "int") return values.some((s) => String(v) === String(Number(s)));
  return values.some((s) => v === s);
}

const tagList = (ctx: Ctx, key: string): string[] =>
  queryAll(ctx, key).flatMap((v) => v.split(",").filter(Boolean));

function tagsMatch(ctx: Ctx, view: Record<string, unknown>): boolean {
  const tags = new Set(Array.isArray(view.tags) ? (view.tags as string[]) : []);
  const all = tagList(ctx, "tags");
  const any = tagList(ctx, "tags-any");
  const notAll = tagList(ctx, "not-tags");
  const notAny = tagList(ctx, "not-tags-any");
  if (all.length && !all.every((t) => tags.has(t))) return false;
  if (any.length && !any.some((t) => tags.has(t))) return false;
  if (notAll.length && notAll.every((t) => tags.has(t))) return false;
  if (notAny.length && notAny.some((t) => tags.has(t))) return false;
  return true;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return a ? 1 : -1;
  const x = typeof a === "string" ? a : JSON.stringify(a);
  const y = typeof b === "string" ? b : JSON.stringify(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Parse sort_key/sort_dir pairs; 400 for unknown keys, bad directions or unpaired values. */
function sorts(ctx: Ctx, spec: ListSpec): Array<{ key: string; asc: boolean }> {
  const keys = queryAll(ctx, "sort_key");
  const dirs = queryAll(ctx, "sort_dir");
  if (dirs.length && keys.length !== dirs.length)
    throw badRequest("The number of sort_keys and sort_dirs must be same");
  const absent = keys.filter((k) => !spec.sortKeys.has(k));
  if (absent.length)
    throw badRequest(`[${absent.map((k) => `'${k}'`).join(", ")}] is invalid attribute for sort_keys`);
  const bad = dirs.filter((d) => d !== "asc" && d !== "desc");
  if (bad.length)
    throw badRequest(
      `[${bad.map((d) => `'${d}'`).join(", ")}] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`,
    );
  return keys.map((key, i) => ({ key, asc: (dirs[i] ?? "asc") === "asc" }));
}

/** Filters of the query, checked against the spec (unknown attributes are a 400). */
function filters(ctx: Ctx, spec: ListSpec): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of queryPairs(ctx)) {
    if (RESERVED.has(k)) continue;
    if (!spec.filters.has(k)) throw badRequest(`[${k}] is invalid attribute for filtering`);
    if (v === "") continue;
    out.set(k, [...(out.get(k) ?? []), v]);
  }
  return out;
}

/** Keep only the requested fields of a view (all of them without `fields=`). */
export function selectFields(view: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  if (!fields.length) return view;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (Object.hasOwn(view, f)) out[f] = view[f];
  return out;
}

/** The `fields=` of a request. */
export const fieldsOf = (ctx: Ctx): string[] => queryAll(ctx, "fields");

/**
 * Answer a list request over the views the caller may see: filter, sort, page and select fields; the body is
 * `{collection: [...], collection_links?: [...]}`.
 */
export function listResponse(
  ctx: Ctx,
  spec: ListSpec,
  views: Record<string, unknown>[],
): Record<string, unknown> {
  const f = filters(ctx, spec);
  const order = sorts(ctx, spec);
  const limitRaw = queryAll(ctx, "limit")[0];
  let limit = 0;
  if (limitRaw !== undefined) {
    if (!/^\d+$/.test(limitRaw))
      throw badRequest(`Limit must be an integer 0 or greater and not '${limitRaw}'`);
    limit = Number(limitRaw);
  }
  const marker = queryAll(ctx, "marker")[0];
  const reverse = (queryAll(ctx, "page_reverse")[0] ?? "false").toLowerCase() === "true";
  let items = views.filter(
    (v) =>
      tagsMatch(ctx, v) &&
      [...f].every(([k, vals]) => matches(spec.filters.get(k) as FilterKind, v, k, vals)),
  );
  const keys = [...order];
  if (!keys.some((s) => s.key === "id"))
    keys.push({ key: "id", asc: keys.length ? keys[keys.length - 1].asc : true });
  items.sort((a, b) => {
    for (const s of keys) {
      const c = compare(a[s.key], b[s.key]);
      if (c) return s.asc ? c : -c;
    }
    return 0;
  });
  let links: Array<{ rel: string; href: string }> = [];
  if (limit > 0) {
    let at = reverse ? items.length : -1;
    if (marker !== undefined) {
      at = items.findIndex((v) => v.id === marker);
      if (at < 0) throw spec.markerNotFound(marker);
    }
    items = reverse ? items.slice(Math.max(0, at - limit), at) : items.slice(at + 1, at + 1 + limit);
    links = pageLinks(ctx, items, limit, reverse);
  }
  const fields = fieldsOf(ctx);
  const out: Record<string, unknown> = { [spec.collection]: items.map((v) => selectFields(v, fields)) };
  if (links.length) out[`${spec.collection}_links`] = links;
  return out;
}

/** Neutron's next/previous links: next unless a forward page came back short, previous unless a reverse one did. */
function pageLinks(
  ctx: Ctx,
  items: Record<string, unknown>[],
  limit: number,
  reverse: boolean,
): Array<{ rel: string; href: string }> {
  const base = ctx.serviceUrl + ctx.url.split("?")[0];
  const href = (marker: unknown, rev: boolean): string => {
    const params = new URLSearchParams();
    for (const [k, v] of queryPairs(ctx)) if (k !== "marker" && k !== "page_reverse") params.append(k, v);
    if (marker !== undefined) params.set("marker", String(marker));
    if (rev) params.set("page_reverse", "True");
    return `${base}?${params.toString()}`;
  };
  const links: Array<{ rel: string; href: string }> = [];
  if (!(items.length < limit && !reverse))
    links.push({ rel: "next", href: href(items[items.length - 1]?.id, false) });
  if (!(items.length < limit && reverse)) links.push({ rel: "previous", href: href(items[0]?.id, true) });
  return links;
}
