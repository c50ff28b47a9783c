import { isUniqueViolation } from "../../shared/db/index.js";
import type { ObjectCore } from "../core.js";
import { newTimestamp } from "../timestamp.js";
import { ensureAccount } from "./accounts.js";
import { resetSync, syncTargetOf } from "./sync.js";
import { runCached } from "./compiled.js";
import { num, parseMeta, storeMeta, text } from "./tables.js";

/** A container with its counts. */
export interface Container {
  id: number;
  account: string;
  name: string;
  objectCount: number;
  bytesUsed: number;
  createdAt: string;
  putTimestamp: string;
  meta: Map<string, string>;
}

function view(r: {
  id: number;
  account: string;
  name: unknown;
  object_count: unknown;
  bytes_used: unknown;
  created_at: string;
  put_timestamp: string;
  meta: string;
}): Container {
  return {
    id: Number(r.id),
    account: r.account,
    name: text(r.name),
    objectCount: num(r.object_count),
    bytesUsed: num(r.bytes_used),
    createdAt: r.created_at,
    putTimestamp: r.put_timestamp,
    meta: parseMeta(r.meta),
  };
}

/** One container, or undefined. */
export async function getContainer(
  core: ObjectCore,
  account: string,
  name: string,
): Promise<Container | undefined> {
  const { rows } = await runCached(core.db, "container", [account, name], () =>
    core.db
      .selectFrom("object_container")
      .selectAll()
      .where("account", "=", account)
      .where("name", "=", name),
  );
  return rows[0] && view(rows[0]);
}

/** A container by its id, or undefined. */
export async function getContainerById(core: ObjectCore, id: number): Promise<Container | undefined> {
  const r = await core.db.selectFrom("object_container").selectAll().where("id", "=", id).executeTakeFirst();
  return r && view(r);
}

/**
 * Create a container, or (when it exists) apply `change` to its metadata as Swift's PUT on an existing container
 * does. Returns whether it was created. `projectDomain` is what to record for the account (see ensureAccount).
 */
export async function putContainer(
  core: ObjectCore,
  account: string,
  name: string,
  change: (meta: Map<string, string>) => Map<string, string>,
  projectDomain?: string,
): Promise<boolean> {
  await ensureAccount(core, account, projectDomain);
  const now = newTimestamp();
  try {
    const meta = change(new Map());
    await core.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("object_container")
        .values({
          account,
          name,
          object_count: 0,
          bytes_used: 0,
          created_at: now,
          put_timestamp: now,
          meta: storeMeta(meta),
        })
        .execute();
      if (syncTargetOf(meta) === null) return;
      const row = await tx
        .selectFrom("object_container")
        .select("id")
        .where("account", "=", account)
        .where("name", "=", name)
        .executeTakeFirstOrThrow();
      await resetSync(tx, Number(row.id), true);
    });
    return true;
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  await updateContainerMeta(core, account, name, change);
  return false;
}

/** Change a container's metadata under its row lock; false when there is no such container. */
export async function updateContainerMeta(
  core: ObjectCore,
  account: string,
  name: string,
  change: (meta: Map<string, string>) => Map<string, string>,
): Promise<boolean> {
  return core.db.transaction().execute(async (tx) => {
    const locked = await tx
      .updateTable("object_container")
      .set({ put_timestamp: newTimestamp() })
      .where("account", "=", account)
      .where("name", "=", name)
      .executeTakeFirst();
    if (Number(locked.numUpdatedRows) === 0) return false;
    const row = await tx
      .selectFrom("object_container")
      .select(["id", "meta"])
      .where("account", "=", account)
      .where("name", "=", name)
      .executeTakeFirstOrThrow();
    const old = parseMeta(row.meta);
    const next = change(old);
    await tx
      .updateTable("object_container")
      .set({ meta: storeMeta(next) })
      .where("account", "=", account)
      .where("name", "=", name)
      .execute();
    // A new sync target starts the sync over (Swift resets the sync points); no target stops it.
    const target = syncTargetOf(next);
    if (target !== syncTargetOf(old)) await resetSync(tx, Number(row.id), target !== null);
    return true;
  });
}

/** Delete an empty container: "deleted", "missing", or "not-empty" (Swift's 409). */
export async function deleteContainer(
  core: ObjectCore,
  account: string,
  name: string,
): Promise<"deleted" | "missing" | "not-empty"> {
  const r = await core.db
    .deleteFrom("object_container")
    .where("account", "=", account)
    .where("name", "=", name)
    .where("object_count", "=", 0)
    .executeTakeFirst();
  if (Number(r.numDeletedRows) > 0) return "deleted";
  return (await getContainer(core, account, name)) ? "not-empty" : "missing";
}

/** Containers of an account in name order within bounds (> after, >= from, < before), at most `limit`. */
export async function listContainers(
  core: ObjectCore,
  account: string,
  opts: { after?: string; from?: string; before?: string; limit: number; reverse: boolean },
): Promise<Container[]> {
  let q = core.db.selectFrom("object_container").selectAll().where("account", "=", account);
  if (opts.after !== undefined) q = q.where("name", ">", opts.after);
  if (opts.from !== undefined) q = q.where("name", ">=", opts.from);
  if (opts.before !== undefined) q = q.where("name", "<", opts.before);
  const rows = await q
    .orderBy("name", opts.reverse ? "desc" : "asc")
    .limit(opts.limit)
    .execute();
  return rows.map(view);
}
