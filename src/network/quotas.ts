// Network quotas (Neutron's DbQuotaDriver): a registry of counted resources, limits per project (the project's
// rows over the configured defaults; -1 = unlimited) and the check made atomic with the insert it guards: under
// the project's lock row for that resource (withQuotaLock), so racing creates in any process cannot exceed it.
// A later stage registers its resources here (one line each: name and how to count a project's usage).
import type { Kysely } from "kysely";
import type { Config } from "../shared/config.js";
import { withQuotaLock } from "../shared/db/index.js";
import type { NetworkCore } from "./core.js";
import { overQuota } from "./errors.js";
import { inTransaction, netDb, type NetworkTables } from "./store/tables.js";

/** The lock table of network quotas (see shared/db/quota-lock.ts). */
export const QUOTA_LOCK_TABLE = "network_quota_lock";

/** A counted resource: its quota name and the table whose rows of a project count against it. */
export interface QuotaResource {
  name: keyof Config["network"]["quotas"];
  table: keyof NetworkTables & string;
}

/** The resources with quotas, in the order Neutron lists them. */
export const QUOTA_RESOURCES: readonly QuotaResource[] = [
  { name: "network", table: "network_network" },
  { name: "subnet", table: "network_subnet" },
  { name: "port", table: "network_port" },
  { name: "subnetpool", table: "network_subnetpool" },
  { name: "rbac_policy", table: "network_rbac" },
  { name: "security_group", table: "network_security_group" },
  { name: "router", table: "network_router" },
  { name: "floatingip", table: "network_floatingip" },
  { name: "security_group_rule", table: "network_security_group_rule" },
];

const byName = new Map(QUOTA_RESOURCES.map((r) => [r.name as string, r]));

/** Whether a name is a counted resource. */
export const isQuotaResource = (name: string): boolean => byName.has(name);

/** The configured defaults of the registered resources. */
export function defaultLimits(core: NetworkCore): Map<string, number> {
  return new Map(QUOTA_RESOURCES.map((r) => [r.name, core.cfg.network.quotas[r.name]]));
}

/** A project's limits: its own rows over the defaults. */
export async function projectLimits(core: NetworkCore, project: string): Promise<Map<string, number>> {
  const out = defaultLimits(core);
  const rows = await netDb(core)
    .selectFrom("network_quota")
    .selectAll()
    .where("project_id", "=", project)
    .execute();
  for (const r of rows) if (out.has(r.resource)) out.set(r.resource, Number(r.hard_limit));
  return out;
}

/** How many of a resource a project has. */
export async function usage(db: Kysely<any>, resource: string, project: string): Promise<number> {
  const r = byName.get(resource);
  if (!r) return 0;
  const row = (await db
    .selectFrom(r.table)
    .select((eb) => eb.fn.countAll().as("n"))
    .where("project_id", "=", project)
    .executeTakeFirst()) as { n: unknown } | undefined;
  return Number(row?.n ?? 0);
}

/**
 * Run `fn` (the inserts of `count` new `resource`s of `project`) after checking the quota, atomically: under the
 * project's lock row when the limit is finite; in a plain transaction when unlimited. 409 OverQuota when over.
 */
export async function withQuota<T>(
  core: NetworkCore,
  project: string,
  resource: QuotaResource["name"],
  count: number,
  fn: (core: NetworkCore) => Promise<T>,
): Promise<T> {
  const limit = (await projectLimits(core, project)).get(resource) ?? -1;
  if (limit < 0) return core.transaction(fn);
  return withQuotaLock(core.db, QUOTA_LOCK_TABLE, resource, project, async (trx) => {
    const c = core.withDb(trx);
    const now = (await projectLimits(c, project)).get(resource) ?? -1;
    if (now >= 0 && (await usage(trx, resource, project)) + count > now) throw overQuota([resource]);
    return fn(c);
  });
}

/** Set a project's limits (upsert per resource). */
export async function setLimits(
  core: NetworkCore,
  project: string,
  limits: Map<string, number>,
): Promise<void> {
  await inTransaction(netDb(core), async (trx) => {
    for (const [resource, hard_limit] of limits) {
      await trx
        .deleteFrom("network_quota")
        .where("project_id", "=", project)
        .where("resource", "=", resource)
        .execute();
      await trx.insertInto("network_quota").values({ project_id: project, resource, hard_limit }).execute();
    }
  });
}

/** Drop a project's own limits (back to the defaults). */
export async function resetLimits(core: NetworkCore, project: string): Promise<void> {
  await netDb(core).deleteFrom("network_quota").where("project_id", "=", project).execute();
}

/** Projects that have limits of their own. */
export async function projectsWithLimits(core: NetworkCore): Promise<string[]> {
  const rows = await netDb(core)
    .selectFrom("network_quota")
    .select("project_id")
    .distinct()
    .orderBy("project_id")
    .execute();
  return rows.map((r) => r.project_id);
}

/**
 * Take the lock row (scope, key) of the quota lock table inside the transaction `c` is in, for allocations that
 * must not race beyond a quota (a subnet pool's prefixes). Always taken after the quota lock, so no two requests
 * can wait on each other's rows.
 */
export async function lockRow(c: NetworkCore, scope: string, key: string): Promise<void> {
  const q = c.db.insertInto(QUOTA_LOCK_TABLE).values({ scope, project_id: key, generation: 0 });
  if (c.engine === "mysql") await q.ignore().execute();
  else await q.onConflict((oc) => oc.doNothing()).execute();
  await c.db
    .updateTable(QUOTA_LOCK_TABLE)
    .set((eb) => ({ generation: eb("generation", "+", 1) }))
    .where("scope", "=", scope)
    .where("project_id", "=", key)
    .execute();
}
