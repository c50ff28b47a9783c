// /v3/{project}/snapshots: create (force for in-use volumes), list and detail, show, update, delete, metadata,
// and the admin reset-status action.
import { nowIso } from "../../shared/db/index.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { VolumeCore } from "../core.js";
import { metadataRoutes } from "./metadata-routes.js";
import {
  badRequest,
  invalidInput,
  invalidSnapshot,
  invalidVolume,
  notFound,
  snapshotNotFound,
} from "../errors.js";
import { checkQuota, underQuota } from "../quotas.js";
import { agentOf } from "../scheduler.js";
import { mapText, parseMap, type SnapshotRow, type VolumeRow } from "../store/rows.js";
import {
  insertSnapshot,
  listSnapshots,
  transitionSnapshot,
  updateSnapshot,
  visibleSnapshot,
} from "../store/snapshots.js";
import { getVolume, visibleVolume } from "../store/volumes.js";
import {
  allTenants,
  boolOf,
  callerOf,
  field,
  metadataOf,
  nextLinks,
  optString,
  ownerOf,
  listRoutes,
  ownTarget,
  page,
  sortRows,
  sortSpec,
  wrapped,
  type Ctx,
} from "./common.js";
import { snapshotView } from "./views.js";

const S = "/v3/:project_id/snapshots";
const ONE = `${S}/:snapshot_id`;

async function snapshotOf(core: VolumeCore, ctx: Ctx): Promise<SnapshotRow> {
  const s = await visibleSnapshot(core, callerOf(ctx), ctx.params.snapshot_id);
  if (!s) throw snapshotNotFound(ctx.params.snapshot_id);
  return s;
}

const snapTarget =
  (core: VolumeCore) =>
  async (ctx: Ctx): Promise<Target> => ({ project_id: (await snapshotOf(core, ctx)).project_id });

async function list(core: VolumeCore, ctx: Ctx, detail: boolean) {
  const caller = callerOf(ctx);
  let rows = await listSnapshots(core, allTenants(ctx, caller) ? null : ownerOf(ctx));
  const q = ctx.query;
  if (q.name !== undefined) rows = rows.filter((s) => s.name === q.name);
  if (q.status !== undefined) rows = rows.filter((s) => s.status === q.status);
  if (q.volume_id !== undefined) rows = rows.filter((s) => s.volume_id === q.volume_id);
  rows = sortRows(
    rows,
    sortSpec(ctx, ["id", "name", "status", "size", "created_at", "updated_at", "volume_id"]),
    (s, k) => (s as unknown as Record<string, unknown>)[k],
  );
  const p = page(ctx, rows);
  const body: Record<string, unknown> = {
    snapshots: p.rows.map((s) =>
      detail ? snapshotView(ctx, s, caller.isAdmin) : snapshotView(ctx, s, caller.isAdmin, false),
    ),
  };
  if (p.more && p.rows.length > 0)
    body.snapshots_links = nextLinks(ctx, p.rows[p.rows.length - 1].id, p.limit);
  if (ctx.microversion.gte("3.45") && q.with_count !== undefined && boolOf("with_count", q.with_count))
    body.count = rows.length;
  return body;
}

/** The status changes os-update_snapshot_status allows (a backend's report on a snapshot in progress). */
const STATUS_UPDATES = new Map([
  ["creating", ["creating", "available", "error"]],
  ["deleting", ["deleting", "error_deleting"]],
]);

/** os-update_snapshot_status: set a creating or deleting snapshot's status and progress, as Cinder. */
async function updateStatus(core: VolumeCore, s: SnapshotRow, arg: unknown) {
  if (arg === null || typeof arg !== "object" || Array.isArray(arg))
    throw invalidInput("Invalid request body for os-update_snapshot_status.");
  const o = arg as Record<string, unknown>;
  const status = optString(o, "status", 32);
  if (!status) throw invalidInput("'status' must be specified.");
  const progress = optString(o, "progress", 255) ?? undefined;
  if (progress !== undefined && progress !== null && !/^\d{1,3}%$/.test(progress))
    throw invalidInput(`progress must be a percentage ("80%"), not ${progress}.`);
  if (!(STATUS_UPDATES.get(s.status) ?? []).includes(status))
    throw invalidInput(
      `Provided snapshot status ${status} is not allowed for snapshot with status ${s.status}.`,
    );
  await updateSnapshot(core, s.id, { status, ...(progress ? { progress } : {}) });
  return reply(202, undefined);
}

/** A new (creating) snapshot row of a volume. */
export function newSnapshotRow(
  core: VolumeCore,
  v: VolumeRow,
  userId: string,
  f: Pick<SnapshotRow, "name" | "description"> & Partial<SnapshotRow>,
): SnapshotRow {
  const now = nowIso();
  return {
    id: core.newId(),
    project_id: v.project_id,
    user_id: userId,
    volume_id: v.id,
    size: v.size,
    status: "creating",
    progress: "0%",
    metadata: "{}",
    group_snapshot_id: null,
    created_at: now,
    updated_at: now,
    ...f,
  };
}

/** Send a recorded snapshot to its volume's agent (error when the volume has no host). */
export async function castSnapshot(core: VolumeCore, s: SnapshotRow, v: VolumeRow, requestId: string) {
  if (v.host) await core.agents.cast(agentOf(v.host), "create_snapshot", { snapshotId: s.id, requestId });
  else await transitionSnapshot(core, s.id, ["creating"], "error");
}

async function create(core: VolumeCore, ctx: Ctx) {
  const b = wrapped(ctx, "snapshot");
  const caller = callerOf(ctx);
  const volumeId = optString(b, "volume_id", 36);
  // Cinder's schema allows a null volume_id, which no volume has: 404, as for an unknown id.
  if (volumeId === null) throw notFound("Volume None could not be found.");
  if (!volumeId) throw badRequest("Invalid input received: volume_id is required.");
  const v = await visibleVolume(core, caller, volumeId);
  if (!v) throw notFound(`Volume ${volumeId} could not be found.`);
  ctx.authorize("volume:create_snapshot", { project_id: v.project_id });
  const force = field(b, "force") !== undefined && boolOf("force", field(b, "force"));
  const ok = v.status === "available" || (v.status === "in-use" && (force || ctx.microversion.gte("3.66")));
  if (!ok)
    throw invalidVolume(`Volume ${v.id} status must be available, but current status is: ${v.status}.`);
  const name = optString(b, "name") ?? optString(b, "display_name") ?? null;
  const description = optString(b, "description") ?? optString(b, "display_description") ?? null;
  const md = field(b, "metadata");
  const row = newSnapshotRow(core, v, caller.userId, {
    name,
    description,
    metadata: mapText(md === undefined || md === null ? new Map() : metadataOf(md)),
  });
  await underQuota(core, v.project_id, async (c) => {
    await checkQuota(c, v.project_id, { snapshots: 1, gigabytes: v.size, typeId: v.volume_type_id });
    await insertSnapshot(c, row);
  });
  await castSnapshot(core, row, v, ctx.requestId);
  const s = (await visibleSnapshot(core, { ...caller, readsAll: true }, row.id)) ?? row;
  return reply(202, { snapshot: snapshotView(ctx, s, caller.isAdmin, false) });
}

/** Routes of /snapshots. */
export function snapshotRoutes(core: VolumeCore): Route[] {
  const target = snapTarget(core);
  const meta = async (ctx: Ctx) => parseMap((await snapshotOf(core, ctx)).metadata);
  const setMeta = (ctx: Ctx, m: Map<string, string>) =>
    updateSnapshot(core, ctx.params.snapshot_id, { metadata: mapText(m) });
  return [
    ...listRoutes(S, "volume:get_all_snapshots", (ctx, detail) => list(core, ctx, detail)),
    route({
      method: "POST",
      path: S,
      policy: "volume:create_snapshot",
      target: ownTarget,
      handler: (ctx) => create(core, ctx),
    }),
    route({
      method: "GET",
      path: ONE,
      policy: "volume:get_snapshot",
      target,
      handler: async (ctx) => ({
        snapshot: snapshotView(ctx, await snapshotOf(core, ctx), callerOf(ctx).isAdmin),
      }),
    }),
    route({
      method: "PUT",
      path: ONE,
      policy: "volume:update_snapshot",
      target,
      handler: async (ctx) => {
        const b = wrapped(ctx, "snapshot");
        const set: Partial<SnapshotRow> = {};
        const name = optString(b, "name") ?? optString(b, "display_name");
        const description = optString(b, "description") ?? optString(b, "display_description");
        if (name !== undefined) set.name = name;
        if (description !== undefined) set.description = description;
        if (Object.keys(set).length === 0) throw invalidInput("Must specify name or description.");
        await updateSnapshot(core, ctx.params.snapshot_id, set);
        return { snapshot: snapshotView(ctx, await snapshotOf(core, ctx), callerOf(ctx).isAdmin, false) };
      },
    }),
    route({
      method: "DELETE",
      path: ONE,
      policy: "volume:delete_snapshot",
      target,
      handler: async (ctx) => {
        const s = await snapshotOf(core, ctx);
        if (s.group_snapshot_id)
          throw invalidSnapshot(
            `Snapshot ${s.id} is part of group snapshot ${s.group_snapshot_id}: delete the group snapshot.`,
          );
        const from = ["available", "error", "error_deleting"];
        if (!(await transitionSnapshot(core, s.id, from, "deleting")))
          throw invalidSnapshot(
            `Snapshot status must be available or error and must not be part of a group.`,
          );
        const v = await getVolume(core, s.volume_id);
        if (v?.host)
          await core.agents.cast(agentOf(v.host), "delete_snapshot", {
            snapshotId: s.id,
            requestId: ctx.requestId,
          });
        else await core.db.deleteFrom("volume_snapshot").where("id", "=", s.id).execute();
        return reply(202, undefined);
      },
    }),
    route({
      method: "POST",
      path: `${ONE}/action`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const b = ctx.body as unknown;
        if (b === null || typeof b !== "object" || Array.isArray(b))
          throw badRequest("The request body is malformed or not a JSON object.");
        const s = await snapshotOf(core, ctx);
        const arg = Object.hasOwn(b, "os-reset_status")
          ? (b as Record<string, unknown>)["os-reset_status"]
          : undefined;
        if (Object.hasOwn(b, "os-force_delete")) {
          ctx.authorize("volume_extension:snapshot_admin_actions:force_delete", { project_id: s.project_id });
          await transitionSnapshot(core, s.id, [s.status], "deleting");
          const v = await getVolume(core, s.volume_id);
          if (v?.host)
            await core.agents.cast(agentOf(v.host), "delete_snapshot", {
              snapshotId: s.id,
              requestId: ctx.requestId,
            });
          return reply(202, undefined);
        }
        if (Object.hasOwn(b, "os-update_snapshot_status")) {
          ctx.authorize("snapshot_extension:snapshot_actions:update_snapshot_status", {
            project_id: s.project_id,
          });
          return updateStatus(core, s, (b as Record<string, unknown>)["os-update_snapshot_status"]);
        }
        if (arg === undefined) throw badRequest(`There is no such action: ${Object.keys(b)[0] ?? ""}`);
        ctx.authorize("volume_extension:snapshot_admin_actions:reset_status", { project_id: s.project_id });
        const status =
          arg && typeof arg === "object" ? optString(arg as Record<string, unknown>, "status", 32) : null;
        const allowed = [
          "creating",
          "available",
          "deleting",
          "error",
          "error_deleting",
          "unmanaging",
          "backing-up",
          "restoring",
        ];
        if (!status || !allowed.includes(status)) throw invalidInput(`Invalid status: ${String(status)}`);
        await updateSnapshot(core, s.id, { status });
        return reply(202, undefined);
      },
    }),
    ...metadataRoutes(
      ONE,
      {
        get: "volume:get_snapshot_metadata",
        create: "volume:update_snapshot_metadata",
        update: "volume:update_snapshot_metadata",
        delete: "volume:delete_snapshot_metadata",
      },
      target,
      meta,
      setMeta,
    ),
  ];
}
