import { ApiError, forbidden } from "../../shared/http/errors.js";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { notFoundEntity } from "../errors.js";
import type { IdentityService } from "../service.js";
import { findAppCredForAuth } from "../store/appcreds.js";
import { deleteCredential } from "../store/credentials.js";
import {
  createEc2Credential,
  findEc2Credential,
  listEc2Credentials,
  toEc2,
  type Ec2Credential,
} from "../store/ec2.js";
import { getProject } from "../store/projects.js";
import { getUser } from "../store/users.js";
import { collectionLinks } from "./common.js";

/** Routes for /v3/users/{user_id}/credentials/OS-EC2: EC2 key pairs, kept as "ec2" v3 credentials. */
export function ec2Routes(svc: IdentityService): Route[] {
  const core = svc.core;
  const base = "/v3/users/:user_id/credentials/OS-EC2";

  const render = (ctx: RequestCtx<any, any, any>, c: Ec2Credential) => ({
    ...c,
    links: { self: `${ctx.serviceUrl}/v3/users/${c.user_id}/credentials/OS-EC2/${c.access}` },
  });

  /** The caller's trust, if it holds a trust-scoped token. */
  const callerTrust = async (ctx: RequestCtx<any, any, any>): Promise<string | null> =>
    ctx.auth ? ((await svc.tokens.validate(ctx.auth.token)).payload.trustId ?? null) : null;

  /** Keystone: a delegated token (trust or application credential) only reaches credentials of its own project. */
  const delegatedMismatch = async (ctx: RequestCtx<any, any, any>, projectId: string | null) => {
    const delegated = !!ctx.auth?.appCredId || !!(await callerTrust(ctx));
    return delegated && projectId !== ctx.auth?.projectId;
  };
  const checkDelegation = async (ctx: RequestCtx<any, any, any>, projectId: string | null) => {
    if (await delegatedMismatch(ctx, projectId))
      throw forbidden(
        "You are not authorized to perform the requested action: EC2 credential project does not match the project scope of the delegated token.",
      );
  };

  /** The credential named by the path's access key; Keystone builds the policy target from it (404 first). */
  const load = async (ctx: RequestCtx<any, any, Record<string, string>>) => {
    const c = await findEc2Credential(core, ctx.params.credential_id);
    if (!c || c.user_id !== ctx.params.user_id) throw notFoundEntity("credential", ctx.params.credential_id);
    return c;
  };
  const target = async (ctx: RequestCtx<any, any, Record<string, string>>) => ({
    ...ctx.params,
    "target.credential.user_id": (await load(ctx)).user_id,
  });

  return [
    route({
      method: "GET",
      path: base,
      policy: "identity:ec2_list_credentials",
      handler: async (ctx) => {
        await getUser(core, ctx.params.user_id);
        const out = [];
        for (const c of await listEc2Credentials(core, ctx.params.user_id))
          if (!(await delegatedMismatch(ctx, c.project_id))) out.push(render(ctx, toEc2(c)));
        return { credentials: out, links: collectionLinks(ctx) };
      },
    }),
    route({
      method: "POST",
      path: base,
      policy: "identity:ec2_create_credential",
      target: (ctx) => ({ ...ctx.params, "target.credential.user_id": ctx.params.user_id }),
      handler: async (ctx) => {
        if (ctx.auth?.appCredId) {
          const ac = await findAppCredForAuth(core, { id: ctx.auth.appCredId });
          if (!ac?.unrestricted)
            throw forbidden(
              "You are not authorized to perform the requested action: Using method 'application_credential' is not allowed for managing additional application credentials.",
            );
        }
        await getUser(core, ctx.params.user_id);
        const body = (ctx.body ?? {}) as Record<string, unknown>;
        const tenant = body.tenant_id;
        if (tenant !== undefined && tenant !== null && typeof tenant !== "string")
          throw new ApiError(400, "Invalid input for field 'tenant_id': expected a string.");
        const project = await getProject(core, typeof tenant === "string" ? tenant : "None");
        await checkDelegation(ctx, project.id);
        const c = await createEc2Credential(core, {
          user_id: ctx.params.user_id,
          project_id: project.id,
          trust_id: await callerTrust(ctx),
        });
        return reply(201, { credential: render(ctx, toEc2(c)) });
      },
    }),
    route({
      method: "GET",
      path: `${base}/:credential_id`,
      policy: "identity:ec2_get_credential",
      target,
      handler: async (ctx) => {
        await getUser(core, ctx.params.user_id);
        const c = await load(ctx);
        await checkDelegation(ctx, c.project_id);
        return { credential: render(ctx, toEc2(c)) };
      },
    }),
    route({
      method: "DELETE",
      path: `${base}/:credential_id`,
      policy: "identity:ec2_delete_credential",
      target,
      handler: async (ctx) => {
        await getUser(core, ctx.params.user_id);
        const c = await load(ctx);
        await checkDelegation(ctx, c.project_id);
        await deleteCredential(core, c.id);
        return noContent();
      },
    }),
  ];
}
