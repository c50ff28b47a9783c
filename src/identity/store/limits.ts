import { ApiError, badRequest, conflict } from "../../shared/http/errors.js";
import type { IdentityCore } from "../core.js";

/** A registered limit: the default for a resource of a service (optionally in one region). */
export interface RegisteredLimit {
  id: string;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  default_limit: number;
  description: string | null;
}

/** A project or domain limit overriding a registered limit. */
export interface Limit {
  id: string;
  project_id: string | null;
  domain_id: string | null;
  service_id: string;
  region_id: string | null;
  resource_name: string;
  resource_limit: number;
  description: string | null;
}

/** Filters of GET /v3/registered_limits and /v3/limits. */
export interface LimitFilter {
  service_id?: string;
  region_id?: string;
  resource_name?: string;
  project_id?: string;
  domain_id?: string;
}

const regFromRow = (r: RegisteredLimit): RegisteredLimit => ({
  id: r.id,
  service_id: r.service_id,
  region_id: r.region_id,
  resource_name: r.resource_name,
  default_limit: Number(r.default_limit),
  description: r.description,
});

const limitFromRow = (r: Limit): Limit => ({
  id: r.id,
  project_id: r.project_id,
  domain_id: r.domain_id,
  service_id: r.service_id,
  region_id: r.region_id,
  resource_name: r.resource_name,
  resource_limit: Number(r.resource_limit),
  description: r.description,
});

const invalid = (attribute: string, target: string) =>
  badRequest(
    `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
  );

const dupMsg = (kind: string) => conflict(`Conflict occurred attempting to store ${kind} - Duplicate entry.`);

async function assertServiceRegion(
  core: IdentityCore,
  serviceId: string,
  regionId: string | null,
  target: string,
): Promise<void> {
  if (
    !(await core.db
      .selectFrom("identity_service")
      .select("id")
      .where("id", "=", serviceId)
      .executeTakeFirst())
  )
    throw invalid("service_id", target);
  if (
    regionId !== null &&
    !(await core.db.selectFrom("identity_region").select("id").where("id", "=", regionId).executeTakeFirst())
  )
    throw invalid("region_id", target);
}

const sameKey = (a: { service_id: string; region_id: string | null; resource_name: string }, b: typeof a) =>
  a.service_id === b.service_id &&
  (a.region_id ?? null) === (b.region_id ?? null) &&
  a.resource_name === b.resource_name;

/** Registered limits with Keystone's filters. */
export async function listRegisteredLimits(
  core: IdentityCore,
  f: LimitFilter = {},
): Promise<RegisteredLimit[]> {
  let q = core.db.selectFrom("identity_registered_limit").selectAll();
  if (f.service_id !== undefined) q = q.where("service_id", "=", f.service_id);
  if (f.region_id !== undefined) q = q.where("region_id", "=", f.region_id);
  if (f.resource_name !== undefined) q = q.where("resource_name", "=", f.resource_name);
  return (await q.orderBy("id").execute()).map(regFromRow);
}

/** A registered limit, or 404. */
export async function getRegisteredLimit(core: IdentityCore, id: string): Promise<RegisteredLimit> {
  const r = await core.db
    .selectFrom("identity_registered_limit")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst();
  if (!r) throw new ApiError(404, `Could not find registered limit for ${id}.`);
  return regFromRow(r);
}

/** Input of one registered limit. */
export interface RegisteredLimitInput {
  service_id: string;
  region_id?: string | null;
  resource_name: string;
  default_limit: number;
  description?: string | null;
}

/** Create registered limits all-or-nothing; 400 for unknown service/region, 409 for a duplicate (service, region, resource). */
export async function createRegisteredLimits(
  core: IdentityCore,
  input: RegisteredLimitInput[],
): Promise<RegisteredLimit[]> {
  const rows: RegisteredLimit[] = [];
  for (const i of input) {
    const row: RegisteredLimit = {
      id: core.newId(),
      service_id: i.service_id,
      region_id: i.region_id ?? null,
      resource_name: i.resource_name,
      default_limit: i.default_limit,
      description: i.description ?? null,
    };
    await assertServiceRegion(core, row.service_id, row.region_id, "registered_limit");
    if (rows.some((r) => sameKey(r, row))) throw dupMsg("registered_limit");
    rows.push(row);
  }
  await core.db.transaction().execute(async (tx) => {
    for (const row of rows) {
      let q = tx
        .selectFrom("identity_registered_limit")
        .select("id")
        .where("service_id", "=", row.service_id)
        .where("resource_name", "=", row.resource_name);
      q =
        row.region_id === null ? q.where("region_id", "is", null) : q.where("region_id", "=", row.region_id);
      if (await q.executeTakeFirst()) throw dupMsg("registered_limit");
      await tx.insertInto("identity_registered_limit").values(row).execute();
    }
  });
  core.changed();
  return rows;
}

async function referencingLimit(core: IdentityCore, r: RegisteredLimit): Promise<boolean> {
  let q = core.db
    .selectFrom("identity_limit")
    .select("id")
    .where("service_id", "=", r.service_id)
    .where("resource_name", "=", r.resource_name);
  q = r.region_id === null ? q.where("region_id", "is", null) : q.where("region_id", "=", r.region_id);
  return !!(await q.executeTakeFirst());
}

const referenced = (id: string) =>
  new ApiError(
    403,
    `Unable to update or delete registered limit ${id} because there are project limits associated with it.`,
  );

/** Update a registered limit; 403 while project/domain limits reference it (as Keystone), 409 on a duplicate. */
export async function updateRegisteredLimit(
  core: IdentityCore,
  r: RegisteredLimit,
  patch: {
    service_id?: string;
    region_id?: string | null;
    resource_name?: string;
    default_limit?: number;
    description?: string | null;
  },
): Promise<RegisteredLimit> {
  if (await referencingLimit(core, r)) throw referenced(r.id);
  const next: RegisteredLimit = {
    ...r,
    service_id: patch.service_id ?? r.service_id,
    region_id: patch.region_id === undefined ? r.region_id : patch.region_id,
    resource_name: patch.resource_name ?? r.resource_name,
    default_limit: patch.default_limit ?? r.default_limit,
    description: patch.description === undefined ? r.description : patch.description,
  };
  await assertServiceRegion(core, next.service_id, next.region_id, "registered_limit");
  if (!sameKey(r, next)) {
    const others = await listRegisteredLimits(core, {
      service_id: next.service_id,
      resource_name: next.resource_name,
    });
    if (others.some((o) => o.id !== r.id && sameKey(o, next))) throw dupMsg("registered_limit");
  }
  const { id: _id, ...set } = next;
  await core.db.updateTable("identity_registered_limit").set(set).where("id", "=", r.id).execute();
  core.changed();
  return getRegisteredLimit(core, r.id);
}

/** Delete a registered limit; 403 while limits reference it. */
export async function deleteRegisteredLimit(core: IdentityCore, r: RegisteredLimit): Promise<void> {
  if (await referencingLimit(core, r)) throw referenced(r.id);
  await core.db.deleteFrom("identity_registered_limit").where("id", "=", r.id).execute();
  core.changed();
}

/** Limits with Keystone's filters. */
export async function listLimits(core: IdentityCore, f: LimitFilter = {}): Promise<Limit[]> {
  let q = core.db.selectFrom("identity_limit").selectAll();
  if (f.service_id !== undefined) q = q.where("service_id", "=", f.service_id);
  if (f.region_id !== undefined) q = q.where("region_id", "=", f.region_id);
  if (f.resource_name !== undefined) q = q.where("resource_name", "=", f.resource_name);
  if (f.project_id !== undefined) q = q.where("project_id", "=", f.project_id);
  if (f.domain_id !== undefined) q = q.where("domain_id", "=", f.domain_id);
  return (await q.orderBy("id").execute()).map(limitFromRow);
}

/** A limit, or 404. */
export async function getLimit(core: IdentityCore, id: string): Promise<Limit> {
  const r = await findLimit(core, id);
  if (!r) throw new ApiError(404, `Could not find limit for ${id}.`);
  return r;
}

/** A limit, or null. */
export async function findLimit(core: IdentityCore, id: string): Promise<Limit | null> {
  const r = await core.db.selectFrom("identity_limit").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? limitFromRow(r) : null;
}

/** Input of one project or domain limit. */
export interface LimitInput {
  project_id?: string;
  domain_id?: string;
  service_id: string;
  region_id?: string | null;
  resource_name: string;
  resource_limit: number;
  description?: string | null;
}

/**
 * Create limits all-or-nothing (flat model): the owner must exist (a project that is a domain becomes domain_id),
 * a registered limit must exist for (service, region, resource) or 403, and one limit per owner and resource or 409.
 */
export async function createLimits(core: IdentityCore, input: LimitInput[]): Promise<Limit[]> {
  const rows: Limit[] = [];
  for (const i of input) {
    const row: Limit = {
      id: core.newId(),
      project_id: i.project_id ?? null,
      domain_id: i.domain_id ?? null,
      service_id: i.service_id,
      region_id: i.region_id ?? null,
      resource_name: i.resource_name,
      resource_limit: i.resource_limit,
      description: i.description ?? null,
    };
    await assertServiceRegion(core, row.service_id, row.region_id, "limit");
    if (row.project_id !== null) {
      const p = await core.db
        .selectFrom("identity_project")
        .select(["id", "is_domain"])
        .where("id", "=", row.project_id)
        .executeTakeFirst();
      if (!p) throw invalid("project_id", "limit");
      if (Number(p.is_domain)) {
        row.domain_id = row.project_id;
        row.project_id = null;
      }
    } else if (row.domain_id !== null) {
      const d = await core.db
        .selectFrom("identity_project")
        .select(["id", "is_domain"])
        .where("id", "=", row.domain_id)
        .executeTakeFirst();
      if (!d || !Number(d.is_domain)) throw invalid("domain_id", "limit");
    } else throw badRequest("Invalid input for field 'limits': either project_id or domain_id is required");
    const regs = await listRegisteredLimits(core, {
      service_id: row.service_id,
      resource_name: row.resource_name,
    });
    if (!regs.some((r) => sameKey(r, row)))
      throw new ApiError(403, "Unable to create a limit that has no corresponding registered limit.");
    const sameOwner = (a: Limit) =>
      a.project_id === row.project_id && a.domain_id === row.domain_id && sameKey(a, row);
    if (rows.some(sameOwner)) throw dupMsg("limit");
    rows.push(row);
  }
  await core.db.transaction().execute(async (tx) => {
    for (const row of rows) {
      let q = tx
        .selectFrom("identity_limit")
        .select("id")
        .where("service_id", "=", row.service_id)
        .where("resource_name", "=", row.resource_name);
      q =
        row.region_id === null ? q.where("region_id", "is", null) : q.where("region_id", "=", row.region_id);
      q =
        row.project_id === null
          ? q.where("project_id", "is", null)
          : q.where("project_id", "=", row.project_id);
      q =
        row.domain_id === null ? q.where("domain_id", "is", null) : q.where("domain_id", "=", row.domain_id);
      if (await q.executeTakeFirst()) throw dupMsg("limit");
      await tx.insertInto("identity_limit").values(row).execute();
    }
  });
  core.changed();
  return rows;
}

/** Update a limit's value or description. */
export async function updateLimit(
  core: IdentityCore,
  l: Limit,
  patch: { resource_limit?: number; description?: string | null },
): Promise<Limit> {
  await core.db
    .updateTable("identity_limit")
    .set({
      resource_limit: patch.resource_limit ?? l.resource_limit,
      description: patch.description === undefined ? l.description : patch.description,
    })
    .where("id", "=", l.id)
    .execute();
  core.changed();
  return getLimit(core, l.id);
}

/** Delete a limit. */
export async function deleteLimit(core: IdentityCore, id: string): Promise<void> {
  await core.db.deleteFrom("identity_limit").where("id", "=", id).execute();
  core.changed();
}

/** Delete every limit of a project or domain (when it is deleted). */
export async function deleteLimitsOf(core: IdentityCore, ownerId: string): Promise<void> {
  await core.db
    .deleteFrom("identity_limit")
    .where((eb) => eb.or([eb("project_id", "=", ownerId), eb("domain_id", "=", ownerId)]))
    .execute();
  core.changed();
}
