// Data access of os-aggregates: aggregates with hosts and metadata, Nova's availability zone rules, and the
// mirroring of membership into placement.
import type { Kysely } from "kysely";
import { nowIso } from "../../../shared/db/index.js";
import type { ComputeCore } from "../../core.js";
import { notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import { fitsInt, placementOrNull, pyRepr, validateInteger } from "./util.js";

/** An aggregate with its hosts and metadata. */
export interface Aggregate {
  id: number;
  uuid: string;
  name: string;
  created_at: string;
  updated_at: string | null;
  hosts: string[];
  metadata: Record<string, string>;
}

/** Every aggregate (or the one with this id), by id. */
export async function loadAll(db: Kysely<any>, id?: number): Promise<Aggregate[]> {
  let q = db.selectFrom("compute_aggregate").selectAll().orderBy("id");
  if (id !== undefined) q = q.where("id", "=", id);
  const rows = (await q.execute()) as Array<Omit<Aggregate, "hosts" | "metadata">>;
  const ids = rows.map((r) => Number(r.id));
  if (ids.length === 0) return [];
  const hosts = (await db
    .selectFrom("compute_aggregate_host")
    .selectAll()
    .where("aggregate_id", "in", ids)
    .orderBy("host")
    .execute()) as Array<{ aggregate_id: number; host: string }>;
  const meta = (await db
    .selectFrom("compute_aggregate_metadata")
    .selectAll()
    .where("aggregate_id", "in", ids)
    .orderBy("meta_key")
    .execute()) as Array<{ aggregate_id: number; meta_key: string; value: string }>;
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    hosts: hosts.filter((h) => Number(h.aggregate_id) === Number(r.id)).map((h) => h.host),
    metadata: Object.fromEntries(
      meta.filter((m) => Number(m.aggregate_id) === Number(r.id)).map((m) => [m.meta_key, m.value]),
    ),
  }));
}

/** The aggregate of a path id, or Nova's 400 (not an integer) / 404. */
export async function getAggregate(db: Kysely<any>, raw: string): Promise<Aggregate> {
  const n = validateInteger(raw);
  const [a] = fitsInt(n) ? await loadAll(db, n) : [];
  if (!a) throw notFound(`Aggregate ${raw} could not be found.`);
  return a;
}

/** Whether another aggregate has this name. */
export async function nameTaken(db: Kysely<any>, name: string, except?: number): Promise<boolean> {
  const row = (await db
    .selectFrom("compute_aggregate")
    .select("id")
    .where("name", "=", name)
    .executeTakeFirst()) as { id: number } | undefined;
  return row !== undefined && Number(row.id) !== except;
}

/**
 * Nova's is_safe_to_update_az: an availability zone may not be empty, the hosts may not be in another
 * aggregate with a different zone, and (for updates) a zone may not change under hosts that have instances.
 */
export async function checkZone(
  db: Kysely<any>,
  a: Aggregate,
  az: string | null | undefined,
  hosts: string[],
  fail: (reason: string) => Error,
  checkInstances: boolean,
) {
  if (az === undefined) return;
  if (!az) throw fail(`Aggregate ${a.name} does not support empty named availability zone`);
  if (hosts.length) {
    const others = (await db
      .selectFrom("compute_aggregate_host as h")
      .innerJoin("compute_aggregate_metadata as m", "m.aggregate_id", "h.aggregate_id")
      .select(["h.aggregate_id as aggregate_id", "m.value as value"])
      .where("m.meta_key", "=", "availability_zone")
      .where("h.host", "in", hosts)
      .execute()) as Array<{ aggregate_id: number; value: string }>;
    const seen = new Set<number>();
    const conflicting: string[] = [];
    for (const o of others) {
      if (seen.has(Number(o.aggregate_id))) continue;
      seen.add(Number(o.aggregate_id));
      if (o.value !== az && Number(o.aggregate_id) !== a.id) conflicting.push(o.value);
    }
    if (conflicting.length)
      throw fail(`One or more hosts already in availability zone(s) ${pyRepr(conflicting)}`);
  }
  if (checkInstances && a.metadata.availability_zone !== az && hosts.length) {
    const busy = await db
      .selectFrom("compute_instance")
      .select("id")
      .where("host", "in", hosts)
      .where("deleted", "=", 0)
      .executeTakeFirst();
    if (busy) throw fail("One or more hosts contain instances in this zone");
  }
}

/** Set (or, for null values, delete) metadata keys. */
export async function setMeta(db: Kysely<any>, id: number, meta: Record<string, string | null>) {
  await db.transaction().execute(async (tx) => {
    for (const [k, v] of Object.entries(meta)) {
      await tx
        .deleteFrom("compute_aggregate_metadata")
        .where("aggregate_id", "=", id)
        .where("meta_key", "=", k)
        .execute();
      if (v !== null)
        await tx
          .insertInto("compute_aggregate_metadata")
          .values({ aggregate_id: id, meta_key: k, value: v })
          .execute();
    }
    await tx.updateTable("compute_aggregate").set({ updated_at: nowIso() }).where("id", "=", id).execute();
  });
}

/** Point the placement providers of a host's compute nodes at exactly these aggregates. */
export async function mirror(core: ComputeCore, ctx: Ctx, host: string, aggregates: string[]) {
  const placement = placementOrNull(core);
  if (!placement) {
    ctx.log.warn({ host }, "placement is not wired: host aggregates not mirrored");
    return;
  }
  const nodes = (await core.db
    .selectFrom("compute_node")
    .select("uuid")
    .where("host", "=", host)
    .execute()) as Array<{
    uuid: string;
  }>;
  for (const n of nodes) await placement.setAggregates(n.uuid, aggregates);
}

/** The uuids of the aggregates a host is in (optionally leaving one out). */
export async function hostAggregateUuids(db: Kysely<any>, host: string, without?: number): Promise<string[]> {
  const rows = (await db
    .selectFrom("compute_aggregate_host as h")
    .innerJoin("compute_aggregate as a", "a.id", "h.aggregate_id")
    .select(["a.uuid as uuid", "a.id as id"])
    .where("h.host", "=", host)
    .orderBy("a.id")
    .execute()) as Array<{ uuid: string; id: number }>;
  return rows.filter((r) => Number(r.id) !== without).map((r) => r.uuid);
}

/** Whether a nova-compute service of exactly this host name is registered. */
export async function computeHostExists(db: Kysely<any>, host: string): Promise<boolean> {
  const s = await db
    .selectFrom("compute_service")
    .select(["host"])
    .where("host", "=", host)
    .where("binary", "=", "nova-compute")
    .executeTakeFirst();
  return s !== undefined && (s as { host: string }).host === host;
}
