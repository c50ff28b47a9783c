// /default-types (3.62): an admin sets, shows, lists and unsets a project's default volume type. Mounted as
// Cinder's api-ref writes it (/v3/default-types/{project}) and below the catalog's project endpoint.
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { badRequest, notFound, typeNotFound } from "../errors.js";
import {
  listDefaultTypes,
  projectDefaultType,
  setDefaultType,
  unsetDefaultType,
  type DefaultTypeRow,
} from "../default-types.js";
import { findType } from "../store/types.js";
import { needs } from "./attachments.js";
import { callerOf, optString, wrapped, type Ctx } from "./common.js";

const view = (r: DefaultTypeRow) => ({ project_id: r.project_id, volume_type_id: r.volume_type_id });

/** The URL's target project, bounded. */
function targetOf(ctx: Ctx): string {
  const p = ctx.params.target_id;
  if (p.length > 255) throw badRequest("Invalid project id.");
  return p;
}

function routesAt(core: VolumeCore, base: string): Route[] {
  const one = `${base}/:target_id`;
  const target = (ctx: Ctx) => {
    needs(ctx, "3.62");
    return { project_id: targetOf(ctx) };
  };
  return [
    route({
      method: "PUT",
      path: one,
      policy: "volume_extension:default_set_or_update",
      target,
      handler: async (ctx) => {
        const b = wrapped(ctx, "default_type");
        const name = optString(b, "volume_type");
        if (!name) throw badRequest("Missing required element 'volume_type' in request body.");
        const t = await findType(core, callerOf(ctx), name);
        if (!t) throw typeNotFound(name);
        const project = targetOf(ctx);
        await setDefaultType(core, project, t.id);
        return { default_type: { project_id: project, volume_type_id: t.id } };
      },
    }),
    route({
      method: "GET",
      path: one,
      policy: "volume_extension:default_get",
      target,
      handler: async (ctx) => {
        const project = targetOf(ctx);
        const id = await projectDefaultType(core, project);
        if (!id) throw notFound(`Default type for project ${project} could not be found.`);
        return { default_type: { project_id: project, volume_type_id: id } };
      },
    }),
    route({
      method: "GET",
      path: base,
      policy: "volume_extension:default_get_all",
      handler: async (ctx) => {
        needs(ctx, "3.62");
        return { default_types: (await listDefaultTypes(core)).map(view) };
      },
    }),
    route({
      method: "DELETE",
      path: one,
      policy: "volume_extension:default_unset",
      target,
      handler: async (ctx) => {
        const project = targetOf(ctx);
        if (!(await unsetDefaultType(core, project)))
          throw notFound(`Default type for project ${project} could not be found.`);
        return reply(204, undefined);
      },
    }),
  ];
}

/** Routes of /default-types, with and without the project in the URL. */
export function defaultTypeRoutes(core: VolumeCore): Route[] {
  return [...routesAt(core, "/v3/default-types"), ...routesAt(core, "/v3/:project_id/default-types")];
}
