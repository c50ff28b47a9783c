import { fromDbBool, isUniqueViolation, toDbBool } from "../../shared/db/index.js";
import { ApiError, badRequest } from "../../shared/http/errors.js";
import type { IdentityCore } from "../core.js";
import { duplicate, notFoundEntity } from "../errors.js";
import { json } from "../tables.js";

/** A catalog service entry. */
export interface Service {
  id: string;
  type: string;
  enabled: boolean;
  name?: string;
  description?: string;
  extra: Record<string, unknown>;
}

/** A service endpoint. */
export interface Endpoint {
  id: string;
  service_id: string;
  interface: "public" | "internal" | "admin";
  url: string;
  region_id: string | null;
  enabled: boolean;
  extra: Record<string, unknown>;
}

/** A region. */
export interface Region {
  id: string;
  description: string;
  parent_region_id: string | null;
  extra: Record<string, unknown>;
}

/** One service in a token's catalog. */
export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: Array<{
    id: string;
    interface: string;
    region_id: string | null;
    url: string;
    region: string | null;
  }>;
}

const svcFromRow = (r: { id: string; type: string; enabled: number; extra: string | null }): Service => {
  const extra = json<Record<string, unknown>>(r.extra, {});
  const { name, description, ...rest } = extra as { name?: string; description?: string };
  return { id: r.id, type: r.type, enabled: fromDbBool(r.enabled), name, description, extra: rest };
};
const epFromRow = (r: {
  id: string;
  service_id: string;
  interface: string;
  url: string;
  region_id: string | null;
  enabled: number;
  extra: string | null;
}): Endpoint => ({
  id: r.id,
  service_id: r.service_id,
  interface: r.interface as Endpoint["interface"],
  url: r.url,
  region_id: r.region_id,
  enabled: fromDbBool(r.enabled),
  extra: json(r.extra, {}),
});

/** List services, optionally by type or name. */
export async function listServices(
  core: IdentityCore,
  f: { type?: string; name?: string } = {},
): Promise<Service[]> {
  let q = core.db.selectFrom("identity_service").selectAll();
  if (f.type) q = q.where("type", "=", f.type);
  const out = (await q.execute()).map(svcFromRow);
  return f.name ? out.filter((s) => s.name === f.name) : out;
}

/** A service by id, or 404. */
export async function getService(core: IdentityCore, id: string): Promise<Service> {
  const r = await core.db.selectFrom("identity_service").selectAll().where("id", "=", id).executeTakeFirst();
  if (!r) throw notFoundEntity("service", id);
  return svcFromRow(r);
}

/** Create a service. */
export async function createService(
  core: IdentityCore,
  s: {
    id?: string;
    type: string;
    enabled?: boolean;
    name?: string;
    description?: string;
    extra?: Record<string, unknown>;
  },
): Promise<Service> {
  const id = s.id ?? core.newId();
  const extra = {
    ...(s.extra ?? {}),
    ...(s.name !== undefined ? { name: s.name } : {}),
    ...(s.description !== undefined ? { description: s.description } : {}),
  };
  await core.db
    .insertInto("identity_service")
    .values({ id, type: s.type, enabled: toDbBool(s.enabled ?? true), extra: JSON.stringify(extra) })
    .execute();
  core.changed();
  return getService(core, id);
}

/** Update a service. */
export async function updateService(
  core: IdentityCore,
  s: Service,
  patch: {
    type?: string;
    enabled?: boolean;
    name?: string;
    description?: string;
    extra?: Record<string, unknown>;
  },
): Promise<Service> {
  const extra = {
    ...s.extra,
    ...(patch.extra ?? {}),
    name: patch.name ?? s.name,
    description: patch.description ?? s.description,
  };
  await core.db
    .updateTable("identity_service")
    .set({
      type: patch.type ?? s.type,
      enabled: toDbBool(patch.enabled ?? s.enabled),
      extra: JSON.stringify(extra),
    })
    .where("id", "=", s.id)
    .execute();
  core.changed();
  return getService(core, s.id);
}

/** Delete a service and its endpoints. */
export async function deleteService(core: IdentityCore, id: string): Promise<void> {
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("identity_endpoint").where("service_id", "=", id).execute();
    await tx.deleteFrom("identity_service").where("id", "=", id).execute();
  });
  core.changed();
}

/** List endpoints with Keystone's filters. */
export async function listEndpoints(
  core: IdentityCore,
  f: { service_id?: string; interface?: string; region_id?: string } = {},
): Promise<Endpoint[]> {
  let q = core.db.selectFrom("identity_endpoint").selectAll();
  if (f.service_id) q = q.where("service_id", "=", f.service_id);
  if (f.interface) q = q.where("interface", "=", f.interface);
  if (f.region_id) q = q.where("region_id", "=", f.region_id);
  return (await q.execute()).map(epFromRow);
}

/** An endpoint by id, or 404. */
export async function getEndpoint(core: IdentityCore, id: string): Promise<Endpoint> {
  const r = await core.db.selectFrom("identity_endpoint").selectAll().where("id", "=", id).executeTakeFirst();
  if (!r) throw notFoundEntity("endpoint", id);
  return epFromRow(r);
}

const INTERFACES = new Set(["public", "internal", "admin"]);

const notInTable = (attr: string, table: string) =>
  badRequest(
    `Expecting to find ${attr} in ${table}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`,
  );

/** Keystone's endpoint checks: a named region/service that does not exist is a 400, not a 404. */
async function assertRegionExists(core: IdentityCore, id: string | null | undefined): Promise<void> {
  if (
    id &&
    !(await core.db.selectFrom("identity_region").select("id").where("id", "=", id).executeTakeFirst())
  )
    throw notInTable("endpoint region_id", "region table");
}

async function assertServiceExists(core: IdentityCore, id: string | null | undefined): Promise<void> {
  if (
    id &&
    !(await core.db.selectFrom("identity_service").select("id").where("id", "=", id).executeTakeFirst())
  )
    throw notInTable("endpoint service_id", "service table");
}

/** Create an endpoint; the service and region must exist. */
export async function createEndpoint(
  core: IdentityCore,
  e: {
    id?: string;
    service_id: string;
    interface: string;
    url: string;
    region_id?: string | null;
    enabled?: boolean;
    extra?: Record<string, unknown>;
  },
): Promise<Endpoint> {
  if (!INTERFACES.has(e.interface))
    throw badRequest(
      `Invalid input for field 'interface': '${e.interface}' is not one of public, internal, admin`,
    );
  await assertRegionExists(core, e.region_id);
  await assertServiceExists(core, e.service_id);
  const id = e.id ?? core.newId();
  await core.db
    .insertInto("identity_endpoint")
    .values({
      id,
      service_id: e.service_id,
      interface: e.interface,
      url: e.url,
      region_id: e.region_id ?? null,
      enabled: toDbBool(e.enabled ?? true),
      extra: JSON.stringify(e.extra ?? {}),
    })
    .execute();
  core.changed();
  return getEndpoint(core, id);
}

/** Update an endpoint. */
export async function updateEndpoint(
  core: IdentityCore,
  ep: Endpoint,
  patch: {
    service_id?: string;
    interface?: string;
    url?: string;
    region_id?: string | null;
    enabled?: boolean;
    extra?: Record<string, unknown>;
  },
): Promise<Endpoint> {
  if (patch.interface !== undefined && !INTERFACES.has(patch.interface))
    throw badRequest(
      `Invalid input for field 'interface': '${patch.interface}' is not one of public, internal, admin`,
    );
  await assertRegionExists(core, patch.region_id);
  await assertServiceExists(core, patch.service_id);
  await core.db
    .updateTable("identity_endpoint")
    .set({
      service_id: patch.service_id ?? ep.service_id,
      interface: patch.interface ?? ep.interface,
      url: patch.url ?? ep.url,
      region_id: patch.region_id === undefined ? ep.region_id : patch.region_id,
      enabled: toDbBool(patch.enabled ?? ep.enabled),
      extra: JSON.stringify({ ...ep.extra, ...(patch.extra ?? {}) }),
    })
    .where("id", "=", ep.id)
    .execute();
  core.changed();
  return getEndpoint(core, ep.id);
}

/** Delete an endpoint. */
export async function deleteEndpoint(core: IdentityCore, id: string): Promise<void> {
  await core.db.deleteFrom("identity_endpoint").where("id", "=", id).execute();
  core.changed();
}

/** A region by id, or 404. */
export async function getRegion(core: IdentityCore, id: string): Promise<Region> {
  const r = await core.db.selectFrom("identity_region").selectAll().where("id", "=", id).executeTakeFirst();
  if (!r) throw notFoundEntity("region", id);
  return {
    id: r.id,
    description: r.description ?? "",
    parent_region_id: r.parent_region_id,
    extra: json(r.extra, {}),
  };
}

/** List regions, optionally children of one. */
export async function listRegions(
  core: IdentityCore,
  f: { parent_region_id?: string } = {},
): Promise<Region[]> {
  let q = core.db.selectFrom("identity_region").selectAll();
  if (f.parent_region_id) q = q.where("parent_region_id", "=", f.parent_region_id);
  return (await q.orderBy("id").execute()).map((r) => ({
    id: r.id,
    description: r.description ?? "",
    parent_region_id: r.parent_region_id,
    extra: json(r.extra, {}),
  }));
}

/** Create a region; the parent must exist (404 like Keystone's RegionNotFound); 409 on a duplicate id. */
export async function createRegion(
  core: IdentityCore,
  r: {
    id?: string;
    description?: string | null;
    parent_region_id?: string | null;
    extra?: Record<string, unknown>;
  },
): Promise<Region> {
  const id = r.id || core.newId();
  if (await core.db.selectFrom("identity_region").select("id").where("id", "=", id).executeTakeFirst())
    throw duplicate("region", "id", id);
  if (r.parent_region_id) await getRegion(core, r.parent_region_id);
  try {
    await core.db
      .insertInto("identity_region")
      .values({
        id,
        description: r.description ?? "",
        parent_region_id: r.parent_region_id ?? null,
        extra: JSON.stringify(r.extra ?? {}),
      })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate("region", "id", id);
    throw e;
  }
  core.changed();
  return getRegion(core, id);
}

/** Update a region; rejects a parent that would create a cycle. */
export async function updateRegion(
  core: IdentityCore,
  reg: Region,
  patch: { description?: string | null; parent_region_id?: string | null; extra?: Record<string, unknown> },
): Promise<Region> {
  if (patch.parent_region_id) {
    let cur: string | null = patch.parent_region_id;
    for (let i = 0; cur && i < 1000; i++) {
      if (cur === reg.id)
        throw badRequest(
          `The specified parent region ${patch.parent_region_id} would create a circular region hierarchy.`,
        );
      cur = (await getRegion(core, cur)).parent_region_id;
    }
  }
  await core.db
    .updateTable("identity_region")
    .set({
      description: patch.description ?? reg.description,
      parent_region_id: patch.parent_region_id === undefined ? reg.parent_region_id : patch.parent_region_id,
      extra: JSON.stringify({ ...reg.extra, ...(patch.extra ?? {}) }),
    })
    .where("id", "=", reg.id)
    .execute();
  core.changed();
  return getRegion(core, reg.id);
}

/** Delete a region and its child regions; 404 when missing, 403 (Keystone's RegionDeletionError) while it or a descendant has endpoints. */
export async function deleteRegion(core: IdentityCore, id: string): Promise<void> {
  await getRegion(core, id);
  const all = await core.db.selectFrom("identity_region").select(["id", "parent_region_id"]).execute();
  const subtree = new Set([id]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of all)
      if (r.parent_region_id && subtree.has(r.parent_region_id) && !subtree.has(r.id)) {
        subtree.add(r.id);
        grew = true;
      }
  }
  const ids = [...subtree];
  const used = await core.db
    .selectFrom("identity_endpoint")
    .select("id")
    .where("region_id", "in", ids)
    .executeTakeFirst();
  if (used)
    throw new ApiError(
      403,
      `Unable to delete region ${id} because it or its child regions have associated endpoints.`,
    );
  await core.db.deleteFrom("identity_region").where("id", "in", ids).execute();
  core.changed();
}

/** The token catalog: enabled services with their enabled endpoints. */
export async function buildCatalog(core: IdentityCore): Promise<CatalogEntry[]> {
  const services = (await listServices(core)).filter((s) => s.enabled);
  const endpoints = (await listEndpoints(core)).filter((e) => e.enabled);
  return services.map((s) => ({
    id: s.id,
    type: s.type,
    name: s.name ?? "",
    endpoints: endpoints
      .filter((e) => e.service_id === s.id)
      .map((e) => ({
        id: e.id,
        interface: e.interface,
        region_id: e.region_id,
        url: e.url,
        region: e.region_id,
      })),
  }));
}
