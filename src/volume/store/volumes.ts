import { nowIso } from "../../shared/db/index.js";
import type { Caller, VolumeCore } from "../core.js";
import type { VolumeRow } from "./rows.js";

/** A volume by id, or null. */
export async function getVolume(core: VolumeCore, id: string): Promise<VolumeRow | null> {
  return ((await core.db.selectFrom("volume_volume").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null) as VolumeRow | null;
}

/** A volume the caller may see (its project's, or any for cloud readers), or null. */
export async function visibleVolume(core: VolumeCore, caller: Caller, id: string): Promise<VolumeRow | null> {
  const v = await getVolume(core, id);
  if (!v) return null;
  return caller.readsAll || v.project_id === caller.projectId ? v : null;
}

/** Volumes of one project, or of every project (null). */
export async function listVolumes(core: VolumeCore, projectId: string | null): Promise<VolumeRow[]> {
  let q = core.db.selectFrom("volume_volume").selectAll();
  if (projectId !== null) q = q.where("project_id", "=", projectId);
  return (await q.orderBy("created_at", "desc").orderBy("id", "asc").execute()) as VolumeRow[];
}

/** Volumes a host holds. */
export async function volumesOfHost(core: VolumeCore, host: string): Promise<VolumeRow[]> {
  return (await core.db
    .selectFrom("volume_volume")
    .selectAll()
    .where("host", "=", host)
    .execute()) as VolumeRow[];
}

/** Insert a volume row. */
export async function insertVolume(core: VolumeCore, row: VolumeRow): Promise<void> {
  await core.db.insertInto("volume_volume").values(row).execute();
}

/** Change columns of a volume (and its updated_at). */
export async function updateVolume(core: VolumeCore, id: string, set: Partial<VolumeRow>): Promise<void> {
  await core.db
    .updateTable("volume_volume")
    .set({ ...set, updated_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

/**
 * Move a volume from one of `from` statuses to `to` (and other columns), atomically; false when its status was
 * not one of them (another request changed it first).
 */
export async function transitionVolume(
  core: VolumeCore,
  id: string,
  from: readonly string[],
  set: Partial<VolumeRow> & { status: string },
): Promise<boolean> {
  const r = await core.db
    .updateTable("volume_volume")
    .set({ ...set, updated_at: nowIso() })
    .where("id", "=", id)
    .where("status", "in", from as string[])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Remove a volume row with its attachments and export record. */
export async function removeVolume(core: VolumeCore, id: string): Promise<void> {
  await core.transaction(async (c) => {
    await c.db.deleteFrom("volume_attachment").where("volume_id", "=", id).execute();
    await c.db.deleteFrom("volume_export").where("volume_id", "=", id).execute();
    await c.db.deleteFrom("volume_transfer").where("volume_id", "=", id).execute();
    await c.db.deleteFrom("volume_volume").where("id", "=", id).execute();
  });
}

/** A new (creating, detached) volume row with the given columns; the rest are a fresh volume's defaults. */
export function newVolumeRow(
  core: VolumeCore,
  f: Pick<VolumeRow, "project_id" | "user_id" | "size" | "availability_zone"> & Partial<VolumeRow>,
): VolumeRow {
  const now = nowIso();
  return {
    id: core.newId(),
    name: null,
    description: null,
    status: "creating",
    attach_status: "detached",
    volume_type_id: null,
    snapshot_id: null,
    source_volid: null,
    image_id: null,
    bootable: 0,
    readonly: 0,
    multiattach: 0,
    metadata: "{}",
    image_metadata: "{}",
    host: null,
    location: null,
    group_id: null,
    migration_status: null,
    created_at: now,
    updated_at: now,
    ...f,
  };
}
