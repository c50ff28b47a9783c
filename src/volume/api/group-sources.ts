// Creating a group from a group snapshot or from another group (POST groups/action {"create-from-src": ...},
// 3.14): one new volume per snapshot (or per source volume) on the source's host, recorded with the group under
// the quota lock; the group is creating until the agents have made them all (groups/store.ts settleGroup).
import type { VolumeCore } from "../core.js";
import { badRequest } from "../errors.js";
import {
  getGroup,
  getGroupSnapshot,
  groupSnapshotMembers,
  groupVolumes,
  settleGroup,
} from "../groups/store.js";
import { checkQuota } from "../quotas.js";
import { scheduleVolume } from "../scheduling.js";
import type { VolumeRow } from "../store/rows.js";
import { getVolume, insertVolume, newVolumeRow } from "../store/volumes.js";
import { callerOf, optString, type Ctx } from "./common.js";
import { groupNotFound, invalidGroup } from "./group-members.js";
import { groupSnapshotNotFound } from "./group-snapshots.js";
import { insertGroup, newGroupRow } from "./group-new.js";

/** A member to make: its row and the host of what it is made from. */
interface Member {
  row: VolumeRow;
  host: string | null;
}

/** Create a group from `group_snapshot_id` or `source_group_id` (one of them); answers the new group. */
export async function createFromSource(core: VolumeCore, ctx: Ctx, b: Record<string, unknown>) {
  const caller = callerOf(ctx);
  const gsId = optString(b, "group_snapshot_id", 36) ?? null;
  const srcId = optString(b, "source_group_id", 36) ?? null;
  const name = optString(b, "name") ?? null;
  if (gsId && srcId)
    throw badRequest("Invalid input received: Cannot provide both group_snapshot_id and source_group_id.");
  if (!gsId && !srcId)
    throw badRequest(
      `Invalid input received: Either 'group_snapshot_id' or 'source_group_id' must be provided to create group ${String(name)} from source.`,
    );
  const visible = (p: string | undefined) => p !== undefined && (caller.readsAll || p === caller.projectId);
  let sourceGroupId: string;
  const members: Array<{ make: (groupId: string) => VolumeRow; host: string | null }> = [];
  const base = (v: VolumeRow) => ({
    project_id: v.project_id,
    user_id: caller.userId,
    availability_zone: v.availability_zone,
    volume_type_id: v.volume_type_id,
    bootable: v.bootable,
    image_metadata: v.image_metadata,
  });
  if (gsId) {
    const gs = await getGroupSnapshot(core, gsId);
    if (!gs || !visible(gs.project_id)) throw groupSnapshotNotFound(gsId);
    if (gs.status !== "available")
      throw invalidGroup(
        `Group snapshot ${gs.id} status must be available, but current status is: ${gs.status}.`,
      );
    sourceGroupId = gs.group_id;
    for (const s of await groupSnapshotMembers(core, gs.id)) {
      const v = await getVolume(core, s.volume_id);
      if (!v) continue;
      members.push({
        make: (groupId) =>
          newVolumeRow(core, {
            ...base(v),
            size: s.size,
            snapshot_id: s.id,
            group_id: groupId,
            name: v.name,
          }),
        host: v.host,
      });
    }
  } else {
    const src = await getGroup(core, srcId as string);
    if (!src || !visible(src.project_id)) throw groupNotFound(srcId as string);
    if (src.status !== "available")
      throw invalidGroup(
        `Source group ${src.id} status must be available, but current status is: ${src.status}.`,
      );
    sourceGroupId = src.id;
    for (const v of await groupVolumes(core, src.id)) {
      if (!["available", "in-use"].includes(v.status))
        throw invalidGroup(`Volume ${v.id} of source group ${src.id} is ${v.status}.`);
      members.push({
        make: (groupId) =>
          newVolumeRow(core, {
            ...base(v),
            size: v.size,
            source_volid: v.id,
            group_id: groupId,
            name: v.name,
          }),
        host: v.host,
      });
    }
  }
  const source = await getGroup(core, sourceGroupId);
  if (!source) throw groupNotFound(sourceGroupId);
  const g = newGroupRow(core, ctx, {
    name,
    description: optString(b, "description") ?? null,
    status: members.length > 0 ? "creating" : "available",
    availability_zone: source.availability_zone,
    group_type_id: source.group_type_id,
    volume_type_ids: source.volume_type_ids,
    group_snapshot_id: gsId,
    source_group_id: srcId,
  });
  const made: Member[] = members.map((m) => ({ row: m.make(g.id), host: m.host }));
  const gigabytes = made.reduce((n, m) => n + m.row.size, 0);
  await insertGroup(core, g, async (c) => {
    if (made.length === 0) return;
    await checkQuota(c, g.project_id, { volumes: made.length, gigabytes });
    for (const m of made) await insertVolume(c, m.row);
  });
  for (const m of made) await scheduleVolume(core, m.row, ctx.requestId, m.host);
  // A member the scheduler could not place is already in error: the group settles now.
  await settleGroup(core, g.id);
  return g;
}
