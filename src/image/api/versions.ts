import { reply } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";

/** Image API versions, newest first: v2.16 is current (Glance with multiple stores and the cache API). */
const VERSIONS = ["2.16", ...Array.from({ length: 16 }, (_, i) => `2.${15 - i}`)];

function versionsDoc(ctx: RequestCtx<any, any, any>): { versions: Array<Record<string, unknown>> } {
  const href = `${ctx.serviceUrl}/v2/`;
  return {
    versions: VERSIONS.map((v, i) => ({
      id: `v${v}`,
      status: i === 0 ? "CURRENT" : "SUPPORTED",
      links: [{ rel: "self", href }],
    })),
  };
}

/** GET /image (300 Multiple Choices) and GET /image/versions (200), both the versions list. */
export function versionRoutes(): Route[] {
  return [
    route({
      method: "GET",
      path: "/",
      policy: null,
      auth: "none",
      handler: (ctx) => reply(300, versionsDoc(ctx)),
    }),
    route({
      method: "GET",
      path: "/versions",
      policy: null,
      auth: "none",
      handler: (ctx) => versionsDoc(ctx),
    }),
  ];
}
