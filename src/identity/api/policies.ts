import { Type } from "@sinclair/typebox";
import { badRequest } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { IdentityService } from "../service.js";
import {
  createPolicy,
  deletePolicy,
  getPolicy,
  listPolicies,
  updatePolicy,
  type PolicyBlob,
} from "../store/policies.js";
import { OpenObject, Wrap, collectionLinks, extras, selfLink } from "./common.js";

const KNOWN = ["id", "type", "blob", "links"];
const PolicyCreate = Wrap(
  "policy",
  OpenObject({ blob: Type.String(), type: Type.String({ maxLength: 255 }) }),
);
const PolicyUpdate = Wrap(
  "policy",
  OpenObject({ blob: Type.Optional(Type.String()), type: Type.Optional(Type.String({ maxLength: 255 })) }),
);

/** Keystone's JSON view of a policy blob. */
export function renderPolicy(ctx: RequestCtx<any, any, any>, p: PolicyBlob): Record<string, unknown> {
  return { ...p.extra, id: p.id, type: p.type, blob: p.blob, links: selfLink(ctx, `policies/${p.id}`) };
}

/** Routes for /v3/policies (deprecated in Keystone, still served and tested by tempest). */
export function policyRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  return [
    route({
      method: "GET",
      path: "/v3/policies",
      policy: "identity:list_policies",
      handler: async (ctx) => {
        const ps = await listPolicies(core, { type: ctx.query.type });
        return { policies: ps.map((p) => renderPolicy(ctx, p)), links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: "/v3/policies",
      policy: "identity:create_policy",
      body: PolicyCreate,
      handler: async (ctx) => {
        const b = ctx.body.policy;
        const p = await createPolicy(core, { type: b.type, blob: b.blob, extra: extras(b, KNOWN) });
        return reply(201, { policy: renderPolicy(ctx, p) });
      },
    }),
    route({
      method: "GET",
      path: "/v3/policies/:policy_id",
      policy: "identity:get_policy",
      handler: async (ctx) => ({ policy: renderPolicy(ctx, await getPolicy(core, ctx.params.policy_id)) }),
    }),
    route({
      method: "PATCH",
      path: "/v3/policies/:policy_id",
      policy: "identity:update_policy",
      body: PolicyUpdate,
      handler: async (ctx) => {
        const b = ctx.body.policy;
        const bodyId = (b as Record<string, unknown>).id;
        if (bodyId !== undefined && bodyId !== null && bodyId !== ctx.params.policy_id)
          throw badRequest("Cannot change ID");
        const p = await getPolicy(core, ctx.params.policy_id);
        return {
          policy: renderPolicy(
            ctx,
            await updatePolicy(core, p, { type: b.type, blob: b.blob, extra: extras(b, KNOWN) }),
          ),
        };
      },
    }),
    route({
      method: "DELETE",
      path: "/v3/policies/:policy_id",
      policy: "identity:delete_policy",
      handler: async (ctx) => {
        await getPolicy(core, ctx.params.policy_id);
        await deletePolicy(core, ctx.params.policy_id);
        return noContent();
      },
    }),
  ];
}
