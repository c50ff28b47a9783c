import { bounds } from "../../shared/http/microversion.js";
import { route, type Route } from "../../shared/http/route.js";
import { reply } from "../../shared/http/reply.js";
import { placementMicroversions } from "../microversions.js";
import { cacheHeaders, type Ctx } from "./common.js";

/** GET / : the version document (no token needed), with min and max microversions. */
export function rootRoutes(): Route[] {
  return [
    route({
      method: "GET",
      path: "/",
      policy: null,
      auth: "none",
      handler: (ctx: Ctx) => {
        const { min, max } = bounds(placementMicroversions);
        return reply(
          200,
          {
            versions: [
              {
                id: `v${min}`,
                max_version: max.toString(),
                min_version: min.toString(),
                status: "CURRENT",
                links: [{ rel: "self", href: "" }],
              },
            ],
          },
          cacheHeaders(ctx),
        );
      },
    }),
  ];
}
