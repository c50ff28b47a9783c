// Deleting a group (POST groups/{id}/action {"delete": ...}): with its volumes when delete-volumes is set, which
// the agents delete; the group goes with its last volume (groups/store.ts settleGroup).
import type { VolumeCore } from "../core.js";
import { settleGroup, transitionGroup, groupVolumes, type GroupRow } from "../groups/store.js";
import { agentOf } from "../scheduler.js";
import { attachmentsOf } from "../store/attachments.js";
import { snapshotsOf } from "../store/snapshots.js";
import { removeVolume, transitionVolume } from "../store/volumes.js";
import { invalidGroup } from "./group-members.js";

/** Statuses a group may be deleted from. */
const DELETABLE = ["available", "error", "error_deleting"];

/** Check and start a group's deletion (Cinder's InvalidGroup errors, 400). */
export async function deleteGroupVolumes(
  core: VolumeCore,
  g: GroupRow,
  deleteVolumes: boolean,
  requestId: string,
): Promise<void> {
  if (!DELETABLE.includes(g.status))
    throw invalidGroup(`Group status must be available or error, but current status is: ${g.status}.`);
  const snaps = await core.db
    .selectFrom("volume_group_snapshot")
    .select("id")
    .where("group_id", "=", g.id)
    .executeTakeFirst();
  if (snaps) throw invalidGroup(`Group ${g.id} still has dependent group snapshots.`);
  const vols = await groupVolumes(core, g.id);
  if (vols.length > 0 && !deleteVolumes)
    throw invalidGroup(
      `Group ${g.id} still contains volumes. The delete-volumes flag is required to delete it.`,
    );
  for (const v of vols) {
    if ((await attachmentsOf(core, v.id)).length > 0)
      throw invalidGroup(`Volume in group ${g.id} is attached. Need to detach first.`);
    if ((await snapshotsOf(core, v.id)).length > 0)
      throw invalidGroup("Volume in group still has dependent snapshots.");
    if (["creating", "deleting", "attaching", "detaching", "extending", "backing-up"].includes(v.status))
      throw invalidGroup(`Volume ${v.id} in group ${g.id} is ${v.status}.`);
  }
  if (!(await transitionGroup(core, g.id, DELETABLE, "deleting")))
    throw invalidGroup(`Group ${g.id} status changed; try again.`);
  for (const v of vols) {
    if (!(await transitionVolume(core, v.id, [v.status], { status: "deleting" }))) continue;
    if (v.host) await core.agents.cast(agentOf(v.host), "delete_volume", { volumeId: v.id, requestId });
    else await removeVolume(core, v.id);
  }
  await settleGroup(core, g.id);
}
