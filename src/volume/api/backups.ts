// /v3/{project}/backups: create (full or incremental, of an available or, with force, in-use volume, or of a
// snapshot), list and detail with filters, sorting and pagination, show, update (3.9) and delete. Restore,
// export/import and the admin actions are in backup-actions.ts. The agent of the volume's host does the work.
import { nowIso } from "../../shared/db/index.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { ApiError } from "../../shared/http/errors.js";
import type { Target } from "../../shared/policy/index.js";
import { backupDriverName } from "../backup/registry.js";
import type { VolumeCore } from "../core.js";
import { badRequest, invalidInput, notFound, volumeNotFound } from "../errors.js";
import { checkBackupQuota, underQuota } from "../quotas.js";
import { agentOf } from "../scheduler.js";
import {
  backupsOfVolume,
  childCount,
  insertBackup,
  listBackups,
  transitionBackup,
  updateBackup,
  visibleBackup,
  type BackupRow,
} from "../store/backups.js";
import { mapText } from "../store/rows.js";
import { getSnapshot, transitionSnapshot } from "../store/snapshots.js";
import { transitionVolume, visibleVolume } from "../store/volumes.js";
import { backupActionRoutes } from "./backup-actions.js";
import { backupOf, backupSummary, backupView } from "./backup-views.js";
import {
  allTenants,
  boolOf,
  callerOf,
  field,
  metadataOf,
  nextLinks,
  optString,
  listRoutes,
  ownTarget,
  ownerOf,
  page,
  sortRows,
  sortSpec,
  wrapped,
  type Ctx,
} from "./common.js";

const B = "/v3/:project_id/backups";
const ONE = `${B}/:backup_id`;

/** 400 "Invalid backup: ..." (Cinder's InvalidBackup). */
export const invalidBackup = (msg: string): ApiError => badRequest(`Invalid backup: ${msg}`);

/** Container names: what Swift and the posix layout both take. */
export const CONTAINER = /^[A-Za-z0-9_.-]{1,255}$/;

/** The policy target of the URL's backup (404 when the caller cannot see it). */
export const backupTarget =
  (core: VolumeCore) =>
  async (ctx: Ctx): Promise<Target> => ({ project_id: (await backupOf(core, ctx)).project_id });

const FILTERS = ["name", "status", "volume_id", "container", "availability_zone", "snapshot_id"] as const;

async function list(core: VolumeCore, ctx: Ctx, detail: boolean) {
  const caller = callerOf(ctx);
  let rows = await listBackups(core, allTenants(ctx, caller) ? null : ownerOf(ctx));
  const q = ctx.query;
  for (const f of FILTERS) {
    const want = q[f];
    if (want !== undefined) rows = rows.filter((b) => b[f] === want);
  }
  rows = sortRows(
    rows,
    sortSpec(ctx, ["id", "name", "status", "size", "created_at", "updated_at", "volume_id", "container"]),
    (b, k) => (b as unknown as Record<string, unknown>)[k],
  );
  const p = page(ctx, rows);
  const items = [];
  for (const b of p.rows) items.push(detail ? await backupView(ctx, core, b) : backupSummary(ctx, b));
  const body: Record<string, unknown> = { backups: items };
  if (p.more && p.rows.length > 0) body.backups_links = nextLinks(ctx, p.rows[p.rows.length - 1].id, p.limit);
  if (ctx.microversion.gte("3.45") && q.with_count !== undefined && boolOf("with_count", q.with_count))
    body.count = rows.length;
  return body;
}

async function create(core: VolumeCore, ctx: Ctx) {
  const b = wrapped(ctx, "backup");
  const caller = callerOf(ctx);
  const volumeId = optString(b, "volume_id", 36);
  if (!volumeId) throw badRequest("Invalid input received: volume_id is required.");
  const v = await visibleVolume(core, caller, volumeId);
  if (!v) throw volumeNotFound(volumeId);
  ctx.authorize("backup:create", { project_id: v.project_id });
  const flag = (k: string) => field(b, k) !== undefined && field(b, k) !== null && boolOf(k, field(b, k));
  const force = flag("force");
  const incremental = flag("incremental");
  const name = optString(b, "name") ?? null;
  const description = optString(b, "description") ?? null;
  const md = field(b, "metadata");
  const metadata =
    md === undefined || md === null || ctx.microversion.lt("3.43") ? new Map() : metadataOf(md);
  const zone = optString(b, "availability_zone") ?? v.availability_zone;
  if (zone !== core.cfg.volume.availabilityZone)
    throw invalidInput(`Availability zone '${zone}' is invalid.`);
  const snapshotId = optString(b, "snapshot_id", 36) ?? null;
  const wanted = optString(b, "container");
  if (wanted && !CONTAINER.test(wanted))
    throw invalidInput("container must be 1 to 255 letters, digits, '_', '.' or '-'.");
  let prior: string;
  if (snapshotId) {
    const s = await getSnapshot(core, snapshotId);
    if (!s || s.volume_id !== v.id) throw notFound(`Snapshot ${snapshotId} could not be found.`);
    if (s.status !== "available")
      throw badRequest(
        `Invalid snapshot: Snapshot to be backed up must be available, but the current status is "${s.status}".`,
      );
    prior = s.status;
  } else {
    if (v.status !== "available" && v.status !== "in-use")
      throw badRequest(
        `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${v.status}".`,
      );
    if (v.status === "in-use" && !force)
      throw badRequest("Invalid volume: Backing up an in-use volume must use the force flag.");
    prior = v.status;
  }
  if (!v.host) throw badRequest(`Invalid volume: Volume ${v.id} has no host to back it up on.`);
  let parent: BackupRow | null = null;
  if (incremental) {
    parent = (await backupsOfVolume(core, v.id)).find((x) => x.status === "available") ?? null;
    if (!parent) throw invalidBackup("No backups available to do an incremental backup.");
  }
  const container = wanted ?? parent?.container ?? core.cfg.volume.backup.container;
  if (parent && parent.container !== container)
    throw invalidBackup(
      `An incremental backup must be in the container of its parent (${parent.container}).`,
    );
  const now = nowIso();
  const data = snapshotId ? ((await getSnapshot(core, snapshotId))?.created_at ?? now) : now;
  const row: BackupRow = {
    id: core.newId(),
    project_id: v.project_id,
    user_id: caller.userId,
    volume_id: v.id,
    snapshot_id: snapshotId,
    parent_id: parent?.id ?? null,
    name,
    description,
    size: v.size,
    status: "creating",
    fail_reason: null,
    availability_zone: zone,
    host: agentOf(v.host),
    service: backupDriverName({ cfg: core.cfg, swift: core.swift }),
    container,
    object_count: 0,
    is_incremental: parent ? 1 : 0,
    volume_status: prior,
    restore_volume_id: null,
    metadata: mapText(metadata),
    volume_meta: v.metadata,
    data_timestamp: data,
    data_id: null,
    data_project: null,
    created_at: now,
    updated_at: now,
  };
  await underQuota(core, v.project_id, async (c) => {
    await checkBackupQuota(c, v.project_id, v.size);
    const took = snapshotId
      ? await transitionSnapshot(c, snapshotId, [prior], "backing-up")
      : await transitionVolume(c, v.id, [prior], { status: "backing-up" });
    if (!took)
      throw badRequest(`Invalid volume: Volume ${v.id} changed status while the backup was asked for.`);
    await insertBackup(c, row);
  });
  await core.agents.cast(row.host as string, "create_backup", { backupId: row.id, requestId: ctx.requestId });
  return reply(202, { backup: backupSummary(ctx, row) });
}

async function update(core: VolumeCore, ctx: Ctx) {
  if (ctx.microversion.lt("3.9")) throw notFound("The resource could not be found.");
  const b = wrapped(ctx, "backup");
  const set: Partial<BackupRow> = {};
  const name = optString(b, "name");
  const description = optString(b, "description");
  if (name !== undefined) set.name = name;
  if (description !== undefined) set.description = description;
  const md = field(b, "metadata");
  if (md !== undefined && ctx.microversion.gte("3.43"))
    set.metadata = mapText(md === null ? new Map() : metadataOf(md));
  if (Object.keys(set).length === 0) throw invalidInput("Must specify name, description or metadata.");
  const row = await backupOf(core, ctx);
  await updateBackup(core, row.id, set);
  return { backup: backupSummary(ctx, { ...row, ...set }) };
}

/** Delete (or, forced, from any status): refused while incremental backups depend on it. */
export async function deleteBackup(
  core: VolumeCore,
  ctx: Ctx,
  row: BackupRow,
  force: boolean,
): Promise<void> {
  if ((await childCount(core, row.id)) > 0) throw invalidBackup("Incremental backups exist for this backup.");
  const from = force ? [row.status] : ["available", "error"];
  if (!(await transitionBackup(core, row.id, from, { status: "deleting" })))
    throw invalidBackup("Backup status must be available or error");
  if (row.host)
    await core.agents.cast(row.host, "delete_backup", { backupId: row.id, requestId: ctx.requestId });
  else await core.db.deleteFrom("volume_backup").where("id", "=", row.id).execute();
}

/** Routes of /backups. */
export function backupRoutes(core: VolumeCore): Route[] {
  const target = backupTarget(core);
  return [
    ...listRoutes(B, "backup:get_all", (ctx, detail) => list(core, ctx, detail)),
    route({
      method: "POST",
      path: B,
      policy: "backup:create",
      target: ownTarget,
      handler: (ctx) => create(core, ctx),
    }),
    route({
      method: "GET",
      path: ONE,
      policy: "backup:get",
      target,
      handler: async (ctx) => ({ backup: await backupView(ctx, core, await backupOf(core, ctx)) }),
    }),
    route({ method: "PUT", path: ONE, policy: "backup:update", target, handler: (ctx) => update(core, ctx) }),
    route({
      method: "DELETE",
      path: ONE,
      policy: "backup:delete",
      target,
      handler: async (ctx) => {
        await deleteBackup(core, ctx, await backupOf(core, ctx), false);
        return reply(202, undefined);
      },
    }),
    ...backupActionRoutes(core, target),
  ];
}

/** Whether a backup exists (any project), for the import's duplicate check. */
export const backupExists = async (core: VolumeCore, id: string): Promise<boolean> =>
  (await visibleBackup(core, { projectId: null, userId: "", isAdmin: true, readsAll: true }, id)) !== null;
