// A new group's row and its insert under the project's quota lock (the `groups` quota), with what must be
// recorded with it (a group made from a source records its volumes in the same transaction).
import { nowIso } from "../../shared/db/index.js";
import type { VolumeCore } from "../core.js";
import { overLimit } from "../errors.js";
import type { GroupRow } from "../groups/store.js";
import { projectLimits, underQuota, usage } from "../quotas.js";
import { ownerOf, type Ctx } from "./common.js";

/** Record a group under the project's quota lock (413 past the `groups` quota), with `members` in the same lock. */
export async function insertGroup(core: VolumeCore, g: GroupRow, members?: (c: VolumeCore) => Promise<void>) {
  await underQuota(core, g.project_id, async (c) => {
    const limit = (await projectLimits(c, g.project_id)).get("groups") ?? -1;
    const used = (await usage(c, g.project_id, ["groups"])).get("groups") ?? 0;
    if (limit >= 0 && used + 1 > limit)
      throw overLimit(`GroupLimitExceeded: Maximum number of groups allowed (${limit}) exceeded`);
    await c.db.insertInto("volume_group").values(g).execute();
    if (members) await members(c);
  });
}

/** A new group row of the caller's project. */
export function newGroupRow(
  core: VolumeCore,
  ctx: Ctx,
  f: Partial<GroupRow> & Pick<GroupRow, "group_type_id">,
) {
  const now = nowIso();
  const row: GroupRow = {
    id: core.newId(),
    project_id: ownerOf(ctx),
    user_id: ctx.auth?.userId ?? "",
    name: null,
    description: null,
    status: "available",
    availability_zone: core.cfg.volume.availabilityZone,
    volume_type_ids: "[]",
    group_snapshot_id: null,
    source_group_id: null,
    created_at: now,
    updated_at: now,
    ...f,
  };
  return row;
}
