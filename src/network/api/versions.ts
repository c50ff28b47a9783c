// The version documents: GET /networking/ lists the API versions (v2.0, current) without a token, as Neutron's
// root does; GET /networking/v2.0/ lists the collections of v2.0 with links.
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";

/** The collections /v2.0/ lists (name, collection). */
const RESOURCES: Array<[string, string]> = [
  ["network", "networks"],
  ["subnet", "subnets"],
  ["subnetpool", "subnetpools"],
  ["port", "ports"],
  ["security_group", "security-groups"],
  ["security_group_rule", "security-group-rules"],
];

const versionsDoc = (ctx: RequestCtx<any, any, any>) => ({
  versions: [{ id: "v2.0", status: "CURRENT", links: [{ href: `${ctx.serviceUrl}/v2.0/`, rel: "self" }] }],
});

/** GET / and GET /v2.0. */
export function versionRoutes(): Route[] {
  return [
    route({ method: "GET", path: "/", policy: null, auth: "none", handler: (ctx) => versionsDoc(ctx) }),
    route({
      method: "GET",
      path: "/v2.0",
      policy: null,
      auth: "required",
      handler: (ctx) => ({
        resources: RESOURCES.map(([name, collection]) => ({
          name,
          collection,
          links: [{ href: `${ctx.serviceUrl}/v2.0/${collection}`, rel: "self" }],
        })),
      }),
    }),
  ];
}
