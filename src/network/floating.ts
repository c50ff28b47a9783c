// Floating IPs as Neutron's L3 plugin keeps them: an address from an external network held by a port
// (network:floatingip), associated with a fixed address of a port whose subnet a router connects to that network
// (the router found is recorded), and port forwardings that share a floating IP between internal ports. The caller
// has checked policy; every change runs in one transaction.
import { isUniqueViolation, nowIso } from "../shared/db/index.js";
import { notifyNetworkChanged } from "./compute-notifier.js";
import type { NetworkCore } from "./core.js";
import { badRequest, conflict, nerr } from "./errors.js";
import { parseIp } from "./ipam/addr.js";
import { createPortIn } from "./port-write.js";
import { withQuota } from "./quotas.js";
import { routerBetween } from "./routers.js";
import {
  deleteFloatingIpRows,
  forwardingsOf,
  insertFloatingIp,
  saveFloatingIp,
  type FloatingIp,
  type PortForwarding,
} from "./store/floatingips.js";
import type { Network } from "./store/networks.js";
import { deletePortRows, type Port } from "./store/ports.js";
import { inSavepoint, netDb } from "./store/tables.js";
import { removeTags } from "./store/tags.js";

/** The device owner of a floating IP's port. */
export const FLOATINGIP_OWNER = "network:floatingip";

/** An association request: the port and, when it has several IPv4 addresses, which one. */
export interface Association {
  port: Port;
  fixed_ip_address?: string;
}

/** The port's IPv4 address to associate; 400 when it names none of the port's or leaves a choice open. */
function fixedAddress(fip: FloatingIp, a: Association): string {
  const v4 = a.port.fixed_ips.filter((f) => parseIp(f.ip_address)?.version === 4).map((f) => f.ip_address);
  if (a.fixed_ip_address !== undefined) {
    if (!v4.includes(a.fixed_ip_address))
      throw badRequest(
        `Bad floatingip request: Port ${a.port.id} does not have fixed ip ${a.fixed_ip_address}.`,
      );
    return a.fixed_ip_address;
  }
  if (!v4.length)
    throw badRequest(`Bad floatingip request: Port ${a.port.id} does not have any IPv4 address.`);
  if (v4.length > 1)
    throw badRequest(
      `Bad floatingip request: Port ${a.port.id} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP.`,
    );
  void fip;
  return v4[0];
}

/** Associate (in a transaction): the router between the port's subnet and the floating network, or 404. */
async function associate(c: NetworkCore, fip: FloatingIp, a: Association): Promise<void> {
  if (a.port.device_owner.startsWith("network:"))
    throw badRequest(
      `Bad floatingip request: Port ${a.port.id} has owner ${a.port.device_owner} and therefore cannot be associated with a floating IP.`,
    );
  if ((await forwardingsOf(c, fip.id)).length)
    throw conflict(
      "FipInUseByPortForwarding",
      `Floating IP ${fip.id} has port forwardings and cannot be associated with a port.`,
    );
  const fixed = fixedAddress(fip, a);
  const routerId = await routerBetween(c, fip.floating_network_id, a.port, fixed);
  if (!routerId) {
    const subnet = a.port.fixed_ips.find((f) => f.ip_address === fixed)?.subnet_id;
    throw nerr(
      404,
      "ExternalGatewayForFloatingIPNotFound",
      `External network ${fip.floating_network_id} is not reachable from subnet ${subnet}. Therefore, cannot associate Port ${a.port.id} with a Floating IP.`,
    );
  }
  fip.fixed_port_id = a.port.id;
  fip.fixed_ip_address = fixed;
  fip.router_id = routerId;
  fip.status = "ACTIVE";
}

function disassociate(fip: FloatingIp): void {
  fip.fixed_port_id = null;
  fip.fixed_ip_address = null;
  fip.router_id = null;
  fip.status = "DOWN";
}

/** 409 for a floating IP already on this port and address (the database's unique association). */
async function saving(fn: () => Promise<void>, fip: FloatingIp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    throw conflict(
      "FloatingIPPortAlreadyAssociated",
      `Cannot associate floating IP ${fip.floating_ip_address} (${fip.id}) with port ${fip.fixed_port_id} using fixed IP ${fip.fixed_ip_address}, as that fixed IP already has a floating IP on external network ${fip.floating_network_id}.`,
    );
  }
}

/** What a floating IP create gives. */
export interface FloatingIpInput {
  network: Network;
  description?: string;
  floating_ip_address?: string;
  subnet_id?: string;
  association?: Association;
}

/** Create a floating IP under the floatingip quota (its port's address from the external network). */
export async function createFloatingIp(
  core: NetworkCore,
  project: string,
  input: FloatingIpInput,
): Promise<FloatingIp> {
  const net = input.network;
  if (!net.router_external)
    throw badRequest(`Bad floatingip request: Network ${net.id} is not a valid external network.`);
  const id = core.newId();
  const req =
    input.floating_ip_address !== undefined || input.subnet_id !== undefined
      ? [
          {
            ...(input.subnet_id !== undefined ? { subnet_id: input.subnet_id } : {}),
            ...(input.floating_ip_address !== undefined ? { ip_address: input.floating_ip_address } : {}),
          },
        ]
      : undefined;
  const made = await withQuota(core, project, "floatingip", 1, async (c) => {
    const port = await createPortIn(
      c,
      { device_owner: FLOATINGIP_OWNER, device_id: id, fixed_ips: req, port_security_enabled: false },
      "",
      net,
    );
    const v4 = port.fixed_ips.find((f) => parseIp(f.ip_address)?.version === 4);
    if (!v4)
      throw badRequest(`Bad floatingip request: No IPv4 address available on external network ${net.id}.`);
    const now = nowIso();
    const fip: FloatingIp = {
      id,
      project_id: project,
      description: input.description ?? "",
      floating_network_id: net.id,
      floating_port_id: port.id,
      floating_ip_address: v4.ip_address,
      fixed_port_id: null,
      fixed_ip_address: null,
      router_id: null,
      status: "DOWN",
      revision_number: 1,
      created_at: now,
      updated_at: now,
    };
    if (input.association) await associate(c, fip, input.association);
    await saving(() => inSavepoint(c.db, () => insertFloatingIp(c, fip)), fip);
    return { fip, port };
  });
  core.notify.portUpdated(made.port.id);
  core.notify.routerUpdated(made.fip.router_id);
  await notifyNetworkChanged(core, [made.fip.fixed_port_id]);
  return made.fip;
}

/** Update a floating IP: description, and association (a port) or disassociation (null). */
export async function updateFloatingIp(
  core: NetworkCore,
  fip: FloatingIp,
  ch: { description?: string; association?: Association | null },
): Promise<FloatingIp> {
  const next: FloatingIp = { ...fip };
  await core.transaction(async (c) => {
    if (ch.description !== undefined) next.description = ch.description;
    if (ch.association === null) disassociate(next);
    else if (ch.association) await associate(c, next, ch.association);
    next.revision_number = fip.revision_number + 1;
    next.updated_at = nowIso();
    await saving(() => inSavepoint(c.db, () => saveFloatingIp(c, next)), next);
  });
  core.notify.portUpdated(fip.floating_port_id);
  core.notify.routerUpdated(fip.router_id, next.router_id);
  if (next.fixed_port_id !== fip.fixed_port_id || next.fixed_ip_address !== fip.fixed_ip_address)
    await notifyNetworkChanged(core, [fip.fixed_port_id, next.fixed_port_id]);
  return next;
}

/** Delete a floating IP with its port and port forwardings. */
export async function deleteFloatingIp(core: NetworkCore, fip: FloatingIp): Promise<void> {
  await core.transaction(async (c) => {
    await deleteFloatingIpRows(c, fip.id);
    await deletePortRows(c, fip.floating_port_id);
    await removeTags(c, "floatingips", fip.id);
  });
  core.notify.portDeleted(fip.floating_port_id, fip.floating_network_id);
  core.notify.routerUpdated(fip.router_id);
  await notifyNetworkChanged(core, [fip.fixed_port_id]);
}

/** Write a port forwarding (new or changed) after Neutron's checks; 409 for duplicates. */
export async function saveForwarding(
  core: NetworkCore,
  fip: FloatingIp,
  pf: PortForwarding,
  isNew: boolean,
  port: Port,
): Promise<PortForwarding> {
  if (fip.fixed_port_id)
    throw conflict(
      "FloatingIPPortAlreadyAssociated",
      `Floating IP ${fip.id} is associated with port ${fip.fixed_port_id} and cannot have port forwardings.`,
    );
  if (!port.fixed_ips.some((f) => f.ip_address === pf.internal_ip_address))
    throw badRequest(
      `Bad port_forwarding request: The internal IP ${pf.internal_ip_address} is not one of port ${port.id}'s addresses.`,
    );
  await core.transaction(async (c) => {
    const routerId = await routerBetween(c, fip.floating_network_id, port, pf.internal_ip_address);
    if (!routerId)
      throw nerr(
        404,
        "ExternalGatewayForFloatingIPNotFound",
        `External network ${fip.floating_network_id} is not reachable from port ${port.id}.`,
      );
    if (fip.router_id && fip.router_id !== routerId)
      throw conflict(
        "PortForwardingRouterMismatch",
        `Port forwardings of floating IP ${fip.id} must go through router ${fip.router_id}.`,
      );
    try {
      await inSavepoint(c.db, async () => {
        if (isNew) await netDb(c).insertInto("network_port_forwarding").values(pf).execute();
        else {
          const { id, ...rest } = pf;
          await netDb(c).updateTable("network_port_forwarding").set(rest).where("id", "=", id).execute();
        }
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      throw conflict(
        "PortForwardingConflict",
        `A duplicate port forwarding entry with same attributes already exists, conflicting values are {'floatingip_id': '${fip.id}', 'external_port': ${pf.external_port}, 'protocol': '${pf.protocol}'} or the internal port ${pf.internal_ip_address}:${pf.internal_port} is taken.`,
      );
    }
    await netDb(c)
      .updateTable("network_floatingip")
      .set({ router_id: routerId, revision_number: fip.revision_number + 1, updated_at: nowIso() })
      .where("id", "=", fip.id)
      .execute();
  });
  core.notify.portUpdated(fip.floating_port_id);
  core.notify.routerUpdated(fip.router_id, await routerOf(core, fip.id));
  return pf;
}

/** Delete a port forwarding; the floating IP forgets its router when it was the last. */
export async function deleteForwarding(core: NetworkCore, fip: FloatingIp, pfId: string): Promise<void> {
  await core.transaction(async (c) => {
    await netDb(c).deleteFrom("network_port_forwarding").where("id", "=", pfId).execute();
    if (!(await forwardingsOf(c, fip.id)).length && !fip.fixed_port_id)
      await netDb(c)
        .updateTable("network_floatingip")
        .set({ router_id: null })
        .where("id", "=", fip.id)
        .execute();
  });
  core.notify.portUpdated(fip.floating_port_id);
  core.notify.routerUpdated(fip.router_id);
}

/** The router a floating IP is served through now (after a change). */
async function routerOf(core: NetworkCore, fipId: string): Promise<string | null> {
  const r = await netDb(core)
    .selectFrom("network_floatingip")
    .select("router_id")
    .where("id", "=", fipId)
    .executeTakeFirst();
  return r?.router_id ?? null;
}
