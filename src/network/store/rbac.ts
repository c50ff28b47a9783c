// RBAC entries (Neutron's networkrbacs): who else may use a network, as shared (access_as_shared) or as an
// external network (access_as_external); target "*" means every project. `shared` and `router:external`
// visibility are computed from them.
import { isUniqueViolation } from "../../shared/db/index.js";
import type { NetworkCore } from "../core.js";
import { conflict } from "../errors.js";
import { netDb, type NetworkTables } from "./tables.js";

/** An RBAC entry. */
export type RbacEntry = NetworkTables["network_rbac"];

/** The actions an entry grants. */
export const RBAC_ACTIONS = ["access_as_shared", "access_as_external"] as const;
export type RbacAction = (typeof RBAC_ACTIONS)[number];

/** Entries of these objects, grouped by object id. */
export async function rbacFor(
  core: NetworkCore,
  objectType: string,
  ids: string[],
): Promise<Map<string, RbacEntry[]>> {
  const out = new Map<string, RbacEntry[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await netDb(core)
      .selectFrom("network_rbac")
      .selectAll()
      .where("object_type", "=", objectType)
      .where("object_id", "in", ids.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.object_id, [...(out.get(r.object_id) ?? []), r]);
  }
  return out;
}

/** Whether the entries grant `action` to a project (directly or by "*"). */
export const grants = (entries: RbacEntry[], action: RbacAction, project: string | null): boolean =>
  entries.some((e) => e.action === action && (e.target_project === "*" || e.target_project === project));

/** One entry by id, or null. */
export async function getRbac(core: NetworkCore, id: string): Promise<RbacEntry | null> {
  if (id.length > 36) return null;
  return (
    (await netDb(core).selectFrom("network_rbac").selectAll().where("id", "=", id).executeTakeFirst()) ?? null
  );
}

/** Every entry (callers filter by visibility). */
export async function listRbac(core: NetworkCore, project: string | null): Promise<RbacEntry[]> {
  let q = netDb(core).selectFrom("network_rbac").selectAll();
  if (project !== null) q = q.where("project_id", "=", project);
  return q.execute();
}

/** Insert an entry; 409 DuplicateRbacPolicy when the same grant exists. */
export async function insertRbac(core: NetworkCore, e: RbacEntry): Promise<void> {
  try {
    await netDb(core).insertInto("network_rbac").values(e).execute();
  } catch (err) {
    if (isUniqueViolation(err))
      throw conflict("DuplicateRbacPolicy", "An RBAC policy already exists with those values.");
    throw err;
  }
}

/** Change an entry's target project. */
export async function updateRbacTarget(core: NetworkCore, id: string, target: string): Promise<void> {
  try {
    await netDb(core)
      .updateTable("network_rbac")
      .set({ target_project: target })
      .where("id", "=", id)
      .execute();
  } catch (err) {
    if (isUniqueViolation(err))
      throw conflict("DuplicateRbacPolicy", "An RBAC policy already exists with those values.");
    throw err;
  }
}

/** Delete an entry. */
export async function deleteRbac(core: NetworkCore, id: string): Promise<void> {
  await netDb(core).deleteFrom("network_rbac").where("id", "=", id).execute();
}

/** Delete the entries of an object (it is being deleted), or only those of one action and target. */
export async function deleteRbacOf(
  core: NetworkCore,
  objectType: string,
  objectId: string,
  only?: { action: RbacAction; target?: string },
): Promise<void> {
  let q = netDb(core)
    .deleteFrom("network_rbac")
    .where("object_type", "=", objectType)
    .where("object_id", "=", objectId);
  if (only) q = q.where("action", "=", only.action);
  if (only?.target !== undefined) q = q.where("target_project", "=", only.target);
  await q.execute();
}
