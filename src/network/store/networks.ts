// Networks: rows, visibility (own project, or shared with / external to the caller's project through RBAC;
// everything for admins and cloud readers) and writes. Every write bumps revision_number and updated_at.
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from "kysely";
import { nowIso } from "../../shared/db/index.js";
import type { Caller, NetworkCore } from "../core.js";
import { netDb, parseJson, type NetworkTables } from "./tables.js";

type Row = NetworkTables["network_network"];

/** A network as the service sees it. */
export interface Network {
  id: string;
  project_id: string;
  name: string;
  description: string;
  admin_state_up: boolean;
  status: string;
  mtu: number;
  port_security_enabled: boolean;
  router_external: boolean;
  availability_zone_hints: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row): Network {
  return {
    ...r,
    admin_state_up: Number(r.admin_state_up) === 1,
    port_security_enabled: Number(r.port_security_enabled) === 1,
    router_external: Number(r.router_external) === 1,
    mtu: Number(r.mtu),
    revision_number: Number(r.revision_number),
    availability_zone_hints: parseJson<string[]>(r.availability_zone_hints),
  };
}

function toRow(n: Network): Row {
  return {
    ...n,
    admin_state_up: n.admin_state_up ? 1 : 0,
    port_security_enabled: n.port_security_enabled ? 1 : 0,
    router_external: n.router_external ? 1 : 0,
    availability_zone_hints: JSON.stringify(n.availability_zone_hints),
  };
}

/**
 * Whether a row of `alias` (a table with a network id column `col`) belongs to a network the project may use:
 * its own, or one an RBAC entry grants to it or to everyone (shared or external).
 */
export function networkGranted(
  eb: ExpressionBuilder<any, any>,
  col: string,
  project: string,
  actions: string[] = ["access_as_shared", "access_as_external"],
): Expression<SqlBool> {
  return eb.exists(
    eb
      .selectFrom("network_rbac as r")
      .select("r.id")
      .where("r.object_type", "=", "network")
      .whereRef("r.object_id", "=", sql.ref(col))
      .where("r.action", "in", actions)
      .where("r.target_project", "in", [project, "*"]),
  );
}

/** A network by id (no visibility check), or null. */
export async function getNetwork(core: NetworkCore, id: string): Promise<Network | null> {
  if (id.length > 36) return null;
  const r = await netDb(core)
    .selectFrom("network_network")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** The networks a caller may see (optionally only these ids). */
export async function listNetworks(core: NetworkCore, caller: Caller, ids?: string[]): Promise<Network[]> {
  let q = netDb(core).selectFrom("network_network as n").selectAll("n");
  if (ids) q = q.where("n.id", "in", ids.length ? ids : [""]);
  if (!caller.readsAll) {
    const p = caller.projectId ?? "";
    q = q.where((eb) => eb.or([eb("n.project_id", "=", p), networkGranted(eb, "n.id", p)]));
  }
  return (await q.execute()).map(fromRow);
}

/** Whether the caller may see a network. */
export async function networkVisible(core: NetworkCore, net: Network, caller: Caller): Promise<boolean> {
  if (caller.readsAll || net.project_id === caller.projectId) return true;
  return (await listNetworks(core, caller, [net.id])).length === 1;
}

/** Insert a network row. */
export async function insertNetwork(core: NetworkCore, n: Network): Promise<void> {
  await netDb(core).insertInto("network_network").values(toRow(n)).execute();
}

/** The columns an update may change. */
export type NetworkChanges = Partial<
  Pick<
    Network,
    "name" | "description" | "admin_state_up" | "mtu" | "port_security_enabled" | "router_external"
  >
>;

/** Apply changes to a network and bump its revision; the network as written, or null when it is gone. */
export async function updateNetwork(
  core: NetworkCore,
  id: string,
  ch: NetworkChanges,
): Promise<Network | null> {
  const set: Partial<Row> = { updated_at: nowIso() };
  if (ch.name !== undefined) set.name = ch.name;
  if (ch.description !== undefined) set.description = ch.description;
  if (ch.admin_state_up !== undefined) set.admin_state_up = ch.admin_state_up ? 1 : 0;
  if (ch.mtu !== undefined) set.mtu = ch.mtu;
  if (ch.port_security_enabled !== undefined) set.port_security_enabled = ch.port_security_enabled ? 1 : 0;
  if (ch.router_external !== undefined) set.router_external = ch.router_external ? 1 : 0;
  await bumpRevision(core, "network_network", id, set);
  return getNetwork(core, id);
}

/** Bump a standard-attribute resource's revision (and updated_at) along with other columns. */
export async function bumpRevision(
  core: NetworkCore,
  table:
    "network_network" | "network_subnet" | "network_port" | "network_subnetpool" | "network_security_group",
  id: string,
  set: Record<string, unknown> = {},
): Promise<void> {
  await netDb(core)
    .updateTable(table)
    .set((eb) => ({ updated_at: nowIso(), ...set, revision_number: eb("revision_number", "+", 1) }))
    .where("id", "=", id)
    .execute();
}

/** Delete a network row. */
export async function deleteNetworkRow(core: NetworkCore, id: string): Promise<void> {
  await netDb(core).deleteFrom("network_network").where("id", "=", id).execute();
}

/** Networks by id (no visibility check). */
export async function networksByIds(core: NetworkCore, ids: string[]): Promise<Map<string, Network>> {
  const out = new Map<string, Network>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await netDb(core)
      .selectFrom("network_network")
      .selectAll()
      .where("id", "in", ids.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.id, fromRow(r));
  }
  return out;
}
