import { Type } from "@sinclair/typebox";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { DEFAULT_DOMAIN_ID, type IdentityCore } from "../core.js";
import type { IdentityService } from "../service.js";
import {
  createDomainConfig,
  defaultDomainConfig,
  deleteDomainConfig,
  getDomainConfig,
  hasConfig,
  invalidConfig,
  updateDomainConfig,
} from "../store/domain-config.js";
import { getDomain } from "../store/projects.js";

const ConfigBody = Type.Object({ config: Type.Optional(Type.Unknown()) }, { additionalProperties: true });

const SECURITY_COMPLIANCE = "security_compliance";
const READABLE_COMPLIANCE = ["password_regex", "password_regex_description"];

/** The password rules anyone may read (Keystone's get_security_compliance_config), from Stratus's config. */
function securityComplianceConfig(core: IdentityCore, domainId: string, option?: string) {
  if (domainId !== DEFAULT_DOMAIN_ID)
    throw invalidConfig(
      "Reading security compliance information for any domain other than the default domain is not allowed or supported",
    );
  if (option && !READABLE_COMPLIANCE.includes(option))
    throw invalidConfig(
      "Reading security compliance values other than password_regex and password_regex_description is not allowed",
    );
  const sc = (
    core.cfg.identity as {
      securityCompliance?: { passwordRegex?: string; passwordRegexDescription?: string };
    }
  ).securityCompliance;
  const values: Record<string, unknown> = {
    password_regex: sc?.passwordRegex ?? null,
    password_regex_description: sc?.passwordRegexDescription ?? null,
  };
  return option ? { [option]: values[option] } : { [SECURITY_COMPLIANCE]: values };
}

/** Routes for /v3/domains/{domain_id}/config[/{group}[/{option}]] and /v3/domains/config/.../default. */
export function domainConfigRoutes(svc: IdentityService): Route[] {
  const core = svc.core;
  type P = { domain_id: string; group?: string; option?: string };
  const params = (ctx: RequestCtx<any, any, any>) => ctx.params as P;

  const show = async (ctx: RequestCtx<any, any, any>) => {
    const { domain_id, group, option } = params(ctx);
    // Like Keystone: enforce first, then say whether the domain exists, so its existence does not leak.
    if (group === SECURITY_COMPLIANCE) {
      ctx.authorize("identity:get_security_compliance_domain_config", ctx.params);
      const config = securityComplianceConfig(core, domain_id, option);
      await getDomain(core, domain_id);
      return { config };
    }
    ctx.authorize("identity:get_domain_config", ctx.params);
    await getDomain(core, domain_id);
    return { config: await getDomainConfig(core, domain_id, group, option) };
  };
  const update = async (ctx: RequestCtx<{ config?: unknown }, any, any>) => {
    const { domain_id, group, option } = params(ctx);
    await getDomain(core, domain_id);
    return { config: await updateDomainConfig(core, domain_id, ctx.body.config ?? {}, group, option) };
  };
  const remove = async (ctx: RequestCtx<any, any, any>) => {
    const { domain_id, group, option } = params(ctx);
    await getDomain(core, domain_id);
    await deleteDomainConfig(core, domain_id, group, option);
    return noContent();
  };
  const showDefault = (ctx: RequestCtx<any, any, any>) => {
    const { group, option } = params(ctx);
    return { config: defaultDomainConfig(group, option) };
  };

  const routes: Route[] = [
    route({
      method: "PUT",
      path: "/v3/domains/:domain_id/config",
      policy: "identity:create_domain_config",
      body: ConfigBody,
      handler: async (ctx) => {
        await getDomain(core, ctx.params.domain_id);
        const existed = await hasConfig(core, ctx.params.domain_id);
        const config = await createDomainConfig(core, ctx.params.domain_id, ctx.body.config ?? {});
        return reply(existed ? 200 : 201, { config });
      },
    }),
  ];
  for (const suffix of ["", "/:group", "/:group/:option"]) {
    const path = `/v3/domains/:domain_id/config${suffix}`;
    routes.push(
      route({ method: ["GET", "HEAD"], path, policy: null, auth: "required", handler: show }),
      route({
        method: "PATCH",
        path,
        policy: "identity:update_domain_config",
        body: ConfigBody,
        handler: update,
      }),
      route({ method: "DELETE", path, policy: "identity:delete_domain_config", handler: remove }),
      route({
        method: ["GET", "HEAD"],
        path: `/v3/domains/config${suffix}/default`,
        policy: "identity:get_domain_config_default",
        handler: showDefault,
      }),
    );
  }
  return routes;
}
