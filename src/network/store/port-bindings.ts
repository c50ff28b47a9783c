// A port's inactive bindings (network_port_binding, one per host): made for a host a port is to move to, turned
// into the port's active binding by activation. Inserting one for a host that has one already reports it.
import { isUniqueViolation } from "../../shared/db/index.js";
import type { NetworkCore } from "../core.js";
import { netDb, parseJson, type NetworkTables } from "./tables.js";

type Row = NetworkTables["network_port_binding"];

/** An inactive binding of a port to a host. */
export interface PortBinding {
  port_id: string;
  host: string;
  vnic_type: string;
  profile: Record<string, unknown>;
  vif_type: string;
  vif_details: Record<string, unknown>;
}

const fromRow = (r: Row): PortBinding => ({
  ...r,
  profile: parseJson(r.profile),
  vif_details: parseJson(r.vif_details),
});

/** The inactive bindings of a port, by host. */
export async function inactiveBindings(core: NetworkCore, portId: string): Promise<PortBinding[]> {
  const rows = await netDb(core)
    .selectFrom("network_port_binding")
    .selectAll()
    .where("port_id", "=", portId)
    .orderBy("host")
    .execute();
  return rows.map(fromRow);
}

/** Insert an inactive binding; false when the port has one on that host already. */
export async function insertBinding(core: NetworkCore, b: PortBinding): Promise<boolean> {
  try {
    await netDb(core)
      .insertInto("network_port_binding")
      .values({ ...b, profile: JSON.stringify(b.profile), vif_details: JSON.stringify(b.vif_details) })
      .execute();
    return true;
  } catch (e) {
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

/** Delete a port's inactive binding on a host; whether there was one. */
export async function deleteBinding(core: NetworkCore, portId: string, host: string): Promise<boolean> {
  const r = await netDb(core)
    .deleteFrom("network_port_binding")
    .where("port_id", "=", portId)
    .where("host", "=", host)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Ids of the ports with an inactive binding on a host (their taps are made there ahead of a move). */
export async function portIdsBoundInactiveTo(core: NetworkCore, host: string): Promise<string[]> {
  const rows = await netDb(core)
    .selectFrom("network_port_binding")
    .select("port_id")
    .where("host", "=", host)
    .execute();
  return rows.map((r) => r.port_id);
}
