// os-interface (Nova's attach_interfaces API): list a server's ports, attach one (a new port on a network, or the
// user's port) and detach one. The port is made or bound through the network API, then the server's host
// hot-plugs it; a failed hot-plug undoes the port. Detach unplugs, then deletes the port compute made or unbinds
// the user's. The network info cache (and so `addresses`) follows.
import { ApiError } from "../../../shared/http/errors.js";
import { reply } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import { driverVifs } from "../../networking/vifs.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, conflict, notFound } from "../../errors.js";
import { startAction } from "../../instances/actions.js";
import { requestContext } from "./create.js";
import { VmState } from "../../instances/states.js";
import { findInstance, type RequestedNic, type VifInfo } from "../../instances/store.js";
import { NetworkRefused, type NetPort, type NetworkClient } from "../../network-client.js";
import { plugNic, saveNetworkInfo, UNBOUND } from "../../networking/allocate.js";
import { resolveNics } from "../../networking/requested.js";
import { ADMIN_OR_PROJECT, PROJECT_MEMBER, policyRule } from "../admin/util.js";
import { isAdmin, objectBody, type Ctx } from "../common.js";
import {
  agentTarget,
  authorizedServer,
  checkLock,
  checkState,
  needHostUp,
} from "../server-actions/common.js";

const R = "os_compute_api:os-attach-interfaces";
const PATH = "/servers/{server_id}/os-interface";

/** Policy defaults of os-interface. */
export const interfacePolicies: RuleDefault[] = [
  policyRule(`${R}:list`, ADMIN_OR_PROJECT, "List a server's port interfaces.", "GET", PATH),
  policyRule(`${R}:show`, ADMIN_OR_PROJECT, "Show a port interface.", "GET", `${PATH}/{port_id}`),
  policyRule(`${R}:create`, PROJECT_MEMBER, "Attach a port interface.", "POST", PATH),
  policyRule(`${R}:delete`, PROJECT_MEMBER, "Detach a port interface.", "DELETE", `${PATH}/{port_id}`),
];

const ATTACHABLE = { vm: [VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED] } as const;

function network(core: ComputeCore): NetworkClient {
  if (!core.neutron) throw new ApiError(501, "Network driver does not support this function.");
  return core.neutron;
}

/** One attachment as Nova shows it (tag from 2.70). */
function attachmentView(ctx: Ctx, p: NetPort, tag?: string): Record<string, unknown> {
  return {
    port_state: p.status,
    fixed_ips: p.fixed_ips.map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })),
    port_id: p.id,
    net_id: p.network_id,
    mac_addr: p.mac_address,
    ...(ctx.microversion.gte("2.70") ? { tag: tag ?? null } : {}),
  };
}

/** The requested NIC of an attach body, validated on the caller's behalf. */
async function requestedNic(core: ComputeCore, ctx: Ctx, projectId: string): Promise<RequestedNic> {
  const att = objectBody(ctx).interfaceAttachment ?? {};
  if (!att || typeof att !== "object" || Array.isArray(att))
    throw badRequest("Invalid input for field/attribute interfaceAttachment.");
  const a = att as Record<string, unknown>;
  for (const k of Object.keys(a))
    if (!["port_id", "net_id", "fixed_ips", ...(ctx.microversion.gte("2.49") ? ["tag"] : [])].includes(k))
      throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  if (a.port_id !== undefined && a.net_id !== undefined)
    throw badRequest("Must not input both network_id and port_id");
  if (a.fixed_ips !== undefined && a.net_id === undefined)
    throw badRequest("Must input network_id when request IP address");
  const req: Record<string, string> = {};
  for (const k of ["port_id", "net_id", "tag"] as const)
    if (a[k] !== undefined) {
      if (typeof a[k] !== "string") throw badRequest(`Invalid input for field/attribute ${k}.`);
      req[k === "port_id" ? "port" : k === "net_id" ? "uuid" : "tag"] = a[k] as string;
    }
  if (a.fixed_ips !== undefined) {
    const ips = a.fixed_ips;
    if (!Array.isArray(ips) || ips.length !== 1 || typeof ips[0]?.ip_address !== "string")
      throw badRequest("Invalid input for field/attribute fixed_ips.");
    req.fixed_ip = ips[0].ip_address;
  }
  const caller = { projectId, token: ctx.auth?.token, admin: isAdmin(ctx) };
  const named = req.port !== undefined || req.uuid !== undefined;
  try {
    const [nic] = await resolveNics(core, named ? [req] : "auto", caller, { implicit: false, maxCount: 1 });
    return nic;
  } catch (e) {
    // Nova answers an unknown network or port on attach with 404 (create answers 400).
    if (e instanceof ApiError && e.status === 400 && /could not be found/.test(e.message))
      throw notFound(e.message);
    throw e;
  }
}

/** Routes of /servers/{id}/os-interface. */
export function interfaceRoutes(core: ComputeCore): Route[] {
  const base = "/v2.1/servers/:id/os-interface";
  return [
    route({
      method: "GET",
      path: base,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:list`);
        const ports = await network(core).listPorts(`device_id=${encodeURIComponent(inst.uuid)}`);
        const tags = new Map((inst.network_info ?? []).map((v) => [v.portId, v.tag]));
        return { interfaceAttachments: ports.map((p) => attachmentView(ctx, p, tags.get(p.id))) };
      },
    }),
    route({
      method: "GET",
      path: `${base}/:port_id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:show`);
        const gone = () => notFound(`Instance ${inst.uuid} is not attached to port ${ctx.params.port_id}.`);
        const p = await network(core)
          .showPort(ctx.params.port_id)
          .catch((e: unknown) => {
            throw e instanceof NetworkRefused && e.status === 404 ? gone() : e;
          });
        if (p.device_id !== inst.uuid) throw gone();
        const vif = (inst.network_info ?? []).find((v) => v.portId === p.id);
        return { interfaceAttachment: attachmentView(ctx, p, vif?.tag) };
      },
    }),
    route({
      method: "POST",
      path: base,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:create`);
        checkLock(ctx, inst);
        checkState(inst, "attach_interface", ATTACHABLE);
        const host = await needHostUp(core, inst);
        const nic = await requestedNic(core, ctx, inst.project_id);
        const net = network(core);
        await startAction(core.db, requestContext(ctx), inst.uuid, "attach_interface");
        const { vif, undo } = await plugNic(net, inst, host, nic);
        try {
          // The host waits for the port's tap (network-vif-plugged) before it hot-plugs the NIC.
          await core.bus.call(
            agentTarget(host),
            "attach_interface",
            { uuid: inst.uuid, vif: driverVifs([vif])[0] },
            { timeoutMs: (core.cfg.compute.vifPluggingTimeout + 60) * 1000 },
          );
        } catch (e) {
          await undo().catch(() => undefined);
          throw new ApiError(
            500,
            `Failed to attach network adapter device to ${inst.uuid}: ${(e as Error).message}`,
          );
        }
        const now = await findInstance(core.db, inst.uuid);
        await saveNetworkInfo(core, inst.uuid, [...(now?.network_info ?? []), vif]);
        return { interfaceAttachment: attachmentView(ctx, await net.showPort(vif.portId), vif.tag) };
      },
    }),
    route({
      method: "DELETE",
      path: `${base}/:port_id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:delete`);
        checkLock(ctx, inst);
        checkState(inst, "detach_interface", ATTACHABLE);
        const net = network(core);
        const vif: VifInfo | undefined = (inst.network_info ?? []).find(
          (v) => v.portId === ctx.params.port_id,
        );
        if (!vif) throw notFound(`Port ${ctx.params.port_id} is not attached`);
        const host = await needHostUp(core, inst);
        await startAction(core.db, requestContext(ctx), inst.uuid, "detach_interface");
        try {
          await core.bus.call(agentTarget(host), "detach_interface", { uuid: inst.uuid, portId: vif.portId });
        } catch (e) {
          throw conflict(
            `Failed to detach network adapter device from ${inst.uuid}: ${(e as Error).message}`,
          );
        }
        if (vif.preserveOnDelete) await net.updatePort(vif.portId, UNBOUND);
        else await net.deletePort(vif.portId);
        const now = await findInstance(core.db, inst.uuid);
        await saveNetworkInfo(
          core,
          inst.uuid,
          (now?.network_info ?? []).filter((v) => v.portId !== vif.portId),
        );
        return reply(202, undefined);
      },
    }),
  ];
}
