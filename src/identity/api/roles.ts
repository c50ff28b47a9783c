import { Type } from "@sinclair/typebox";
import { ApiError, badRequest } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { notFoundEntity } from "../errors.js";
import type { IdentityService } from "../service.js";
import { getDomain } from "../store/projects.js";
import {
  addImplication,
  createRole,
  deleteRole,
  getRole,
  impliedEdges,
  listRoles,
  removeImplication,
  updateRole,
  type Role,
} from "../store/roles.js";
import { Name, NStr, OpenObject, Wrap, collectionLinks, extras, selfLink } from "./common.js";

const KNOWN = ["id", "name", "domain_id", "description", "options", "links"];
const Body = (required: boolean) =>
  Wrap(
    "role",
    OpenObject({
      name: required ? Name : Type.Optional(Name),
      domain_id: Type.Optional(NStr()),
      description: Type.Optional(NStr({ maxLength: 255 })),
      options: Type.Optional(
        Type.Object(
          { immutable: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])) },
          { additionalProperties: false },
        ),
      ),
    }),
  );

/** Keystone's JSON view of a role. */
export function renderRole(ctx: RequestCtx<any, any, any>, r: Role): Record<string, unknown> {
  return {
    ...r.extra,
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    description: r.description,
    options: r.options,
    links: selfLink(ctx, `roles/${r.id}`),
  };
}

const brief = (ctx: RequestCtx<any, any, any>, r: Role) => ({
  id: r.id,
  name: r.name,
  links: selfLink(ctx, `roles/${r.id}`),
});

/** Routes for /v3/roles, implied roles and /v3/role_inferences. */
export function roleRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const isDomainRole = async (ctx: RequestCtx<any, any, any>) => {
    const r = ctx.params.role_id ? await getRole(core, ctx.params.role_id).catch(() => null) : null;
    return !!r?.domain_id;
  };
  const immutable = (r: Role) => {
    if (r.options.immutable)
      throw new ApiError(403, `Role ${r.id} is immutable: unset its 'immutable' option first.`);
  };
  return [
    route({
      method: "GET",
      path: "/v3/roles",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const q = ctx.query as Record<string, string | undefined>;
        ctx.authorize(q.domain_id ? "identity:list_domain_roles" : "identity:list_roles", {});
        const roles = await listRoles(core, { name: q.name, domain_id: q.domain_id ?? null });
        return { roles: roles.map((r) => renderRole(ctx, r)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/roles",
      policy: null,
      auth: "required",
      body: Body(true),
      handler: async (ctx) => {
        const b = ctx.body.role;
        ctx.authorize(b.domain_id ? "identity:create_domain_role" : "identity:create_role", {});
        if (b.domain_id)
          await getDomain(core, b.domain_id).catch(() => {
            throw badRequest(`Invalid input: domain ${b.domain_id} does not exist.`);
          });
        const r = await createRole(core, {
          name: b.name as string,
          domain_id: b.domain_id ?? null,
          description: b.description ?? null,
          options: b.options,
          extra: extras(b, KNOWN),
        });
        return reply(201, { role: renderRole(ctx, r) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/roles/:role_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        // As Keystone: the role is the policy target, and a missing one is 404 only to those allowed to look.
        const r = await getRole(core, ctx.params.role_id).catch((e: unknown) => e);
        const found = r instanceof Error ? null : (r as Role);
        const target = found
          ? {
              "target.role.id": found.id,
              "target.role.name": found.name,
              "target.role.domain_id": found.domain_id,
            }
          : {};
        ctx.authorize(found?.domain_id ? "identity:get_domain_role" : "identity:get_role", target);
        if (!found) throw r;
        return { role: renderRole(ctx, found) };
      },
    }),
    route({
      method: "PATCH",
      path: "/v3/roles/:role_id",
      policy: null,
      auth: "required",
      body: Body(false),
      handler: async (ctx) => {
        ctx.authorize((await isDomainRole(ctx)) ? "identity:update_domain_role" : "identity:update_role", {});
        const r = await getRole(core, ctx.params.role_id);
        const b = ctx.body.role;
        if (b.domain_id !== undefined && b.domain_id !== r.domain_id)
          throw badRequest("Invalid input: a role's domain_id cannot be changed.");
        if (
          r.options.immutable &&
          !(b.options && b.options.immutable === false) &&
          !(b.options && b.options.immutable === null)
        )
          immutable(r);
        return {
          role: renderRole(
            ctx,
            await updateRole(core, r, {
              name: b.name,
              description: b.description,
              options: b.options,
              extra: extras(b, KNOWN),
            }),
          ),
        };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/roles/:role_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        ctx.authorize((await isDomainRole(ctx)) ? "identity:delete_domain_role" : "identity:delete_role", {});
        const r = await getRole(core, ctx.params.role_id);
        immutable(r);
        await deleteRole(core, r.id);
        // Tokens lose the role at their next validation; the event tells every process to validate again.
        await svc.revocations.add({ role_id: r.id });
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v3/roles/:prior_role_id/implies",
      policy: "identity:list_implied_roles",
      handler: async (ctx) => {
        const prior = await getRole(core, ctx.params.prior_role_id);
        const edges = (await impliedEdges(core)).filter((e) => e.prior_role_id === prior.id);
        const implies = await Promise.all(
          edges.map(async (e) => brief(ctx, await getRole(core, e.implied_role_id))),
        );
        return {
          role_inference: { prior_role: brief(ctx, prior), implies },
          links: { self: `${ctx.serviceUrl}/v3/roles/${prior.id}/implies` },
        };
      },
    }),
    route({
      method: "PUT",
      path: "/v3/roles/:prior_role_id/implies/:implied_role_id",
      policy: "identity:create_implied_role",
      handler: async (ctx) => {
        const prior = await getRole(core, ctx.params.prior_role_id);
        const implied = await getRole(core, ctx.params.implied_role_id);
        // Keystone: [assignment] prohibited_implied_role defaults to admin, and a global role may not imply a domain-specific one.
        if (implied.name === "admin" && !implied.domain_id)
          throw new ApiError(403, `${implied.id} cannot be an implied roles.`);
        if (!prior.domain_id && implied.domain_id)
          throw new ApiError(403, "Global role cannot imply a domain-specific role.");
        if (!(await addImplication(core, prior.id, implied.id)))
          throw new ApiError(409, `Implying role ${implied.id} from ${prior.id} would create a cycle.`);
        return reply(201, {
          role_inference: { prior_role: brief(ctx, prior), implies: brief(ctx, implied) },
          links: { self: `${ctx.serviceUrl}/v3/roles/${prior.id}/implies/${implied.id}` },
        });
      },
    }),
    route({
      method: ["GET", "HEAD"],
      path: "/v3/roles/:prior_role_id/implies/:implied_role_id",
      policy: "identity:get_implied_role",
      handler: async (ctx) => {
        const prior = await getRole(core, ctx.params.prior_role_id);
        const implied = await getRole(core, ctx.params.implied_role_id);
        const exists = (await impliedEdges(core)).some(
          (e) => e.prior_role_id === prior.id && e.implied_role_id === implied.id,
        );
        if (!exists) throw notFoundEntity("implied role", `${prior.id} implies ${implied.id}`);
        if (ctx.method === "HEAD") return noContent();
        return {
          role_inference: { prior_role: brief(ctx, prior), implies: brief(ctx, implied) },
          links: { self: `${ctx.serviceUrl}/v3/roles/${prior.id}/implies/${implied.id}` },
        };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/roles/:prior_role_id/implies/:implied_role_id",
      policy: "identity:delete_implied_role",
      handler: async (ctx) => {
        await getRole(core, ctx.params.prior_role_id);
        await getRole(core, ctx.params.implied_role_id);
        if (!(await removeImplication(core, ctx.params.prior_role_id, ctx.params.implied_role_id)))
          throw notFoundEntity(
            "implied role",
            `${ctx.params.prior_role_id} implies ${ctx.params.implied_role_id}`,
          );
        await svc.revocations.add({ role_id: ctx.params.implied_role_id });
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v3/role_inferences",
      policy: "identity:list_role_inference_rules",
      handler: async (ctx) => {
        const edges = await impliedEdges(core);
        const priors = [...new Set(edges.map((e) => e.prior_role_id))];
        const out = [];
        for (const p of priors) {
          const prior = await getRole(core, p);
          const implies = await Promise.all(
            edges
              .filter((e) => e.prior_role_id === p)
              .map(async (e) => brief(ctx, await getRole(core, e.implied_role_id))),
          );
          out.push({ prior_role: brief(ctx, prior), implies });
        }
        return { role_inferences: out, links: { self: `${ctx.serviceUrl}/v3/role_inferences` } };
      },
    }),
  ];
}
