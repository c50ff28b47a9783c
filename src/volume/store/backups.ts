// Backup rows: lookups, visibility, inserts and atomic status moves.
import { nowIso } from "../../shared/db/index.js";
import type { Caller, VolumeCore } from "../core.js";

/** A backup row. */
export interface BackupRow {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  snapshot_id: string | null;
  parent_id: string | null;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  fail_reason: string | null;
  availability_zone: string | null;
  host: string | null;
  /** The backup driver that holds it (swift, posix, fake). */
  service: string;
  container: string | null;
  object_count: number;
  is_incremental: number;
  /** The volume's (or snapshot's) status before the backup took it, restored afterwards. */
  volume_status: string | null;
  /** The volume a restore is writing. */
  restore_volume_id: string | null;
  metadata: string;
  /** The backed-up volume's metadata (JSON), given back to the volume a restore writes, as Cinder does. */
  volume_meta: string | null;
  data_timestamp: string;
  /** The id its objects were written under when not its own (an imported record), else null. */
  data_id: string | null;
  /** The project whose account holds its objects when not its own (an imported record), else null. */
  data_project: string | null;
  created_at: string;
  updated_at: string | null;
}

/** A backup by id, or null. */
export async function getBackup(core: VolumeCore, id: string): Promise<BackupRow | null> {
  return ((await core.db.selectFrom("volume_backup").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null) as BackupRow | null;
}

/** A backup the caller may see, or null. */
export async function visibleBackup(core: VolumeCore, caller: Caller, id: string): Promise<BackupRow | null> {
  const b = await getBackup(core, id);
  if (!b) return null;
  return caller.readsAll || b.project_id === caller.projectId ? b : null;
}

/** Backups of one project (or every project: null). */
export async function listBackups(core: VolumeCore, projectId: string | null): Promise<BackupRow[]> {
  let q = core.db.selectFrom("volume_backup").selectAll();
  if (projectId !== null) q = q.where("project_id", "=", projectId);
  return (await q.orderBy("created_at", "desc").orderBy("id", "asc").execute()) as BackupRow[];
}

/** Backups of one volume, newest first. */
export async function backupsOfVolume(core: VolumeCore, volumeId: string): Promise<BackupRow[]> {
  return (await core.db
    .selectFrom("volume_backup")
    .selectAll()
    .where("volume_id", "=", volumeId)
    .orderBy("data_timestamp", "desc")
    .orderBy("created_at", "desc")
    .execute()) as BackupRow[];
}

/** How many backups are incremental children of this one. */
export async function childCount(core: VolumeCore, id: string): Promise<number> {
  const r = await core.db
    .selectFrom("volume_backup")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("parent_id", "=", id)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** Insert a backup row. */
export async function insertBackup(core: VolumeCore, row: BackupRow): Promise<void> {
  await core.db.insertInto("volume_backup").values(row).execute();
}

/** Change columns of a backup. */
export async function updateBackup(core: VolumeCore, id: string, set: Partial<BackupRow>): Promise<void> {
  await core.db
    .updateTable("volume_backup")
    .set({ ...set, updated_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

/** Move a backup between statuses atomically (with other columns); false when it was not in one of `from`. */
export async function transitionBackup(
  core: VolumeCore,
  id: string,
  from: readonly string[],
  set: Partial<BackupRow> & { status: string },
): Promise<boolean> {
  const r = await core.db
    .updateTable("volume_backup")
    .set({ ...set, updated_at: nowIso() })
    .where("id", "=", id)
    .where("status", "in", from as string[])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Remove a backup row. */
export async function removeBackup(core: VolumeCore, id: string): Promise<void> {
  await core.db.deleteFrom("volume_backup").where("id", "=", id).execute();
}

/** Whether another backup record holds the same objects (an exported record imported under a new id). */
export async function backupDataShared(core: VolumeCore, b: BackupRow): Promise<boolean> {
  const data = b.data_id ?? b.id;
  const other = await core.db
    .selectFrom("volume_backup")
    .select("id")
    .where("id", "!=", b.id)
    .where((eb) => eb.or([eb("id", "=", data), eb("data_id", "=", data)]))
    .executeTakeFirst();
  return other !== undefined;
}
