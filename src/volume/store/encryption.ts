// The volume_type_encryption table: one row per encrypted volume type.
import type { VolumeCore } from "../core.js";

/** A type's encryption row. */
export interface EncryptionRow {
  volume_type_id: string;
  encryption_id: string;
  provider: string;
  cipher: string | null;
  key_size: number | null;
  control_location: string;
  created_at: string;
  updated_at: string | null;
}

/** The fields an admin sets. */
export type EncryptionSpecs = Partial<
  Pick<EncryptionRow, "provider" | "cipher" | "key_size" | "control_location">
>;

/** A type's encryption, or null. */
export async function getEncryption(core: VolumeCore, typeId: string): Promise<EncryptionRow | null> {
  const r = await core.db
    .selectFrom("volume_type_encryption")
    .selectAll()
    .where("volume_type_id", "=", typeId)
    .executeTakeFirst();
  return r ? ({ ...r, key_size: r.key_size === null ? null : Number(r.key_size) } as EncryptionRow) : null;
}

/** Insert a type's encryption. */
export async function insertEncryption(core: VolumeCore, row: EncryptionRow): Promise<void> {
  await core.db.insertInto("volume_type_encryption").values(row).execute();
}

/** Change a type's encryption; false when it has none. */
export async function updateEncryption(
  core: VolumeCore,
  typeId: string,
  set: EncryptionSpecs & { updated_at: string },
): Promise<boolean> {
  const r = await core.db
    .updateTable("volume_type_encryption")
    .set(set)
    .where("volume_type_id", "=", typeId)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Remove a type's encryption; false when it had none. */
export async function deleteEncryption(core: VolumeCore, typeId: string): Promise<boolean> {
  const r = await core.db
    .deleteFrom("volume_type_encryption")
    .where("volume_type_id", "=", typeId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Whether some volume has the type (its encryption may then not change, as Cinder). */
export async function typeInUse(core: VolumeCore, typeId: string): Promise<boolean> {
  const r = await core.db
    .selectFrom("volume_volume")
    .select("id")
    .where("volume_type_id", "=", typeId)
    .executeTakeFirst();
  return r !== undefined;
}
