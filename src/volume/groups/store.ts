// Generic volume groups as stored: group types, groups and group snapshots, and how a group or group snapshot in
// progress settles once the agents have done its members' work (called by the agent after each member).
import { nowIso } from "../../shared/db/index.js";
import type { Caller, VolumeCore } from "../core.js";
import type { SnapshotRow, VolumeRow } from "../store/rows.js";

/** A group type row. */
export interface GroupTypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  group_specs: string;
  created_at: string;
}

/** A group row (its volume types as a JSON list of ids). */
export interface GroupRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  status: string;
  availability_zone: string;
  group_type_id: string;
  volume_type_ids: string;
  group_snapshot_id: string | null;
  source_group_id: string | null;
  created_at: string;
  updated_at: string | null;
}

/** A group snapshot row. */
export interface GroupSnapshotRow {
  id: string;
  project_id: string;
  user_id: string;
  group_id: string;
  group_type_id: string;
  name: string | null;
  description: string | null;
  status: string;
  created_at: string;
  updated_at: string | null;
}

/** The volume type ids of a group. */
export function groupVolumeTypes(g: GroupRow): string[] {
  try {
    const v: unknown = JSON.parse(g.volume_type_ids);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

/** A group type by id, or null. */
export async function getGroupType(core: VolumeCore, id: string): Promise<GroupTypeRow | null> {
  return ((await core.db
    .selectFrom("volume_group_type")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst()) ?? null) as GroupTypeRow | null;
}

/** A group type by id or name that the caller may see (public ones, or any for cloud readers), or null. */
export async function findGroupType(
  core: VolumeCore,
  caller: Caller,
  idOrName: string,
): Promise<GroupTypeRow | null> {
  const t =
    (await getGroupType(core, idOrName)) ??
    (((await core.db
      .selectFrom("volume_group_type")
      .selectAll()
      .where("name", "=", idOrName)
      .executeTakeFirst()) ?? null) as GroupTypeRow | null);
  return t && (t.is_public || caller.readsAll) ? t : null;
}

/** Every group type. */
export async function listGroupTypes(core: VolumeCore): Promise<GroupTypeRow[]> {
  return (await core.db
    .selectFrom("volume_group_type")
    .selectAll()
    .orderBy("name")
    .execute()) as GroupTypeRow[];
}

/** A group by id, or null. */
export async function getGroup(core: VolumeCore, id: string): Promise<GroupRow | null> {
  return ((await core.db.selectFrom("volume_group").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null) as GroupRow | null;
}

/** Groups of one project, or of every project (null). */
export async function listGroups(core: VolumeCore, project: string | null): Promise<GroupRow[]> {
  let q = core.db.selectFrom("volume_group").selectAll();
  if (project !== null) q = q.where("project_id", "=", project);
  return (await q.orderBy("created_at", "desc").orderBy("id").execute()) as GroupRow[];
}

/** Change a group's columns. */
export async function updateGroup(core: VolumeCore, id: string, set: Partial<GroupRow>): Promise<void> {
  await core.db
    .updateTable("volume_group")
    .set({ ...set, updated_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

/** Move a group from one of `from` to `status` atomically; false when it was in none of them. */
export async function transitionGroup(
  core: VolumeCore,
  id: string,
  from: readonly string[],
  status: string,
): Promise<boolean> {
  const r = await core.db
    .updateTable("volume_group")
    .set({ status, updated_at: nowIso() })
    .where("id", "=", id)
    .where("status", "in", from as string[])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** The volumes of a group. */
export async function groupVolumes(core: VolumeCore, groupId: string): Promise<VolumeRow[]> {
  return (await core.db
    .selectFrom("volume_volume")
    .selectAll()
    .where("group_id", "=", groupId)
    .orderBy("created_at")
    .orderBy("id")
    .execute()) as VolumeRow[];
}

/** A group snapshot by id, or null. */
export async function getGroupSnapshot(core: VolumeCore, id: string): Promise<GroupSnapshotRow | null> {
  return ((await core.db
    .selectFrom("volume_group_snapshot")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirst()) ?? null) as GroupSnapshotRow | null;
}

/** Group snapshots of one project, or of every project (null). */
export async function listGroupSnapshots(
  core: VolumeCore,
  project: string | null,
): Promise<GroupSnapshotRow[]> {
  let q = core.db.selectFrom("volume_group_snapshot").selectAll();
  if (project !== null) q = q.where("project_id", "=", project);
  return (await q.orderBy("created_at", "desc").orderBy("id").execute()) as GroupSnapshotRow[];
}

/** The snapshots taken for a group snapshot. */
export async function groupSnapshotMembers(core: VolumeCore, id: string): Promise<SnapshotRow[]> {
  return (await core.db
    .selectFrom("volume_snapshot")
    .selectAll()
    .where("group_snapshot_id", "=", id)
    .execute()) as SnapshotRow[];
}

/** Change a group snapshot's status. */
export async function setGroupSnapshotStatus(core: VolumeCore, id: string, status: string): Promise<void> {
  await core.db
    .updateTable("volume_group_snapshot")
    .set({ status, updated_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

/** What a group or group snapshot in progress becomes from its members' statuses (null: not yet). */
function settled(statuses: string[], done: string): string | null {
  if (statuses.some((s) => s === "error")) return "error";
  return statuses.every((s) => s === done || s === "in-use") ? "available" : null;
}

/**
 * After an agent finished work on a member volume: a creating group (made from a source) becomes available once
 * all its volumes are (error if one failed); a deleting group goes once its last volume is gone.
 */
export async function settleGroup(core: VolumeCore, groupId: string | null): Promise<void> {
  if (!groupId) return;
  const g = await getGroup(core, groupId);
  if (!g) return;
  const members = await groupVolumes(core, g.id);
  if (g.status === "deleting" && members.length === 0)
    await core.db
      .deleteFrom("volume_group")
      .where("id", "=", g.id)
      .where("status", "=", "deleting")
      .execute();
  if (g.status === "deleting" && members.some((v) => v.status === "error_deleting"))
    await transitionGroup(core, g.id, ["deleting"], "error_deleting");
  if (g.status !== "creating") return;
  const next = settled(
    members.map((v) => v.status),
    "available",
  );
  if (next) await transitionGroup(core, g.id, ["creating"], next);
}

/**
 * After an agent finished work on a member snapshot: a creating group snapshot becomes available once all its
 * snapshots are (error if one failed); a deleting one goes once its last snapshot is gone.
 */
export async function settleGroupSnapshot(core: VolumeCore, id: string | null): Promise<void> {
  if (!id) return;
  const gs = await getGroupSnapshot(core, id);
  if (!gs) return;
  const members = await groupSnapshotMembers(core, gs.id);
  if (gs.status === "deleting" && members.length === 0)
    await core.db
      .deleteFrom("volume_group_snapshot")
      .where("id", "=", gs.id)
      .where("status", "=", "deleting")
      .execute();
  if (gs.status === "deleting" && members.some((s) => s.status === "error_deleting"))
    await setGroupSnapshotStatus(core, gs.id, "error_deleting");
  if (gs.status !== "creating") return;
  const next = settled(
    members.map((s) => s.status),
    "available",
  );
  if (next)
    await core.db
      .updateTable("volume_group_snapshot")
      .set({ status: next, updated_at: nowIso() })
      .where("id", "=", gs.id)
      .where("status", "=", "creating")
      .execute();
}
