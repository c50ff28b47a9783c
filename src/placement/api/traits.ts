import type { Route } from "../../shared/http/route.js";
import { noContent, reply } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { badRequest, concurrentUpdate, notFound } from "../errors.js";
import {
  deleteTrait,
  ensureTrait,
  getTrait,
  listTraits,
  providerTraits,
  setProviderTraits,
} from "../store/traits.js";
import { allowOnly, cacheHeaders, jsonBody, latest, mount, proute, queryOf } from "./common.js";
import { providerOr404 } from "./resource-providers.js";

const SET_TRAITS = {
  type: "object",
  properties: {
    traits: { type: "array", items: { type: "string", minLength: 1, maxLength: 255 } },
    resource_provider_generation: { type: "integer" },
  },
  required: ["traits", "resource_provider_generation"],
  additionalProperties: false,
};

/** /traits and /resource_providers/{uuid}/traits (1.6+). */
export function traitRoutes(core: PlacementCore): Route[] {
  const RP = "/resource_providers/:uuid/traits";
  return [
    proute({
      method: "GET",
      path: "/traits",
      policy: "placement:traits:list",
      min: "1.6",
      handler: async (ctx) => {
        const q = queryOf(ctx);
        allowOnly(q, (k) => k === "name" || k === "associated");
        const f: { nameIn?: string[]; prefix?: string; associated?: boolean } = {};
        const name = q.get("name");
        if (name !== null) {
          const i = name.indexOf(":");
          if (i < 0)
            throw badRequest(
              `Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${name}"`,
            );
          const op = name.slice(0, i);
          const value = name.slice(i + 1);
          if (op === "in") f.nameIn = value.split(",");
          else if (op === "startswith") f.prefix = value;
        }
        const assoc = q.get("associated");
        if (assoc !== null) {
          if (!["true", "false"].includes(assoc.toLowerCase()))
            throw badRequest('The query parameter "associated" only accepts "true" or "false"');
          f.associated = assoc.toLowerCase() === "true";
        }
        const traits = await listTraits(core.db, f);
        return reply(
          200,
          { traits: traits.map((t) => t.name) },
          cacheHeaders(ctx, latest(traits.map((t) => t.updated_at))),
        );
      },
    }),
    proute({
      method: "GET",
      path: "/traits/:name",
      policy: "placement:traits:show",
      min: "1.6",
      handler: async (ctx) => {
        const t = await getTrait(core.db, ctx.params.name);
        if (!t) throw notFound(`No such trait(s): ${ctx.params.name}.`);
        return noContent(cacheHeaders(ctx, t.created_at));
      },
    }),
    proute({
      method: "PUT",
      path: "/traits/:name",
      policy: "placement:traits:update",
      min: "1.6",
      handler: async (ctx) => {
        const name = ctx.params.name;
        if (!/^CUSTOM_[A-Z0-9_]+$/.test(name) || name.length > 255)
          throw badRequest(
            'The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"',
          );
        const { created, trait } = await ensureTrait(core, name);
        return reply(created ? 201 : 204, undefined, {
          location: `${ctx.origin}${mount(ctx)}/traits/${name}`,
          ...cacheHeaders(ctx, trait.created_at),
        });
      },
    }),
    proute({
      method: "DELETE",
      path: "/traits/:name",
      policy: "placement:traits:delete",
      min: "1.6",
      handler: async (ctx) => {
        await deleteTrait(core, ctx.params.name);
        return noContent();
      },
    }),
    proute({
      method: "GET",
      path: RP,
      policy: "placement:resource_providers:traits:list",
      min: "1.6",
      handler: async (ctx) => {
        const p = await providerOr404(core, ctx.params.uuid);
        const traits = await providerTraits(core.db, p.id);
        return reply(
          200,
          { traits: traits.map((t) => t.name), resource_provider_generation: p.generation },
          cacheHeaders(ctx, latest(traits.map((t) => t.updated_at))),
        );
      },
    }),
    proute({
      method: "PUT",
      path: RP,
      policy: "placement:resource_providers:traits:update",
      min: "1.6",
      handler: async (ctx) => {
        const body = jsonBody<{ traits: string[]; resource_provider_generation: number }>(ctx, SET_TRAITS);
        const p = await providerOr404(core, ctx.params.uuid);
        // Checked again inside the write; a stale generation is answered before the trait names are looked at.
        if (p.generation !== body.resource_provider_generation)
          throw concurrentUpdate(
            "Resource provider's generation already changed. Please update the generation and try again.",
          );
        const names = [...new Set(body.traits)];
        const { ids, missing } = await core.traits.ids(core.db, names);
        if (missing.length) throw badRequest(`No such trait ${missing.join(", ")}`);
        const gen = await setProviderTraits(core, p.uuid, body.resource_provider_generation, [
          ...ids.values(),
        ]);
        return reply(200, { traits: names.sort(), resource_provider_generation: gen }, cacheHeaders(ctx));
      },
    }),
    proute({
      method: "DELETE",
      path: RP,
      policy: "placement:resource_providers:traits:delete",
      min: "1.6",
      handler: async (ctx) => {
        await providerOr404(core, ctx.params.uuid);
        await setProviderTraits(core, ctx.params.uuid, null, []);
        return noContent();
      },
    }),
  ];
}
