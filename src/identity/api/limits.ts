import { Type } from "@sinclair/typebox";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import {
  createLimits,
  createRegisteredLimits,
  deleteLimit,
  deleteRegisteredLimit,
  findLimit,
  getLimit,
  getRegisteredLimit,
  listLimits,
  listRegisteredLimits,
  updateLimit,
  updateRegisteredLimit,
  type Limit,
  type RegisteredLimit,
} from "../store/limits.js";
import { findProject, listProjects } from "../store/projects.js";
import { NStr, collectionLinks, selfLink } from "./common.js";

// Keystone's unified-limit schemas are closed (additionalProperties: false).
const IdString = Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-zA-Z0-9-]+$" });
const ResourceName = Type.String({ minLength: 1, maxLength: 255 });
const Count = Type.Integer({ minimum: -1, maximum: 0x7fffffff });
const Description = NStr({ maxLength: 65535 });

const RegisteredLimitItem = Type.Object(
  {
    service_id: IdString,
    region_id: Type.Optional(NStr()),
    resource_name: ResourceName,
    default_limit: Count,
    description: Type.Optional(Description),
  },
  { additionalProperties: false },
);
const RegisteredLimitsCreate = Type.Object(
  { registered_limits: Type.Array(RegisteredLimitItem, { minItems: 1 }) },
  { additionalProperties: false },
);
const RegisteredLimitUpdate = Type.Object(
  {
    registered_limit: Type.Object(
      {
        service_id: Type.Optional(IdString),
        region_id: Type.Optional(NStr()),
        resource_name: Type.Optional(ResourceName),
        default_limit: Type.Optional(Count),
        description: Type.Optional(Description),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
const LimitCommon = {
  service_id: IdString,
  region_id: Type.Optional(Type.String()),
  resource_name: ResourceName,
  resource_limit: Count,
  description: Type.Optional(Description),
};
const LimitItem = Type.Union([
  Type.Object({ project_id: IdString, ...LimitCommon }, { additionalProperties: false }),
  Type.Object({ domain_id: IdString, ...LimitCommon }, { additionalProperties: false }),
]);
const LimitsCreate = Type.Object(
  { limits: Type.Array(LimitItem, { minItems: 1 }) },
  { additionalProperties: false },
);
const LimitUpdate = Type.Object(
  {
    limit: Type.Object(
      { resource_limit: Type.Optional(Count), description: Type.Optional(Description) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** Keystone's JSON view of a registered limit. */
export function renderRegisteredLimit(
  ctx: RequestCtx<any, any, any>,
  r: RegisteredLimit,
): Record<string, unknown> {
  return {
    id: r.id,
    service_id: r.service_id,
    region_id: r.region_id,
    resource_name: r.resource_name,
    default_limit: r.default_limit,
    description: r.description,
    links: selfLink(ctx, `registered_limits/${r.id}`),
  };
}

/** Keystone's JSON view of a project or domain limit. */
export function renderLimit(ctx: RequestCtx<any, any, any>, l: Limit): Record<string, unknown> {
  return {
    id: l.id,
    project_id: l.project_id,
    domain_id: l.domain_id,
    service_id: l.service_id,
    region_id: l.region_id,
    resource_name: l.resource_name,
    resource_limit: l.resource_limit,
    description: l.description,
    links: selfLink(ctx, `limits/${l.id}`),
  };
}

const FLAT = {
  name: "flat",
  description: "Limit enforcement and validation does not take project hierarchy into consideration.",
};

/** Routes for /v3/registered_limits and /v3/limits (unified limits, flat model). */
export function limitRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const limitTarget = async (ctx: RequestCtx<any, any, Record<string, string>>) => {
    const l = await findLimit(core, ctx.params.limit_id);
    let projectDomain: string | null = null;
    if (l?.project_id) projectDomain = (await findProject(core, l.project_id))?.domain_id ?? null;
    return {
      "target.limit.id": ctx.params.limit_id,
      "target.limit.project_id": l?.project_id ?? null,
      "target.limit.domain_id": l?.domain_id ?? null,
      "target.limit.project.domain_id": projectDomain,
    };
  };
  return [
    route({
      method: "GET",
      path: "/v3/registered_limits",
      policy: "identity:list_registered_limits",
      handler: async (ctx) => {
        const q = ctx.query;
        const regs = await listRegisteredLimits(core, {
          service_id: q.service_id,
          region_id: q.region_id,
          resource_name: q.resource_name,
        });
        return {
          registered_limits: regs.map((r) => renderRegisteredLimit(ctx, r)),
          links: collectionLinks(ctx),
        };
      },
    }),
    route({
      method: "POST",
      path: "/v3/registered_limits",
      policy: "identity:create_registered_limits",
      body: RegisteredLimitsCreate,
      handler: async (ctx) => {
        const regs = await createRegisteredLimits(core, ctx.body.registered_limits);
        return reply(201, {
          registered_limits: regs.map((r) => renderRegisteredLimit(ctx, r)),
          links: collectionLinks(ctx),
        });
      },
    }),
    route({
      method: "GET",
      path: "/v3/registered_limits/:registered_limit_id",
      policy: "identity:get_registered_limit",
      handler: async (ctx) => ({
        registered_limit: renderRegisteredLimit(
          ctx,
          await getRegisteredLimit(core, ctx.params.registered_limit_id),
        ),
      }),
    }),
    route({
      method: "PATCH",
      path: "/v3/registered_limits/:registered_limit_id",
      policy: "identity:update_registered_limit",
      body: RegisteredLimitUpdate,
      handler: async (ctx) => {
        const r = await getRegisteredLimit(core, ctx.params.registered_limit_id);
        return {
          registered_limit: renderRegisteredLimit(
            ctx,
            await updateRegisteredLimit(core, r, ctx.body.registered_limit),
          ),
        };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/registered_limits/:registered_limit_id",
      policy: "identity:delete_registered_limit",
      handler: async (ctx) => {
        await deleteRegisteredLimit(core, await getRegisteredLimit(core, ctx.params.registered_limit_id));
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v3/limits/model",
      policy: "identity:get_limit_model",
      handler: () => ({ model: FLAT }),
    }),
    route({
      method: "GET",
      path: "/v3/limits",
      policy: "identity:list_limits",
      handler: async (ctx) => {
        const q = ctx.query;
        const a = ctx.auth!;
        const f = {
          service_id: q.service_id,
          region_id: q.region_id,
          resource_name: q.resource_name,
          project_id: q.project_id,
          domain_id: q.domain_id,
        };
        let limits: Limit[];
        // As Keystone: system (and, without scope enforcement, cloud-admin) callers see everything; a domain-scoped
        // caller sees its domain's and its projects' limits; a project-scoped caller only its project's.
        if (a.system || ctx.allowed("admin_required")) limits = await listLimits(core, f);
        else if (a.domainId) {
          const projectIds = new Set((await listProjects(core, { domain_id: a.domainId })).map((p) => p.id));
          limits = (await listLimits(core, f)).filter((l) =>
            l.project_id ? projectIds.has(l.project_id) : l.domain_id === a.domainId,
          );
        } else if (a.projectId)
          limits =
            q.project_id !== undefined && q.project_id !== a.projectId
              ? []
              : await listLimits(core, { ...f, project_id: a.projectId });
        else limits = [];
        return { limits: limits.map((l) => renderLimit(ctx, l)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/limits",
      policy: "identity:create_limits",
      body: LimitsCreate,
      handler: async (ctx) => {
        const limits = await createLimits(core, ctx.body.limits);
        return reply(201, { limits: limits.map((l) => renderLimit(ctx, l)), links: collectionLinks(ctx) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/limits/:limit_id",
      policy: "identity:get_limit",
      target: limitTarget,
      handler: async (ctx) => ({ limit: renderLimit(ctx, await getLimit(core, ctx.params.limit_id)) }),
    }),
    route({
      method: "PATCH",
      path: "/v3/limits/:limit_id",
      policy: "identity:update_limit",
      target: limitTarget,
      body: LimitUpdate,
      handler: async (ctx) => {
        const l = await getLimit(core, ctx.params.limit_id);
        return { limit: renderLimit(ctx, await updateLimit(core, l, ctx.body.limit)) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/limits/:limit_id",
      policy: "identity:delete_limit",
      target: limitTarget,
      handler: async (ctx) => {
        await getLimit(core, ctx.params.limit_id);
        await deleteLimit(core, ctx.params.limit_id);
        return noContent();
      },
    }),
  ];
}
