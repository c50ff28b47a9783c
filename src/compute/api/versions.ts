import { bounds } from "../../shared/http/microversion.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { computeMicroversions } from "./microversions.js";

function entries(ctx: RequestCtx<any, any, any>): Array<Record<string, unknown>> {
  const { min, max } = bounds(computeMicroversions);
  return [
    {
      id: "v2.0",
      status: "SUPPORTED",
      version: "",
      min_version: "",
      updated: "2011-01-21T11:33:21Z",
      links: [{ rel: "self", href: `${ctx.serviceUrl}/v2/` }],
    },
    {
      id: "v2.1",
      status: "CURRENT",
      version: max.toString(),
      min_version: min.toString(),
      updated: "2013-07-23T11:33:21Z",
      links: [{ rel: "self", href: `${ctx.serviceUrl}/v2.1/` }],
    },
  ];
}

/** GET /compute (200 with both versions, as Nova answers at its root) and GET /compute/v2.1 (one version). */
export function versionRoutes(): Route[] {
  return [
    route({
      method: "GET",
      path: "/",
      policy: null,
      auth: "none",
      handler: (ctx) => ({ versions: entries(ctx) }),
    }),
    route({
      method: "GET",
      path: "/v2.1",
      policy: null,
      auth: "none",
      handler: (ctx) => {
        const v = entries(ctx)[1];
        return {
          version: {
            ...v,
            links: [
              { rel: "self", href: `${ctx.serviceUrl}/v2.1/` },
              { rel: "describedby", type: "text/html", href: "http://docs.openstack.org/" },
            ],
            "media-types": [
              { base: "application/json", type: "application/vnd.openstack.compute+json;version=2.1" },
            ],
          },
        };
      },
    }),
  ];
}
