// What Nova's proxy APIs share: removed (404) from 2.36, authorized against the caller's project, and 410 Gone for
// the nova-network-only calls.
import { ApiError } from "../../../shared/http/errors.js";
import { route, type Route } from "../../../shared/http/route.js";
import { notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import { removedAfter } from "./images.js";

/** Nova's answer to a nova-network-only API: 410 Gone at every microversion. */
export function gone(): never {
  throw new ApiError(410, "This resource is no longer available.");
}

/** One proxy route (the network and security group proxies): 404 from 2.36, authorized against the caller's project. */
export function proxyRoute(
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  rule: string,
  answer: (ctx: Ctx) => unknown,
): Route {
  return route({
    method,
    path,
    policy: null,
    auth: "required",
    handler: async (ctx: Ctx) => {
      // Nova's router has no route for an empty id (`GET /os-volumes/`): 404, not the collection.
      if (ctx.url.split("?", 1)[0].endsWith("/")) throw notFound("The resource could not be found.");
      removedAfter(ctx);
      ctx.authorize(rule, { project_id: ctx.auth?.projectId ?? "" });
      return answer(ctx);
    },
  });
}

/** A route that is gone (410) up to 2.35 and absent (404) after. */
export function goneRoute(method: "GET" | "POST" | "PUT" | "DELETE", path: string): Route {
  return route({
    method,
    path,
    policy: null,
    auth: "required",
    handler: async (ctx: Ctx) => {
      removedAfter(ctx);
      gone();
    },
  });
}
