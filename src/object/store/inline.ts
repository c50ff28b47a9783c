// Small objects' data in the database (table object_inline): written in the object's own commit, read by key.
import { randomUUID } from "node:crypto";
import { runCached } from "./compiled.js";
import type { ObjectDb } from "./tables.js";

/** Data keys of inline data start with this; store driver keys are plain hex, so the two never meet. */
const INLINE_PREFIX = "in-";

/** Whether a data key names inline data (in the database, not in the store driver). */
export const isInlineKey = (key: string): boolean => key.startsWith(INLINE_PREFIX);

/** A fresh data key for inline data (a random UUID: node draws those from a kept pool of random bytes). */
export const newInlineKey = (): string => INLINE_PREFIX + randomUUID();

/** Store inline data under `key` (inside the transaction that commits its object's row). */
export async function insertInline(tx: ObjectDb, key: string, data: Buffer): Promise<void> {
  await runCached(tx, "insert inline", [key, data], () =>
    tx.insertInto("object_inline").values({ data_key: key, data }),
  );
}

/** Remove inline data (inside the transaction that removes or replaces its object's row). */
export async function deleteInline(db: ObjectDb, key: string): Promise<void> {
  await runCached(db, "delete inline", [key], () =>
    db.deleteFrom("object_inline").where("data_key", "=", key),
  );
}

/** The inline data under `key`, or undefined when it is gone. */
export async function readInline(db: ObjectDb, key: string): Promise<Buffer | undefined> {
  const { rows } = await runCached(db, "read inline", [key], () =>
    db.selectFrom("object_inline").select("data").where("data_key", "=", key),
  );
  const d = rows[0]?.data;
  return d === undefined ? undefined : Buffer.isBuffer(d) ? d : Buffer.from(d);
}
