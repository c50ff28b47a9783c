// OS-EP-FILTER: endpoint groups (saved endpoint filters), their project associations, and direct
// project-endpoint associations. Rows that point at a deleted project or endpoint are ignored when read and
// dropped when met (as Keystone drops stale project-endpoint references).
import { isUniqueViolation } from "../../shared/db/index.js";
import { ApiError } from "../../shared/http/errors.js";
import type { IdentityCore } from "../core.js";
import { json } from "../tables.js";
import { listEndpoints, type Endpoint } from "./catalog.js";

/** Attributes an endpoint group can filter on. */
export const FILTER_KEYS = ["service_id", "region_id", "interface"] as const;

/** A named endpoint filter. */
export interface EndpointGroup {
  id: string;
  name: string;
  description: string | null;
  filters: Record<string, unknown>;
}

const fromRow = (r: {
  id: string;
  name: string;
  description: string | null;
  filters: string;
}): EndpointGroup => ({
  id: r.id,
  name: r.name,
  description: r.description,
  filters: json(r.filters, {}),
});

/** Keystone's EndpointGroupNotFound. */
export const endpointGroupNotFound = (id: string): ApiError =>
  new ApiError(404, `Could not find endpoint group: ${id}.`);

/** An endpoint group by id, or null. */
export async function findEndpointGroup(core: IdentityCore, id: string): Promise<EndpointGroup | null> {
  const r = await core.db
    .selectFrom("identity_endpoint_group")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** An endpoint group by id, or 404. */
export async function getEndpointGroup(core: IdentityCore, id: string): Promise<EndpointGroup> {
  const g = await findEndpointGroup(core, id);
  if (!g) throw endpointGroupNotFound(id);
  return g;
}

/** Endpoint groups, optionally by name. */
export async function listEndpointGroups(
  core: IdentityCore,
  f: { name?: string; ids?: string[] } = {},
): Promise<EndpointGroup[]> {
  if (f.ids && !f.ids.length) return [];
  let q = core.db.selectFrom("identity_endpoint_group").selectAll();
  if (f.name !== undefined) q = q.where("name", "=", f.name);
  if (f.ids) q = q.where("id", "in", f.ids);
  return (await q.orderBy("id").execute()).map(fromRow);
}

/** Create an endpoint group. */
export async function createEndpointGroup(
  core: IdentityCore,
  g: { name: string; description: string | null; filters: Record<string, unknown> },
): Promise<EndpointGroup> {
  const id = core.newId();
  await core.db
    .insertInto("identity_endpoint_group")
    .values({ id, name: g.name, description: g.description, filters: JSON.stringify(g.filters) })
    .execute();
  core.changed();
  return getEndpointGroup(core, id);
}

/** Update an endpoint group's name, description or filters (filters are replaced whole). */
export async function updateEndpointGroup(
  core: IdentityCore,
  g: EndpointGroup,
  patch: { name?: string; description?: string | null; filters?: Record<string, unknown> },
): Promise<EndpointGroup> {
  await core.db
    .updateTable("identity_endpoint_group")
    .set({
      name: patch.name ?? g.name,
      description: patch.description === undefined ? g.description : patch.description,
      filters: JSON.stringify(patch.filters ?? g.filters),
    })
    .where("id", "=", g.id)
    .execute();
  core.changed();
  return getEndpointGroup(core, g.id);
}

/** Delete an endpoint group and its project associations; 404 when missing. */
export async function deleteEndpointGroup(core: IdentityCore, id: string): Promise<void> {
  await getEndpointGroup(core, id);
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("identity_project_endpoint_group").where("endpoint_group_id", "=", id).execute();
    await tx.deleteFrom("identity_endpoint_group").where("id", "=", id).execute();
  });
  core.changed();
}

/** Whether an endpoint matches every filter of a group. */
export const matchesFilters = (e: Endpoint, filters: Record<string, unknown>): boolean =>
  Object.entries(filters).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v);

/** The endpoints an endpoint group selects. */
export async function endpointsInGroup(core: IdentityCore, g: EndpointGroup): Promise<Endpoint[]> {
  return (await listEndpoints(core)).filter((e) => matchesFilters(e, g.filters));
}

/** Ids of the projects that exist among `ids`. */
async function existingProjects(core: IdentityCore, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await core.db
    .selectFrom("identity_project")
    .select("id")
    .where("id", "in", ids)
    .where("is_domain", "=", 0)
    .execute();
  return new Set(rows.map((r) => r.id));
}

// Endpoint group ↔ project

/** Keystone's 404 for a missing endpoint group/project association. */
const groupAssocNotFound = () => new ApiError(404, "Endpoint Group Project Association not found");

/** Whether a project is associated with an endpoint group. */
export async function hasGroupProject(
  core: IdentityCore,
  groupId: string,
  projectId: string,
): Promise<boolean> {
  return !!(await core.db
    .selectFrom("identity_project_endpoint_group")
    .select("project_id")
    .where("endpoint_group_id", "=", groupId)
    .where("project_id", "=", projectId)
    .executeTakeFirst());
}

/** Associate an endpoint group with a project; 409 when already associated (as Keystone). */
export async function addGroupProject(core: IdentityCore, groupId: string, projectId: string): Promise<void> {
  const conflict = () =>
    new ApiError(
      409,
      `Conflict occurred attempting to store project_endpoint_group - Duplicate entry found with endpoint_group_id ${groupId} and project_id ${projectId}.`,
    );
  if (await hasGroupProject(core, groupId, projectId)) throw conflict();
  try {
    await core.db
      .insertInto("identity_project_endpoint_group")
      .values({ endpoint_group_id: groupId, project_id: projectId })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict();
    throw e;
  }
  core.changed();
}

/** Remove an endpoint group/project association; 404 when there is none. */
export async function removeGroupProject(
  core: IdentityCore,
  groupId: string,
  projectId: string,
): Promise<void> {
  const r = await core.db
    .deleteFrom("identity_project_endpoint_group")
    .where("endpoint_group_id", "=", groupId)
    .where("project_id", "=", projectId)
    .executeTakeFirst();
  if (!Number(r.numDeletedRows)) throw groupAssocNotFound();
  core.changed();
}

/** 404 unless the association exists. */
export async function assertGroupProject(
  core: IdentityCore,
  groupId: string,
  projectId: string,
): Promise<void> {
  if (!(await hasGroupProject(core, groupId, projectId))) throw groupAssocNotFound();
}

/** Ids of the (existing) projects associated with an endpoint group. */
export async function projectsOfGroup(core: IdentityCore, groupId: string): Promise<string[]> {
  const rows = await core.db
    .selectFrom("identity_project_endpoint_group")
    .select("project_id")
    .where("endpoint_group_id", "=", groupId)
    .execute();
  const alive = await existingProjects(
    core,
    rows.map((r) => r.project_id),
  );
  return rows.map((r) => r.project_id).filter((p) => alive.has(p));
}

/** The endpoint groups associated with a project. */
export async function groupsOfProject(core: IdentityCore, projectId: string): Promise<EndpointGroup[]> {
  const rows = await core.db
    .selectFrom("identity_project_endpoint_group")
    .select("endpoint_group_id")
    .where("project_id", "=", projectId)
    .execute();
  return listEndpointGroups(core, { ids: rows.map((r) => r.endpoint_group_id) });
}

// Endpoint ↔ project

/** Associate an endpoint with a project (idempotent). */
export async function addProjectEndpoint(
  core: IdentityCore,
  projectId: string,
  endpointId: string,
): Promise<void> {
  if (await hasProjectEndpoint(core, projectId, endpointId)) return;
  try {
    await core.db
      .insertInto("identity_project_endpoint")
      .values({ endpoint_id: endpointId, project_id: projectId })
      .execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  core.changed();
}

/** Whether an endpoint is directly associated with a project. */
export async function hasProjectEndpoint(
  core: IdentityCore,
  projectId: string,
  endpointId: string,
): Promise<boolean> {
  return !!(await core.db
    .selectFrom("identity_project_endpoint")
    .select("project_id")
    .where("endpoint_id", "=", endpointId)
    .where("project_id", "=", projectId)
    .executeTakeFirst());
}

const endpointAssocNotFound = (projectId: string, endpointId: string) =>
  new ApiError(404, `Endpoint ${endpointId} not found in project ${projectId}`);

/** 404 unless the endpoint is directly associated with the project. */
export async function assertProjectEndpoint(
  core: IdentityCore,
  projectId: string,
  endpointId: string,
): Promise<void> {
  if (!(await hasProjectEndpoint(core, projectId, endpointId)))
    throw endpointAssocNotFound(projectId, endpointId);
}

/** Remove a direct project-endpoint association; 404 when there is none. */
export async function removeProjectEndpoint(
  core: IdentityCore,
  projectId: string,
  endpointId: string,
): Promise<void> {
  const r = await core.db
    .deleteFrom("identity_project_endpoint")
    .where("endpoint_id", "=", endpointId)
    .where("project_id", "=", projectId)
    .executeTakeFirst();
  if (!Number(r.numDeletedRows)) throw endpointAssocNotFound(projectId, endpointId);
  core.changed();
}

/** Ids of the (existing) projects an endpoint is directly associated with. */
export async function projectsOfEndpoint(core: IdentityCore, endpointId: string): Promise<string[]> {
  const rows = await core.db
    .selectFrom("identity_project_endpoint")
    .select("project_id")
    .where("endpoint_id", "=", endpointId)
    .execute();
  const alive = await existingProjects(
    core,
    rows.map((r) => r.project_id),
  );
  return rows.map((r) => r.project_id).filter((p) => alive.has(p));
}

/** The endpoints of a project: directly associated ones plus those of its endpoint groups (Keystone's
 * list_endpoints_for_project); associations to deleted endpoints are dropped on the way. */
export async function endpointsOfProject(core: IdentityCore, projectId: string): Promise<Endpoint[]> {
  const all = await listEndpoints(core);
  const byId = new Map(all.map((e) => [e.id, e]));
  const direct = await core.db
    .selectFrom("identity_project_endpoint")
    .select("endpoint_id")
    .where("project_id", "=", projectId)
    .execute();
  const out = new Map<string, Endpoint>();
  const stale: string[] = [];
  for (const r of direct) {
    const e = byId.get(r.endpoint_id);
    if (e) out.set(e.id, e);
    else stale.push(r.endpoint_id);
  }
  if (stale.length)
    await core.db
      .deleteFrom("identity_project_endpoint")
      .where("project_id", "=", projectId)
      .where("endpoint_id", "in", stale)
      .execute();
  for (const g of await groupsOfProject(core, projectId))
    for (const e of all) if (!out.has(e.id) && matchesFilters(e, g.filters)) out.set(e.id, e);
  return [...out.values()];
}

/** Whether a project has any endpoint filtering set up (direct endpoints or endpoint groups). */
export async function projectHasEndpointFilter(core: IdentityCore, projectId: string): Promise<boolean> {
  const direct = await core.db
    .selectFrom("identity_project_endpoint")
    .select("endpoint_id")
    .where("project_id", "=", projectId)
    .executeTakeFirst();
  if (direct) return true;
  return !!(await core.db
    .selectFrom("identity_project_endpoint_group")
    .select("endpoint_group_id")
    .where("project_id", "=", projectId)
    .executeTakeFirst());
}
