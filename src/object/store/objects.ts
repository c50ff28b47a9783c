import { sql } from "kysely";
import type { ObjectCore } from "../core.js";
import { newTimestamp } from "../timestamp.js";
import { logChange, tombstoneOf } from "./sync.js";
import { runCached } from "./compiled.js";
import { deleteInline, insertInline, isInlineKey } from "./inline.js";
import { num, parseMeta, storeMeta, text, type ObjectDb } from "./tables.js";

/** An object's row: what HEAD shows and where its data is. */
export interface StoredObject {
  containerId: number;
  name: string;
  size: number;
  etag: string;
  contentType: string;
  timestamp: string;
  meta: Map<string, string>;
  /** Unix seconds after which the object is gone (X-Delete-At), or null. */
  deleteAt: number | null;
  dataKey: string;
  /** The data itself when it is inline (read with the row by getObject). */
  inline?: Buffer;
}

/** What a write records (everything but the container). */
export type ObjectWrite = Omit<StoredObject, "containerId" | "inline">;

function view(r: {
  container_id: number;
  name: unknown;
  size: unknown;
  etag: string;
  content_type: string;
  timestamp: string;
  meta: string;
  delete_at: unknown;
  data_key: string;
}): StoredObject {
  return {
    containerId: Number(r.container_id),
    name: text(r.name),
    size: num(r.size),
    etag: r.etag,
    contentType: r.content_type,
    timestamp: r.timestamp,
    meta: parseMeta(r.meta),
    deleteAt: r.delete_at === null ? null : num(r.delete_at),
    dataKey: r.data_key,
  };
}

/** One object (expired ones included: the caller decides), or undefined. */
export async function getObject(
  core: ObjectCore,
  containerId: number,
  name: string,
): Promise<StoredObject | undefined> {
  // Inline data comes with the row: a small object's GET is one query.
  const { rows } = await runCached(core.db, "object with inline data", [containerId, name], () =>
    core.db
      .selectFrom("object_object as o")
      .leftJoin("object_inline as i", "i.data_key", "o.data_key")
      .selectAll("o")
      .select("i.data")
      .where("o.container_id", "=", containerId)
      .where("o.name", "=", name),
  );
  const r = rows[0];
  if (!r) return undefined;
  const o = view(r);
  if (r.data !== null) o.inline = Buffer.isBuffer(r.data) ? r.data : Buffer.from(r.data);
  return o;
}

/**
 * Lock a container's row for the rest of the transaction (every object write of a container goes through this, so
 * its counts stay exact on every engine); false when the container is gone.
 */
async function lockContainer(tx: ObjectDb, containerId: number): Promise<boolean> {
  const r = await runCached(tx, "lock container", [containerId], () =>
    tx
      .updateTable("object_container")
      .set((eb) => ({ object_count: eb.ref("object_count") }))
      .where("id", "=", containerId),
  );
  return Number(r.numAffectedRows ?? 0) > 0;
}

/**
 * Add to a container's counts (inside the locking transaction; as its first write it takes the lock itself); false
 * when the container is gone.
 */
async function adjustCounts(
  tx: ObjectDb,
  containerId: number,
  objects: number,
  bytes: number,
): Promise<boolean> {
  if (objects === 0 && bytes === 0) return true;
  const r = await runCached(tx, "adjust counts", [objects, bytes, containerId], () =>
    tx
      .updateTable("object_container")
      .set((eb) => ({
        object_count: eb(eb.ref("object_count"), "+", objects),
        bytes_used: eb(eb.ref("bytes_used"), "+", bytes),
      }))
      .where("id", "=", containerId),
  );
  return Number(r.numAffectedRows ?? 0) > 0;
}

/** Mark data for removal: `pending` keys belong to uploads in flight (removed only once stale). */
export async function addGarbage(core: ObjectCore | ObjectDb, key: string, since: string): Promise<void> {
  const db = "db" in core ? core.db : core;
  await runCached(db, "add garbage", [key, since], () =>
    db.insertInto("object_garbage").values({ data_key: key, since }),
  );
}

/** Forget a garbage key (its data was removed, or it became an object's data). */
export async function dropGarbage(core: ObjectCore, key: string): Promise<void> {
  await dropGarbageIn(core.db, key);
}

/** dropGarbage on a handle (a transaction's). */
async function dropGarbageIn(db: ObjectDb, key: string): Promise<void> {
  await runCached(db, "drop garbage", [key], () =>
    db.deleteFrom("object_garbage").where("data_key", "=", key),
  );
}

/** Thrown inside commitObject's transaction when a synced write loses (its count changes roll back). */
const OLDER = new Error("a newer version is stored");

/**
 * Data no row refers to any more (inside the transaction that dropped the row): inline data goes with the row;
 * a store driver's becomes garbage, its key returned for removal after the commit.
 */
async function retire(tx: ObjectDb, key: string): Promise<string | null> {
  if (isInlineKey(key)) {
    await deleteInline(tx, key);
    return null;
  }
  await addGarbage(tx, key, "0");
  return key;
}

/**
 * Record an object write: the new row replaces any old one and the container's counts move by the difference, in
 * one transaction under the container's row lock. The new data key stops being garbage; the old one becomes
 * garbage. Returns the replaced data key (to remove after the commit), or "gone" when the container was deleted.
 * `inline` is the data itself, stored in the same commit under the inline key `obj.dataKey` (which is on disk
 * when this returns); replaced inline data goes in that commit too. `onlyIfNewer`: a synced write, which loses
 * to a version as new or newer.
 */
export async function commitObject(
  core: ObjectCore,
  containerId: number,
  obj: ObjectWrite,
  opts: { onlyIfNewer?: boolean; inline?: Buffer } = {},
): Promise<{ replaced: string | null } | "gone" | "older"> {
  const { onlyIfNewer = false, inline } = opts;
  const done = await core.db
    .transaction()
    .execute(async (tx) => {
      // Count the new version in first: that update takes the container's row lock and tells whether it exists.
      if (!(await adjustCounts(tx, containerId, 1, obj.size))) return "gone" as const;
      const [old] = (
        await runCached(tx, "old version", [containerId, obj.name], () =>
          tx
            .selectFrom("object_object")
            .select(["size", "data_key", "timestamp"])
            .where("container_id", "=", containerId)
            .where("name", "=", obj.name),
        )
      ).rows;
      // A synced write carries its origin's timestamp: it loses to what is already here and as new or newer.
      // (Thrown, so that the counts roll back.)
      if (onlyIfNewer && old && Number(old.timestamp) >= Number(obj.timestamp)) throw OLDER;
      // ... and to a deletion made here after it.
      const deletedAt = onlyIfNewer && !old ? await tombstoneOf(tx, containerId, obj.name) : undefined;
      if (deletedAt !== undefined && Number(deletedAt) >= Number(obj.timestamp)) throw OLDER;
      const row = {
        size: obj.size,
        etag: obj.etag,
        content_type: obj.contentType,
        timestamp: obj.timestamp,
        meta: storeMeta(obj.meta),
        delete_at: obj.deleteAt,
        data_key: obj.dataKey,
      };
      const values = [
        row.size,
        row.etag,
        row.content_type,
        row.timestamp,
        row.meta,
        row.delete_at,
        row.data_key,
      ];
      if (old)
        await runCached(tx, "replace object", [...values, containerId, obj.name], () =>
          tx
            .updateTable("object_object")
            .set(row)
            .where("container_id", "=", containerId)
            .where("name", "=", obj.name),
        );
      else
        await runCached(tx, "insert object", [containerId, obj.name, ...values], () =>
          tx.insertInto("object_object").values({ container_id: containerId, name: obj.name, ...row }),
        );
      if (inline) await insertInline(tx, obj.dataKey, inline);
      else await dropGarbageIn(tx, obj.dataKey);
      const replaced = old ? await retire(tx, old.data_key) : null;
      if (old) await adjustCounts(tx, containerId, -1, -num(old.size));
      await logChange(tx, containerId, obj.name, obj.timestamp, false);
      return { replaced };
    })
    .catch((e: unknown) => {
      if (e === OLDER) return "older" as const;
      throw e;
    });
  // Inline data is stored once its commit is on disk, as a driver's data is once synced.
  if (inline && typeof done === "object") await core.durable();
  return done;
}

/**
 * Remove an object's row (only the version `dataKey` names, when given: the reaper must not delete a newer
 * write; only a version older than `before`, when given: a synced delete carries its origin's timestamp),
 * adjusting the counts; its data is retired (see retire). Returns the removed row, or undefined.
 */
export async function removeObject(
  core: ObjectCore,
  containerId: number,
  name: string,
  dataKey?: string,
  before?: string,
): Promise<StoredObject | undefined> {
  return core.db.transaction().execute(async (tx) => {
    if (!(await lockContainer(tx, containerId))) return undefined;
    let q = tx
      .selectFrom("object_object")
      .selectAll()
      .where("container_id", "=", containerId)
      .where("name", "=", name);
    if (dataKey !== undefined) q = q.where("data_key", "=", dataKey);
    const old = await q.executeTakeFirst();
    if (!old) return undefined;
    if (before !== undefined && Number(old.timestamp) >= Number(before)) return undefined;
    await tx
      .deleteFrom("object_object")
      .where("container_id", "=", containerId)
      .where("name", "=", name)
      .execute();
    await retire(tx, old.data_key);
    await adjustCounts(tx, containerId, -1, -num(old.size));
    await logChange(tx, containerId, name, before ?? newTimestamp(), true);
    return view(old);
  });
}

/** Replace an object's metadata (POST), keeping its data; false when it is gone. */
export async function updateObjectMeta(
  core: ObjectCore,
  containerId: number,
  name: string,
  change: { meta: Map<string, string>; contentType: string; deleteAt: number | null; timestamp: string },
): Promise<boolean> {
  return core.db.transaction().execute(async (tx) => {
    // Under the container's lock, as every write: a syncing container's changes are logged in order.
    if (!(await lockContainer(tx, containerId))) return false;
    const r = await tx
      .updateTable("object_object")
      .set({
        meta: storeMeta(change.meta),
        content_type: change.contentType,
        delete_at: change.deleteAt,
        timestamp: change.timestamp,
      })
      .where("container_id", "=", containerId)
      .where("name", "=", name)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return false;
    await logChange(tx, containerId, name, change.timestamp, false);
    return true;
  });
}

/**
 * Make the named objects expire at `at` (seconds) for the reaper, but only the versions written before `before`
 * (a later write of a name is kept, as Swift's expirer deletes with the request's timestamp).
 */
export async function expireObjects(
  core: ObjectCore,
  containerId: number,
  names: string[],
  before: string,
  at: number,
): Promise<void> {
  for (let i = 0; i < names.length; i += 500)
    await core.db
      .updateTable("object_object")
      .set({ delete_at: at })
      .where("container_id", "=", containerId)
      .where("name", "in", names.slice(i, i + 500))
      .where("timestamp", "<", before)
      .execute();
}

/** Objects of a container in name order from a bound, at most `limit` (the listing builds on this). */
export async function scanObjects(
  core: ObjectCore,
  containerId: number,
  opts: { after?: string; before?: string; from?: string; limit: number; reverse: boolean },
): Promise<StoredObject[]> {
  let q = core.db.selectFrom("object_object").selectAll().where("container_id", "=", containerId);
  if (opts.after !== undefined) q = q.where("name", ">", opts.after);
  if (opts.from !== undefined) q = q.where("name", ">=", opts.from);
  if (opts.before !== undefined) q = q.where("name", "<", opts.before);
  const rows = await q
    .orderBy("name", opts.reverse ? "desc" : "asc")
    .limit(opts.limit)
    .execute();
  return rows.map(view);
}

/** Objects whose X-Delete-At has passed, oldest first, at most `limit`. */
export async function expiredObjects(
  core: ObjectCore,
  now: number,
  limit: number,
): Promise<Array<{ containerId: number; name: string; dataKey: string }>> {
  const rows = await core.db
    .selectFrom("object_object")
    .select(["container_id", "name", "data_key"])
    .where("delete_at", "is not", null)
    .where("delete_at", "<=", now)
    .orderBy("delete_at")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ containerId: Number(r.container_id), name: text(r.name), dataKey: r.data_key }));
}

/** Garbage keys ready for removal: dead data, and pending uploads older than `staleBefore`. */
export async function garbageKeys(core: ObjectCore, staleBefore: string, limit: number): Promise<string[]> {
  const rows = await core.db
    .selectFrom("object_garbage")
    .select("data_key")
    .where("since", "<", staleBefore)
    .limit(limit)
    .execute();
  return rows.map((r) => r.data_key);
}

/** A listing row: what a container listing shows of an object. */
export interface ListedObject {
  name: string;
  size: number;
  etag: string;
  contentType: string;
  timestamp: string;
  deleteAt: number | null;
  /** The metadata of an SLO manifest or a symlink (their listing rows show more); null for other objects. */
  meta: Map<string, string> | null;
}

/** A manifest's stored Content-Type ends with `;swift_bytes=<total>`. */
const MANIFEST_TYPE = "%;swift_bytes=%";
/** A symlink (always zero bytes) has this metadata key. */
const LINK_KEY = "x-object-sysmeta-symlink-target";
/** The metadata column of such rows, null for others. */
const LISTED_META = sql<string | null>`case
  when ${sql.ref("content_type")} like ${MANIFEST_TYPE}
    or (${sql.ref("size")} = 0 and ${sql.ref("meta")} like ${`%"${LINK_KEY}"%`})
  then ${sql.ref("meta")} end`;

/**
 * Like scanObjects, reading only the columns a listing shows: the metadata only of rows that may be SLO manifests
 * or symlinks (the database tells them by their Content-Type and zero size plus key, so plain rows cost nothing).
 */
export async function scanListing(
  core: ObjectCore,
  containerId: number,
  opts: { after?: string; before?: string; from?: string; limit: number; reverse: boolean },
): Promise<ListedObject[]> {
  let q = core.db
    .selectFrom("object_object")
    .select(["name", "size", "etag", "content_type", "timestamp", "delete_at"])
    .select(LISTED_META.as("meta"))
    .where("container_id", "=", containerId);
  if (opts.after !== undefined) q = q.where("name", ">", opts.after);
  if (opts.from !== undefined) q = q.where("name", ">=", opts.from);
  if (opts.before !== undefined) q = q.where("name", "<", opts.before);
  const rows = await q
    .orderBy("name", opts.reverse ? "desc" : "asc")
    .limit(opts.limit)
    .execute();
  return rows.map((r) => ({
    name: text(r.name),
    size: num(r.size),
    etag: r.etag,
    contentType: r.content_type,
    timestamp: r.timestamp,
    deleteAt: r.delete_at === null ? null : num(r.delete_at),
    meta: r.meta === null || r.meta === undefined ? null : parseMeta(text(r.meta)),
  }));
}

/** Expired objects of one container (the reaper's work, done at once before the container is deleted). */
export async function expiredIn(
  core: ObjectCore,
  containerId: number,
  now: number,
  limit: number,
): Promise<Array<{ name: string; dataKey: string }>> {
  const rows = await core.db
    .selectFrom("object_object")
    .select(["name", "data_key"])
    .where("container_id", "=", containerId)
    .where("delete_at", "is not", null)
    .where("delete_at", "<=", now)
    .limit(limit)
    .execute();
  return rows.map((r) => ({ name: text(r.name), dataKey: r.data_key }));
}
