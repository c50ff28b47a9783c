import { reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";

/** The newest Identity API version Stratus speaks (Keystone Zed reports 3.14). */
export const IDENTITY_VERSION = { id: "v3.14", updated: "2020-04-07T00:00:00Z" };

const versionDoc = (ctx: RequestCtx<any, any, any>) => ({
  id: IDENTITY_VERSION.id,
  status: "stable",
  updated: IDENTITY_VERSION.updated,
  links: [{ rel: "self", href: `${ctx.serviceUrl}/v3/` }],
  "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
});

/** GET /identity (300 Multiple Choices) and GET /identity/v3 (the version document). */
export function versionRoutes(): Route[] {
  return [
    route({
      method: "GET",
      path: "/",
      policy: null,
      auth: "none",
      handler: (ctx) => reply(300, { versions: { values: [versionDoc(ctx)] } }),
    }),
    route({
      method: "GET",
      path: "/v3",
      policy: null,
      auth: "none",
      handler: (ctx) => ({ version: versionDoc(ctx) }),
    }),
  ];
}
