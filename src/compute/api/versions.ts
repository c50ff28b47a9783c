import { bounds } from "../../shared/http/microversion.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import { computeMicroversions } from "./microversions.js";

type AnyCtx = RequestCtx<any, any, any>;

function entries(ctx: AnyCtx): Array<Record<string, unknown>> {
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

/** One version's document (GET /v2/, /v2.1/): its self and describedby links and its media type. */
function versionDocument(ctx: AnyCtx, id: "v2.0" | "v2.1") {
  const v = entries(ctx).find((e) => e.id === id)!;
  const path = id === "v2.0" ? "v2" : "v2.1";
  return {
    version: {
      ...v,
      links: [
        { rel: "self", href: `${ctx.serviceUrl}/${path}/` },
        { rel: "describedby", type: "text/html", href: "http://docs.openstack.org/" },
      ],
      "media-types": [
        {
          base: "application/json",
          type: `application/vnd.openstack.compute+json;version=${id === "v2.0" ? "2" : "2.1"}`,
        },
      ],
    },
  };
}

/**
 * GET /compute (200 with both versions, as Nova answers at its root), and each version's document at the URL the
 * root links: /compute/v2.1/ and /compute/v2/ (Nova's legacy v2 endpoint; only its document is served here).
 */
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
      handler: (ctx) => versionDocument(ctx, "v2.1"),
    }),
    route({
      method: "GET",
      path: "/v2",
      policy: null,
      auth: "none",
      handler: (ctx) => versionDocument(ctx, "v2.0"),
    }),
  ];
}
