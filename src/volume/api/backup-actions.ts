// Backup actions: restore to a new or an existing volume, the admin actions (os-reset_status, os-force_delete),
// and export/import of backup records (admin; the record is the backup's row as base64 JSON, as Cinder's
// backup_url is an opaque driver string).
import { nowIso } from "../../shared/db/index.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { VolumeCore } from "../core.js";
import { isBackupDriverName } from "../backup/registry.js";
import { badRequest, invalidInput, volumeNotFound } from "../errors.js";
import { checkBackupQuota, checkQuota, underQuota } from "../quotas.js";
import { agentOf, NoValidBackend, pickHost } from "../scheduler.js";
import { getBackup, insertBackup, transitionBackup, updateBackup, type BackupRow } from "../store/backups.js";
import type { VolumeRow } from "../store/rows.js";
import { refuseEncryptedType } from "../encryption.js";
import { typeByName } from "../store/types.js";
import { insertVolume, transitionVolume, visibleVolume } from "../store/volumes.js";
import { backupOf, backupSummary } from "./backup-views.js";
import { CONTAINER, deleteBackup, invalidBackup } from "./backups.js";
import { callerOf, field, objectBody, optString, ownTarget, ownerOf, wrapped, type Ctx } from "./common.js";

const B = "/v3/:project_id/backups";
const ONE = `${B}/:backup_id`;

/** The fields of a row an exported record carries. */
const RECORD_FIELDS = [
  "id",
  "project_id",
  "user_id",
  "volume_id",
  "snapshot_id",
  "parent_id",
  "name",
  "description",
  "size",
  "availability_zone",
  "service",
  "container",
  "object_count",
  "is_incremental",
  "metadata",
  "volume_meta",
  "data_timestamp",
] as const;

/** Cinder's backup_service names a driver module: Stratus's drivers are named as `cinder.backup.drivers.<name>`. */
const SERVICE_PREFIX = "cinder.backup.drivers.";

/** The driver name of a record's backup_service (Stratus's or Cinder's form: `...drivers.swift[.SwiftBackupDriver]`). */
function driverOfService(service: string): string {
  const m = /^cinder\.backup\.drivers\.(\w+)(\.\w+)?$/.exec(service);
  return m ? m[1] : service;
}

async function restore(core: VolumeCore, ctx: Ctx) {
  const body = objectBody(ctx);
  const r = field(body, "restore");
  if (r === null || typeof r !== "object" || Array.isArray(r))
    throw badRequest("Missing required element 'restore' in request body.");
  const req = r as Record<string, unknown>;
  const b = await backupOf(core, ctx);
  const caller = callerOf(ctx);
  const volumeId = optString(req, "volume_id", 36) ?? null;
  const name = optString(req, "name") ?? null;
  if (b.status !== "available") throw invalidBackup("Backup status must be available");
  let v: VolumeRow;
  if (volumeId) {
    const found = await visibleVolume(core, caller, volumeId);
    if (!found) throw volumeNotFound(volumeId);
    ctx.authorize("backup:restore", { project_id: found.project_id });
    if (found.status !== "available")
      throw badRequest(`Invalid volume: Volume to be restored to must be available`);
    if (found.size < b.size)
      throw badRequest(
        `Invalid volume: volume size ${found.size} is too small to restore backup of size ${b.size}.`,
      );
    if (!found.host) throw badRequest(`Invalid volume: Volume ${found.id} has no host.`);
    if (!(await transitionVolume(core, found.id, ["available"], { status: "restoring-backup" })))
      throw badRequest(`Invalid volume: Volume to be restored to must be available`);
    v = found;
  } else {
    const project = ownerOf(ctx);
    const typeId = (await typeByName(core, core.cfg.volume.defaultVolumeType))?.id ?? null;
    await refuseEncryptedType(core, typeId);
    let host: string;
    try {
      host = await pickHost(core, b.size, core.cfg.volume.availabilityZone);
    } catch (err) {
      if (err instanceof NoValidBackend) throw badRequest(err.message);
      throw err;
    }
    const now = nowIso();
    v = {
      id: core.newId(),
      project_id: project,
      user_id: caller.userId,
      name: name ?? `restore_backup_${b.id}`,
      description: null,
      size: b.size,
      status: "restoring-backup",
      attach_status: "detached",
      availability_zone: core.cfg.volume.availabilityZone,
      volume_type_id: typeId,
      snapshot_id: null,
      source_volid: null,
      image_id: null,
      bootable: 0,
      readonly: 0,
      multiattach: 0,
      metadata: "{}",
      image_metadata: "{}",
      host,
      location: null,
      group_id: null,
      migration_status: null,
      created_at: now,
      updated_at: now,
    };
    const row = v;
    await underQuota(core, project, async (c) => {
      await checkQuota(c, project, { volumes: 1, gigabytes: b.size, perVolume: b.size });
      await insertVolume(c, row);
    });
  }
  if (
    !(await transitionBackup(core, b.id, ["available"], { status: "restoring", restore_volume_id: v.id }))
  ) {
    await transitionVolume(core, v.id, ["restoring-backup"], { status: volumeId ? "available" : "error" });
    throw invalidBackup("Backup status must be available");
  }
  await core.agents.cast(agentOf(v.host as string), "restore_backup", {
    backupId: b.id,
    volumeId: v.id,
    requestId: ctx.requestId,
  });
  return reply(202, { restore: { backup_id: b.id, volume_id: v.id, volume_name: v.name } });
}

async function action(core: VolumeCore, ctx: Ctx) {
  const body = objectBody(ctx);
  const b = await backupOf(core, ctx);
  if (Object.hasOwn(body, "os-force_delete")) {
    ctx.authorize("volume_extension:backup_admin_actions:force_delete", { project_id: b.project_id });
    await deleteBackup(core, ctx, b, true);
    return reply(202, undefined);
  }
  if (!Object.hasOwn(body, "os-reset_status"))
    throw badRequest(`There is no such action: ${Object.keys(body)[0] ?? ""}`);
  ctx.authorize("volume_extension:backup_admin_actions:reset_status", { project_id: b.project_id });
  const arg = body["os-reset_status"];
  const status =
    arg && typeof arg === "object" && !Array.isArray(arg)
      ? optString(arg as Record<string, unknown>, "status", 32)
      : null;
  if (status !== "available" && status !== "error") throw invalidInput(`Invalid status: ${String(status)}`);
  await updateBackup(core, b.id, { status });
  return reply(202, undefined);
}

function exportRecord(b: BackupRow) {
  if (b.status !== "available") throw invalidBackup("Backup status must be available");
  const rec: Record<string, unknown> = {};
  for (const k of RECORD_FIELDS) rec[k] = b[k];
  // Where its objects are (Cinder's service_metadata): a record imported under a new id still finds them.
  rec.data_id = b.data_id ?? b.id;
  rec.data_project = b.data_project ?? b.project_id;
  return {
    "backup-record": {
      backup_service: SERVICE_PREFIX + b.service,
      backup_url: Buffer.from(JSON.stringify(rec)).toString("base64"),
    },
  };
}

/** The record's row fields, checked (400 for anything malformed). */
function recordOf(service: string, url: string): Partial<BackupRow> & { id: string } {
  const bad = () => invalidInput("Can't parse backup record.");
  let rec: unknown;
  try {
    rec = JSON.parse(Buffer.from(url, "base64").toString("utf8"));
  } catch {
    throw bad();
  }
  if (rec === null || typeof rec !== "object" || Array.isArray(rec)) throw bad();
  const o = rec as Record<string, unknown>;
  const str = (k: string, max: number, opt = true): string | null => {
    const v = field(o, k);
    if ((v === undefined || v === null) && opt) return null;
    if (typeof v !== "string" || v.length > max) throw bad();
    return v;
  };
  const int = (k: string): number => {
    const v = field(o, k);
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) throw bad();
    return v;
  };
  const id = str("id", 36, false) as string;
  const container = str("container", 255);
  const dataId = str("data_id", 36) ?? id;
  const uuid = /^[0-9a-fA-F-]{36}$/;
  if (!uuid.test(id) || !uuid.test(dataId) || (container !== null && !CONTAINER.test(container))) throw bad();
  if (str("service", 32) !== service) throw invalidInput("The backup record's service does not match.");
  return {
    id,
    project_id: str("project_id", 255) ?? undefined,
    user_id: str("user_id", 255) ?? "",
    volume_id: str("volume_id", 36) ?? "",
    snapshot_id: str("snapshot_id", 36),
    parent_id: str("parent_id", 36),
    name: str("name", 255),
    description: str("description", 255),
    size: int("size"),
    availability_zone: str("availability_zone", 255),
    container,
    object_count: int("object_count"),
    is_incremental: int("is_incremental") ? 1 : 0,
    metadata: str("metadata", 65536) ?? "{}",
    volume_meta: str("volume_meta", 65536),
    data_timestamp: str("data_timestamp", 40) ?? nowIso(),
    data_id: dataId === id ? null : dataId,
    data_project: str("data_project", 255) ?? str("project_id", 255),
  };
}

async function importRecord(core: VolumeCore, ctx: Ctx) {
  const b = wrapped(ctx, "backup-record");
  const given = optString(b, "backup_service", 255);
  const url = optString(b, "backup_url", 1 << 20);
  if (!given || !url) throw invalidInput("backup_service and backup_url are required.");
  const service = driverOfService(given);
  if (!isBackupDriverName(service)) throw invalidInput(`Unknown backup service ${service}.`);
  const rec = recordOf(service, url);
  if (await getBackup(core, rec.id)) throw invalidBackup("Backup already exists in database.");
  // As Cinder: the imported backup is the importing project's; its objects stay where they are (data_project).
  const project = ownerOf(ctx);
  const dataProject = rec.data_project && rec.data_project !== project ? rec.data_project : null;
  let host: string | null = null;
  try {
    host = agentOf(await pickHost(core, 0, core.cfg.volume.availabilityZone));
  } catch (err) {
    if (!(err instanceof NoValidBackend)) throw err;
  }
  const now = nowIso();
  const row: BackupRow = {
    project_id: project,
    user_id: rec.user_id ?? "",
    volume_id: rec.volume_id ?? "",
    snapshot_id: rec.snapshot_id ?? null,
    parent_id: rec.parent_id ?? null,
    name: rec.name ?? null,
    description: rec.description ?? null,
    size: rec.size ?? 0,
    status: "available",
    fail_reason: null,
    availability_zone: rec.availability_zone ?? null,
    host,
    service,
    container: rec.container ?? null,
    object_count: rec.object_count ?? 0,
    is_incremental: rec.is_incremental ?? 0,
    volume_status: null,
    restore_volume_id: null,
    metadata: rec.metadata ?? "{}",
    volume_meta: rec.volume_meta ?? null,
    data_timestamp: rec.data_timestamp ?? now,
    data_id: rec.data_id ?? null,
    data_project: dataProject,
    created_at: now,
    updated_at: now,
    id: rec.id,
  };
  await underQuota(core, project, async (c) => {
    await checkBackupQuota(c, project, row.size);
    await insertBackup(c, row);
  });
  return reply(201, { backup: backupSummary(ctx, row) });
}

/** Routes of the backup actions. */
export function backupActionRoutes(core: VolumeCore, target: (ctx: Ctx) => Promise<Target>): Route[] {
  return [
    route({
      method: "POST",
      path: `${ONE}/restore`,
      policy: "backup:restore",
      target,
      handler: (ctx) => restore(core, ctx),
    }),
    route({
      method: "POST",
      path: `${ONE}/action`,
      policy: null,
      auth: "required",
      handler: (ctx) => action(core, ctx),
    }),
    route({
      method: "GET",
      path: `${ONE}/export_record`,
      policy: "backup:backup-export",
      target,
      handler: async (ctx) => exportRecord(await backupOf(core, ctx)),
    }),
    route({
      method: "POST",
      path: `${B}/import_record`,
      policy: "backup:backup-import",
      target: ownTarget,
      handler: (ctx) => importRecord(core, ctx),
    }),
  ];
}
