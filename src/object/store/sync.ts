// Container sync's data: which containers sync (a row each with its sync point and lease), and the changes of
// their objects in order. Changes are logged in the transaction of the object write that made them, only for
// containers that sync; a process claims a container with a lease before pushing its changes, so any number of
// processes share the work and none keeps state in memory.
import { sql } from "kysely";
import type { ObjectCore } from "../core.js";
import { runCached } from "./compiled.js";
import { num, text, type ObjectDb } from "./tables.js";

/** The container metadata naming where a container syncs to, and its key. */
export const SYNC_TO = "x-container-sync-to";
/** The container's sync key (both sides of a sync share it). */
export const SYNC_KEY = "x-container-sync-key";

/** Where a container's metadata says it syncs to, or null when it does not (both the target and a key needed). */
export function syncTargetOf(meta: Map<string, string>): string | null {
  const to = meta.get(SYNC_TO);
  return to && meta.get(SYNC_KEY) ? to : null;
}

/** One logged change of a syncing container. */
export interface SyncChange {
  id: number;
  name: string;
  timestamp: string;
  deleted: boolean;
}

/** Log an object change (inside the write's transaction) when its container syncs. */
export async function logChange(
  tx: ObjectDb,
  containerId: number,
  name: string,
  timestamp: string,
  deleted: boolean,
): Promise<void> {
  // Every object write asks: a kept statement (runCached), as building the query costs more than running it.
  const { rows } = await runCached(tx, "container syncs", [containerId], () =>
    tx.selectFrom("object_sync").select("container_id").where("container_id", "=", containerId),
  );
  if (rows.length === 0) return;
  await tx
    .insertInto("object_sync_change")
    .values({ container_id: containerId, name, timestamp, deleted: deleted ? 1 : 0 })
    .execute();
  if (!deleted) return;
  await tx
    .deleteFrom("object_tombstone")
    .where("container_id", "=", containerId)
    .where("name", "=", name)
    .execute();
  await tx.insertInto("object_tombstone").values({ container_id: containerId, name, timestamp }).execute();
}

/** When a syncing container last deleted this name (within the tombstones' week), or undefined. */
export async function tombstoneOf(
  tx: ObjectDb,
  containerId: number,
  name: string,
): Promise<string | undefined> {
  const r = await tx
    .selectFrom("object_tombstone")
    .select("timestamp")
    .where("container_id", "=", containerId)
    .where("name", "=", name)
    .executeTakeFirst();
  return r?.timestamp;
}

/** Forget tombstones older than `before` (Swift's reclaim_age); returns how many. */
export async function reapTombstones(core: ObjectCore, before: string): Promise<number> {
  const r = await core.db.deleteFrom("object_tombstone").where("timestamp", "<", before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/**
 * Start container sync over (its target changed, as Swift resets the sync points) or stop it: forget its changes,
 * and when it syncs, log every object it holds now so that all of them are pushed.
 */
export async function resetSync(tx: ObjectDb, containerId: number, syncing: boolean): Promise<void> {
  await tx.deleteFrom("object_sync_change").where("container_id", "=", containerId).execute();
  await tx.deleteFrom("object_sync").where("container_id", "=", containerId).execute();
  await tx.deleteFrom("object_tombstone").where("container_id", "=", containerId).execute();
  if (!syncing) return;
  await tx
    .insertInto("object_sync")
    .values({ container_id: containerId, point: 0, owner: "", lease_until: 0 })
    .execute();
  await tx
    .insertInto("object_sync_change")
    .columns(["container_id", "name", "timestamp", "deleted"])
    .expression(
      tx
        .selectFrom("object_object")
        .select(["container_id", "name", "timestamp", sql<number>`0`.as("deleted")])
        .where("container_id", "=", containerId)
        .orderBy("name"),
    )
    .execute();
}

/** Containers with changes past their sync point that no live lease holds, at most `limit`. */
export async function claimableContainers(core: ObjectCore, nowMs: number, limit: number): Promise<number[]> {
  const rows = await core.db
    .selectFrom("object_sync as s")
    .select("s.container_id")
    .where("s.lease_until", "<", nowMs)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom("object_sync_change as c")
          .select("c.id")
          .whereRef("c.container_id", "=", "s.container_id")
          .whereRef("c.id", ">", "s.point"),
      ),
    )
    .orderBy("s.lease_until")
    .limit(limit)
    .execute();
  return rows.map((r) => Number(r.container_id));
}

/** Take a container's lease until `untilMs` when no one holds it; returns its sync point, or null when taken. */
export async function claimContainer(
  core: ObjectCore,
  containerId: number,
  owner: string,
  nowMs: number,
  untilMs: number,
): Promise<number | null> {
  const r = await core.db
    .updateTable("object_sync")
    .set({ owner, lease_until: untilMs })
    .where("container_id", "=", containerId)
    .where("lease_until", "<", nowMs)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return null;
  const row = await core.db
    .selectFrom("object_sync")
    .select(["point", "owner"])
    .where("container_id", "=", containerId)
    .executeTakeFirst();
  return row && row.owner === owner ? num(row.point) : null;
}

/** The changes of a container after its sync point, oldest first, at most `limit`. */
export async function changesAfter(
  core: ObjectCore,
  containerId: number,
  point: number,
  limit: number,
): Promise<SyncChange[]> {
  const rows = await core.db
    .selectFrom("object_sync_change")
    .select(["id", "name", "timestamp", "deleted"])
    .where("container_id", "=", containerId)
    .where("id", ">", point)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    name: text(r.name),
    timestamp: r.timestamp,
    deleted: Number(r.deleted) === 1,
  }));
}

/**
 * Record a container's new sync point and release its lease (only while `owner` still holds it: a lease that ran
 * out was someone else's to take), then drop the changes it covers. The released lease keeps the time of release,
 * so that the containers served longest ago come first (one that keeps failing does not starve the others).
 */
export async function advanceSync(
  core: ObjectCore,
  containerId: number,
  owner: string,
  point: number,
): Promise<void> {
  const r = await core.db
    .updateTable("object_sync")
    .set({ point, owner: "", lease_until: Date.now() })
    .where("container_id", "=", containerId)
    .where("owner", "=", owner)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return;
  await core.db
    .deleteFrom("object_sync_change")
    .where("container_id", "=", containerId)
    .where("id", "<=", point)
    .execute();
}

/** A container's sync point (the last change pushed), or undefined when it does not sync. */
export async function syncPoint(core: ObjectCore, containerId: number): Promise<number | undefined> {
  const r = await core.db
    .selectFrom("object_sync")
    .select("point")
    .where("container_id", "=", containerId)
    .executeTakeFirst();
  return r && num(r.point);
}
