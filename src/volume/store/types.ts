import { nowIso } from "../../shared/db/index.js";
import type { Caller, VolumeCore } from "../core.js";
import type { QosRow, TypeRow } from "./rows.js";

/** A volume type by id, or null. */
export async function getType(core: VolumeCore, id: string): Promise<TypeRow | null> {
  return ((await core.db.selectFrom("volume_type").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null) as TypeRow | null;
}

/** A volume type by name, or null. */
export async function typeByName(core: VolumeCore, name: string): Promise<TypeRow | null> {
  return ((await core.db.selectFrom("volume_type").selectAll().where("name", "=", name).executeTakeFirst()) ??
    null) as TypeRow | null;
}

/** Projects a private type is shared with. */
export async function typeProjects(core: VolumeCore, typeId: string): Promise<string[]> {
  const rows = await core.db
    .selectFrom("volume_type_access")
    .select("project_id")
    .where("volume_type_id", "=", typeId)
    .execute();
  return rows.map((r) => r.project_id as string);
}

/** Whether the caller may use or see a type (public, shared with its project, or an admin). */
export async function typeVisible(core: VolumeCore, caller: Caller, t: TypeRow): Promise<boolean> {
  if (t.is_public || caller.readsAll) return true;
  return caller.projectId !== null && (await typeProjects(core, t.id)).includes(caller.projectId);
}

/** A type by id or name that the caller may see, or null. */
export async function findType(core: VolumeCore, caller: Caller, idOrName: string): Promise<TypeRow | null> {
  const t = (await getType(core, idOrName)) ?? (await typeByName(core, idOrName));
  return t && (await typeVisible(core, caller, t)) ? t : null;
}

/** Every type (sorted by name). */
export async function listTypes(core: VolumeCore): Promise<TypeRow[]> {
  return (await core.db.selectFrom("volume_type").selectAll().orderBy("name").execute()) as TypeRow[];
}

/** Insert a type. */
export async function insertType(core: VolumeCore, row: TypeRow): Promise<void> {
  await core.db.insertInto("volume_type").values(row).execute();
}

/** Change a type's columns. */
export async function updateType(core: VolumeCore, id: string, set: Partial<TypeRow>): Promise<void> {
  await core.db.updateTable("volume_type").set(set).where("id", "=", id).execute();
}

/** Delete a type with its access list and encryption. */
export async function deleteType(core: VolumeCore, id: string): Promise<void> {
  await core.db.deleteFrom("volume_type_encryption").where("volume_type_id", "=", id).execute();
  await core.db.deleteFrom("volume_type_access").where("volume_type_id", "=", id).execute();
  await core.db.deleteFrom("volume_type").where("id", "=", id).execute();
}

/** Create the default type when missing (at start). */
export async function ensureDefaultType(core: VolumeCore): Promise<void> {
  const name = core.cfg.volume.defaultVolumeType;
  if (await typeByName(core, name)) return;
  try {
    await insertType(core, {
      id: core.newId(),
      name,
      description: "Default Volume Type",
      is_public: 1,
      extra_specs: "{}",
      qos_specs_id: null,
      created_at: nowIso(),
    });
  } catch {
    // another process made it first
  }
}

/** A QoS specs row by id, or null. */
export async function getQos(core: VolumeCore, id: string): Promise<QosRow | null> {
  return ((await core.db.selectFrom("volume_qos").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null) as QosRow | null;
}

/** Every QoS specs row. */
export async function listQos(core: VolumeCore): Promise<QosRow[]> {
  return (await core.db.selectFrom("volume_qos").selectAll().orderBy("name").execute()) as QosRow[];
}
