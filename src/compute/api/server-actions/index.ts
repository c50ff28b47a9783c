// POST /servers/{id}/action: one route for every server action, dispatched on the body's single member as Nova's
// wsgi layer does ("Malformed request body" unless exactly one member, "There is no such action" for unknown
// ones, 404 outside an action's microversions). The actions live in one file per concern.
import { reply } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import {
  backupActions,
  deferredDeleteActions,
  floatingIpActions,
  securityGroupActions,
} from "../legacy/index.js";
import { adminActions } from "./admin.js";
import type { ActionTable } from "./common.js";
import { consoleActions, consoleRoutes } from "./consoles.js";
import { imageActions } from "./images.js";
import { moveActions } from "./moves.js";
import { serverActionPolicies as policies } from "./policy.js";
import { powerActions } from "./power.js";
import { rebuildActions } from "./rebuild.js";
import { resizeActions } from "./resize.js";

/** Every action by its body member. */
export const SERVER_ACTIONS: ActionTable = {
  ...powerActions,
  ...adminActions,
  ...resizeActions,
  ...rebuildActions,
  ...moveActions,
  ...imageActions,
  ...consoleActions,
  ...backupActions,
  ...deferredDeleteActions,
  ...floatingIpActions,
  ...securityGroupActions,
};

/** POST /servers/{id}/action and the per-server sub-resources that act on a server. */
export function serverActionRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "POST",
      path: "/v2.1/servers/:id/action",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const body = ctx.body;
        if (
          body === null ||
          typeof body !== "object" ||
          Array.isArray(body) ||
          Object.keys(body).length !== 1
        )
          throw badRequest("Malformed request body");
        const [name, value] = Object.entries(body as Record<string, unknown>)[0];
        const action = Object.hasOwn(SERVER_ACTIONS, name) ? SERVER_ACTIONS[name] : undefined;
        if (!action) throw badRequest(`There is no such action: ${name}`);
        const mv = ctx.microversion;
        if ((action.min && mv.lt(action.min)) || (action.max && mv.cmp(action.max) > 0))
          throw notFound("The resource could not be found.");
        const out = await action.run(core, ctx, ctx.params.id, value);
        return out === undefined ? reply(202, undefined) : out;
      },
    }),
    ...consoleRoutes(core),
  ];
}

/** Policy defaults of server actions. */
export const serverActionPolicies: RuleDefault[] = policies;
