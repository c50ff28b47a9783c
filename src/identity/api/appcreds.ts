import { Type } from "@sinclair/typebox";
import { ApiError, badRequest, forbidden } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import {
  createAppCred,
  deleteAccessRule,
  deleteAppCred,
  findAppCredForAuth,
  getAccessRule,
  getAppCred,
  listAccessRules,
  listAppCreds,
  type AccessRuleRecord,
  type AppCred,
} from "../store/appcreds.js";
import { allRoles, listRoles } from "../store/roles.js";
import { notFoundEntity } from "../errors.js";
import { parseTime } from "../time.js";
import { NStr, Name, OpenObject, Wrap, collectionLinks, selfLink } from "./common.js";

const IdString = Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-zA-Z0-9-]+$" });
const RoleRef = Type.Union([
  Type.Object({ id: IdString }, { additionalProperties: false }),
  Type.Object({ name: Name }, { additionalProperties: false }),
]);
const AccessRuleRef = Type.Object(
  {
    id: Type.Optional(IdString),
    service: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    path: Type.Optional(Type.String({ maxLength: 225, pattern: "^/.*" })),
    method: Type.Optional(Type.String({ pattern: "^(POST|GET|HEAD|PATCH|PUT|DELETE)$" })),
  },
  { additionalProperties: false },
);
const AppCredCreate = Wrap(
  "application_credential",
  OpenObject({
    name: Name,
    description: Type.Optional(NStr()),
    secret: Type.Optional(NStr()),
    expires_at: Type.Optional(NStr()),
    roles: Type.Optional(Type.Array(RoleRef)),
    unrestricted: Type.Optional(Type.Boolean()),
    access_rules: Type.Optional(Type.Union([Type.Array(AccessRuleRef), Type.Null()])),
  }),
);

/** Keystone renders stored datetimes without a zone: 2018-02-27T18:30:59.000000. */
const naiveTime = (iso: string | null): string | null => {
  if (!iso) return null;
  const micro = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z$/.exec(iso);
  if (micro) return `${micro[1]}.${micro[2]}`;
  return new Date(parseTime(iso)).toISOString().replace(/\.(\d{3})Z$/, ".$1000");
};

/** Keep the client's sub-millisecond digits (Keystone echoes expires_at with microseconds) when the time is in UTC. */
function microIso(input: string, ms: number): string {
  const base = new Date(ms).toISOString();
  const frac = /T\d\d:\d\d:\d\d\.(\d+)(Z|z|[+-]00:?00)?$/.exec(input);
  if (!frac || (frac[2] === undefined && /[+-]\d\d:?\d\d$/.test(input))) return base;
  return base.replace(/\.\d{3}Z$/, `.${frac[1].slice(0, 6).padEnd(6, "0")}Z`);
}

const renderRule = (r: AccessRuleRecord) => ({
  id: r.id,
  service: r.service,
  path: r.path,
  method: r.method,
});

/** Keystone's JSON view of an application credential (the secret only right after creation). */
export function renderAppCred(
  ctx: RequestCtx<any, any, any>,
  c: AppCred,
  secret?: string,
): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    description: c.description,
    expires_at: naiveTime(c.expires_at),
    project_id: c.project_id,
    roles: c.roles.map((r) => ({ id: r.id, name: r.name, domain_id: r.domain_id })),
    unrestricted: c.unrestricted,
    access_rules: (c.access_rules ?? []).map(renderRule),
    ...(secret !== undefined ? { secret } : {}),
    links: selfLink(ctx, `users/${c.user_id}/application_credentials/${c.id}`),
  };
}

/** Routes for /v3/users/{user_id}/application_credentials and /v3/users/{user_id}/access_rules. */
export function appCredRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const target = (ctx: RequestCtx<any, any, Record<string, string>>) => ({
    user_id: ctx.params.user_id,
    "target.user.id": ctx.params.user_id,
  });

  /** Keystone: a token from a restricted application credential may not create or delete application credentials. */
  const requireUnrestricted = async (ctx: RequestCtx<any, any, any>): Promise<void> => {
    const a = ctx.auth;
    if (!a?.methods.includes("application_credential") || !a.appCredId) return;
    const cred = await findAppCredForAuth(core, { id: a.appCredId });
    if (!cred?.unrestricted)
      throw forbidden(
        "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.",
      );
  };

  return [
    route({
      method: "GET",
      path: "/v3/users/:user_id/application_credentials",
      policy: "identity:list_application_credentials",
      target,
      handler: async (ctx) => {
        const creds = await listAppCreds(core, ctx.params.user_id, ctx.query.name);
        return {
          application_credentials: creds.map((c) => renderAppCred(ctx, c)),
          links: collectionLinks(ctx),
        };
      },
    }),
    route({
      method: "POST",
      path: "/v3/users/:user_id/application_credentials",
      policy: "identity:create_application_credential",
      target,
      body: AppCredCreate,
      handler: async (ctx) => {
        const b = ctx.body.application_credential;
        const auth = ctx.auth!;
        await requireUnrestricted(ctx);
        if (auth.userId !== ctx.params.user_id)
          throw forbidden(
            "You are not authorized to perform the requested action: Cannot create an application credential for another user.",
          );
        if (!auth.projectId && !auth.system)
          throw badRequest(
            "Invalid application credential: an application credential must be created with a project-scoped token.",
          );

        // Roles: a subset of the roles in the caller's token, by default all of them.
        const byId = await allRoles(core);
        const tokenRoles = new Set(auth.roleIds);
        let roleIds: string[];
        if (b.roles?.length) {
          roleIds = [];
          for (const ref of b.roles) {
            let id: string;
            if ("id" in ref) id = ref.id;
            else {
              const found = await listRoles(core, { name: ref.name });
              if (!found.length) throw notFoundEntity("role", ref.name);
              id = found[0].id;
            }
            if (!tokenRoles.has(id))
              throw badRequest(
                "Invalid application credential: Cannot create an application credential with unassigned role",
              );
            if (!roleIds.includes(id)) roleIds.push(id);
          }
        } else roleIds = [...auth.roleIds];
        const roles = roleIds.map((id) => {
          const r = byId.get(id);
          return { id, name: r?.name ?? id, domain_id: r?.domain_id ?? null };
        });

        let expiresAt: string | null = null;
        if (b.expires_at) {
          const ms = parseTime(b.expires_at);
          if (Number.isNaN(ms))
            throw badRequest(
              "Timestamp not in expected format. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
            );
          if (ms < Date.now())
            throw badRequest(
              "The 'expires_at' must not be before now. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.",
            );
          expiresAt = microIso(b.expires_at, ms);
        }

        let rules: Array<{ id?: string; service: string; path: string; method: string }> | null = null;
        if (b.access_rules) {
          rules = b.access_rules.map((r) => {
            if (r.id && r.service === undefined && r.path === undefined && r.method === undefined)
              return { id: r.id, service: "", path: "", method: "" };
            if (r.service === undefined || r.path === undefined || r.method === undefined)
              throw badRequest(
                "Invalid input for field 'access_rules': each rule needs an id, or service, path and method.",
              );
            return { service: r.service, path: r.path, method: r.method };
          });
        }

        const created = await createAppCred(core, {
          name: b.name,
          description: b.description ?? null,
          secret: b.secret ?? null,
          user_id: auth.userId,
          project_id: auth.projectId,
          system: auth.projectId ? null : "all",
          expires_at: expiresAt,
          unrestricted: b.unrestricted ?? false,
          roles,
          access_rules: rules,
        });
        const { secret, ...cred } = created;
        return reply(201, { application_credential: renderAppCred(ctx, cred, secret) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/users/:user_id/application_credentials/:application_credential_id",
      policy: "identity:get_application_credential",
      target,
      handler: async (ctx) => ({
        application_credential: renderAppCred(
          ctx,
          await getAppCred(core, ctx.params.user_id, ctx.params.application_credential_id),
        ),
      }),
    }),
    route({
      method: "DELETE",
      path: "/v3/users/:user_id/application_credentials/:application_credential_id",
      policy: "identity:delete_application_credential",
      target,
      handler: async (ctx) => {
        await requireUnrestricted(ctx);
        const cred = await getAppCred(core, ctx.params.user_id, ctx.params.application_credential_id);
        await deleteAppCred(core, cred.id);
        await svc.revocations.add({ app_cred_id: cred.id });
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v3/users/:user_id/access_rules",
      policy: "identity:list_access_rules",
      target,
      handler: async (ctx) => {
        const q = ctx.query;
        const rules = (await listAccessRules(core, ctx.params.user_id)).filter(
          (r) =>
            (q.service === undefined || r.service === q.service) &&
            (q.path === undefined || r.path === q.path) &&
            (q.method === undefined || r.method === q.method),
        );
        return {
          access_rules: rules.map((r) => ({
            ...renderRule(r),
            links: selfLink(ctx, `users/${ctx.params.user_id}/access_rules/${r.id}`),
          })),
          links: collectionLinks(ctx),
        };
      },
    }),
    route({
      method: "GET",
      path: "/v3/users/:user_id/access_rules/:access_rule_id",
      policy: "identity:get_access_rule",
      target,
      handler: async (ctx) => {
        const r = await getAccessRule(core, ctx.params.user_id, ctx.params.access_rule_id);
        return {
          access_rule: {
            ...renderRule(r),
            links: selfLink(ctx, `users/${ctx.params.user_id}/access_rules/${r.id}`),
          },
        };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/users/:user_id/access_rules/:access_rule_id",
      policy: "identity:delete_access_rule",
      target,
      handler: async (ctx) => {
        const res = await deleteAccessRule(core, ctx.params.user_id, ctx.params.access_rule_id);
        if (res === "missing") throw notFoundEntity("access rule", ctx.params.access_rule_id);
        if (res === "in-use") throw new ApiError(403, "May not delete access rule in use.");
        return noContent();
      },
    }),
  ];
}
