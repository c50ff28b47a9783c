// A group's volumes: joining a group at volume create (3.13), adding and removing volumes on group update, and the
// host a group's volumes share.
import type { VolumeCore } from "../core.js";
import { invalidInput, invalidVolume, notFound } from "../errors.js";
import { getGroup, groupVolumes, groupVolumeTypes, type GroupRow } from "../groups/store.js";
import type { VolumeRow } from "../store/rows.js";
import { updateVolume, visibleVolume } from "../store/volumes.js";
import { callerOf, optString, type Ctx } from "./common.js";

/** Statuses a volume may join or leave a group in. */
const MEMBER_STATUSES = ["available", "in-use"];

/** 404 "Group <id> could not be found." */
export const groupNotFound = (id: string) => notFound(`Group ${id} could not be found.`);

/** 400 "Invalid group: ..." (Cinder's InvalidGroup). */
export const invalidGroup = (msg: string) => invalidInput(`Invalid group: ${msg}`);

/** The group a new volume asks to join (`group_id`, 3.13), checked against its type; null when none. */
export async function groupForNewVolume(
  core: VolumeCore,
  ctx: Ctx,
  b: Record<string, unknown>,
  typeId: string | null,
): Promise<GroupRow | null> {
  const id = optString(b, "group_id", 36);
  if (!id || ctx.microversion.lt("3.13")) return null;
  const g = await getGroup(core, id);
  const caller = callerOf(ctx);
  if (!g || !(caller.readsAll || g.project_id === caller.projectId)) throw groupNotFound(id);
  if (g.status !== "available")
    throw invalidGroup(`Group ${g.id} status must be available, but current status is: ${g.status}.`);
  if (!typeId || !groupVolumeTypes(g).includes(typeId))
    throw invalidInput(
      `Invalid volume_type provided: ${String(typeId)} is not one of the group's volume types.`,
    );
  return g;
}

/** The host a group's volumes are on (new members go there too), or null. */
export async function groupHost(core: VolumeCore, groupId: string): Promise<string | null> {
  return (await groupVolumes(core, groupId)).find((v) => v.host)?.host ?? null;
}

/** The volume ids of a comma-separated list (Cinder's add_volumes/remove_volumes), bounded. */
function idList(k: string, v: string | null | undefined): string[] {
  if (!v) return [];
  const ids = v
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  if (ids.length > 1000) throw invalidInput(`${k} lists more than 1000 volumes.`);
  return [...new Set(ids)];
}

/** Check then apply a group update's add_volumes and remove_volumes (Cinder's errors: InvalidVolume, 400). */
export async function changeMembers(
  core: VolumeCore,
  ctx: Ctx,
  g: GroupRow,
  add: string | null | undefined,
  remove: string | null | undefined,
): Promise<void> {
  const caller = callerOf(ctx);
  const adding: VolumeRow[] = [];
  const removing: VolumeRow[] = [];
  const types = groupVolumeTypes(g);
  for (const id of idList("add_volumes", add)) {
    const v = await visibleVolume(core, caller, id);
    if (!v || v.project_id !== g.project_id)
      throw invalidVolume(`Cannot add volume ${id} to group ${g.id} because volume cannot be found.`);
    if (v.group_id && v.group_id !== g.id)
      throw invalidVolume(
        `Cannot add volume ${v.id} to group ${g.id} because it is already in group ${v.group_id}.`,
      );
    if (!v.volume_type_id || !types.includes(v.volume_type_id))
      throw invalidVolume(
        `Cannot add volume ${v.id} to group ${g.id} because volume type ${String(v.volume_type_id)} is not supported by the group.`,
      );
    if (!MEMBER_STATUSES.includes(v.status))
      throw invalidVolume(
        `Cannot add volume ${v.id} to group ${g.id} because volume is in an invalid state: ${v.status}. Valid states are: ${MEMBER_STATUSES.join(", ")}.`,
      );
    adding.push(v);
  }
  for (const id of idList("remove_volumes", remove)) {
    const v = await visibleVolume(core, caller, id);
    if (!v || v.group_id !== g.id)
      throw invalidVolume(`Cannot remove volume ${id} from group ${g.id} because it is not in the group.`);
    if (!MEMBER_STATUSES.includes(v.status) && v.status !== "error")
      throw invalidVolume(
        `Cannot remove volume ${v.id} from group ${g.id} because volume is in an invalid state: ${v.status}.`,
      );
    removing.push(v);
  }
  const host = await groupHost(core, g.id);
  for (const v of adding)
    if (host && v.host && v.host !== host)
      throw invalidVolume(
        `Cannot add volume ${v.id} to group ${g.id} because it is on another backend than the group's volumes.`,
      );
  await core.transaction(async (c) => {
    for (const v of adding) await updateVolume(c, v.id, { group_id: g.id });
    for (const v of removing) await updateVolume(c, v.id, { group_id: null });
  });
}
