// /v3/{project}/group_snapshots (3.14+): a snapshot of every volume of a group at once. Create, list and detail,
// show, delete (with its snapshots), and reset status for admins (3.19). The agents take and delete the member
// snapshots; the group snapshot settles after each (groups/store.ts settleGroupSnapshot).
import { nowIso } from "../../shared/db/index.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { VolumeCore } from "../core.js";
import { badRequest, invalidInput, notFound } from "../errors.js";
import {
  getGroup,
  getGroupSnapshot,
  groupSnapshotMembers,
  groupVolumes,
  listGroupSnapshots,
  setGroupSnapshotStatus,
  settleGroupSnapshot,
  type GroupSnapshotRow,
} from "../groups/store.js";
import { checkQuota, underQuota } from "../quotas.js";
import { agentOf } from "../scheduler.js";
import { insertSnapshot, transitionSnapshot } from "../store/snapshots.js";
import { getVolume } from "../store/volumes.js";
import { needs } from "./attachments.js";
import {
  allTenants,
  callerOf,
  isoTime,
  nextLinks,
  objectBody,
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
import { groupNotFound, invalidGroup } from "./group-members.js";
import { castSnapshot, newSnapshotRow } from "./snapshots.js";

const GS = "/v3/:project_id/group_snapshots";
const ONE = `${GS}/:group_snapshot_id`;

/** Statuses reset_status may set. */
const STATUSES = ["creating", "available", "deleting", "error", "error_deleting", "updating", "deleted"];

/** 404 "GroupSnapshot <id> could not be found." */
export const groupSnapshotNotFound = (id: string) => notFound(`GroupSnapshot ${id} could not be found.`);

async function groupSnapshotOf(core: VolumeCore, ctx: Ctx): Promise<GroupSnapshotRow> {
  needs(ctx, "3.14");
  const id = ctx.params.group_snapshot_id;
  const gs = await getGroupSnapshot(core, id);
  const caller = callerOf(ctx);
  if (!gs || !(caller.readsAll || gs.project_id === caller.projectId)) throw groupSnapshotNotFound(id);
  return gs;
}

/** A group snapshot's full body (show, detail; project_id from 3.58 for admins). */
function view(ctx: Ctx, gs: GroupSnapshotRow): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: gs.id,
    name: gs.name,
    description: gs.description,
    status: gs.status,
    created_at: isoTime(gs.created_at),
    group_id: gs.group_id,
    group_type_id: gs.group_type_id,
  };
  if (ctx.microversion.gte("3.58") && callerOf(ctx).isAdmin) body.project_id = gs.project_id;
  return body;
}

async function list(core: VolumeCore, ctx: Ctx, detail: boolean) {
  needs(ctx, "3.14");
  const caller = callerOf(ctx);
  let rows = await listGroupSnapshots(core, allTenants(ctx, caller) ? null : ownerOf(ctx));
  const q = ctx.query;
  if (q.name !== undefined) rows = rows.filter((s) => s.name === q.name);
  if (q.status !== undefined) rows = rows.filter((s) => s.status === q.status);
  if (q.group_id !== undefined) rows = rows.filter((s) => s.group_id === q.group_id);
  rows = sortRows(
    rows,
    sortSpec(ctx, ["id", "name", "status", "created_at", "group_id"]),
    (s, k) => (s as unknown as Record<string, unknown>)[k],
  );
  const p = page(ctx, rows);
  const body: Record<string, unknown> = {
    group_snapshots: p.rows.map((s) => (detail ? view(ctx, s) : { id: s.id, name: s.name })),
  };
  if (p.more && p.rows.length > 0)
    body.group_snapshot_links = nextLinks(ctx, p.rows[p.rows.length - 1].id, p.limit);
  return body;
}

async function create(core: VolumeCore, ctx: Ctx) {
  needs(ctx, "3.14");
  const b = wrapped(ctx, "group_snapshot");
  const caller = callerOf(ctx);
  const groupId = optString(b, "group_id", 36);
  if (!groupId) throw badRequest("Missing required element 'group_id' in request body.");
  const g = await getGroup(core, groupId);
  if (!g || !(caller.readsAll || g.project_id === caller.projectId)) throw groupNotFound(groupId);
  ctx.authorize("group:create_group_snapshot", { project_id: g.project_id });
  if (g.status !== "available")
    throw invalidGroup(`Group ${g.id} status must be available, but current status is: ${g.status}.`);
  const vols = await groupVolumes(core, g.id);
  for (const v of vols)
    if (!["available", "in-use"].includes(v.status))
      throw invalidGroup(`Volume ${v.id} in group ${g.id} is ${v.status}: it cannot be snapshotted now.`);
  const now = nowIso();
  const gs: GroupSnapshotRow = {
    id: core.newId(),
    project_id: g.project_id,
    user_id: caller.userId,
    group_id: g.id,
    group_type_id: g.group_type_id,
    name: optString(b, "name") ?? null,
    description: optString(b, "description") ?? null,
    status: vols.length > 0 ? "creating" : "available",
    created_at: now,
    updated_at: now,
  };
  const snaps = vols.map((v) =>
    newSnapshotRow(core, v, caller.userId, {
      name: gs.name,
      description: null,
      group_snapshot_id: gs.id,
    }),
  );
  const gigabytes = vols.reduce((n, v) => n + v.size, 0);
  await underQuota(core, g.project_id, async (c) => {
    if (snaps.length > 0) await checkQuota(c, g.project_id, { snapshots: snaps.length, gigabytes });
    await c.db.insertInto("volume_group_snapshot").values(gs).execute();
    for (const s of snaps) await insertSnapshot(c, s);
  });
  for (const [i, s] of snaps.entries()) await castSnapshot(core, s, vols[i], ctx.requestId);
  await settleGroupSnapshot(core, gs.id);
  return reply(202, { group_snapshot: { id: gs.id, name: gs.name, group_type_id: gs.group_type_id } });
}

async function remove(core: VolumeCore, ctx: Ctx) {
  const gs = await groupSnapshotOf(core, ctx);
  if (!["available", "error", "error_deleting"].includes(gs.status))
    throw badRequest(
      `Invalid GroupSnapshot: Group snapshot status must be available or error, and no Group can be currently using it as source for its creation.`,
    );
  const using = await core.db
    .selectFrom("volume_group")
    .select("id")
    .where("group_snapshot_id", "=", gs.id)
    .where("status", "=", "creating")
    .executeTakeFirst();
  if (using)
    throw badRequest(
      `Invalid GroupSnapshot: Group snapshot status must be available or error, and no Group can be currently using it as source for its creation.`,
    );
  await setGroupSnapshotStatus(core, gs.id, "deleting");
  for (const s of await groupSnapshotMembers(core, gs.id)) {
    await transitionSnapshot(core, s.id, [s.status], "deleting");
    const v = await getVolume(core, s.volume_id);
    if (v?.host)
      await core.agents.cast(agentOf(v.host), "delete_snapshot", {
        snapshotId: s.id,
        requestId: ctx.requestId,
      });
    else await core.db.deleteFrom("volume_snapshot").where("id", "=", s.id).execute();
  }
  await settleGroupSnapshot(core, gs.id);
  return reply(202, undefined);
}

/** Routes of /group_snapshots. */
export function groupSnapshotRoutes(core: VolumeCore): Route[] {
  const target = async (ctx: Ctx): Promise<Target> => ({
    project_id: (await groupSnapshotOf(core, ctx)).project_id,
  });
  return [
    ...listRoutes(GS, "group:get_all_group_snapshots", (ctx, detail) => list(core, ctx, detail)),
    route({
      method: "POST",
      path: GS,
      policy: "group:create_group_snapshot",
      target: ownTarget,
      handler: (ctx) => create(core, ctx),
    }),
    route({
      method: "GET",
      path: ONE,
      policy: "group:get_group_snapshot",
      target,
      handler: async (ctx) => ({ group_snapshot: view(ctx, await groupSnapshotOf(core, ctx)) }),
    }),
    route({
      method: "DELETE",
      path: ONE,
      policy: "group:delete_group_snapshot",
      target,
      handler: (ctx) => remove(core, ctx),
    }),
    route({
      method: "POST",
      path: `${ONE}/action`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const b = objectBody(ctx);
        const gs = await groupSnapshotOf(core, ctx);
        if (!Object.hasOwn(b, "reset_status"))
          throw badRequest(`There is no such action: ${Object.keys(b)[0] ?? ""}`);
        needs(ctx, "3.19");
        ctx.authorize("group:reset_group_snapshot_status", { project_id: gs.project_id });
        const arg = b.reset_status;
        const status =
          arg && typeof arg === "object" && !Array.isArray(arg)
            ? optString(arg as Record<string, unknown>, "status", 32)
            : null;
        if (!status || !STATUSES.includes(status)) throw invalidInput(`Invalid status: ${String(status)}`);
        await setGroupSnapshotStatus(core, gs.id, status);
        return reply(202, undefined);
      },
    }),
  ];
}
