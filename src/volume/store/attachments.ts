import type { ExportRecord } from "../drivers/transports.js";
import type { VolumeCore } from "../core.js";
import { parseJson, type AttachmentRow } from "./rows.js";

/** An attachment by id, or null. */
export async function getAttachment(core: VolumeCore, id: string): Promise<AttachmentRow | null> {
  return ((await core.db
    .selectFrom("volume_attachment")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst()) ?? null) as AttachmentRow | null;
}

/** Attachments of one volume (oldest first). */
export async function attachmentsOf(core: VolumeCore, volumeId: string): Promise<AttachmentRow[]> {
  return (await core.db
    .selectFrom("volume_attachment")
    .selectAll()
    .where("volume_id", "=", volumeId)
    .orderBy("created_at")
    .orderBy("id")
    .execute()) as AttachmentRow[];
}

/** Attachments of one project (or every project: null). */
export async function listAttachments(core: VolumeCore, projectId: string | null): Promise<AttachmentRow[]> {
  let q = core.db.selectFrom("volume_attachment").selectAll();
  if (projectId !== null) q = q.where("project_id", "=", projectId);
  return (await q.orderBy("created_at", "desc").orderBy("id").execute()) as AttachmentRow[];
}

/** Insert an attachment. */
export async function insertAttachment(core: VolumeCore, row: AttachmentRow): Promise<void> {
  await core.db.insertInto("volume_attachment").values(row).execute();
}

/** Change an attachment's columns. */
export async function updateAttachment(
  core: VolumeCore,
  id: string,
  set: Partial<AttachmentRow>,
): Promise<void> {
  await core.db.updateTable("volume_attachment").set(set).where("id", "=", id).execute();
}

/** Delete an attachment. */
export async function deleteAttachment(core: VolumeCore, id: string): Promise<void> {
  await core.db.deleteFrom("volume_attachment").where("id", "=", id).execute();
}

/** Record (or replace) a volume's export on its host. */
export async function saveExport(
  core: VolumeCore,
  host: string,
  protocol: string,
  rec: ExportRecord,
): Promise<void> {
  await core.db.deleteFrom("volume_export").where("volume_id", "=", rec.volumeId).execute();
  await core.db
    .insertInto("volume_export")
    .values({ volume_id: rec.volumeId, host, protocol, record: JSON.stringify(rec) })
    .execute();
}

/** Forget a volume's export. */
export async function dropExport(core: VolumeCore, volumeId: string): Promise<void> {
  await core.db.deleteFrom("volume_export").where("volume_id", "=", volumeId).execute();
}

/** The exports recorded for a host, with their protocol. */
export async function exportsOfHost(
  core: VolumeCore,
  host: string,
): Promise<Array<{ protocol: string; record: ExportRecord }>> {
  const rows = await core.db.selectFrom("volume_export").selectAll().where("host", "=", host).execute();
  const out: Array<{ protocol: string; record: ExportRecord }> = [];
  for (const r of rows) {
    const rec = parseJson(r.record as string) as ExportRecord | null;
    if (rec && typeof rec.volumeId === "string") out.push({ protocol: r.protocol as string, record: rec });
  }
  return out;
}
