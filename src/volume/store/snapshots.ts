import { nowIso } from "../../shared/db/index.js";
import type { Caller, VolumeCore } from "../core.js";
import type { SnapshotRow } from "./rows.js";

/** A snapshot by id, or null. */
export async function getSnapshot(core: VolumeCore, id: string): Promise<SnapshotRow | null> {
  return ((await core.db.selectFrom("volume_snapshot").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null) as SnapshotRow | null;
}

/** A snapshot the caller may see, or null. */
export async function visibleSnapshot(
  core: VolumeCore,
  caller: Caller,
  id: string,
): Promise<SnapshotRow | null> {
  const s = await getSnapshot(core, id);
  if (!s) return null;
  return caller.readsAll || s.project_id === caller.projectId ? s : null;
}

/** Snapshots of one project (or every project: null). */
export async function listSnapshots(core: VolumeCore, projectId: string | null): Promise<SnapshotRow[]> {
  let q = core.db.selectFrom("volume_snapshot").selectAll();
  if (projectId !== null) q = q.where("project_id", "=", projectId);
  return (await q.orderBy("created_at", "desc").orderBy("id", "asc").execute()) as SnapshotRow[];
}

/** Snapshots of one volume. */
export async function snapshotsOf(core: VolumeCore, volumeId: string): Promise<SnapshotRow[]> {
  return (await core.db
    .selectFrom("volume_snapshot")
    .selectAll()
    .where("volume_id", "=", volumeId)
    .execute()) as SnapshotRow[];
}

/** Insert a snapshot row. */
export async function insertSnapshot(core: VolumeCore, row: SnapshotRow): Promise<void> {
  await core.db.insertInto("volume_snapshot").values(row).execute();
}

/** Change columns of a snapshot. */
export async function updateSnapshot(core: VolumeCore, id: string, set: Partial<SnapshotRow>): Promise<void> {
  await core.db
    .updateTable("volume_snapshot")
    .set({ ...set, updated_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

/** Move a snapshot between statuses atomically; false when it was not in one of `from`. */
export async function transitionSnapshot(
  core: VolumeCore,
  id: string,
  from: readonly string[],
  status: string,
): Promise<boolean> {
  const r = await core.db
    .updateTable("volume_snapshot")
    .set({ status, updated_at: nowIso() })
    .where("id", "=", id)
    .where("status", "in", from as string[])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Remove a snapshot row. */
export async function removeSnapshot(core: VolumeCore, id: string): Promise<void> {
  await core.db.deleteFrom("volume_snapshot").where("id", "=", id).execute();
}
