import { Type } from "@sinclair/typebox";
import { badRequest } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { DEFAULT_DOMAIN_ID } from "../core.js";
import { authFailed } from "../errors.js";
import { notFoundEntity } from "../errors.js";
import type { IdentityService } from "../service.js";
import { userProjectIds } from "../store/assignments.js";
import {
  assertNotLocked,
  checkPasswordRules,
  checkSelfServiceChange,
  recordAuthFailure,
  recordPassword,
} from "../store/password-policy.js";
import { findProject, getDomain, listProjects } from "../store/projects.js";
import { listGroups } from "../store/groups.js";
import {
  createUser,
  deleteUser,
  findUser,
  findUserForAuth,
  getUser,
  listUsers,
  updateUser,
  type User,
} from "../store/users.js";
import { Name, NStr, OpenObject, Wrap, collectionLinks, extras, queryBool, selfLink } from "./common.js";
import { renderProject } from "./projects.js";
import { renderGroup } from "./groups.js";

const KNOWN = [
  "id",
  "name",
  "domain_id",
  "enabled",
  "default_project_id",
  "password",
  "options",
  "links",
  "password_expires_at",
];
const UserBody = (required: boolean) =>
  Wrap(
    "user",
    OpenObject({
      name: required ? Name : Type.Optional(Name),
      domain_id: Type.Optional(Type.String()),
      enabled: Type.Optional(Type.Boolean()),
      default_project_id: Type.Optional(NStr()),
      password: Type.Optional(NStr({ maxLength: 4096 })),
      options: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  );

/** Keystone's JSON view of a user. */
export function renderUser(ctx: RequestCtx<any, any, any>, u: User): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...u.extra,
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: u.enabled,
    password_expires_at: u.password_expires_at,
    options: u.options,
    links: selfLink(ctx, `users/${u.id}`),
  };
  if (u.default_project_id) out.default_project_id = u.default_project_id;
  return out;
}

/** Routes for /v3/users, password change, and a user's groups and projects. */
export function userRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const target = async (ctx: RequestCtx<any, any, Record<string, string>>) => {
    const u = await findUser(core, ctx.params.user_id);
    return {
      "target.user.id": ctx.params.user_id,
      "target.user.domain_id": u?.domain_id ?? null,
      user_id: ctx.params.user_id,
    };
  };
  const checkDefaultProject = async (id: string | null | undefined) => {
    if (!id) return;
    const p = await findProject(core, id);
    if (!p) throw badRequest(`Invalid input: default_project_id ${id} does not exist.`);
    if (p.is_domain) throw badRequest("Invalid input: default_project_id may not be a domain.");
  };
  return [
    route({
      method: "GET",
      path: "/v3/users",
      policy: "identity:list_users",
      // As in Keystone: a domain-scoped token is checked against its own domain and sees only that domain's entries.
      target: (ctx) => ({ "target.domain_id": ctx.auth?.domainId ?? null }),
      handler: async (ctx) => {
        const q = ctx.query as Record<string, string | undefined>;
        let pea: { op: "lt" | "lte" | "gt" | "gte" | "eq" | "neq"; value: string } | undefined;
        if (q.password_expires_at) {
          const m = /^(?:(lt|lte|gt|gte|eq|neq):)?(.+)$/.exec(q.password_expires_at);
          const when = new Date(m?.[2] ?? "");
          if (Number.isNaN(when.getTime()))
            throw badRequest(
              `Invalid input for query parameter 'password_expires_at': ${q.password_expires_at} is not a timestamp.`,
            );
          pea = { op: (m?.[1] as "lt") ?? "eq", value: when.toISOString() };
        }
        const users = (
          await listUsers(core, {
            domain_id: q.domain_id,
            name: q.name,
            enabled: queryBool(q.enabled, "enabled"),
            password_expires_at: pea,
          })
        ).filter((u) => !ctx.auth?.domainId || u.domain_id === ctx.auth.domainId);
        return { users: users.map((u) => renderUser(ctx, u)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/users",
      policy: "identity:create_user",
      body: UserBody(true),
      target: (ctx) => ({
        "target.user.domain_id": ctx.body.user.domain_id ?? ctx.auth?.domainId ?? DEFAULT_DOMAIN_ID,
      }),
      handler: async (ctx) => {
        const b = ctx.body.user;
        const domainId = b.domain_id ?? ctx.auth?.domainId ?? DEFAULT_DOMAIN_ID;
        await getDomain(core, domainId).catch(() => {
          throw notFoundEntity("domain", domainId);
        });
        await checkDefaultProject(b.default_project_id);
        checkPasswordRules(core, b.password);
        const u = await createUser(core, {
          name: b.name as string,
          domain_id: domainId,
          enabled: b.enabled ?? true,
          default_project_id: b.default_project_id ?? null,
          password: b.password ?? null,
          options: b.options,
          extra: extras(b, KNOWN),
        });
        if (b.password) await recordPassword(core, u.id, false);
        return reply(201, { user: renderUser(ctx, u) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/users/:user_id",
      policy: "identity:get_user",
      target,
      handler: async (ctx) => ({ user: renderUser(ctx, await getUser(core, ctx.params.user_id)) }),
    }),
    route({
      method: "PATCH",
      path: "/v3/users/:user_id",
      policy: "identity:update_user",
      target,
      body: UserBody(false),
      handler: async (ctx) => {
        const u = await getUser(core, ctx.params.user_id);
        const b = ctx.body.user;
        if (b.domain_id !== undefined && b.domain_id !== u.domain_id)
          throw badRequest("Invalid input: a user's domain_id cannot be changed.");
        await checkDefaultProject(b.default_project_id);
        checkPasswordRules(core, b.password);
        const updated = await updateUser(core, u, {
          name: b.name,
          enabled: b.enabled,
          default_project_id: b.default_project_id,
          password: b.password,
          options: b.options,
          extra: extras(b, KNOWN),
        });
        if (b.password) await recordPassword(core, u.id, false);
        if ((b.enabled === false && u.enabled) || b.password !== undefined)
          await svc.revocations.add({ user_id: u.id });
        return { user: renderUser(ctx, updated) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/users/:user_id",
      policy: "identity:delete_user",
      target,
      handler: async (ctx) => {
        const u = await getUser(core, ctx.params.user_id);
        await deleteUser(core, u.id);
        await svc.revocations.add({ user_id: u.id });
        return noContent();
      },
    }),
    route({
      method: "POST",
      path: "/v3/users/:user_id/password",
      policy: null,
      // Unenforced in Keystone: the original password is the credential, so an expired or bad X-Auth-Token
      // (a user whose password just expired has no valid token) must not stand in the way.
      auth: "none",
      body: Type.Object(
        {
          user: Type.Object(
            {
              password: Type.String({ minLength: 1, maxLength: 4096 }),
              original_password: Type.String({ maxLength: 4096 }),
            },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
      handler: async (ctx) => {
        const u = await findUserForAuth(core, { id: ctx.params.user_id });
        if (u) await assertNotLocked(core, u);
        const ok = await core.hasher.verify(ctx.body.user.original_password, u?.password_hash ?? null);
        if (u && !ok) await recordAuthFailure(core, u);
        if (!u || !ok || !u.enabled) throw authFailed();
        checkPasswordRules(core, ctx.body.user.password);
        await checkSelfServiceChange(core, u, ctx.body.user.password);
        await updateUser(core, u, { password: ctx.body.user.password });
        await recordPassword(core, u.id, true);
        await svc.revocations.add({ user_id: u.id });
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v3/users/:user_id/groups",
      policy: "identity:list_groups_for_user",
      target,
      handler: async (ctx) => {
        await getUser(core, ctx.params.user_id);
        const groups = await listGroups(core, { user_id: ctx.params.user_id });
        return { groups: groups.map((g) => renderGroup(ctx, g)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "GET",
      path: "/v3/users/:user_id/projects",
      policy: "identity:list_user_projects",
      target,
      handler: async (ctx) => {
        await getUser(core, ctx.params.user_id);
        const q = ctx.query as Record<string, string | undefined>;
        const ids = await userProjectIds(core, ctx.params.user_id);
        const ps = await listProjects(core, {
          ids,
          is_domain: false,
          enabled: queryBool(q.enabled, "enabled"),
          name: q.name,
          domain_id: q.domain_id,
        });
        return { projects: ps.map((p) => renderProject(ctx, p)), links: collectionLinks(ctx) };
      },
    }),
  ];
}
