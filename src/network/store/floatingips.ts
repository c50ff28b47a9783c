// Floating IP and port forwarding rows.
import type { Selectable } from "kysely";
import type { Caller, NetworkCore } from "../core.js";
import { netDb, type NetworkTables } from "./tables.js";

/** A floating IP as stored. */
export type FloatingIp = Omit<Selectable<NetworkTables["network_floatingip"]>, "revision_number"> & {
  revision_number: number;
};
/** A port forwarding as stored. */
export type PortForwarding = Selectable<NetworkTables["network_port_forwarding"]>;

const fip = (r: Selectable<NetworkTables["network_floatingip"]>): FloatingIp => ({
  ...r,
  revision_number: Number(r.revision_number),
});

/** A floating IP by id (no visibility check), or null. */
export async function getFloatingIp(core: NetworkCore, id: string): Promise<FloatingIp | null> {
  if (id.length > 36) return null;
  const r = await netDb(core)
    .selectFrom("network_floatingip")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return r ? fip(r) : null;
}

/** The floating IPs a caller may see. */
export async function listFloatingIps(core: NetworkCore, caller: Caller): Promise<FloatingIp[]> {
  let q = netDb(core).selectFrom("network_floatingip").selectAll();
  if (!caller.readsAll) q = q.where("project_id", "=", caller.projectId ?? "");
  return (await q.execute()).map(fip);
}

/** Floating IPs associated with any of these ports. */
export async function floatingIpsOfPorts(core: NetworkCore, portIds: string[]): Promise<FloatingIp[]> {
  if (!portIds.length) return [];
  const rows = await netDb(core)
    .selectFrom("network_floatingip")
    .selectAll()
    .where("fixed_port_id", "in", portIds)
    .execute();
  return rows.map(fip);
}

/** Floating IPs whose own (network:floatingip) port is one of these. */
export async function floatingIpsOfFloatingPorts(
  core: NetworkCore,
  portIds: string[],
): Promise<FloatingIp[]> {
  if (!portIds.length) return [];
  const rows = await netDb(core)
    .selectFrom("network_floatingip")
    .selectAll()
    .where("floating_port_id", "in", portIds)
    .execute();
  return rows.map(fip);
}

/** Floating IPs served through a router. */
export async function floatingIpsOfRouter(core: NetworkCore, routerId: string): Promise<FloatingIp[]> {
  const rows = await netDb(core)
    .selectFrom("network_floatingip")
    .selectAll()
    .where("router_id", "=", routerId)
    .execute();
  return rows.map(fip);
}

/** Insert a floating IP. */
export async function insertFloatingIp(core: NetworkCore, f: FloatingIp): Promise<void> {
  await netDb(core).insertInto("network_floatingip").values(f).execute();
}

/** Write a floating IP's row. */
export async function saveFloatingIp(core: NetworkCore, f: FloatingIp): Promise<void> {
  const { id, ...rest } = f;
  await netDb(core).updateTable("network_floatingip").set(rest).where("id", "=", id).execute();
}

/** Delete a floating IP and its port forwardings. */
export async function deleteFloatingIpRows(core: NetworkCore, id: string): Promise<void> {
  await netDb(core).deleteFrom("network_port_forwarding").where("floatingip_id", "=", id).execute();
  await netDb(core).deleteFrom("network_floatingip").where("id", "=", id).execute();
}

/** The port forwardings of a floating IP. */
export async function forwardingsOf(core: NetworkCore, floatingIpId: string): Promise<PortForwarding[]> {
  return netDb(core)
    .selectFrom("network_port_forwarding")
    .selectAll()
    .where("floatingip_id", "=", floatingIpId)
    .execute();
}

/** Port forwardings to any of these internal ports. */
export async function forwardingsToPorts(core: NetworkCore, portIds: string[]): Promise<PortForwarding[]> {
  if (!portIds.length) return [];
  return netDb(core)
    .selectFrom("network_port_forwarding")
    .selectAll()
    .where("internal_port_id", "in", portIds)
    .execute();
}

/** A deleted port's floating IPs: disassociated (DOWN), and the port forwardings to it removed. */
export async function releaseFloatingIps(core: NetworkCore, portId: string): Promise<void> {
  await netDb(core).deleteFrom("network_port_forwarding").where("internal_port_id", "=", portId).execute();
  await netDb(core)
    .updateTable("network_floatingip")
    .set({ fixed_port_id: null, fixed_ip_address: null, router_id: null, status: "DOWN" })
    .where("fixed_port_id", "=", portId)
    .execute();
}
