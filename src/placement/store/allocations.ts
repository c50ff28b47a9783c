import { sql } from "kysely";
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { Db, PlacementCore } from "../core.js";
import { GenerationConflict, badRequest, concurrentUpdate, conflict } from "../errors.js";
import { bumpGeneration, getProvidersByUuid, type Provider } from "./providers.js";
import { capacityOf, type InventoryFields } from "./inventories.js";

/** A consumer record. */
export interface Consumer {
  uuid: string;
  project_id: string;
  user_id: string;
  consumer_type: string | null;
  generation: number;
  created_at: string;
  updated_at: string;
}

const toConsumer = (r: any): Consumer => ({
  uuid: r.uuid,
  project_id: r.project_id,
  user_id: r.user_id,
  consumer_type: r.consumer_type ?? null,
  generation: Number(r.generation),
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/** A consumer by uuid, or null. */
export async function getConsumer(db: Db, uuid: string): Promise<Consumer | null> {
  const r = await db.selectFrom("placement_consumer").selectAll().where("uuid", "=", uuid).executeTakeFirst();
  return r ? toConsumer(r) : null;
}

/** One allocation row of a consumer, with its provider. */
export interface ConsumerAllocation {
  provider_uuid: string;
  provider_generation: number;
  resource_class: string;
  used: number;
  updated_at: string;
}

/** A consumer's allocations and the consumer record (null when it has none). */
export async function allocationsOfConsumer(
  core: PlacementCore,
  uuid: string,
): Promise<{ consumer: Consumer | null; allocations: ConsumerAllocation[] }> {
  const rows = await core.db
    .selectFrom("placement_allocation as a")
    .innerJoin("placement_provider as rp", "rp.id", "a.provider_id")
    .select(["rp.uuid", "rp.generation", "a.rc_id", "a.used", "a.updated_at"])
    .where("a.consumer_id", "=", uuid)
    .orderBy("rp.id")
    .orderBy("a.rc_id")
    .execute();
  if (!rows.length) return { consumer: null, allocations: [] };
  const allocations: ConsumerAllocation[] = [];
  for (const r of rows)
    allocations.push({
      provider_uuid: r.uuid,
      provider_generation: Number(r.generation),
      resource_class: await core.resourceClasses.name(core.db, Number(r.rc_id)),
      used: Number(r.used),
      updated_at: r.updated_at,
    });
  return { consumer: await getConsumer(core.db, uuid), allocations };
}

/** One allocation row on a provider, with its consumer. */
export interface ProviderAllocation {
  consumer_uuid: string;
  consumer_generation: number | null;
  resource_class: string;
  used: number;
  updated_at: string;
}

/** All allocations against one provider. */
export async function allocationsOfProvider(
  core: PlacementCore,
  providerId: number,
): Promise<ProviderAllocation[]> {
  const rows = await core.db
    .selectFrom("placement_allocation as a")
    .leftJoin("placement_consumer as c", "c.uuid", "a.consumer_id")
    .select(["a.consumer_id", "c.generation", "a.rc_id", "a.used", "a.updated_at"])
    .where("a.provider_id", "=", providerId)
    .orderBy("a.consumer_id")
    .orderBy("a.rc_id")
    .execute();
  const out: ProviderAllocation[] = [];
  for (const r of rows)
    out.push({
      consumer_uuid: r.consumer_id,
      consumer_generation: r.generation === null || r.generation === undefined ? null : Number(r.generation),
      resource_class: await core.resourceClasses.name(core.db, Number(r.rc_id)),
      used: Number(r.used),
      updated_at: r.updated_at,
    });
  return out;
}

/** What one consumer's allocations become. */
export interface ConsumerWrite {
  consumer: string;
  projectId: string;
  userId: string;
  /** From 1.38; undefined leaves an existing consumer's type alone. */
  consumerType?: string;
  /** From 1.28 the caller's view of the consumer generation (null: a new consumer); undefined: not checked. */
  generation?: number | null;
  /** provider uuid -> resource class name -> amount; empty removes all of the consumer's allocations. */
  allocations: Map<string, Map<string, number>>;
}

/** How errors are worded: PUT /allocations/{c} and POST /allocations differ slightly in Placement. */
export type WriteKind = "put" | "post";

/** Whether a DB error is a deadlock or serialization failure worth retrying. */
function isRetryable(e: unknown): boolean {
  const x = e as { code?: string; errno?: number };
  return x?.code === "40P01" || x?.code === "40001" || x?.code === "ER_LOCK_DEADLOCK" || x?.errno === 1213;
}

/** Inventory of (provider, class) with what is allocated there. */
interface Capacity extends InventoryFields {
  used: number;
}

async function capacities(db: Db, pairs: Array<[number, number]>): Promise<Map<string, Capacity>> {
  const out = new Map<string, Capacity>();
  if (!pairs.length) return out;
  const providers = [...new Set(pairs.map((p) => p[0]))];
  const rcs = [...new Set(pairs.map((p) => p[1]))];
  const r =
    await sql<any>`SELECT iv.provider_id, iv.rc_id, iv.total, iv.reserved, iv.min_unit, iv.max_unit, iv.step_size, iv.allocation_ratio, (SELECT COALESCE(SUM(al.used), 0) FROM placement_allocation al WHERE al.provider_id = iv.provider_id AND al.rc_id = iv.rc_id) AS used FROM placement_inventory iv WHERE iv.provider_id IN (${sql.join(providers)}) AND iv.rc_id IN (${sql.join(rcs)})`.execute(
      db,
    );
  for (const row of r.rows)
    out.set(`${Number(row.provider_id)}:${Number(row.rc_id)}`, {
      total: Number(row.total),
      reserved: Number(row.reserved),
      min_unit: Number(row.min_unit),
      max_unit: Number(row.max_unit),
      step_size: Number(row.step_size),
      allocation_ratio: Number(row.allocation_ratio),
      used: Number(row.used),
    });
  return out;
}

async function usageOf(db: Db, pairs: Array<[number, number]>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!pairs.length) return out;
  const providers = [...new Set(pairs.map((p) => p[0]))];
  const r =
    await sql<any>`SELECT provider_id, rc_id, SUM(used) AS used FROM placement_allocation WHERE provider_id IN (${sql.join(providers)}) GROUP BY provider_id, rc_id`.execute(
      db,
    );
  for (const row of r.rows) out.set(`${Number(row.provider_id)}:${Number(row.rc_id)}`, Number(row.used));
  return out;
}

/**
 * Replace the allocations of one or more consumers atomically (PUT /allocations/{c}, POST /allocations, and the
 * reshaper, which passes its own transaction). Checks consumer generations (1.28+), creates or updates consumers,
 * checks every amount against the inventory's unit constraints and capacity (capacity = (total - reserved) *
 * allocation_ratio must cover what others use plus everything written here), then bumps the generation of every
 * provider written to and of every consumer, and drops consumers left without allocations. A provider generation
 * that moved during the write restarts it (up to 10 times), as Placement does.
 */
export async function writeAllocations(
  core: PlacementCore,
  writes: ConsumerWrite[],
  kind: WriteKind,
  tx?: Db,
): Promise<void> {
  const run = (db: Db) => writeInTx(core, db, writes, kind);
  try {
    if (tx) await run(tx);
    else
      for (let attempt = 1; ; attempt++) {
        try {
          await core.allocationTx(run);
          break;
        } catch (e) {
          if (isRetryable(e) && attempt < 10) continue;
          throw e;
        }
      }
  } catch (e) {
    if (e instanceof GenerationConflict)
      throw concurrentUpdate(
        `Inventory and/or allocations changed while attempting to allocate: ${e.message}`,
      );
    throw e;
  }
}

async function writeInTx(
  core: PlacementCore,
  db: Db,
  writes: ConsumerWrite[],
  kind: WriteKind,
): Promise<void> {
  const notFoundMsg = (consumer: string, err: string) =>
    kind === "put"
      ? `Unable to allocate inventory for consumer ${consumer}: ${err}`
      : `Unable to allocate inventory ${err}`;
  // Resource classes and providers.
  const rcNames = new Set<string>();
  const rpUuids = new Set<string>();
  for (const w of writes)
    for (const [rp, res] of w.allocations) {
      rpUuids.add(rp);
      for (const rc of res.keys()) rcNames.add(rc);
    }
  const providers = await getProvidersByUuid(db, [...rpUuids]);
  for (const u of rpUuids)
    if (!providers.has(u)) throw badRequest(`Allocation for resource provider '${u}' that does not exist.`);
  const { ids: rcIds, missing } = await core.resourceClasses.ids(db, rcNames);
  if (missing.length) {
    const w = writes.find((x) => [...x.allocations.values()].some((m) => m.has(missing[0])))!;
    throw badRequest(notFoundMsg(w.consumer, `No such resource class ${missing[0]}.`));
  }

  // Consumers: check generations, create or update.
  const now = nowIso();
  const consumers = new Map<string, Consumer>();
  for (const w of writes) {
    const c = await getConsumer(db, w.consumer);
    if (w.generation !== undefined) {
      if (c && c.generation !== w.generation)
        throw concurrentUpdate(
          `consumer generation conflict - expected ${c.generation} but got ${w.generation === null ? "None" : w.generation}`,
        );
      if (!c && w.generation !== null)
        throw concurrentUpdate(`consumer generation conflict - expected null but got ${w.generation}`);
    }
    if (!c) {
      const row = {
        uuid: w.consumer,
        project_id: w.projectId,
        user_id: w.userId,
        consumer_type: w.consumerType ?? null,
        generation: 0,
        created_at: now,
        updated_at: now,
      };
      try {
        await db.insertInto("placement_consumer").values(row).execute();
      } catch (e) {
        if (isUniqueViolation(e)) throw new GenerationConflict("consumer");
        throw e;
      }
      consumers.set(w.consumer, toConsumer(row));
    } else {
      const set: Record<string, unknown> = {};
      if (c.project_id !== w.projectId || c.user_id !== w.userId) {
        set.project_id = w.projectId;
        set.user_id = w.userId;
      }
      if (w.consumerType !== undefined && w.consumerType !== c.consumer_type)
        set.consumer_type = w.consumerType;
      if (Object.keys(set).length)
        await db
          .updateTable("placement_consumer")
          .set({ ...set, updated_at: now })
          .where("uuid", "=", c.uuid)
          .execute();
      consumers.set(w.consumer, c);
    }
  }

  // Providers whose generation moves: those written to, and those of consumers being cleared.
  const visited = new Map<number, Provider>();
  for (const p of providers.values()) visited.set(p.id, p);
  const clearing = writes.filter((w) => w.allocations.size === 0).map((w) => w.consumer);
  if (clearing.length) {
    const old = await db
      .selectFrom("placement_allocation as a")
      .innerJoin("placement_provider as rp", "rp.id", "a.provider_id")
      .select(["rp.id", "rp.uuid", "rp.generation"])
      .distinct()
      .where("a.consumer_id", "in", clearing)
      .execute();
    for (const r of old)
      if (!visited.has(Number(r.id)))
        visited.set(Number(r.id), {
          id: Number(r.id),
          uuid: r.uuid,
          generation: Number(r.generation),
        } as Provider);
  }

  // New allocation rows, and the (provider, class) pairs they touch.
  const rows: Array<{ consumer: string; provider: Provider; rcId: number; rc: string; used: number }> = [];
  for (const w of writes)
    for (const [rpUuid, res] of w.allocations)
      for (const [rc, used] of res)
        rows.push({ consumer: w.consumer, provider: providers.get(rpUuid)!, rcId: rcIds.get(rc)!, rc, used });
  const pairs: Array<[number, number]> = rows.map((r) => [r.provider.id, r.rcId]);
  const before = await usageOf(db, pairs);

  await db
    .deleteFrom("placement_allocation")
    .where(
      "consumer_id",
      "in",
      writes.map((w) => w.consumer),
    )
    .execute();

  const caps = await capacities(db, pairs);
  const sums = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.provider.id}:${r.rcId}`;
    const inv = caps.get(key);
    if (!inv)
      throw conflict(
        `Unable to allocate inventory: Inventory for '${r.rc}' on resource provider '${r.provider.uuid}' invalid.`,
      );
    const all = (sums.get(key) ?? 0) + r.used;
    sums.set(key, all);
    if (r.used < inv.min_unit || r.used > inv.max_unit || r.used % inv.step_size !== 0)
      throw conflict(
        `Unable to allocate inventory: Unable to create allocation for '${r.rc}' on resource provider '${r.provider.uuid}'. The requested amount would violate inventory constraints.`,
      );
    const capacity = (inv.total - inv.reserved) * inv.allocation_ratio;
    if (capacity < inv.used + r.used || capacity < inv.used + all) {
      // Placement lets a write through that is over capacity but reduces an existing overage.
      const prev = before.get(key);
      if (prev === undefined || inv.used + all > prev)
        throw conflict(
          `Unable to allocate inventory: Unable to create allocation for '${r.rc}' on resource provider '${r.provider.uuid}'. The requested amount would exceed the capacity.`,
        );
      core.log.warn(
        { provider: r.provider.uuid, resourceClass: r.rc, capacity: capacityOf(inv) },
        "allocation over capacity accepted: it reduces the existing overage",
      );
    }
  }
  if (rows.length)
    await db
      .insertInto("placement_allocation")
      .values(
        rows.map((r) => ({
          consumer_id: r.consumer,
          provider_id: r.provider.id,
          rc_id: r.rcId,
          used: r.used,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();

  // Generations, in id order so that concurrent writers lock rows in the same order.
  for (const p of [...visited.values()].sort((a, b) => a.id - b.id))
    await bumpGeneration(db, p.id, p.generation);
  for (const c of consumers.values()) {
    const r = await db
      .updateTable("placement_consumer")
      .set({ generation: c.generation + 1, updated_at: now })
      .where("uuid", "=", c.uuid)
      .where("generation", "=", c.generation)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw new GenerationConflict("consumer");
  }
  const emptied = writes.filter((w) => !rows.some((r) => r.consumer === w.consumer)).map((w) => w.consumer);
  if (emptied.length) await deleteConsumersWithoutAllocations(db, emptied);
}

async function deleteConsumersWithoutAllocations(db: Db, uuids: string[]): Promise<void> {
  await db
    .deleteFrom("placement_consumer")
    .where("uuid", "in", uuids)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("placement_allocation")
            .select("consumer_id")
            .whereRef("placement_allocation.consumer_id", "=", "placement_consumer.uuid"),
        ),
      ),
    )
    .execute();
}

/** DELETE /allocations/{c}: false when the consumer has none. Provider generations are not bumped (as Placement). */
export async function deleteAllocations(core: PlacementCore, consumer: string): Promise<boolean> {
  return core.tx(async (tx) => {
    const r = await tx
      .deleteFrom("placement_allocation")
      .where("consumer_id", "=", consumer)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) return false;
    await deleteConsumersWithoutAllocations(tx, [consumer]);
    return true;
  });
}

/** Usage by class of a project (and user), optionally grouped by consumer type (1.38). */
export async function projectUsages(
  core: PlacementCore,
  projectId: string,
  userId: string | undefined,
): Promise<Map<string, number>> {
  const r =
    await sql<any>`SELECT a.rc_id, SUM(a.used) AS used FROM placement_allocation a JOIN placement_consumer c ON c.uuid = a.consumer_id WHERE c.project_id = ${projectId} ${userId !== undefined ? sql`AND c.user_id = ${userId}` : sql``} GROUP BY a.rc_id ORDER BY a.rc_id`.execute(
      core.db,
    );
  const out = new Map<string, number>();
  for (const row of r.rows)
    out.set(await core.resourceClasses.name(core.db, Number(row.rc_id)), Number(row.used));
  return out;
}

/**
 * GET /usages from 1.38: {type: {class: used, consumer_count: n}}. `all` folds every type into one group,
 * `unknown` keeps only consumers without a type; a type name keeps only that type; nothing groups by type
 * (consumers without a type are "unknown").
 */
export async function projectUsagesByType(
  core: PlacementCore,
  projectId: string,
  userId: string | undefined,
  consumerType: string | undefined,
): Promise<Record<string, Record<string, number>>> {
  const where = [sql`c.project_id = ${projectId}`];
  if (userId !== undefined) where.push(sql`c.user_id = ${userId}`);
  if (consumerType === "unknown") where.push(sql`c.consumer_type IS NULL`);
  else if (consumerType !== undefined && consumerType !== "all")
    where.push(sql`c.consumer_type = ${consumerType}`);
  const cond = sql.join(where, sql` AND `);
  // 'all' is one group: no GROUP BY on the type (PostgreSQL refuses to group by a constant).
  const all = consumerType === "all";
  const group = sql`COALESCE(c.consumer_type, 'unknown')`;
  const sums =
    await sql<any>`SELECT ${all ? sql`'all'` : group} AS ct, a.rc_id, SUM(a.used) AS used FROM placement_allocation a JOIN placement_consumer c ON c.uuid = a.consumer_id WHERE ${cond} GROUP BY ${all ? sql`a.rc_id` : sql`${group}, a.rc_id`}`.execute(
      core.db,
    );
  const counts =
    await sql<any>`SELECT ${all ? sql`'all'` : group} AS ct, COUNT(DISTINCT a.consumer_id) AS n FROM placement_allocation a JOIN placement_consumer c ON c.uuid = a.consumer_id WHERE ${cond} ${all ? sql`` : sql`GROUP BY ${group}`}`.execute(
      core.db,
    );
  const out: Record<string, Record<string, number>> = {};
  for (const row of sums.rows) {
    const g = (out[row.ct] ??= {});
    g[await core.resourceClasses.name(core.db, Number(row.rc_id))] = Number(row.used);
  }
  for (const row of counts.rows) if (Number(row.n) > 0) (out[row.ct] ??= {}).consumer_count = Number(row.n);
  return out;
}
