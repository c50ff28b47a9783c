// Subnet pools: prefixes subnets are carved from (Neutron's subnet allocation), visible to their project, to
// everyone when shared, and to admins and cloud readers.
import type { Caller, NetworkCore } from "../core.js";
import { bumpRevision } from "./networks.js";
import { netDb, parseJson, type NetworkTables } from "./tables.js";

type Row = NetworkTables["network_subnetpool"];

/** A subnet pool as the service sees it. */
export interface SubnetPool {
  id: string;
  project_id: string;
  name: string;
  description: string;
  ip_version: 4 | 6;
  prefixes: string[];
  default_prefixlen: number;
  min_prefixlen: number;
  max_prefixlen: number;
  shared: boolean;
  is_default: boolean;
  default_quota: number | null;
  revision_number: number;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row): SubnetPool {
  return {
    ...r,
    ip_version: Number(r.ip_version) === 6 ? 6 : 4,
    prefixes: parseJson<string[]>(r.prefixes),
    default_prefixlen: Number(r.default_prefixlen),
    min_prefixlen: Number(r.min_prefixlen),
    max_prefixlen: Number(r.max_prefixlen),
    shared: Number(r.shared) === 1,
    is_default: Number(r.is_default) === 1,
    default_quota: r.default_quota === null ? null : Number(r.default_quota),
    revision_number: Number(r.revision_number),
  };
}

const toRow = (p: SubnetPool): Row => ({
  ...p,
  prefixes: JSON.stringify(p.prefixes),
  shared: p.shared ? 1 : 0,
  is_default: p.is_default ? 1 : 0,
});

/** A pool by id (no visibility check), or null. */
export async function getSubnetPool(core: NetworkCore, id: string): Promise<SubnetPool | null> {
  if (id.length > 36) return null;
  const r = await netDb(core)
    .selectFrom("network_subnetpool")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** Whether the caller may see a pool. */
export const poolVisible = (p: SubnetPool, caller: Caller): boolean =>
  caller.readsAll || p.shared || p.project_id === caller.projectId;

/** The pools a caller may see. */
export async function listSubnetPools(core: NetworkCore, caller: Caller): Promise<SubnetPool[]> {
  let q = netDb(core).selectFrom("network_subnetpool").selectAll();
  if (!caller.readsAll)
    q = q.where((eb) => eb.or([eb("project_id", "=", caller.projectId ?? ""), eb("shared", "=", 1)]));
  return (await q.execute()).map(fromRow);
}

/** The default pool of an IP version, if any. */
export async function defaultPool(core: NetworkCore, version: 4 | 6): Promise<SubnetPool | null> {
  const r = await netDb(core)
    .selectFrom("network_subnetpool")
    .selectAll()
    .where("is_default", "=", 1)
    .where("ip_version", "=", version)
    .executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** Insert a pool row. */
export async function insertSubnetPool(core: NetworkCore, p: SubnetPool): Promise<void> {
  await netDb(core).insertInto("network_subnetpool").values(toRow(p)).execute();
}

/** Write a pool's columns and bump its revision. */
export async function saveSubnetPool(core: NetworkCore, p: SubnetPool): Promise<void> {
  const { id: _id, created_at: _c, revision_number: _r, updated_at: _u, ...cols } = toRow(p);
  await bumpRevision(core, "network_subnetpool", p.id, cols);
}

/** Delete a pool row. */
export async function deleteSubnetPoolRow(core: NetworkCore, id: string): Promise<void> {
  await netDb(core).deleteFrom("network_subnetpool").where("id", "=", id).execute();
}
