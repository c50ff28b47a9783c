// os-server-password as the metadata service keeps it: the guest POSTs its encrypted password once; it is stored
// in four 255-character system metadata items (password_0..3), as Nova does. A second POST is 409.
import type { Kysely } from "kysely";
import { nowIso } from "../../shared/db/index.js";
import { extractPassword } from "./source.js";

/** Items and their length: Nova's CHUNKS and CHUNK_LENGTH. */
export const PASSWORD_CHUNKS = 4;
export const PASSWORD_CHUNK_LENGTH = 255;
/** The largest password body accepted (1020 bytes). */
export const PASSWORD_MAX_BYTES = PASSWORD_CHUNKS * PASSWORD_CHUNK_LENGTH;

/** The system metadata items holding `password`. */
export function passwordItems(password: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < PASSWORD_CHUNKS; i++)
    out[`password_${i}`] = password.slice(i * PASSWORD_CHUNK_LENGTH, (i + 1) * PASSWORD_CHUNK_LENGTH);
  return out;
}

/** Outcome of a password POST. */
export type SetPasswordResult = "set" | "conflict" | "not-found";

/**
 * Store the guest's password unless one is already set. A compare-and-set on the system_metadata text, retried
 * when another writer changed it meanwhile, so two racing POSTs cannot both win.
 */
export async function setPasswordOnce(
  db: Kysely<any>,
  uuid: string,
  password: string,
): Promise<SetPasswordResult> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const row = (await db
      .selectFrom("compute_instance")
      .select(["system_metadata"])
      .where("uuid", "=", uuid)
      .where("deleted", "=", 0)
      .executeTakeFirst()) as { system_metadata: string } | undefined;
    if (!row) return "not-found";
    const meta = JSON.parse(row.system_metadata) as Record<string, unknown>;
    if (extractPassword(meta)) return "conflict";
    const next = JSON.stringify({ ...meta, ...passwordItems(password) });
    const r = await db
      .updateTable("compute_instance")
      .set({ system_metadata: next, updated_at: nowIso() })
      .where("uuid", "=", uuid)
      .where("deleted", "=", 0)
      .where("system_metadata", "=", row.system_metadata)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return "set";
  }
  return "conflict";
}
