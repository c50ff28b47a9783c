// The specs routes volume types (extra_specs) and group types (group_specs) share: list, create or update several,
// and show, update and delete one key, under the resource's own path.
import type { ApiError } from "../../shared/http/errors.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import { invalidInput } from "../errors.js";
import { mapObject } from "../store/rows.js";
import { metadataOf, objectBody, wrapped, type Ctx } from "./common.js";

/** A specs dictionary (extra specs, group specs): booleans and numbers as strings, bounded as metadata; or 400. */
export const specsOf = (v: unknown, k = "extra_specs"): Map<string, string> => {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidInput(`${k} must be a dictionary.`);
  const m = new Map<string, string>();
  for (const [key, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x === "boolean" || typeof x === "number") m.set(key, String(x));
    else m.set(key, x as string);
  }
  return metadataOf(Object.fromEntries(m), k);
};

/** Where a resource's specs live, how its routes are named and answer. */
export interface SpecResource {
  /** The resource's path (e.g. `/v3/:project_id/types/:type_id`). */
  one: string;
  /** The body key and path segment. */
  key: "extra_specs" | "group_specs";
  policies: { index: string; show: string; create: string; update: string; delete: string };
  /** The resource's id and specs (404 when the caller may not see it). */
  load(ctx: Ctx): Promise<{ id: string; specs: Map<string, string> }>;
  /** Store the resource's specs. */
  save(id: string, specs: Map<string, string>): Promise<unknown>;
  /** The 404 for a key the resource does not have. */
  missing(id: string, key: string): ApiError;
  /** The specs a list shows the caller (default: all). */
  shown?(ctx: Ctx, specs: Map<string, string>): Map<string, string>;
  /** A create's status (Cinder: 200 for extra specs, 202 for group specs). */
  createStatus: 200 | 202;
}

/** GET/POST `one`/key and GET/PUT/DELETE `one`/key/:key. */
export function specRoutes(r: SpecResource): Route[] {
  const base = `${r.one}/${r.key}`;
  return [
    route({
      method: "GET",
      path: base,
      policy: r.policies.index,
      handler: async (ctx) => {
        const { specs } = await r.load(ctx);
        return { [r.key]: mapObject(r.shown ? r.shown(ctx, specs) : specs) };
      },
    }),
    route({
      method: "POST",
      path: base,
      policy: r.policies.create,
      handler: async (ctx) => {
        const { id, specs } = await r.load(ctx);
        const add = specsOf(wrapped(ctx, r.key), r.key);
        for (const [k, v] of add) specs.set(k, v);
        await r.save(id, specs);
        return reply(r.createStatus, { [r.key]: mapObject(add) });
      },
    }),
    route({
      method: "GET",
      path: `${base}/:key`,
      policy: r.policies.show,
      handler: async (ctx) => {
        const { id, specs } = await r.load(ctx);
        const v = specs.get(ctx.params.key);
        if (v === undefined) throw r.missing(id, ctx.params.key);
        return { [ctx.params.key]: v };
      },
    }),
    route({
      method: "PUT",
      path: `${base}/:key`,
      policy: r.policies.update,
      handler: async (ctx) => {
        const { id, specs } = await r.load(ctx);
        const item = specsOf(objectBody(ctx), r.key);
        if (item.size > 1) throw invalidInput("Request body contains too many items.");
        const v = item.get(ctx.params.key);
        if (v === undefined) throw invalidInput("Request body and URI mismatch.");
        specs.set(ctx.params.key, v);
        await r.save(id, specs);
        return mapObject(item);
      },
    }),
    route({
      method: "DELETE",
      path: `${base}/:key`,
      policy: r.policies.delete,
      handler: async (ctx) => {
        const { id, specs } = await r.load(ctx);
        if (!specs.delete(ctx.params.key)) throw r.missing(id, ctx.params.key);
        await r.save(id, specs);
        return reply(202, undefined);
      },
    }),
  ];
}
