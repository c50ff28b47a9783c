// Subnets: rows (pools, DNS servers and host routes as JSON lists), visibility (own project, subnets of the
// caller's own networks, and of networks shared with it) and writes.
import type { Caller, NetworkCore } from "../core.js";
import type { PoolText } from "../ipam/pools.js";
import { bumpRevision, networkGranted } from "./networks.js";
import { netDb, parseJson, type NetworkTables } from "./tables.js";

type Row = NetworkTables["network_subnet"];

/** A host route of a subnet. */
export interface HostRoute {
  destination: string;
  nexthop: string;
}

/** A subnet as the service sees it. */
export interface Subnet {
  id: string;
  project_id: string;
  network_id: string;
  name: string;
  description: string;
  ip_version: 4 | 6;
  cidr: string;
  gateway_ip: string | null;
  enable_dhcp: boolean;
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  subnetpool_id: string | null;
  allocation_pools: PoolText[];
  dns_nameservers: string[];
  host_routes: HostRoute[];
  revision_number: number;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row): Subnet {
  return {
    ...r,
    ip_version: Number(r.ip_version) === 6 ? 6 : 4,
    enable_dhcp: Number(r.enable_dhcp) === 1,
    revision_number: Number(r.revision_number),
    allocation_pools: parseJson<PoolText[]>(r.allocation_pools),
    dns_nameservers: parseJson<string[]>(r.dns_nameservers),
    host_routes: parseJson<HostRoute[]>(r.host_routes),
  };
}

function toRow(s: Subnet): Row {
  return {
    ...s,
    enable_dhcp: s.enable_dhcp ? 1 : 0,
    allocation_pools: JSON.stringify(s.allocation_pools),
    dns_nameservers: JSON.stringify(s.dns_nameservers),
    host_routes: JSON.stringify(s.host_routes),
  };
}

/** Whether a subnet uses addresses its ports compute themselves (SLAAC or DHCPv6-stateless). */
export const isAutoAddress = (s: Pick<Subnet, "ipv6_address_mode">): boolean =>
  s.ipv6_address_mode === "slaac" || s.ipv6_address_mode === "dhcpv6-stateless";

/** A subnet by id (no visibility check), or null. */
export async function getSubnet(core: NetworkCore, id: string): Promise<Subnet | null> {
  if (id.length > 36) return null;
  const r = await netDb(core)
    .selectFrom("network_subnet")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** The subnets of these networks, oldest first. */
export async function subnetsOfNetworks(core: NetworkCore, ids: string[]): Promise<Subnet[]> {
  const out: Subnet[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await netDb(core)
      .selectFrom("network_subnet")
      .selectAll()
      .where("network_id", "in", ids.slice(i, i + 500))
      .orderBy("created_at")
      .orderBy("id")
      .execute();
    out.push(...rows.map(fromRow));
  }
  return out;
}

/** The subnets allocated from a subnet pool. */
export async function subnetsOfPool(core: NetworkCore, poolId: string): Promise<Subnet[]> {
  const rows = await netDb(core)
    .selectFrom("network_subnet")
    .selectAll()
    .where("subnetpool_id", "=", poolId)
    .execute();
  return rows.map(fromRow);
}

/** The subnets a caller may see. */
export async function listSubnets(core: NetworkCore, caller: Caller): Promise<Subnet[]> {
  let q = netDb(core).selectFrom("network_subnet as s").selectAll("s");
  if (!caller.readsAll) {
    const p = caller.projectId ?? "";
    q = q.where((eb) =>
      eb.or([
        eb("s.project_id", "=", p),
        eb.exists(
          eb
            .selectFrom("network_network as n")
            .select("n.id")
            .whereRef("n.id", "=", "s.network_id")
            .where("n.project_id", "=", p),
        ),
        networkGranted(eb, "s.network_id", p, ["access_as_shared"]),
      ]),
    );
  }
  return (await q.execute()).map(fromRow);
}

/** Insert a subnet row. */
export async function insertSubnet(core: NetworkCore, s: Subnet): Promise<void> {
  await netDb(core).insertInto("network_subnet").values(toRow(s)).execute();
}

/** The columns an update may change. */
export type SubnetChanges = Partial<
  Pick<
    Subnet,
    | "name"
    | "description"
    | "gateway_ip"
    | "enable_dhcp"
    | "allocation_pools"
    | "dns_nameservers"
    | "host_routes"
  >
>;

/** Apply changes to a subnet and bump its revision. */
export async function updateSubnet(core: NetworkCore, id: string, ch: SubnetChanges): Promise<void> {
  const set: Partial<Row> = {};
  if (ch.name !== undefined) set.name = ch.name;
  if (ch.description !== undefined) set.description = ch.description;
  if (ch.gateway_ip !== undefined) set.gateway_ip = ch.gateway_ip;
  if (ch.enable_dhcp !== undefined) set.enable_dhcp = ch.enable_dhcp ? 1 : 0;
  if (ch.allocation_pools !== undefined) set.allocation_pools = JSON.stringify(ch.allocation_pools);
  if (ch.dns_nameservers !== undefined) set.dns_nameservers = JSON.stringify(ch.dns_nameservers);
  if (ch.host_routes !== undefined) set.host_routes = JSON.stringify(ch.host_routes);
  await bumpRevision(core, "network_subnet", id, set);
}

/** Delete a subnet row. */
export async function deleteSubnetRow(core: NetworkCore, id: string): Promise<void> {
  await netDb(core).deleteFrom("network_subnet").where("id", "=", id).execute();
}
