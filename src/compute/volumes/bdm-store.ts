// The block device mappings table (compute_block_device_mapping): a server's volumes, with their attachment in the
// block storage service and the connection info it gave. Rows are deleted, not soft-deleted, when a volume leaves.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { fromDbBool, nowIso, toDbBool } from "../../shared/db/index.js";
import type { ConnectionInfo } from "../volume-client.js";

/** One mapping as compute uses it. */
export interface Bdm {
  uuid: string;
  instanceUuid: string;
  volumeId: string | null;
  attachmentId: string | null;
  deviceName: string | null;
  bootIndex: number | null;
  sourceType: "image" | "volume" | "blank" | "snapshot";
  destinationType: "volume" | "local";
  deleteOnTermination: boolean;
  tag: string | null;
  volumeSize: number | null;
  imageId: string | null;
  /** The volume snapshot a new volume is made from (source snapshot). */
  snapshotId: string | null;
  connectionInfo: ConnectionInfo | null;
  createdAt: string;
}

const TABLE = "compute_block_device_mapping";

function fromRow(r: Record<string, any>): Bdm {
  return {
    uuid: r.uuid,
    instanceUuid: r.instance_uuid,
    volumeId: r.volume_id ?? null,
    attachmentId: r.attachment_id ?? null,
    deviceName: r.device_name ?? null,
    bootIndex: r.boot_index === null || r.boot_index === undefined ? null : Number(r.boot_index),
    sourceType: r.source_type,
    destinationType: r.destination_type,
    deleteOnTermination: fromDbBool(r.delete_on_termination),
    tag: r.tag ?? null,
    volumeSize: r.volume_size === null || r.volume_size === undefined ? null : Number(r.volume_size),
    imageId: r.image_id ?? null,
    snapshotId: r.snapshot_id ?? null,
    connectionInfo: r.connection_info ? (JSON.parse(r.connection_info) as ConnectionInfo) : null,
    createdAt: r.created_at,
  };
}

/** A server's mappings, boot disk first, then in the order they were made. */
export async function listBdms(db: Kysely<any>, instanceUuid: string): Promise<Bdm[]> {
  const rows = await db.selectFrom(TABLE).selectAll().where("instance_uuid", "=", instanceUuid).execute();
  return rows
    .map(fromRow)
    .sort(
      (a, b) =>
        (a.bootIndex ?? 1000) - (b.bootIndex ?? 1000) ||
        a.createdAt.localeCompare(b.createdAt) ||
        (a.deviceName ?? "").localeCompare(b.deviceName ?? ""),
    );
}

/** The mappings of one volume (on any server). */
export async function bdmsOfVolume(db: Kysely<any>, volumeId: string): Promise<Bdm[]> {
  const rows = await db.selectFrom(TABLE).selectAll().where("volume_id", "=", volumeId).execute();
  return rows.map(fromRow);
}

/** Record a new mapping; returns it. */
export async function createBdm(
  db: Kysely<any>,
  b: Omit<Bdm, "uuid" | "createdAt" | "connectionInfo" | "snapshotId"> & {
    connectionInfo?: ConnectionInfo | null;
    snapshotId?: string | null;
  },
): Promise<Bdm> {
  const row = {
    uuid: randomUUID(),
    instance_uuid: b.instanceUuid,
    volume_id: b.volumeId,
    attachment_id: b.attachmentId,
    device_name: b.deviceName,
    boot_index: b.bootIndex,
    source_type: b.sourceType,
    destination_type: b.destinationType,
    delete_on_termination: toDbBool(b.deleteOnTermination),
    tag: b.tag,
    volume_size: b.volumeSize,
    image_id: b.imageId,
    snapshot_id: b.snapshotId ?? null,
    connection_info: b.connectionInfo ? JSON.stringify(b.connectionInfo) : null,
    created_at: nowIso(),
  };
  await db.insertInto(TABLE).values(row).execute();
  return fromRow(row);
}

/** Change some columns of a mapping. */
export async function updateBdm(
  db: Kysely<any>,
  uuid: string,
  patch: Partial<
    Pick<Bdm, "volumeId" | "attachmentId" | "deleteOnTermination" | "connectionInfo" | "deviceName">
  >,
): Promise<void> {
  const set: Record<string, unknown> = {};
  if (patch.volumeId !== undefined) set.volume_id = patch.volumeId;
  if (patch.attachmentId !== undefined) set.attachment_id = patch.attachmentId;
  if (patch.deviceName !== undefined) set.device_name = patch.deviceName;
  if (patch.deleteOnTermination !== undefined)
    set.delete_on_termination = toDbBool(patch.deleteOnTermination);
  if (patch.connectionInfo !== undefined)
    set.connection_info = patch.connectionInfo ? JSON.stringify(patch.connectionInfo) : null;
  if (Object.keys(set).length > 0) await db.updateTable(TABLE).set(set).where("uuid", "=", uuid).execute();
}

/** Remove a mapping. */
export async function deleteBdm(db: Kysely<any>, uuid: string): Promise<void> {
  await db.deleteFrom(TABLE).where("uuid", "=", uuid).execute();
}

/** The next free /dev/vdX name after the ones in use (vda is the root disk of an image-backed server). */
export function nextDeviceName(used: Iterable<string | null>, rootIsVolume = false): string {
  const taken = new Set<string>();
  for (const u of used) if (u) taken.add(u.replace(/^\/dev\//, ""));
  if (!rootIsVolume) taken.add("vda");
  for (let i = 0; i < 26 * 27; i++) {
    const name =
      i < 26
        ? `vd${String.fromCharCode(97 + i)}`
        : `vd${String.fromCharCode(96 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`;
    if (!taken.has(name)) return `/dev/${name}`;
  }
  throw new Error("no free device name left");
}
