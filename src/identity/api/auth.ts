import { Type } from "@sinclair/typebox";
import { ApiError } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import { userDomainIds, userProjectIds, userSystemRoleIds } from "../store/assignments.js";
import { listProjects } from "../store/projects.js";
import { InvalidToken, type AuthRequest } from "../tokens/service.js";
import { catalogFor, renderToken, type TokenView } from "../tokens/view.js";
import { collectionLinks, queryBool, selfLink } from "./common.js";

// Typed like Keystone's token_issue schema (keystone/auth/schema.py): a non-string id, name or password is a 400, not a crash.
const IdName = Type.Object(
  { id: Type.Optional(Type.String()), name: Type.Optional(Type.String()) },
  { additionalProperties: true },
);
const UserRef = Type.Object(
  {
    id: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    domain: Type.Optional(IdName),
  },
  { additionalProperties: true },
);
const AuthBody = Type.Object(
  {
    auth: Type.Object({
      identity: Type.Object(
        {
          methods: Type.Array(Type.String()),
          password: Type.Optional(
            Type.Object({ user: Type.Optional(UserRef) }, { additionalProperties: true }),
          ),
          token: Type.Optional(Type.Object({ id: Type.String() }, { additionalProperties: true })),
          application_credential: Type.Optional(
            Type.Object(
              {
                id: Type.Optional(Type.String()),
                name: Type.Optional(Type.String()),
                secret: Type.String(),
                user: Type.Optional(UserRef),
              },
              { additionalProperties: true },
            ),
          ),
        },
        { additionalProperties: true },
      ),
      scope: Type.Optional(
        Type.Union([
          Type.Literal("unscoped"),
          Type.Object(
            {
              project: Type.Optional(
                Type.Object(
                  {
                    id: Type.Optional(Type.String()),
                    name: Type.Optional(Type.String()),
                    domain: Type.Optional(IdName),
                  },
                  { additionalProperties: true },
                ),
              ),
              domain: Type.Optional(IdName),
              system: Type.Optional(
                Type.Object({ all: Type.Optional(Type.Boolean()) }, { additionalProperties: true }),
              ),
            },
            { additionalProperties: true },
          ),
        ]),
      ),
    }),
  },
  { additionalProperties: true },
);

const TokenQuery = Type.Object(
  { nocatalog: Type.Optional(Type.String()), allow_expired: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

/** Routes under /v3/auth: issue, validate, check and revoke tokens; what the caller can scope to. */
export function authRoutes(svc: IdentityService): Route[] {
  const subject = async (ctx: RequestCtx<any, any, any>): Promise<TokenView> => {
    const id = ctx.headers["x-subject-token"];
    if (typeof id !== "string" || !id)
      throw new ApiError(404, "Could not find token: X-Subject-Token header is missing.");
    try {
      return await svc.tokens.validate(id);
    } catch (e) {
      if (e instanceof InvalidToken) throw e;
      throw e;
    }
  };
  const checkSubject = async (ctx: RequestCtx<any, any, any>, rule: string): Promise<TokenView> => {
    const v = await subject(ctx);
    ctx.authorize(rule, { "target.token.user_id": v.payload.userId });
    return v;
  };
  const current = async (ctx: RequestCtx<any, any, any>): Promise<TokenView> =>
    svc.tokens.validate(ctx.auth!.token);
  return [
    route({
      method: "POST",
      path: "/v3/auth/tokens",
      policy: null,
      auth: "none",
      body: AuthBody,
      query: TokenQuery,
      handler: async (ctx) => {
        const { id, view } = await svc.tokens.issue(ctx.body.auth as unknown as AuthRequest);
        const nocatalog = queryBool(ctx.query.nocatalog, "nocatalog") ?? false;
        return reply(201, renderToken(view, nocatalog ? null : await svc.tokens.catalogEntries()), {
          "x-subject-token": id,
        });
      },
    }),
    route({
      method: "GET",
      path: "/v3/auth/tokens",
      policy: null,
      auth: "required",
      query: TokenQuery,
      handler: async (ctx) => {
        const v = await checkSubject(ctx, "identity:validate_token");
        const nocatalog = queryBool(ctx.query.nocatalog, "nocatalog") ?? false;
        return reply(200, renderToken(v, nocatalog ? null : await svc.tokens.catalogEntries()), {
          "x-subject-token": v.id,
        });
      },
    }),
    route({
      method: "HEAD",
      path: "/v3/auth/tokens",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const v = await checkSubject(ctx, "identity:check_token");
        return reply(200, undefined, { "x-subject-token": v.id });
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/auth/tokens",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const v = await checkSubject(ctx, "identity:revoke_token");
        await svc.tokens.revoke(v);
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v3/auth/catalog",
      policy: "identity:get_auth_catalog",
      handler: async (ctx) => {
        const v = await current(ctx);
        if (!v.scoped) throw new ApiError(403, "A scoped token is required to list the catalog.");
        return { catalog: catalogFor(await svc.tokens.catalogEntries(), v.ctx), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "GET",
      path: "/v3/auth/projects",
      policy: "identity:get_auth_projects",
      handler: async (ctx) => {
        const ids = await userProjectIds(svc.core, ctx.auth!.userId);
        const projects = (await listProjects(svc.core, { ids, is_domain: false })).filter((p) => p.enabled);
        return {
          projects: projects.map((p) => ({
            id: p.id,
            name: p.name,
            domain_id: p.domain_id,
            description: p.description,
            enabled: p.enabled,
            parent_id: p.parent_id,
            is_domain: false,
            tags: p.tags,
            options: p.options,
            links: selfLink(ctx, `projects/${p.id}`),
          })),
          links: collectionLinks(ctx),
        };
      },
    }),
    route({
      method: "GET",
      path: "/v3/auth/domains",
      policy: "identity:get_auth_domains",
      handler: async (ctx) => {
        const ids = await userDomainIds(svc.core, ctx.auth!.userId);
        const domains = (await listProjects(svc.core, { ids, is_domain: true })).filter((p) => p.enabled);
        return {
          domains: domains.map((d) => ({
            id: d.id,
            name: d.name,
            description: d.description,
            enabled: d.enabled,
            tags: d.tags,
            options: d.options,
            links: selfLink(ctx, `domains/${d.id}`),
          })),
          links: collectionLinks(ctx),
        };
      },
    }),
    route({
      method: "GET",
      path: "/v3/auth/system",
      policy: "identity:get_auth_system",
      handler: async (ctx) => {
        const roles = await userSystemRoleIds(svc.core, ctx.auth!.userId);
        return { system: roles.size ? [{ all: true }] : [], links: collectionLinks(ctx) };
      },
    }),
  ];
}
