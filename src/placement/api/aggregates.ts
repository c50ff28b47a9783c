import type { Route } from "../../shared/http/route.js";
import { reply } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { providerAggregates, setProviderAggregates } from "../store/aggregates.js";
import { cacheHeaders, jsonBody, normalizeUuid, proute, type Ctx } from "./common.js";
import { providerOr404 } from "./resource-providers.js";

const LIST = { type: "array", items: { type: "string", format: "uuid" }, uniqueItems: true };
const PUT_1_19 = {
  type: "object",
  properties: { aggregates: LIST, resource_provider_generation: { type: "integer" } },
  required: ["aggregates", "resource_provider_generation"],
  additionalProperties: false,
};

const view = (ctx: Ctx, aggregates: string[], generation: number) =>
  ctx.microversion.gte("1.19") ? { aggregates, resource_provider_generation: generation } : { aggregates };

/** /resource_providers/{uuid}/aggregates (1.1+; with the provider generation from 1.19). */
export function aggregateRoutes(core: PlacementCore): Route[] {
  const PATH = "/resource_providers/:uuid/aggregates";
  return [
    proute({
      method: "GET",
      path: PATH,
      policy: "placement:resource_providers:aggregates:list",
      min: "1.1",
      handler: async (ctx) => {
        const p = await providerOr404(core, ctx.params.uuid);
        return reply(
          200,
          view(ctx, await providerAggregates(core.db, p.id), p.generation),
          cacheHeaders(ctx),
        );
      },
    }),
    proute({
      method: "PUT",
      path: PATH,
      policy: "placement:resource_providers:aggregates:update",
      min: "1.1",
      handler: async (ctx) => {
        await providerOr404(core, ctx.params.uuid);
        const withGen = ctx.microversion.gte("1.19");
        let aggregates: string[];
        let generation: number | null = null;
        if (withGen) {
          const body = jsonBody<{ aggregates: string[]; resource_provider_generation: number }>(
            ctx,
            PUT_1_19,
          );
          aggregates = body.aggregates;
          generation = body.resource_provider_generation;
        } else aggregates = jsonBody<string[]>(ctx, LIST);
        const normalized = [...new Set(aggregates.map(normalizeUuid))];
        const gen = await setProviderAggregates(core, ctx.params.uuid, normalized, generation);
        return reply(200, view(ctx, normalized, gen), cacheHeaders(ctx));
      },
    }),
  ];
}
