// /v2.0/{resource}/{id}/tags (standard-attr-tag): read with the resource's get rule, change with its update rule.
// The resources are a table here: each taggable resource is one line.
import { Type } from "@sinclair/typebox";
import { noContent, reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { nerr, notFound } from "../errors.js";
import { addTag, removeTag, removeTags, replaceTags, tagsFor } from "../store/tags.js";
import { enforceOn, type Ctx } from "./common.js";
import { loadNetwork } from "./networks.js";
import { loadFloatingIp } from "./floatingips.js";
import { loadPort } from "./port-view.js";
import { loadRouter } from "./routers.js";
import { loadGroup } from "./sg-view.js";
import { loadSubnet } from "./subnets.js";
import { listOf, str } from "./validators.js";
import { getSubnetPool, poolVisible } from "../store/subnetpools.js";
import { callerOf } from "./common.js";

/** Tags are short strings (Neutron's MAX_TAG_LEN). */
const MAX_TAG_LEN = 60;

/** How to check access to one taggable resource: throws 404 when the caller cannot see it, 403 when it may not
 * change it (with `update` true). */
type Access = (ctx: Ctx, core: NetworkCore, id: string, update: boolean) => Promise<void>;

const TAGGABLE = new Map<string, Access>([
  [
    "networks",
    async (ctx, core, id, update) => {
      const { target } = await loadNetwork(ctx, core, id);
      if (update) enforceOn(ctx, "update_network", "get_network", target, notFound("network", id));
    },
  ],
  [
    "subnets",
    async (ctx, core, id, update) => {
      await loadSubnet(ctx, core, id, update ? "update_subnet" : "get_subnet");
    },
  ],
  [
    "ports",
    async (ctx, core, id, update) => {
      await loadPort(ctx, core, id, update ? "update_port" : "get_port");
    },
  ],
  [
    "routers",
    async (ctx, core, id, update) => {
      await loadRouter(ctx, core, id, update ? "update_router" : "get_router");
    },
  ],
  [
    "floatingips",
    async (ctx, core, id, update) => {
      await loadFloatingIp(ctx, core, id, update ? "update_floatingip" : "get_floatingip");
    },
  ],
  [
    "security-groups",
    async (ctx, core, id, update) => {
      await loadGroup(ctx, core, id, update ? "update_security_group" : "get_security_group");
    },
  ],
  [
    "subnetpools",
    async (ctx, core, id, update) => {
      const p = await getSubnetPool(core, id);
      if (!p || !poolVisible(p, callerOf(ctx))) throw notFound("subnetpool", id);
      const target = { project_id: p.project_id, tenant_id: p.project_id, shared: p.shared };
      enforceOn(
        ctx,
        update ? "update_subnetpool" : "get_subnetpool",
        "get_subnetpool",
        target,
        notFound("subnetpool", id),
      );
    },
  ],
]);

/** The resource's access check; 404 for a collection that has no tags. */
function accessOf(resource: string): Access {
  const a = TAGGABLE.get(resource);
  if (!a) throw nerr(404, "HTTPNotFound", "The resource could not be found.");
  return a;
}

const tag = (v: unknown): string => str(MAX_TAG_LEN)(v, "tags");

/** Routes of /v2.0/{resource}/{id}/tags. */
export function tagRoutes(core: NetworkCore): Route[] {
  const base = "/v2.0/:resource/:resource_id/tags";
  return [
    route({
      method: "GET",
      path: base,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { resource, resource_id: id } = ctx.params;
        await accessOf(resource)(ctx, core, id, false);
        return { tags: (await tagsFor(core, resource, [id])).get(id) ?? [] };
      },
    }),
    route({
      method: "PUT",
      path: base,
      policy: null,
      auth: "required",
      body: Type.Object({ tags: Type.Array(Type.Unknown()) }, { additionalProperties: false }),
      handler: async (ctx) => {
        const { resource, resource_id: id } = ctx.params;
        await accessOf(resource)(ctx, core, id, true);
        const tags = listOf(tag)(ctx.body.tags, "tags");
        await replaceTags(core, resource, id, tags);
        return { tags: (await tagsFor(core, resource, [id])).get(id) ?? [] };
      },
    }),
    route({
      method: "DELETE",
      path: base,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { resource, resource_id: id } = ctx.params;
        await accessOf(resource)(ctx, core, id, true);
        await removeTags(core, resource, id);
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: `${base}/:tag`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { resource, resource_id: id } = ctx.params;
        await accessOf(resource)(ctx, core, id, false);
        if (!((await tagsFor(core, resource, [id])).get(id) ?? []).includes(ctx.params.tag))
          throw nerr(404, "TagNotFound", `Tag ${ctx.params.tag} could not be found for ${resource} ${id}.`);
        return noContent();
      },
    }),
    route({
      method: "PUT",
      path: `${base}/:tag`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { resource, resource_id: id } = ctx.params;
        await accessOf(resource)(ctx, core, id, true);
        await addTag(core, resource, id, tag(ctx.params.tag));
        return reply(201, undefined);
      },
    }),
    route({
      method: "DELETE",
      path: `${base}/:tag`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const { resource, resource_id: id } = ctx.params;
        await accessOf(resource)(ctx, core, id, true);
        if (!(await removeTag(core, resource, id, ctx.params.tag)))
          throw nerr(404, "TagNotFound", `Tag ${ctx.params.tag} could not be found for ${resource} ${id}.`);
        return noContent();
      },
    }),
  ];
}
