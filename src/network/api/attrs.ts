// Resource bodies as Neutron's API layer reads them: an attribute map per resource (allowed in POST, in PUT,
// required, default, validator, whether setting it needs its own policy rule), and the checks that go with it:
// unknown attributes, read-only ones, missing required ones. Keys from the client are only ever looked up in the
// map, never used to index an object.
import { Type } from "@sinclair/typebox";
import { badRequest } from "../errors.js";
import type { Validator } from "./validators.js";

/** One attribute of a resource. */
export interface Attr {
  /** Allowed in POST ("required": must be given). */
  post: boolean | "required";
  /** Allowed in PUT. */
  put: boolean;
  /** Validates and converts the client's value. */
  parse: Validator<unknown>;
  /** The value when POST leaves it out (a function is called each time). */
  def?: unknown;
  /** Setting it (to other than the default on POST; at all on PUT) also needs rule `<action>_<resource>:<attr>`. */
  policy?: boolean;
}

/** A resource's attribute map. */
export type AttrMap = ReadonlyMap<string, Attr>;

/** A parsed body: the value of every attribute given or defaulted, and which ones the client set. */
export interface Parsed {
  values: Map<string, unknown>;
  given: Set<string>;
}

/** A request body schema for a resource: `{resource: {...}}` or, for bulk creates, `{collection: [{...}]}`. */
export function resourceBody(resource: string, collection?: string) {
  const inner = Type.Object({}, { additionalProperties: true });
  return Type.Object(
    {
      [resource]: Type.Optional(inner),
      ...(collection ? { [collection]: Type.Optional(Type.Array(inner)) } : {}),
    },
    { additionalProperties: true },
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The single or bulk items of a POST body. */
export function bodyItems(body: unknown, resource: string, collection: string): Record<string, unknown>[] {
  if (!isObject(body)) throw badRequest("Resource body required");
  const bulk = Object.hasOwn(body, collection) ? body[collection] : undefined;
  if (bulk !== undefined) {
    if (!Array.isArray(bulk) || bulk.length === 0 || !bulk.every(isObject))
      throw badRequest(`Resources required`);
    return bulk.map((item) => {
      // Bulk items may come wrapped ({"network": {...}}), as the neutron client once sent them.
      const inner = Object.hasOwn(item, resource) ? item[resource] : item;
      if (!isObject(inner)) throw badRequest(`Unable to find '${resource}' in request body`);
      return inner;
    });
  }
  const one = Object.hasOwn(body, resource) ? body[resource] : undefined;
  if (!isObject(one)) throw badRequest(`Unable to find '${resource}' in request body`);
  return [one];
}

/** The PUT body's resource object. */
export function bodyItem(body: unknown, resource: string): Record<string, unknown> {
  if (!isObject(body)) throw badRequest("Resource body required");
  const one = Object.hasOwn(body, resource) ? body[resource] : undefined;
  if (!isObject(one)) throw badRequest(`Unable to find '${resource}' in request body`);
  return one;
}

function unknownKeys(item: Record<string, unknown>, map: AttrMap): void {
  const extra = Object.keys(item).filter((k) => !map.has(k));
  if (extra.length) throw badRequest(`Unrecognized attribute(s) '${extra.join(", ")}'`);
}

/** Check and convert a POST item: unknown, not-allowed and missing attributes are 400; defaults filled in. */
export function parseCreate(item: Record<string, unknown>, map: AttrMap): Parsed {
  unknownKeys(item, map);
  const values = new Map<string, unknown>();
  const given = new Set<string>();
  for (const [name, a] of map) {
    if (Object.hasOwn(item, name)) {
      if (!a.post) throw badRequest(`Attribute '${name}' not allowed in POST`);
      values.set(name, a.parse(item[name], name));
      given.add(name);
    } else if (a.post === "required")
      throw badRequest(`Failed to parse request. Required attribute '${name}' not specified`);
    else if (a.def !== undefined) values.set(name, typeof a.def === "function" ? a.def() : a.def);
  }
  return { values, given };
}

/** Check and convert a PUT item: unknown and read-only attributes are 400. */
export function parseUpdate(item: Record<string, unknown>, map: AttrMap): Parsed {
  unknownKeys(item, map);
  const values = new Map<string, unknown>();
  for (const name of Object.keys(item)) {
    const a = map.get(name) as Attr;
    if (!a.put) throw badRequest(`Cannot update read-only attribute ${name}`);
    values.set(name, a.parse(item[name], name));
  }
  return { values, given: new Set(values.keys()) };
}

/** Attributes set on a POST that need their own rule: given, with policy, and not the default value. */
export function policyAttrsOnCreate(p: Parsed, map: AttrMap): string[] {
  return [...p.given].filter((name) => {
    const a = map.get(name) as Attr;
    if (!a.policy) return false;
    const def = typeof a.def === "function" ? a.def() : a.def;
    return JSON.stringify(p.values.get(name)) !== JSON.stringify(def);
  });
}

/** Attributes given on a PUT that need their own rule. */
export const policyAttrsOnUpdate = (p: Parsed, map: AttrMap): string[] =>
  [...p.given].filter((name) => map.get(name)?.policy);

/** A typed read of a parsed value. */
export const val = <T>(p: Parsed, name: string): T => p.values.get(name) as T;

/** Resolve tenant_id/project_id of a POST: the same if both given, else the caller's project; 400 if none. */
export function projectOf(p: Parsed, callerProject: string | null): string {
  const a = p.values.get("project_id") as string | undefined;
  const b = p.values.get("tenant_id") as string | undefined;
  if (a !== undefined && b !== undefined && a !== b)
    throw badRequest("'project_id' and 'tenant_id' do not match");
  const project = a ?? b ?? callerProject;
  if (!project) throw badRequest("Failed to parse request. Required attribute 'project_id' not specified");
  return project;
}
