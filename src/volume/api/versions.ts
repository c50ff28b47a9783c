// The version documents: GET /volume/ lists v3 (300 Multiple Choices, as Cinder's root answers) and GET /volume/v3/
// describes v3 with its microversion range.
import { bounds } from "../../shared/http/microversion.js";
import { reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { volumeMicroversions } from "./microversions.js";

function v3(ctx: RequestCtx<any, any, any>): Record<string, unknown> {
  const { min, max } = bounds(volumeMicroversions);
  return {
    id: "v3.0",
    status: "CURRENT",
    version: max.toString(),
    min_version: min.toString(),
    updated: "2022-08-31T00:00:00Z",
    links: [
      { rel: "describedby", type: "text/html", href: "https://docs.openstack.org/" },
      { rel: "self", href: `${ctx.serviceUrl}/v3/` },
    ],
    "media-types": [{ base: "application/json", type: "application/vnd.openstack.volume+json;version=3" }],
  };
}

/** GET / and GET /v3. */
export function versionRoutes(): Route[] {
  return [
    route({
      method: "GET",
      path: "/",
      policy: null,
      auth: "none",
      handler: (ctx) => reply(300, { versions: [v3(ctx)] }),
    }),
    route({
      method: "GET",
      path: "/v3",
      policy: null,
      auth: "none",
      handler: (ctx) => ({ versions: [v3(ctx)] }),
    }),
  ];
}
