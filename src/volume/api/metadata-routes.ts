// The metadata routes a volume and a snapshot share (Cinder's /metadata and /metadata/{key}), under `one`, the
// resource's own path, read and written through `meta`/`setMeta`.
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import { notFound, invalidInput } from "../errors.js";
import { mapObject } from "../store/rows.js";
import { metadataOf, wrapped, type Ctx } from "./common.js";

/** The policy names of one resource's metadata routes. */
export interface MetadataPolicies {
  get: string;
  create: string;
  update: string;
  delete: string;
}

/** GET/POST/PUT `one`/metadata and GET/PUT/DELETE `one`/metadata/:key. */
export function metadataRoutes(
  one: string,
  p: MetadataPolicies,
  target: (ctx: Ctx) => Promise<Target>,
  meta: (ctx: Ctx) => Promise<Map<string, string>>,
  setMeta: (ctx: Ctx, m: Map<string, string>) => Promise<unknown>,
): Route[] {
  return [
    route({
      method: "GET",
      path: `${one}/metadata`,
      policy: p.get,
      target,
      handler: async (ctx) => ({ metadata: mapObject(await meta(ctx)) }),
    }),
    route({
      method: "POST",
      path: `${one}/metadata`,
      policy: p.create,
      target,
      handler: async (ctx) => {
        const add = metadataOf(wrapped(ctx, "metadata"));
        const m = await meta(ctx);
        for (const [k, v] of add) m.set(k, v);
        await setMeta(ctx, m);
        return { metadata: mapObject(m) };
      },
    }),
    route({
      method: "PUT",
      path: `${one}/metadata`,
      policy: p.update,
      target,
      handler: async (ctx) => {
        const m = metadataOf(wrapped(ctx, "metadata"));
        await meta(ctx);
        await setMeta(ctx, m);
        return { metadata: mapObject(m) };
      },
    }),
    route({
      method: "GET",
      path: `${one}/metadata/:key`,
      policy: p.get,
      target,
      handler: async (ctx) => {
        const m = await meta(ctx);
        const v = m.get(ctx.params.key);
        if (v === undefined) throw notFound("Metadata item was not found.");
        return { meta: { [ctx.params.key]: v } };
      },
    }),
    route({
      method: "PUT",
      path: `${one}/metadata/:key`,
      policy: p.update,
      target,
      handler: async (ctx) => {
        const item = metadataOf(wrapped(ctx, "meta"), "meta");
        if (item.size > 1) throw invalidInput("Request body contains too many items.");
        if (!item.has(ctx.params.key)) throw invalidInput("Request body and URI mismatch.");
        const m = await meta(ctx);
        m.set(ctx.params.key, item.get(ctx.params.key) as string);
        await setMeta(ctx, m);
        return { meta: mapObject(item) };
      },
    }),
    route({
      method: "DELETE",
      path: `${one}/metadata/:key`,
      policy: p.delete,
      target,
      handler: async (ctx) => {
        const m = await meta(ctx);
        if (!m.delete(ctx.params.key)) throw notFound("Metadata item was not found.");
        await setMeta(ctx, m);
        return reply(200, undefined);
      },
    }),
  ];
}
