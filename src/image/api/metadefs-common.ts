// Helpers shared by the metadef routes: who may see what, policy checks with Glance's 404-vs-403 rule, request
// body checks, paging parameters and the JSON views of each entity.
import type { ValidateFunction } from "ajv";
import { ApiError, badRequest, forbidden } from "../../shared/http/errors.js";
import type { RequestCtx } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import {
  findNamespace,
  namespaceNotFound,
  type Association,
  type MetaObject,
  type MetaTag,
  type Namespace,
  type PropertyDef,
  type ResourceType,
} from "../store/metadefs.js";
import { PROPERTY_KEYS, check, checkReadOnly } from "./metadefs-schemas.js";
import type { Kysely } from "kysely";

export type Ctx = RequestCtx<any, any, any>;

/** Largest length of any metadef name column. */
export const NAME_MAX = 80;

/** Whether the caller sees every namespace (Glance's context.is_admin; admin_required until context_is_admin exists). */
export const isAdmin = (ctx: Ctx): boolean =>
  ctx.allowed("context_is_admin", {}) || ctx.allowed("admin_required", {});

/** The caller's project, which owns what it creates (the user when the token has no project). */
export const callerProject = (ctx: Ctx): string | null => ctx.auth?.projectId ?? null;

/** Glance's visibility rule: admins see all, others public namespaces and their project's own. */
export function visible(ctx: Ctx, ns: Namespace): boolean {
  if (isAdmin(ctx) || ns.visibility === "public") return true;
  const p = callerProject(ctx);
  return p !== null && ns.owner === p;
}

/** The policy target of a namespace (its owner as project_id, its visibility), or of the caller when none. */
export function targetOf(ctx: Ctx, ns?: Namespace): Target {
  return ns ? { project_id: ns.owner, visibility: ns.visibility } : { project_id: callerProject(ctx) };
}

/**
 * Enforce a metadef rule. As in Glance, a refusal is a 404 when the caller may not even see the namespace (so
 * private namespaces of other projects stay invisible) and a 403 otherwise.
 */
export function enforce(ctx: Ctx, rule: string, ns?: Namespace): void {
  const target = targetOf(ctx, ns);
  if (ctx.allowed(rule, target)) return;
  // (Without a namespace, e.g. for listings, a refusal stays a 403.)
  if (ns && (rule === "get_metadef_namespace" || !ctx.allowed("get_metadef_namespace", target)))
    throw namespaceNotFound(ns.namespace);
  throw forbidden(`You are not authorized to perform the requested action: ${rule}.`);
}

/** A namespace the caller can see, or 404 (also when it exists but is another project's private one). */
export async function loadNamespace(db: Kysely<any>, ctx: Ctx, name: string): Promise<Namespace> {
  const ns = await findNamespace(db, name);
  if (!ns || !visible(ctx, ns)) throw namespaceNotFound(name);
  return ns;
}

/** 403 unless the namespace is unprotected (deleting anything in a protected namespace is refused). */
export function unprotected(ns: Namespace, what: string, name: string): void {
  if (ns.protected)
    throw new ApiError(403, `Metadata definition ${what} ${name} is protected and cannot be deleted.`);
}

/** The JSON body of a request checked like Glance's deserializers: present, no read-only keys, schema-valid. */
export function bodyOf(
  ctx: Ctx,
  v: ValidateFunction,
  schemaName: string,
  readOnly: string[],
): Record<string, any> {
  const b = ctx.body as unknown;
  if (b === undefined || b === null) throw badRequest("Body expected in request.");
  if (typeof b !== "object" || Array.isArray(b))
    throw badRequest(`Provided object does not match schema '${schemaName}': the body must be a JSON object`);
  // PostgreSQL cannot store NUL characters in text; no name or description needs one.
  if (JSON.stringify(b).includes("\\u0000"))
    throw badRequest("Strings in the request may not contain NUL characters.");
  checkReadOnly(b as Record<string, unknown>, readOnly);
  check(v, schemaName, b);
  return b as Record<string, any>;
}

/** A name that fits its column and can be addressed in a URL (1..80 characters). */
export function checkName(kind: string, name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > NAME_MAX)
    throw badRequest(`Invalid ${kind} name: it must be a string of 1 to ${NAME_MAX} characters.`);
  return name;
}

/** Sort direction (asc/desc, default desc) or 400. */
export function sortDir(v: string | undefined): "asc" | "desc" {
  if (v === undefined) return "desc";
  if (v !== "asc" && v !== "desc") throw badRequest(`Invalid sort direction: ${v}`);
  return v;
}

/** A limit query parameter: a non-negative integer (or positive when `positive`), undefined when absent. */
export function limitOf(v: string | undefined, positive = false): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^-?\d+$/.test(v.trim())) throw badRequest("limit param must be an integer");
  const n = Number(v);
  if (n < 0 || (positive && n === 0)) throw badRequest("limit param must be positive");
  return n;
}

/** Compare two sortable values (null/undefined first, numbers and booleans numerically, strings by code point). */
export function cmpValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "boolean" || typeof a === "number") return Number(a) - Number(b);
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Order rows by `keys` (then created_at, then id) in one direction, as Glance's paginate_query does. */
export function sortRows<T extends Record<string, any>>(rows: T[], key: string, dir: "asc" | "desc"): T[] {
  const keys = [key, "created_at", "id"].filter((k, i, all) => all.indexOf(k) === i);
  const sign = dir === "asc" ? 1 : -1;
  const cmp = (a: T, b: T): number => {
    for (const k of keys) {
      const c = cmpValues(a[k], b[k]);
      if (c !== 0) return sign * c;
    }
    return 0;
  };
  return [...rows].sort(cmp);
}

/** The rows after the marker row in that order (the marker itself need not be among them). */
export function afterMarker<T extends Record<string, any>>(
  rows: T[],
  marker: T,
  key: string,
  dir: "asc" | "desc",
): T[] {
  const keys = [key, "created_at", "id"].filter((k, i, all) => all.indexOf(k) === i);
  const sign = dir === "asc" ? 1 : -1;
  return rows.filter((r) => {
    for (const k of keys) {
      const c = cmpValues(r[k], marker[k]);
      if (c !== 0) return sign * c > 0;
    }
    return false;
  });
}

// ---- views ----

/** Glance renders times without fractions: 2024-05-01T12:00:00Z. */
export const isoTime = (s: string | null | undefined): string | undefined =>
  s ? s.replace(/\.\d+Z$/, "Z") : undefined;

/** Drop null/undefined members and order keys alphabetically (Glance's output order). */
export function clean(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) if (o[k] !== null && o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Keep only the attributes of a property definition Glance knows (its name is stored apart). */
export function toPropertyDef(input: Record<string, unknown>): PropertyDef {
  const out: PropertyDef = {};
  for (const k of PROPERTY_KEYS) {
    const v = input[k];
    if (v === undefined || v === null) continue;
    if (k === "items" && typeof v === "object") {
      const it = v as Record<string, unknown>;
      const items: Record<string, unknown> = {};
      if (it.type !== undefined && it.type !== null) items.type = it.type;
      if (it.enum !== undefined && it.enum !== null) items.enum = it.enum;
      out.items = items;
    } else out[k] = v;
  }
  return out;
}

/** A property definition as shown (with its name when shown on its own). */
export function propertyView(def: PropertyDef, name?: string): Record<string, unknown> {
  return clean({ ...toPropertyDef(def), name });
}

/** A map of property definitions, names optionally prefixed. */
export function propertiesView(props: Record<string, PropertyDef>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) out[prefix + k] = propertyView(v);
  return out;
}

export const namespaceSelf = (name: string): string => `/v2/metadefs/namespaces/${name}`;

/** A namespace's own attributes as Glance shows them. */
export function namespaceView(ns: Namespace): Record<string, unknown> {
  return clean({
    namespace: ns.namespace,
    display_name: ns.display_name,
    description: ns.description,
    visibility: ns.visibility,
    protected: ns.protected,
    owner: ns.owner,
    created_at: isoTime(ns.created_at),
    updated_at: isoTime(ns.updated_at),
    self: namespaceSelf(ns.namespace),
    schema: "/v2/schemas/metadefs/namespace",
  });
}

export function associationView(a: Association): Record<string, unknown> {
  return clean({
    name: a.name,
    prefix: a.prefix,
    properties_target: a.properties_target,
    created_at: isoTime(a.created_at),
    updated_at: isoTime(a.updated_at),
  });
}

export function objectView(nsName: string, o: MetaObject, prefix = ""): Record<string, unknown> {
  return clean({
    name: o.name,
    description: o.description,
    required: o.required ? o.required.map((r) => prefix + r) : null,
    properties: propertiesView(o.properties, prefix),
    created_at: isoTime(o.created_at),
    updated_at: isoTime(o.updated_at),
    self: `${namespaceSelf(nsName)}/objects/${o.name}`,
    schema: "/v2/schemas/metadefs/object",
  });
}

export const tagView = (t: MetaTag): Record<string, unknown> =>
  clean({ name: t.name, created_at: isoTime(t.created_at), updated_at: isoTime(t.updated_at) });

export const resourceTypeView = (rt: ResourceType): Record<string, unknown> =>
  clean({ name: rt.name, created_at: isoTime(rt.created_at), updated_at: isoTime(rt.updated_at) });

/** A Location header value for a path below the service (names percent-encoded, colons kept readable). */
export function locationOf(ctx: Ctx, nsName: string): string {
  return `${ctx.serviceUrl}/v2/metadefs/namespaces/${encodeURIComponent(nsName).replace(/%3A/gi, ":")}`;
}
