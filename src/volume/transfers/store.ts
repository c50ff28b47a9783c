// Volume transfers as stored: the auth key is shown once at creation; only a random salt and the SHA-256 of
// salt + key are kept, compared in constant time. The key is 16 random characters (about 95 bits), so a fast hash
// is enough.
import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import type { VolumeCore } from "../core.js";

/** A transfer row. */
export interface TransferRow {
  id: string;
  volume_id: string;
  name: string | null;
  source_project_id: string;
  salt: string;
  key_hash: string;
  no_snapshots: number;
  created_at: string;
}

const ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/** A new auth key (16 characters of an unambiguous alphabet, as Cinder's). */
export function newAuthKey(): string {
  let k = "";
  for (let i = 0; i < 16; i++) k += ALPHABET[randomInt(ALPHABET.length)];
  return k;
}

const hashOf = (salt: string, key: string): string =>
  createHash("sha256").update(salt).update(key).digest("hex");

/** The salt and hash to store for a key. */
export function sealKey(key: string): { salt: string; key_hash: string } {
  const salt = randomBytes(8).toString("hex");
  return { salt, key_hash: hashOf(salt, key) };
}

/** Whether `key` is the transfer's key (constant-time). */
export function keyMatches(t: TransferRow, key: string): boolean {
  const a = Buffer.from(hashOf(t.salt, key), "hex");
  const b = Buffer.from(t.key_hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A transfer by id, or null. */
export async function getTransfer(core: VolumeCore, id: string): Promise<TransferRow | null> {
  return ((await core.db.selectFrom("volume_transfer").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null) as TransferRow | null;
}

/** Transfers of one source project, or of every project (null), oldest first. */
export async function listTransfers(core: VolumeCore, project: string | null): Promise<TransferRow[]> {
  let q = core.db.selectFrom("volume_transfer").selectAll();
  if (project !== null) q = q.where("source_project_id", "=", project);
  return (await q.orderBy("created_at").orderBy("id").execute()) as TransferRow[];
}

/** Insert a transfer. */
export async function insertTransfer(core: VolumeCore, row: TransferRow): Promise<void> {
  await core.db.insertInto("volume_transfer").values(row).execute();
}

/** Delete a transfer; false when it was gone already. */
export async function removeTransfer(core: VolumeCore, id: string): Promise<boolean> {
  const r = await core.db.deleteFrom("volume_transfer").where("id", "=", id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
