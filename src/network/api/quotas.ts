// /v2.0/quotas: every project's non-default quotas (cloud readers), one project's quotas, their details
// (limit, used, reserved), the defaults, and an admin's change or reset. Any project id answers (as Neutron).
import { Type } from "@sinclair/typebox";
import { noContent } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { badRequest } from "../errors.js";
import {
  defaultLimits,
  isQuotaResource,
  projectLimits,
  projectsWithLimits,
  QUOTA_RESOURCES,
  resetLimits,
  setLimits,
  usage,
} from "../quotas.js";
import { int } from "./validators.js";

const MAX = 2 ** 31 - 1;

const asObject = (m: Map<string, number>): Record<string, number> => Object.fromEntries(m);

/** Routes of /v2.0/quotas. */
export function quotaRoutes(core: NetworkCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.0/quotas",
      policy: "get_quotas",
      handler: async () => {
        const quotas = [];
        for (const project of await projectsWithLimits(core))
          quotas.push({
            ...asObject(await projectLimits(core, project)),
            project_id: project,
            tenant_id: project,
          });
        return { quotas };
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/quotas/:project_id",
      policy: "get_quota",
      handler: async (ctx) => ({ quota: asObject(await projectLimits(core, ctx.params.project_id)) }),
    }),
    route({
      method: "GET",
      path: "/v2.0/quotas/:project_id/default",
      policy: "get_quota",
      handler: () => ({ quota: asObject(defaultLimits(core)) }),
    }),
    // Neutron also answers with a .json format suffix, the form tempest's and older clients' quota calls use.
    ...["/v2.0/quotas/:project_id/details", "/v2.0/quotas/:project_id/details.json"].map((path) =>
      route({
        method: "GET",
        path,
        policy: "get_quota",
        handler: async (ctx) => {
          const project = ctx.params.project_id;
          const limits = await projectLimits(core, project);
          const quota: Record<string, { limit: number; used: number; reserved: number }> = {};
          for (const r of QUOTA_RESOURCES)
            quota[r.name] = {
              limit: limits.get(r.name) ?? -1,
              used: await usage(core.db, r.name, project),
              reserved: 0,
            };
          return { quota };
        },
      }),
    ),
    route({
      method: "PUT",
      path: "/v2.0/quotas/:project_id",
      policy: "update_quota",
      body: Type.Object(
        { quota: Type.Object({}, { additionalProperties: true }) },
        { additionalProperties: true },
      ),
      handler: async (ctx) => {
        const project = ctx.params.project_id;
        const given = ctx.body.quota as Record<string, unknown>;
        const limits = new Map<string, number>();
        for (const key of Object.keys(given)) {
          // check_limit (quota-check-limit) is not implemented: a lower limit than the usage is accepted.
          if (key === "check_limit") continue;
          if (!isQuotaResource(key)) throw badRequest(`Unrecognized attribute(s) '${key}'`);
          limits.set(key, int(-1, MAX)(given[key], key));
        }
        await setLimits(core, project, limits);
        return { quota: asObject(await projectLimits(core, project)) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/quotas/:project_id",
      policy: "delete_quota",
      handler: async (ctx) => {
        await resetLimits(core, ctx.params.project_id);
        return noContent();
      },
    }),
  ];
}
