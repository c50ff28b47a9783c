import { Type } from "@sinclair/typebox";
import { ApiError } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import { deleteAssignmentsOn } from "../store/assignments.js";
import { deleteGroup, listGroups } from "../store/groups.js";
import {
  createProject,
  deleteProjectRow,
  getDomain,
  listProjects,
  updateProject,
  type Project,
} from "../store/projects.js";
import { deleteRole, listRoles } from "../store/roles.js";
import { deleteUser, listUsers } from "../store/users.js";
import { Name64, NStr, OpenObject, Wrap, collectionLinks, extras, queryBool, selfLink } from "./common.js";

const KNOWN = ["id", "name", "description", "enabled", "tags", "options", "links", "explicit_domain_id"];
const Body = (required: boolean) =>
  Wrap(
    "domain",
    OpenObject({
      name: required ? Name64 : Type.Optional(Name64),
      description: Type.Optional(NStr()),
      enabled: Type.Optional(Type.Boolean()),
      tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 80 })),
      options: Type.Optional(Type.Object({}, { additionalProperties: true })),
      explicit_domain_id: Type.Optional(Type.String({ pattern: "^[a-zA-Z0-9-]{1,64}$" })),
    }),
  );

/** Keystone's JSON view of a domain. */
export function renderDomain(ctx: RequestCtx<any, any, any>, d: Project): Record<string, unknown> {
  return {
    ...d.extra,
    id: d.id,
    name: d.name,
    description: d.description,
    enabled: d.enabled,
    tags: d.tags,
    options: d.options,
    links: selfLink(ctx, `domains/${d.id}`),
  };
}

/** Routes for /v3/domains. */
export function domainRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const target = (ctx: RequestCtx<any, any, Record<string, string>>) => ({
    "target.domain.id": ctx.params.domain_id,
  });
  return [
    route({
      method: "GET",
      path: "/v3/domains",
      policy: "identity:list_domains",
      handler: async (ctx) => {
        const q = ctx.query as Record<string, string | undefined>;
        const ds = await listProjects(core, {
          is_domain: true,
          name: q.name,
          enabled: queryBool(q.enabled, "enabled"),
        });
        return { domains: ds.map((d) => renderDomain(ctx, d)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/domains",
      policy: "identity:create_domain",
      body: Body(true),
      handler: async (ctx) => {
        const b = ctx.body.domain;
        const d = await createProject(core, {
          id: b.explicit_domain_id,
          name: b.name as string,
          is_domain: true,
          description: b.description ?? "",
          enabled: b.enabled ?? true,
          tags: b.tags,
          options: b.options,
          extra: extras(b, KNOWN),
        });
        return reply(201, { domain: renderDomain(ctx, d) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/domains/:domain_id",
      policy: "identity:get_domain",
      target,
      handler: async (ctx) => ({ domain: renderDomain(ctx, await getDomain(core, ctx.params.domain_id)) }),
    }),
    route({
      method: "PATCH",
      path: "/v3/domains/:domain_id",
      policy: "identity:update_domain",
      target,
      body: Body(false),
      handler: async (ctx) => {
        const d = await getDomain(core, ctx.params.domain_id);
        const b = ctx.body.domain;
        const updated = await updateProject(core, d, {
          name: b.name,
          description: b.description,
          enabled: b.enabled,
          tags: b.tags,
          options: b.options,
          extra: extras(b, KNOWN),
        });
        if (b.enabled === false && d.enabled) await svc.revocations.add({ domain_id: d.id });
        return { domain: renderDomain(ctx, updated) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/domains/:domain_id",
      policy: "identity:delete_domain",
      target,
      handler: async (ctx) => {
        const d = await getDomain(core, ctx.params.domain_id);
        if (d.enabled)
          throw new ApiError(403, "Cannot delete a domain that is enabled, please disable it first.");
        // Children before parents: delete deepest projects first.
        const projects = await listProjects(core, { domain_id: d.id });
        const depth = new Map<string, number>();
        const byId = new Map(projects.map((p) => [p.id, p]));
        const depthOf = (p: Project): number => {
          if (depth.has(p.id)) return depth.get(p.id) as number;
          const parent = p.parent_id ? byId.get(p.parent_id) : undefined;
          const v = parent ? depthOf(parent) + 1 : 0;
          depth.set(p.id, v);
          return v;
        };
        for (const p of projects.sort((a, b) => depthOf(b) - depthOf(a))) {
          await deleteAssignmentsOn(core, p.id);
          await deleteProjectRow(core, p.id);
        }
        for (const u of await listUsers(core, { domain_id: d.id })) await deleteUser(core, u.id);
        for (const g of await listGroups(core, { domain_id: d.id })) await deleteGroup(core, g.id);
        for (const r of await listRoles(core, { domain_id: d.id })) await deleteRole(core, r.id);
        await deleteAssignmentsOn(core, d.id);
        await deleteProjectRow(core, d.id);
        await svc.revocations.add({ domain_id: d.id });
        return noContent();
      },
    }),
  ];
}
