import { Type } from "@sinclair/typebox";
import { badRequest } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { DEFAULT_DOMAIN_ID } from "../core.js";
import { notFoundEntity } from "../errors.js";
import type { IdentityService } from "../service.js";
import {
  addMember,
  createGroup,
  deleteGroup,
  getGroup,
  listGroups,
  memberIds,
  removeMember,
  updateGroup,
  type Group,
} from "../store/groups.js";
import { getDomain } from "../store/projects.js";
import { getUser, listUsers } from "../store/users.js";
import { Name, NStr, OpenObject, Wrap, collectionLinks, extras, selfLink } from "./common.js";
import { renderUser } from "./users.js";

const KNOWN = ["id", "name", "domain_id", "description", "links"];
const Body = (required: boolean) =>
  Wrap(
    "group",
    OpenObject({
      name: required ? Name : Type.Optional(Name),
      domain_id: Type.Optional(Type.String()),
      description: Type.Optional(NStr()),
    }),
  );

/** Keystone's JSON view of a group. */
export function renderGroup(ctx: RequestCtx<any, any, any>, g: Group): Record<string, unknown> {
  return {
    ...g.extra,
    id: g.id,
    name: g.name,
    domain_id: g.domain_id,
    description: g.description,
    links: selfLink(ctx, `groups/${g.id}`),
  };
}

/** Routes for /v3/groups and membership. */
export function groupRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const target = async (ctx: RequestCtx<any, any, Record<string, string>>) => {
    const g = await getGroup(core, ctx.params.group_id).catch(() => null);
    return { "target.group.id": ctx.params.group_id, "target.group.domain_id": g?.domain_id ?? null };
  };
  return [
    route({
      method: "GET",
      path: "/v3/groups",
      policy: "identity:list_groups",
      // As in Keystone: a domain-scoped token is checked against its own domain and sees only that domain's entries.
      target: (ctx) => ({ "target.domain_id": ctx.auth?.domainId ?? null }),
      handler: async (ctx) => {
        const q = ctx.query as Record<string, string | undefined>;
        const gs = (await listGroups(core, { domain_id: q.domain_id, name: q.name })).filter(
          (g) => !ctx.auth?.domainId || g.domain_id === ctx.auth.domainId,
        );
        return { groups: gs.map((g) => renderGroup(ctx, g)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/groups",
      policy: "identity:create_group",
      body: Body(true),
      target: (ctx) => ({
        "target.group.domain_id": ctx.body.group.domain_id ?? ctx.auth?.domainId ?? DEFAULT_DOMAIN_ID,
      }),
      handler: async (ctx) => {
        const b = ctx.body.group;
        const domainId = b.domain_id ?? ctx.auth?.domainId ?? DEFAULT_DOMAIN_ID;
        await getDomain(core, domainId).catch(() => {
          throw notFoundEntity("domain", domainId);
        });
        const g = await createGroup(core, {
          name: b.name as string,
          domain_id: domainId,
          description: b.description ?? "",
          extra: extras(b, KNOWN),
        });
        return reply(201, { group: renderGroup(ctx, g) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/groups/:group_id",
      policy: "identity:get_group",
      target,
      handler: async (ctx) => ({ group: renderGroup(ctx, await getGroup(core, ctx.params.group_id)) }),
    }),
    route({
      method: "PATCH",
      path: "/v3/groups/:group_id",
      policy: "identity:update_group",
      target,
      body: Body(false),
      handler: async (ctx) => {
        const g = await getGroup(core, ctx.params.group_id);
        const b = ctx.body.group;
        if (b.domain_id !== undefined && b.domain_id !== g.domain_id)
          throw badRequest("Invalid input: a group's domain_id cannot be changed.");
        return {
          group: renderGroup(
            ctx,
            await updateGroup(core, g, { name: b.name, description: b.description, extra: extras(b, KNOWN) }),
          ),
        };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/groups/:group_id",
      policy: "identity:delete_group",
      target,
      handler: async (ctx) => {
        const g = await getGroup(core, ctx.params.group_id);
        const members = await memberIds(core, g.id);
        await deleteGroup(core, g.id);
        for (const u of members) await svc.revocations.add({ user_id: u });
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v3/groups/:group_id/users",
      policy: "identity:list_users_in_group",
      target,
      handler: async (ctx) => {
        await getGroup(core, ctx.params.group_id);
        const users = await listUsers(core, { ids: await memberIds(core, ctx.params.group_id) });
        return { users: users.map((u) => renderUser(ctx, u)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: ["HEAD", "GET"],
      path: "/v3/groups/:group_id/users/:user_id",
      policy: "identity:check_user_in_group",
      target,
      handler: async (ctx) => {
        await getGroup(core, ctx.params.group_id);
        await getUser(core, ctx.params.user_id);
        if (!(await memberIds(core, ctx.params.group_id)).includes(ctx.params.user_id))
          throw notFoundEntity("membership", `user ${ctx.params.user_id} in group ${ctx.params.group_id}`);
        return noContent();
      },
    }),
    route({
      method: "PUT",
      path: "/v3/groups/:group_id/users/:user_id",
      policy: "identity:add_user_to_group",
      target,
      handler: async (ctx) => {
        await getGroup(core, ctx.params.group_id);
        await getUser(core, ctx.params.user_id);
        await addMember(core, ctx.params.group_id, ctx.params.user_id);
        return noContent();
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/groups/:group_id/users/:user_id",
      policy: "identity:remove_user_from_group",
      target,
      handler: async (ctx) => {
        await getGroup(core, ctx.params.group_id);
        await getUser(core, ctx.params.user_id);
        if (!(await removeMember(core, ctx.params.group_id, ctx.params.user_id)))
          throw notFoundEntity("membership", `user ${ctx.params.user_id} in group ${ctx.params.group_id}`);
        await svc.revocations.add({ user_id: ctx.params.user_id });
        return noContent();
      },
    }),
  ];
}
