// Ports: rows, their IP allocations (network_ip_allocation, unique per network and address), their security
// groups, visibility (own project, or ports on the caller's own networks) and writes. Inserts that lose a race
// (a MAC or an address taken meanwhile) report it instead of throwing, so the caller retries with another.
import { isUniqueViolation } from "../../shared/db/index.js";
import type { Caller, NetworkCore } from "../core.js";
import { bumpRevision } from "./networks.js";
import { inSavepoint, netDb, parseJson, type NetworkTables } from "./tables.js";

type Row = NetworkTables["network_port"];

/** A fixed IP of a port. */
export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

/** An allowed address pair. */
export interface AddressPair {
  ip_address: string;
  mac_address: string;
}

/** An extra DHCP option. */
export interface DhcpOpt {
  opt_name: string;
  opt_value: string;
  ip_version: 4 | 6;
}

/** A port as the service sees it. */
export interface Port {
  id: string;
  project_id: string;
  network_id: string;
  name: string;
  description: string;
  mac_address: string;
  admin_state_up: boolean;
  status: string;
  device_id: string;
  device_owner: string;
  port_security_enabled: boolean;
  binding_host_id: string;
  binding_vnic_type: string;
  binding_profile: Record<string, unknown>;
  binding_vif_type: string;
  binding_vif_details: Record<string, unknown>;
  allowed_address_pairs: AddressPair[];
  extra_dhcp_opts: DhcpOpt[];
  fixed_ips: FixedIp[];
  security_groups: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row, ips: FixedIp[], sgs: string[]): Port {
  return {
    ...r,
    admin_state_up: Number(r.admin_state_up) === 1,
    port_security_enabled: Number(r.port_security_enabled) === 1,
    revision_number: Number(r.revision_number),
    binding_profile: parseJson(r.binding_profile),
    binding_vif_details: parseJson(r.binding_vif_details),
    allowed_address_pairs: parseJson(r.allowed_address_pairs),
    extra_dhcp_opts: parseJson(r.extra_dhcp_opts),
    fixed_ips: ips,
    security_groups: sgs,
  };
}

/** The row of a port (its fixed IPs and groups live in their own tables). */
export function portRow(p: Port): Row {
  const { fixed_ips: _ips, security_groups: _sgs, ...rest } = p;
  return {
    ...rest,
    admin_state_up: p.admin_state_up ? 1 : 0,
    port_security_enabled: p.port_security_enabled ? 1 : 0,
    binding_profile: JSON.stringify(p.binding_profile),
    binding_vif_details: JSON.stringify(p.binding_vif_details),
    allowed_address_pairs: JSON.stringify(p.allowed_address_pairs),
    extra_dhcp_opts: JSON.stringify(p.extra_dhcp_opts),
  };
}

async function hydrate(core: NetworkCore, rows: Row[]): Promise<Port[]> {
  const ips = new Map<string, FixedIp[]>();
  const sgs = new Map<string, string[]>();
  const ids = rows.map((r) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const allocs = await netDb(core)
      .selectFrom("network_ip_allocation")
      .select(["port_id", "subnet_id", "ip_address"])
      .where("port_id", "in", chunk)
      .orderBy("seq")
      .execute();
    for (const a of allocs)
      ips.set(a.port_id, [
        ...(ips.get(a.port_id) ?? []),
        { subnet_id: a.subnet_id, ip_address: a.ip_address },
      ]);
    const groups = await netDb(core)
      .selectFrom("network_port_security_group")
      .selectAll()
      .where("port_id", "in", chunk)
      .orderBy("security_group_id")
      .execute();
    for (const g of groups) sgs.set(g.port_id, [...(sgs.get(g.port_id) ?? []), g.security_group_id]);
  }
  return rows.map((r) => fromRow(r, ips.get(r.id) ?? [], sgs.get(r.id) ?? []));
}

/** A port by id (no visibility check), or null. */
export async function getPort(core: NetworkCore, id: string): Promise<Port | null> {
  if (id.length > 36) return null;
  const r = await netDb(core).selectFrom("network_port").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? (await hydrate(core, [r]))[0] : null;
}

/** The ports a caller may see: its project's and those on its own networks (everything for readers of all). */
export async function listPorts(core: NetworkCore, caller: Caller, networkIds?: string[]): Promise<Port[]> {
  let q = netDb(core).selectFrom("network_port as p").selectAll("p");
  if (networkIds) q = q.where("p.network_id", "in", networkIds.length ? networkIds : [""]);
  if (!caller.readsAll) {
    const p = caller.projectId ?? "";
    q = q.where((eb) =>
      eb.or([
        eb("p.project_id", "=", p),
        eb.exists(
          eb
            .selectFrom("network_network as n")
            .select("n.id")
            .whereRef("n.id", "=", "p.network_id")
            .where("n.project_id", "=", p),
        ),
      ]),
    );
  }
  return hydrate(core, await q.execute());
}

/** Every port of a network (no visibility check). */
export async function portsOfNetwork(core: NetworkCore, networkId: string): Promise<Port[]> {
  return hydrate(
    core,
    await netDb(core).selectFrom("network_port").selectAll().where("network_id", "=", networkId).execute(),
  );
}

/** Insert a port row; false when its MAC is taken on the network. */
export async function tryInsertPort(core: NetworkCore, p: Port): Promise<boolean> {
  try {
    await inSavepoint(core.db, () => netDb(core).insertInto("network_port").values(portRow(p)).execute());
    return true;
  } catch (e) {
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

/** Whether a MAC is used on a network (by another port than `except`). */
export async function macInUse(
  core: NetworkCore,
  networkId: string,
  mac: string,
  except?: string,
): Promise<boolean> {
  let q = netDb(core)
    .selectFrom("network_port")
    .select("id")
    .where("network_id", "=", networkId)
    .where("mac_address", "=", mac);
  if (except) q = q.where("id", "<>", except);
  return (await q.executeTakeFirst()) !== undefined;
}

/** Record an allocation; false when the address is taken on the network (by a racing request). */
export async function tryAllocate(
  core: NetworkCore,
  a: NetworkTables["network_ip_allocation"],
): Promise<boolean> {
  try {
    await inSavepoint(core.db, () => netDb(core).insertInto("network_ip_allocation").values(a).execute());
    return true;
  } catch (e) {
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

/** The port holding an address on a network, if any. */
export async function holderOf(core: NetworkCore, networkId: string, ip: string): Promise<string | null> {
  const r = await netDb(core)
    .selectFrom("network_ip_allocation")
    .select("port_id")
    .where("network_id", "=", networkId)
    .where("ip_address", "=", ip)
    .executeTakeFirst();
  return r?.port_id ?? null;
}

/** The addresses allocated in a subnet. */
export async function allocatedIn(core: NetworkCore, subnetId: string): Promise<Set<string>> {
  const rows = await netDb(core)
    .selectFrom("network_ip_allocation")
    .select("ip_address")
    .where("subnet_id", "=", subnetId)
    .execute();
  return new Set(rows.map((r) => r.ip_address));
}

/** How many addresses each of these subnets has allocated. */
export async function allocationCounts(core: NetworkCore, subnetIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!subnetIds.length) return out;
  const rows = await netDb(core)
    .selectFrom("network_ip_allocation")
    .select(["subnet_id", (eb) => eb.fn.countAll().as("n")])
    .where("subnet_id", "in", subnetIds)
    .groupBy("subnet_id")
    .execute();
  for (const r of rows) out.set(r.subnet_id, Number(r.n));
  return out;
}

/** Release a port's addresses (all, or those of one subnet). */
export async function releaseAddresses(core: NetworkCore, portId: string, only?: FixedIp[]): Promise<void> {
  let q = netDb(core).deleteFrom("network_ip_allocation").where("port_id", "=", portId);
  if (only) {
    if (!only.length) return;
    q = q.where(
      "ip_address",
      "in",
      only.map((f) => f.ip_address),
    );
  }
  await q.execute();
}

/** Replace a port's security groups. */
export async function setPortGroups(core: NetworkCore, portId: string, groups: string[]): Promise<void> {
  await netDb(core).deleteFrom("network_port_security_group").where("port_id", "=", portId).execute();
  if (groups.length)
    await netDb(core)
      .insertInto("network_port_security_group")
      .values([...new Set(groups)].map((security_group_id) => ({ port_id: portId, security_group_id })))
      .execute();
}

/** Write a port's row columns and bump its revision. */
export async function updatePortRow(core: NetworkCore, p: Port): Promise<void> {
  const { id: _id, created_at: _c, revision_number: _r, updated_at: _u, ...cols } = portRow(p);
  await bumpRevision(core, "network_port", p.id, cols);
}

/** Delete a port with its addresses and groups; whether it existed. */
export async function deletePortRows(core: NetworkCore, id: string): Promise<boolean> {
  await netDb(core).deleteFrom("network_ip_allocation").where("port_id", "=", id).execute();
  await netDb(core).deleteFrom("network_port_security_group").where("port_id", "=", id).execute();
  await netDb(core).deleteFrom("network_port_binding").where("port_id", "=", id).execute();
  const r = await netDb(core).deleteFrom("network_port").where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Set a port's status (the agent reports a device up or down); no revision bump, as Neutron's status updates. */
export async function setPortStatus(core: NetworkCore, id: string, status: string): Promise<void> {
  await netDb(core).updateTable("network_port").set({ status }).where("id", "=", id).execute();
}

/** The ports with these ids (those that exist). */
export async function portsByIds(core: NetworkCore, ids: string[]): Promise<Port[]> {
  if (!ids.length) return [];
  return hydrate(
    core,
    await netDb(core).selectFrom("network_port").selectAll().where("id", "in", ids).execute(),
  );
}

/** The ports bound to a host. */
export async function portsOnHost(core: NetworkCore, host: string): Promise<Port[]> {
  return hydrate(
    core,
    await netDb(core).selectFrom("network_port").selectAll().where("binding_host_id", "=", host).execute(),
  );
}
