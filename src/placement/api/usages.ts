import type { Route } from "../../shared/http/route.js";
import { reply } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { badRequest } from "../errors.js";
import { projectUsages, projectUsagesByType } from "../store/allocations.js";
import { listInventories, usageByClass } from "../store/inventories.js";
import { allowOnly, cacheHeaders, proute, queryOf } from "./common.js";
import { providerOr404 } from "./resource-providers.js";

/** GET /resource_providers/{uuid}/usages and GET /usages (1.9+). */
export function usageRoutes(core: PlacementCore): Route[] {
  return [
    proute({
      method: "GET",
      path: "/resource_providers/:uuid/usages",
      policy: "placement:resource_providers:usages",
      handler: async (ctx) => {
        const p = await providerOr404(core, ctx.params.uuid);
        const invs = await listInventories(core, core.db, p.id);
        const used = await usageByClass(core.db, p.id);
        return reply(
          200,
          {
            resource_provider_generation: p.generation,
            usages: Object.fromEntries(invs.map((i) => [i.resource_class, used.get(i.rc_id) ?? 0])),
          },
          cacheHeaders(ctx),
        );
      },
    }),
    proute({
      method: "GET",
      path: "/usages",
      policy: "placement:usages",
      min: "1.9",
      target: (ctx) => ({ project_id: queryOf(ctx).get("project_id") }),
      handler: async (ctx) => {
        const q = queryOf(ctx);
        const typed = ctx.microversion.gte("1.38");
        allowOnly(q, (k) => k === "project_id" || k === "user_id" || (typed && k === "consumer_type"));
        const project = q.get("project_id");
        if (project === null)
          throw badRequest("Invalid query string parameters: 'project_id' is a required property");
        const user = q.get("user_id") ?? undefined;
        for (const [k, v] of [
          ["project_id", project],
          ["user_id", user],
        ] as const)
          if (v !== undefined && (v.length < 1 || v.length > 255))
            throw badRequest(`Invalid query string parameters: '${v}' is not a valid ${k}`);
        if (!typed) {
          const usages = await projectUsages(core, project, user);
          return reply(200, { usages: Object.fromEntries(usages) }, cacheHeaders(ctx));
        }
        const type = q.get("consumer_type") ?? undefined;
        if (type !== undefined && !/^([A-Z0-9_]+|all|unknown)$/.test(type))
          throw badRequest(
            `Invalid query string parameters: '${type}' does not match '^[A-Z0-9_]+$|^all|^unknown$'`,
          );
        return reply(
          200,
          { usages: await projectUsagesByType(core, project, user, type) },
          cacheHeaders(ctx),
        );
      },
    }),
  ];
}
