// Backup bodies in Cinder's shapes (show/detail, the short list body) and the backup lookups routes share.
import type { VolumeCore } from "../core.js";
import { notFound } from "../errors.js";
import { childCount, visibleBackup, type BackupRow } from "../store/backups.js";
import { mapObject, parseMap } from "../store/rows.js";
import { callerOf, isoTime, links, type Ctx } from "./common.js";

/** 404 "Backup <id> could not be found." */
export const backupNotFound = (id: string) => notFound(`Backup ${id} could not be found.`);

/** The visible backup of the URL (404 otherwise). */
export async function backupOf(core: VolumeCore, ctx: Ctx): Promise<BackupRow> {
  const b = await visibleBackup(core, callerOf(ctx), ctx.params.backup_id);
  if (!b) throw backupNotFound(ctx.params.backup_id);
  return b;
}

/** The short body (list, create, import). */
export const backupSummary = (ctx: Ctx, b: BackupRow) => ({
  id: b.id,
  name: b.name,
  links: links(ctx, b.project_id, "backups", b.id),
});

/** The full body (show, detail). */
export async function backupView(ctx: Ctx, core: VolumeCore, b: BackupRow) {
  const mv = ctx.microversion;
  const body: Record<string, unknown> = {
    id: b.id,
    name: b.name,
    description: b.description,
    status: b.status,
    availability_zone: b.availability_zone,
    container: b.container,
    created_at: isoTime(b.created_at),
    updated_at: isoTime(b.updated_at),
    data_timestamp: isoTime(b.data_timestamp),
    fail_reason: b.fail_reason,
    has_dependent_backups: (await childCount(core, b.id)) > 0,
    is_incremental: Boolean(b.is_incremental),
    links: links(ctx, b.project_id, "backups", b.id),
    object_count: b.object_count,
    size: b.size,
    snapshot_id: b.snapshot_id,
    volume_id: b.volume_id,
  };
  if (mv.gte("3.18") && ctx.allowed("backup:backup_project_attribute", { project_id: b.project_id }))
    body["os-backup-project-attr:project_id"] = b.project_id;
  if (mv.gte("3.43")) body.metadata = mapObject(parseMap(b.metadata));
  if (mv.gte("3.56")) body.user_id = b.user_id;
  if (mv.gte("3.64")) body.encryption_key_id = null;
  return body;
}
