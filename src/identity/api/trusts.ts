import { Type } from "@sinclair/typebox";
import { badRequest, forbidden } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { notFoundEntity } from "../errors.js";
import type { IdentityService } from "../service.js";
import { userProjectRoleIds } from "../store/assignments.js";
import { getProject } from "../store/projects.js";
import { allRoles, listRoles, type Role } from "../store/roles.js";
import {
  createTrust,
  deleteTrust,
  getTrust,
  listTrusts,
  parseExpiry,
  trustPedigree,
  type Trust,
} from "../store/trusts.js";
import { getUser } from "../store/users.js";
import { parseTime } from "../time.js";
import { NStr, OpenObject, Wrap, collectionLinks, selfLink } from "./common.js";
import { renderRole } from "./roles.js";

/** Keystone's [trust] max_redelegation_count default. */
export const MAX_REDELEGATION_COUNT = 3;

const KNOWN = [
  "id",
  "trustor_user_id",
  "trustee_user_id",
  "project_id",
  "impersonation",
  "expires_at",
  "remaining_uses",
  "allow_redelegation",
  "redelegation_count",
  "redelegated_trust_id",
  "roles",
  "roles_links",
  "links",
  "deleted_at",
];
const IdString = Type.String({ minLength: 1, maxLength: 64, pattern: "^[a-zA-Z0-9-]+$" });
const RoleRef = Type.Union([
  Type.Object({ id: IdString }, { additionalProperties: false }),
  Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false }),
]);
const TrustCreate = Wrap(
  "trust",
  OpenObject({
    trustor_user_id: Type.String(),
    trustee_user_id: Type.String(),
    impersonation: Type.Boolean(),
    project_id: Type.Optional(NStr()),
    remaining_uses: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    expires_at: Type.Optional(NStr()),
    allow_redelegation: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    redelegation_count: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
    redelegated_trust_id: Type.Optional(NStr()),
    roles: Type.Optional(Type.Array(RoleRef)),
  }),
);
const ListQuery = Type.Object(
  { trustor_user_id: Type.Optional(Type.String()), trustee_user_id: Type.Optional(Type.String()) },
  { additionalProperties: true },
);

const denied = (why: string) => forbidden(`You are not authorized to perform the requested action: ${why}.`);

/** Keystone's trust view (list entries leave out the roles). */
function renderTrust(
  ctx: RequestCtx<any, any, any>,
  t: Trust,
  roles: Map<string, Role> | null,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...t.extra,
    id: t.id,
    trustor_user_id: t.trustor_user_id,
    trustee_user_id: t.trustee_user_id,
    project_id: t.project_id,
    impersonation: t.impersonation,
    expires_at: t.expires_at,
    remaining_uses: t.remaining_uses,
    redelegated_trust_id: t.redelegated_trust_id,
    redelegation_count: t.redelegation_count,
    deleted_at: null,
    links: selfLink(ctx, `OS-TRUST/trusts/${t.id}`),
  };
  if (roles) {
    out.roles = t.role_ids.flatMap((id) => {
      const r = roles.get(id);
      return r ? [renderRole(ctx, r)] : [];
    });
    out.roles_links = {
      self: `${ctx.serviceUrl}/v3/OS-TRUST/trusts/${t.id}/roles`,
      next: null,
      previous: null,
    };
  }
  return out;
}

/** Keystone's _validate_redelegation: what a trust redelegated from `parent` may ask for. */
function validateRedelegation(
  parent: Trust,
  t: { remaining_uses: number | null; expires_at: string | null; role_ids: string[]; impersonation: boolean },
): void {
  const depth = parent.redelegation_count ?? 0;
  if (!(depth > 0 && depth <= MAX_REDELEGATION_COUNT))
    throw forbidden(
      `Remaining redelegation depth of ${depth} out of allowed range of [0..${MAX_REDELEGATION_COUNT}]`,
    );
  if (t.remaining_uses !== null)
    throw forbidden(
      `Field "remaining_uses" is set to ${t.remaining_uses} while it must not be set in order to redelegate a trust`,
    );
  if (t.expires_at) {
    if (parent.expires_at && parseTime(parent.expires_at) < parseTime(t.expires_at))
      throw forbidden("Requested expiration time is more than redelegated trust can provide");
  } else t.expires_at = parent.expires_at;
  if (!t.role_ids.every((r) => parent.role_ids.includes(r)))
    throw forbidden("Some of requested roles are not in redelegated trust");
  if (!parent.impersonation && t.impersonation)
    throw forbidden(
      `Impersonation is not allowed because redelegated trust does not specify impersonation. Redelegated trust id: ${parent.id}`,
    );
}

/** Routes for /v3/OS-TRUST/trusts. */
export function trustRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  const P = "/v3/OS-TRUST/trusts";

  /** Keystone: application credential tokens may not read or manage trusts. */
  const blockAppCred = (ctx: RequestCtx<any, any, any>) => {
    if (ctx.auth?.appCredId)
      throw denied("Using method 'application_credential' is not allowed for managing trusts");
  };
  const callerTrustId = async (ctx: RequestCtx<any, any, any>): Promise<string | null> =>
    ctx.auth ? ((await svc.tokens.validate(ctx.auth.token)).payload.trustId ?? null) : null;
  const trustTarget = async (ctx: RequestCtx<any, any, Record<string, string>>) => {
    const t = await getTrust(core, ctx.params.trust_id);
    return {
      ...ctx.params,
      "target.trust.trustor_user_id": t.trustor_user_id,
      "target.trust.trustee_user_id": t.trustee_user_id,
    };
  };

  /** Role ids from the request's [{id}|{name}] (names are global roles, as Keystone's get_unique_role_by_name). */
  const roleIds = async (refs: Array<{ id?: string; name?: string }>): Promise<string[]> => {
    const out: string[] = [];
    for (const r of refs) {
      if (r.id) out.push(r.id);
      else {
        const found = await listRoles(core, { name: r.name });
        if (found.length !== 1) throw notFoundEntity("role", r.name as string);
        out.push(found[0].id);
      }
    }
    return [...new Set(out)];
  };

  return [
    route({
      method: "GET",
      path: P,
      policy: null,
      auth: "required",
      query: ListQuery,
      handler: async (ctx) => {
        const { trustor_user_id: trustor, trustee_user_id: trustee } = ctx.query;
        if (trustor)
          ctx.authorize("identity:list_trusts_for_trustor", { "target.trust.trustor_user_id": trustor });
        else if (trustee)
          ctx.authorize("identity:list_trusts_for_trustee", { "target.trust.trustee_user_id": trustee });
        else ctx.authorize("identity:list_trusts", {});
        blockAppCred(ctx);
        let trusts: Trust[] = [];
        if (!Object.keys(ctx.query).length) trusts = await listTrusts(core);
        else if (trustor) trusts = await listTrusts(core, { trustor_user_id: trustor });
        else if (trustee) trusts = await listTrusts(core, { trustee_user_id: trustee });
        return { trusts: trusts.map((t) => renderTrust(ctx, t, null)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: P,
      policy: "identity:create_trust",
      target: (ctx) => ({ "target.trust.trustor_user_id": ctx.body.trust.trustor_user_id }),
      body: TrustCreate,
      handler: async (ctx) => {
        const b = ctx.body.trust;
        blockAppCred(ctx);
        if (b.project_id && !b.roles?.length) throw denied("At least one role should be specified");
        if (ctx.auth?.userId !== b.trustor_user_id)
          throw denied("The authenticated user should match the trustor");
        await getUser(core, b.trustee_user_id);
        const roles = await roleIds(b.roles ?? []);
        // The trustor must hold every delegated role on the project (a trust without a project delegates none).
        const held = new Set<string>();
        if (b.project_id) {
          const p = await getProject(core, b.project_id);
          for (const r of await userProjectRoleIds(core, b.trustor_user_id, p.id, p.domain_id as string))
            held.add(r);
        }
        for (const r of roles) if (!held.has(r)) throw notFoundEntity("role", r);
        const t = {
          remaining_uses: b.remaining_uses ?? null,
          expires_at: b.expires_at ? parseExpiry(b.expires_at) : null,
          role_ids: roles,
          impersonation: b.impersonation,
        };
        // Redelegation (Keystone's create_trust): a trust-scoped caller redelegates its own trust.
        const requested = b.redelegation_count ?? null;
        const redelegatable = !!b.allow_redelegation && requested !== 0;
        let count: number | null = b.redelegation_count === undefined ? null : requested;
        let countGiven = b.redelegation_count !== undefined;
        if (!redelegatable) {
          count = 0;
          countGiven = true;
        } else {
          if (requested && requested > MAX_REDELEGATION_COUNT)
            throw forbidden(
              `Requested redelegation depth of ${requested} is greater than allowed ${MAX_REDELEGATION_COUNT}`,
            );
          if (t.remaining_uses !== null)
            throw badRequest("remaining_uses must not be set if redelegation is allowed");
        }
        const parentId = await callerTrustId(ctx);
        let redelegatedFrom: string | null = null;
        if (parentId) {
          const parent = await getTrust(core, parentId);
          redelegatedFrom = parent.id;
          const remaining = (parent.redelegation_count ?? 0) - 1;
          if (redelegatable && requested && requested !== remaining)
            throw forbidden(
              'Modifying "redelegation_count" upon redelegation is forbidden. Omitting this parameter is advised.',
            );
          if (!countGiven) {
            count = remaining;
            countGiven = true;
          }
          for (const anc of await trustPedigree(core, parent)) validateRedelegation(anc, t);
        }
        const created = await createTrust(core, {
          trustor_user_id: b.trustor_user_id,
          trustee_user_id: b.trustee_user_id,
          project_id: b.project_id ?? null,
          impersonation: b.impersonation,
          expires_at: t.expires_at,
          remaining_uses: t.remaining_uses,
          redelegated_trust_id: redelegatedFrom,
          redelegation_count: countGiven && count !== null ? count : MAX_REDELEGATION_COUNT,
          role_ids: roles,
          extra: Object.fromEntries(Object.entries(b).filter(([k]) => !KNOWN.includes(k))),
        });
        return reply(201, { trust: renderTrust(ctx, created, await allRoles(core)) });
      },
    }),
    route({
      method: ["GET", "HEAD"],
      path: `${P}/:trust_id`,
      policy: "identity:get_trust",
      target: trustTarget,
      handler: async (ctx) => {
        blockAppCred(ctx);
        const t = await getTrust(core, ctx.params.trust_id);
        return { trust: renderTrust(ctx, t, await allRoles(core)) };
      },
    }),
    route({
      method: "DELETE",
      path: `${P}/:trust_id`,
      policy: "identity:delete_trust",
      target: trustTarget,
      handler: async (ctx) => {
        blockAppCred(ctx);
        const ids = await deleteTrust(core, ctx.params.trust_id);
        // Tokens issued through the trust (or one redelegated from it) stop working everywhere.
        for (const id of ids) await svc.revocations.add({ trust_id: id });
        return noContent();
      },
    }),
    route({
      method: ["GET", "HEAD"],
      path: `${P}/:trust_id/roles`,
      policy: "identity:list_roles_for_trust",
      target: trustTarget,
      handler: async (ctx) => {
        blockAppCred(ctx);
        const t = await getTrust(core, ctx.params.trust_id);
        const rendered = renderTrust(ctx, t, await allRoles(core));
        return { roles: rendered.roles, links: rendered.roles_links };
      },
    }),
    route({
      method: ["GET", "HEAD"],
      path: `${P}/:trust_id/roles/:role_id`,
      policy: "identity:get_role_for_trust",
      target: trustTarget,
      handler: async (ctx) => {
        blockAppCred(ctx);
        const t = await getTrust(core, ctx.params.trust_id);
        const role = t.role_ids.includes(ctx.params.role_id)
          ? (await allRoles(core)).get(ctx.params.role_id)
          : undefined;
        if (!role) throw notFoundEntity("role", ctx.params.role_id);
        return { role: renderRole(ctx, role) };
      },
    }),
  ];
}
