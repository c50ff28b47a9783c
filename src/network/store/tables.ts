import { sql, type Kysely } from "kysely";
import type { NetworkCore } from "../core.js";

/** Columns of every standard-attribute resource. */
interface Standard {
  revision_number: number;
  created_at: string;
  updated_at: string;
}

/** The network tables as Kysely sees them (booleans 0/1, timestamps ISO strings, lists JSON text). */
export interface NetworkTables {
  network_network: Standard & {
    id: string;
    project_id: string;
    name: string;
    description: string;
    admin_state_up: number;
    status: string;
    mtu: number;
    port_security_enabled: number;
    router_external: number;
    availability_zone_hints: string;
  };
  network_segment: {
    id: string;
    network_id: string;
    network_type: string;
    physical_network: string | null;
    segmentation_id: number | null;
    alloc_key: string | null;
    created_at: string;
  };
  network_subnet: Standard & {
    id: string;
    project_id: string;
    network_id: string;
    name: string;
    description: string;
    ip_version: number;
    cidr: string;
    gateway_ip: string | null;
    enable_dhcp: number;
    ipv6_ra_mode: string | null;
    ipv6_address_mode: string | null;
    subnetpool_id: string | null;
    allocation_pools: string;
    dns_nameservers: string;
    host_routes: string;
  };
  network_subnetpool: Standard & {
    id: string;
    project_id: string;
    name: string;
    description: string;
    ip_version: number;
    prefixes: string;
    default_prefixlen: number;
    min_prefixlen: number;
    max_prefixlen: number;
    shared: number;
    is_default: number;
    default_quota: number | null;
  };
  network_port: Standard & {
    id: string;
    project_id: string;
    network_id: string;
    name: string;
    description: string;
    mac_address: string;
    admin_state_up: number;
    status: string;
    device_id: string;
    device_owner: string;
    port_security_enabled: number;
    binding_host_id: string;
    binding_vnic_type: string;
    binding_profile: string;
    binding_vif_type: string;
    binding_vif_details: string;
    allowed_address_pairs: string;
    extra_dhcp_opts: string;
  };
  network_ip_allocation: {
    network_id: string;
    ip_address: string;
    subnet_id: string;
    port_id: string;
    seq: number;
  };
  network_port_security_group: { port_id: string; security_group_id: string };
  network_port_binding: {
    port_id: string;
    host: string;
    vnic_type: string;
    profile: string;
    vif_type: string;
    vif_details: string;
  };
  network_security_group: Standard & {
    id: string;
    project_id: string;
    name: string;
    description: string;
    stateful: number;
  };
  network_security_group_rule: {
    id: string;
    project_id: string;
    security_group_id: string;
    direction: string;
    ethertype: string;
    protocol: string | null;
    port_range_min: number | null;
    port_range_max: number | null;
    remote_ip_prefix: string | null;
    remote_group_id: string | null;
    description: string;
    dedup_key: string;
    revision_number: number;
    created_at: string;
    updated_at: string;
  };
  network_default_security_group: { project_id: string; security_group_id: string };
  network_rbac: {
    id: string;
    project_id: string;
    object_type: string;
    object_id: string;
    action: string;
    target_project: string;
  };
  network_tag: { resource_type: string; resource_id: string; tag: string };
  network_quota: { project_id: string; resource: string; hard_limit: number };
  network_agent: {
    id: string;
    agent_type: string;
    binary: string;
    host: string;
    topic: string;
    availability_zone: string | null;
    admin_state_up: number;
    configurations: string;
    description: string;
    created_at: string;
    started_at: string;
    heartbeat_at: string;
  };
  network_meta: { name: string; value: string | null };
  network_router: Standard & {
    id: string;
    project_id: string;
    name: string;
    description: string;
    admin_state_up: number;
    status: string;
    gw_port_id: string | null;
    enable_snat: number;
    routes: string;
    availability_zone_hints: string;
  };
  network_floatingip: Standard & {
    id: string;
    project_id: string;
    description: string;
    floating_network_id: string;
    floating_port_id: string;
    floating_ip_address: string;
    fixed_port_id: string | null;
    fixed_ip_address: string | null;
    router_id: string | null;
    status: string;
  };
  network_port_forwarding: {
    id: string;
    floatingip_id: string;
    internal_port_id: string;
    internal_ip_address: string;
    internal_port: number;
    external_port: number;
    protocol: string;
    description: string;
  };
}

/** The core's database handle typed for the network tables. */
export const netDb = (core: NetworkCore): Kysely<NetworkTables> => core.db as Kysely<NetworkTables>;

/** JSON text of a stored list or object, parsed (the columns are written by this service only). */
export const parseJson = <T>(text: string): T => JSON.parse(text) as T;

/** Run `fn` in a transaction, or in the one `db` already is (a quota-locked transaction). */
export function inTransaction<T>(
  db: Kysely<NetworkTables>,
  fn: (trx: Kysely<NetworkTables>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

let savepoints = 0;

/**
 * Run `fn` inside a savepoint of the transaction `trx` (a plain call outside one): when it throws, its writes are
 * undone but the transaction lives on, so a unique violation (an IP, MAC or segmentation id taken by a racing
 * request) can be retried with another candidate. PostgreSQL would otherwise abort the whole transaction.
 */
export async function inSavepoint<T>(trx: Kysely<any>, fn: () => Promise<T>): Promise<T> {
  if (!trx.isTransaction) return fn();
  const name = sql.raw(`stratus_sp_${++savepoints}`);
  await sql`savepoint ${name}`.execute(trx);
  try {
    const out = await fn();
    await sql`release savepoint ${name}`.execute(trx);
    return out;
  } catch (e) {
    await sql`rollback to savepoint ${name}`.execute(trx);
    await sql`release savepoint ${name}`.execute(trx);
    throw e;
  }
}
