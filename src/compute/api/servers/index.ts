import { noContent } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import { P } from "../../../shared/policy/personas.js";
import type { ComputeCore } from "../../core.js";
import { badRequest } from "../../errors.js";
import { startAction } from "../../instances/actions.js";
import {
  casUpdate,
  getInstance,
  updateServer,
  type Instance,
  type InstancePatch,
} from "../../instances/store.js";
import { TaskState } from "../../instances/states.js";
import { conductorContract } from "../../rpc.js";
import { objectBody, type Ctx } from "../common.js";
import { createServers, requestContext } from "./create.js";
import { listServers } from "./list.js";
import { ownedServer, subresourceRoutes } from "./subresources.js";
import { interfacePolicies, interfaceRoutes } from "./interfaces.js";
import { volumeAttachmentPolicies, volumeAttachmentRoutes } from "./volume-attachments.js";
import { serverView } from "./view.js";
import { checkLock } from "../server-actions/common.js";
import { accessIPv4, accessIPv6 } from "./ip.js";

/**
 * Delete a server the caller may delete: 409 when locked (for non-admins), nothing when a delete is already under
 * way, else the row moves to task "deleting", the delete action is recorded and the conductor is asked to
 * delete it. What DELETE /servers/{id} does after its policy check.
 */
export async function deleteServer(core: ComputeCore, ctx: Ctx, inst: Instance): Promise<void> {
  checkLock(ctx, inst);
  if (inst.task_state === TaskState.DELETING) return;
  const rctx = requestContext(ctx);
  if (!(await casUpdate(core.db, inst.uuid, {}, { task_state: TaskState.DELETING }))) return;
  await startAction(core.db, rctx, inst.uuid, "delete");
  await core.bus.cast(conductorContract, "delete_instance", { ctx: rctx, uuid: inst.uuid });
}

/** The servers routes that Nova also serves below /os-volumes_boot (its old boot-from-volume extension's name). */
const VOLUMES_BOOT = "/v2.1/os-volumes_boot";

/** Servers: create, list, detail, show, update, delete (also as os-volumes_boot), metadata, tags. */
export function serverRoutes(core: ComputeCore): Route[] {
  const S = "/v2.1/servers";
  const servers = [
    route({
      method: "GET",
      path: S,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        ctx.authorize("os_compute_api:servers:index", { project_id: ctx.auth?.projectId ?? "" });
        return listServers(core, ctx, false);
      },
    }),
    route({
      method: "GET",
      path: `${S}/detail`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        ctx.authorize("os_compute_api:servers:detail", { project_id: ctx.auth?.projectId ?? "" });
        return listServers(core, ctx, true);
      },
    }),
    route({
      method: "POST",
      path: S,
      policy: null,
      auth: "required",
      handler: (ctx: Ctx) => createServers(core, ctx, objectBody(ctx)),
    }),
    route({
      method: "GET",
      path: `${S}/:id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await ownedServer(core, ctx, "os_compute_api:servers:show", ctx.params.id);
        return { server: await serverView(core, ctx, inst) };
      },
    }),
    route({
      method: "PUT",
      path: `${S}/:id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await ownedServer(core, ctx, "os_compute_api:servers:update", ctx.params.id);
        const body = objectBody(ctx);
        const srv = body.server as Record<string, unknown> | undefined;
        if (!srv || typeof srv !== "object" || Array.isArray(srv))
          throw badRequest("Invalid input for field/attribute server. 'server' is a required property");
        const allowed = ["name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"];
        if (ctx.microversion.gte("2.19")) allowed.push("description");
        if (ctx.microversion.gte("2.90")) allowed.push("hostname");
        for (const k of Object.keys(srv))
          if (!allowed.includes(k))
            throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
        const patch: Record<string, unknown> & InstancePatch = {};
        if (srv.name !== undefined) {
          if (
            typeof srv.name !== "string" ||
            srv.name.length < 1 ||
            srv.name.length > 255 ||
            srv.name.trim() !== srv.name
          )
            throw badRequest(`Invalid input for field/attribute name. Value: ${JSON.stringify(srv.name)}.`);
          patch.display_name = srv.name;
        }
        if (srv.accessIPv4 !== undefined) patch.access_ip_v4 = accessIPv4("accessIPv4", srv.accessIPv4);
        if (srv.accessIPv6 !== undefined) patch.access_ip_v6 = accessIPv6("accessIPv6", srv.accessIPv6);
        for (const [k, col] of [["hostname", "hostname"]]) {
          const v = srv[k];
          if (v === undefined) continue;
          if (typeof v !== "string" || v.length > 255)
            throw badRequest(`Invalid input for field/attribute ${k}. Value: ${JSON.stringify(v)}.`);
          patch[col] = v;
        }
        if (srv.description !== undefined) {
          if (
            srv.description !== null &&
            (typeof srv.description !== "string" || srv.description.length > 255)
          )
            throw badRequest(
              `Invalid input for field/attribute description. Value: ${JSON.stringify(srv.description)}.`,
            );
          patch.description = srv.description;
        }
        if (srv["OS-DCF:diskConfig"] !== undefined) {
          if (!["AUTO", "MANUAL"].includes(srv["OS-DCF:diskConfig"] as string))
            throw badRequest("Invalid input for field/attribute OS-DCF:diskConfig.");
          patch.sysmeta = { set: { disk_config: srv["OS-DCF:diskConfig"] } };
        }
        if (Object.keys(patch).length) await updateServer(core.db, inst.uuid, patch);
        return {
          server: await serverView(core, ctx, await getInstance(core.db, inst.uuid), { update: true }),
        };
      },
    }),
    route({
      method: "DELETE",
      path: `${S}/:id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await ownedServer(core, ctx, "os_compute_api:servers:delete", ctx.params.id);
        await deleteServer(core, ctx, inst);
        return noContent();
      },
    }),
  ];
  return [
    ...servers,
    ...servers.map((r) => ({ ...r, path: r.path.replace(S, VOLUMES_BOOT) })),
    ...subresourceRoutes(core),
    ...interfaceRoutes(core),
    ...volumeAttachmentRoutes(core),
  ];
}

const ANY = "";
const READER = P.PROJECT_READER;
const OWNER = P.PROJECT_MEMBER;
const ADMIN = P.ADMIN;
const rule = (
  name: string,
  check: string,
  description: string,
  method: string,
  path: string,
): RuleDefault => ({
  name,
  check,
  description,
  scopeTypes: ["project"],
  operations: [{ method, path }],
});
const SV = "/servers/{server_id}";

/** Policy defaults of the servers API (Nova's names). */
export const serverPolicies: RuleDefault[] = [
  ...interfacePolicies,
  ...volumeAttachmentPolicies,
  rule("os_compute_api:servers:index", ANY, "List servers.", "GET", "/servers"),
  rule("os_compute_api:servers:detail", ANY, "List servers with details.", "GET", "/servers/detail"),
  rule(
    "os_compute_api:servers:index:get_all_tenants",
    ADMIN,
    "List servers of all projects.",
    "GET",
    "/servers",
  ),
  rule(
    "os_compute_api:servers:detail:get_all_tenants",
    ADMIN,
    "List server details of all projects.",
    "GET",
    "/servers/detail",
  ),
  rule("os_compute_api:servers:show", READER, "Show a server.", "GET", SV),
  rule("os_compute_api:servers:create", OWNER, "Create a server.", "POST", "/servers"),
  rule(
    "os_compute_api:servers:create:forced_host",
    ADMIN,
    "Create a server on a given host.",
    "POST",
    "/servers",
  ),
  rule(
    "os_compute_api:servers:create:zero_disk_flavor",
    ADMIN,
    "Boot an image-backed server on a flavor with a zero root disk.",
    "POST",
    "/servers",
  ),
  rule(
    "compute:servers:create:requested_destination",
    ADMIN,
    "Create a server on a requested host (2.74).",
    "POST",
    "/servers",
  ),
  rule("os_compute_api:servers:update", OWNER, "Update a server.", "PUT", SV),
  rule("os_compute_api:servers:delete", OWNER, "Delete a server.", "DELETE", SV),
  rule("os_compute_api:server-metadata:index", READER, "List server metadata.", "GET", `${SV}/metadata`),
  rule(
    "os_compute_api:server-metadata:show",
    READER,
    "Show a server metadata item.",
    "GET",
    `${SV}/metadata/{key}`,
  ),
  rule("os_compute_api:server-metadata:create", OWNER, "Add server metadata.", "POST", `${SV}/metadata`),
  rule(
    "os_compute_api:server-metadata:update_all",
    OWNER,
    "Replace server metadata.",
    "PUT",
    `${SV}/metadata`,
  ),
  rule(
    "os_compute_api:server-metadata:update",
    OWNER,
    "Set one server metadata item.",
    "PUT",
    `${SV}/metadata/{key}`,
  ),
  rule(
    "os_compute_api:server-metadata:delete",
    OWNER,
    "Delete a server metadata item.",
    "DELETE",
    `${SV}/metadata/{key}`,
  ),
  rule("os_compute_api:os-server-tags:index", READER, "List server tags.", "GET", `${SV}/tags`),
  rule("os_compute_api:os-server-tags:show", READER, "Check a server tag.", "GET", `${SV}/tags/{tag}`),
  rule("os_compute_api:os-server-tags:update_all", OWNER, "Replace server tags.", "PUT", `${SV}/tags`),
  rule("os_compute_api:os-server-tags:update", OWNER, "Add a server tag.", "PUT", `${SV}/tags/{tag}`),
  rule("os_compute_api:os-server-tags:delete_all", OWNER, "Delete all server tags.", "DELETE", `${SV}/tags`),
  rule("os_compute_api:os-server-tags:delete", OWNER, "Delete a server tag.", "DELETE", `${SV}/tags/{tag}`),
  rule("os_compute_api:ips:index", READER, "List server addresses.", "GET", `${SV}/ips`),
  rule(
    "os_compute_api:ips:show",
    READER,
    "Show server addresses of a network.",
    "GET",
    `${SV}/ips/{network_label}`,
  ),
];
