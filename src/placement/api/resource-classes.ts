import type { Route } from "../../shared/http/route.js";
import { noContent, reply } from "../../shared/http/reply.js";
import type { PlacementCore } from "../core.js";
import { notFound } from "../errors.js";
import {
  createResourceClass,
  deleteResourceClass,
  getResourceClass,
  listResourceClasses,
  renameResourceClass,
  type ResourceClass,
} from "../store/resource-classes.js";
import { cacheHeaders, jsonBody, latest, mount, proute, validate, type Ctx } from "./common.js";

const NAME = {
  type: "object",
  properties: { name: { type: "string", pattern: "^CUSTOM_[A-Z0-9_]+$", maxLength: 255 } },
  required: ["name"],
  additionalProperties: false,
};

const view = (ctx: Ctx, rc: ResourceClass) => ({
  name: rc.name,
  links: [{ rel: "self", href: `${mount(ctx)}/resource_classes/${rc.name}` }],
});

/** /resource_classes (1.2+; PUT creates from 1.7). */
export function resourceClassRoutes(core: PlacementCore): Route[] {
  return [
    proute({
      method: "GET",
      path: "/resource_classes",
      policy: "placement:resource_classes:list",
      min: "1.2",
      handler: async (ctx) => {
        const list = await listResourceClasses(core.db);
        return reply(
          200,
          { resource_classes: list.map((rc) => view(ctx, rc)) },
          cacheHeaders(ctx, latest(list.map((rc) => rc.updated_at))),
        );
      },
    }),
    proute({
      method: "POST",
      path: "/resource_classes",
      policy: "placement:resource_classes:create",
      min: "1.2",
      handler: async (ctx) => {
        const body = jsonBody<{ name: string }>(ctx, NAME);
        const rc = await createResourceClass(core, body.name);
        return reply(201, undefined, { location: `${ctx.origin}${mount(ctx)}/resource_classes/${rc.name}` });
      },
    }),
    proute({
      method: "GET",
      path: "/resource_classes/:name",
      policy: "placement:resource_classes:show",
      min: "1.2",
      handler: async (ctx) => {
        const rc = await getResourceClass(core.db, ctx.params.name);
        if (!rc) throw notFound(`No such resource class ${ctx.params.name}.`);
        return reply(200, view(ctx, rc), cacheHeaders(ctx, rc.updated_at));
      },
    }),
    proute({
      method: "PUT",
      path: "/resource_classes/:name",
      policy: "placement:resource_classes:update",
      min: "1.2",
      handler: async (ctx) => {
        const name = ctx.params.name;
        if (ctx.microversion.lt("1.7")) {
          const body = jsonBody<{ name: string }>(ctx, NAME);
          const rc = await renameResourceClass(core, name, body.name);
          return reply(200, view(ctx, rc));
        }
        validate({ name }, NAME);
        const location = `${ctx.origin}${mount(ctx)}/resource_classes/${name}`;
        if (await getResourceClass(core.db, name)) return noContent({ location });
        try {
          await createResourceClass(core, name);
        } catch (e) {
          if ((e as { status?: number }).status === 409) return noContent({ location });
          throw e;
        }
        return reply(201, undefined, { location });
      },
    }),
    proute({
      method: "DELETE",
      path: "/resource_classes/:name",
      policy: "placement:resource_classes:delete",
      min: "1.2",
      handler: async (ctx) => {
        await deleteResourceClass(core, ctx.params.name);
        return noContent();
      },
    }),
  ];
}
