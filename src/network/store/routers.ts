// Router rows: the router with its gateway port, SNAT flag and static routes; its interfaces are the ports whose
// device_id is the router (device_owner network:router_interface).
import type { Selectable } from "kysely";
import type { Caller, NetworkCore } from "../core.js";
import { netDb, parseJson, type NetworkTables } from "./tables.js";

type Row = Selectable<NetworkTables["network_router"]>;

/** A static route of a router. */
export interface RouterRoute {
  destination: string;
  nexthop: string;
}

/** A router as the service sees it. */
export interface Router {
  id: string;
  project_id: string;
  name: string;
  description: string;
  admin_state_up: boolean;
  status: string;
  gw_port_id: string | null;
  enable_snat: boolean;
  routes: RouterRoute[];
  availability_zone_hints: string[];
  revision_number: number;
  created_at: string;
  updated_at: string;
}

/** The device owner of a router's interface ports. */
export const ROUTER_INTERFACE = "network:router_interface";
/** The device owner of a router's gateway port. */
export const ROUTER_GATEWAY = "network:router_gateway";

function fromRow(r: Row): Router {
  return {
    ...r,
    admin_state_up: Boolean(r.admin_state_up),
    enable_snat: Boolean(r.enable_snat),
    routes: parseJson<RouterRoute[]>(r.routes),
    availability_zone_hints: parseJson<string[]>(r.availability_zone_hints),
    revision_number: Number(r.revision_number),
  };
}

function toRow(r: Router): Row {
  return {
    ...r,
    admin_state_up: r.admin_state_up ? 1 : 0,
    enable_snat: r.enable_snat ? 1 : 0,
    routes: JSON.stringify(r.routes),
    availability_zone_hints: JSON.stringify(r.availability_zone_hints),
  };
}

/** A router by id (no visibility check), or null. */
export async function getRouter(core: NetworkCore, id: string): Promise<Router | null> {
  if (id.length > 36) return null;
  const r = await netDb(core)
    .selectFrom("network_router")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** The routers a caller may see (its project's; every router for readers of all). */
export async function listRouters(core: NetworkCore, caller: Caller): Promise<Router[]> {
  let q = netDb(core).selectFrom("network_router").selectAll();
  if (!caller.readsAll) q = q.where("project_id", "=", caller.projectId ?? "");
  return (await q.execute()).map(fromRow);
}

/** Routers by id. */
export async function routersByIds(core: NetworkCore, ids: string[]): Promise<Router[]> {
  if (!ids.length) return [];
  return (await netDb(core).selectFrom("network_router").selectAll().where("id", "in", ids).execute()).map(
    fromRow,
  );
}

/** Insert a router. */
export async function insertRouter(core: NetworkCore, r: Router): Promise<void> {
  await netDb(core).insertInto("network_router").values(toRow(r)).execute();
}

/** Write a router's row (revision bumped by the caller). */
export async function saveRouter(core: NetworkCore, r: Router): Promise<void> {
  const { id, ...rest } = toRow(r);
  await netDb(core).updateTable("network_router").set(rest).where("id", "=", id).execute();
}

/** Delete a router's row. */
export async function deleteRouterRow(core: NetworkCore, id: string): Promise<void> {
  await netDb(core).deleteFrom("network_router").where("id", "=", id).execute();
}
