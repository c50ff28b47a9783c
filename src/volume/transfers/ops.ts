// Creating, cancelling and accepting volume transfers. A pending transfer holds its volume in awaiting-transfer;
// accepting moves the volume (and its snapshots unless no_snapshots) to the receiving project in one transaction
// under the receiver's quota lock: the receiver's quotas are checked there, and the giver's usage (counted from
// the rows) is released by the same move. A volume in a generic group is refused at create and again at accept
// (Cinder refuses a consistency group's at accept): the group stays in the giver's project.
import { nowIso } from "../../shared/db/index.js";
import type { VolumeCore } from "../core.js";
import { badRequest, invalidSnapshot, invalidVolume, notFound } from "../errors.js";
import { checkQuota, underQuota } from "../quotas.js";
import type { VolumeRow } from "../store/rows.js";
import { snapshotsOf } from "../store/snapshots.js";
import { getVolume, transitionVolume } from "../store/volumes.js";
import {
  getTransfer,
  insertTransfer,
  keyMatches,
  newAuthKey,
  removeTransfer,
  sealKey,
  type TransferRow,
} from "./store.js";

/** The volume status while a transfer is pending. */
export const AWAITING = "awaiting-transfer";

/** 404 "Transfer <id> could not be found." */
export const transferNotFound = (id: string) => notFound(`Transfer ${id} could not be found.`);

/** 400 when the volume belongs to a group (its group would stay behind in the giver's project). */
function refuseGroupMember(v: VolumeRow): void {
  if (v.group_id) throw invalidVolume(`Volume ${v.id} must not be part of a group.`);
}

/** Start a transfer of an available volume; answers the row and the key (shown this once). */
export async function createTransfer(
  core: VolumeCore,
  v: VolumeRow,
  name: string | null,
  noSnapshots: boolean,
): Promise<{ row: TransferRow; authKey: string }> {
  if (v.status !== "available") throw invalidVolume("status must be available");
  refuseGroupMember(v);
  if (!noSnapshots)
    for (const s of await snapshotsOf(core, v.id))
      if (s.status !== "available") throw invalidSnapshot("snapshot status must be available");
  const authKey = newAuthKey();
  const row: TransferRow = {
    id: core.newId(),
    volume_id: v.id,
    name,
    source_project_id: v.project_id,
    ...sealKey(authKey),
    no_snapshots: noSnapshots ? 1 : 0,
    created_at: nowIso(),
  };
  await core.transaction(async (c) => {
    // Read again in the transaction: the volume may have joined a group since.
    const now = await getVolume(c, v.id);
    if (now) refuseGroupMember(now);
    if (!(await transitionVolume(c, v.id, ["available"], { status: AWAITING })))
      throw invalidVolume("status must be available");
    await insertTransfer(c, row);
  });
  return { row, authKey };
}

/** Cancel a transfer: its volume is available again. */
export async function cancelTransfer(core: VolumeCore, t: TransferRow): Promise<void> {
  await core.transaction(async (c) => {
    if (!(await removeTransfer(c, t.id))) throw transferNotFound(t.id);
    await transitionVolume(c, t.volume_id, [AWAITING], { status: "available" });
  });
}

/** Accept a transfer with its key into `project` (as `userId`); answers the transfer as it was. */
export async function acceptTransfer(
  core: VolumeCore,
  id: string,
  key: string,
  project: string,
  userId: string,
): Promise<TransferRow> {
  const t = await getTransfer(core, id);
  if (!t) throw transferNotFound(id);
  if (!keyMatches(t, key))
    throw badRequest(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
  return underQuota(core, project, async (c) => {
    // Read again under the lock: another accept or a cancel may have come first.
    const again = await getTransfer(c, id);
    if (!again) throw transferNotFound(id);
    const v = await getVolume(c, t.volume_id);
    if (!v) throw transferNotFound(id);
    if (v.status !== AWAITING)
      throw invalidVolume(
        `Transfer ${id}: Volume id ${v.id} in unexpected state ${v.status}, expected awaiting-transfer`,
      );
    refuseGroupMember(v);
    const snaps = t.no_snapshots ? [] : await snapshotsOf(c, v.id);
    const snapGb = snaps.reduce((n, s) => n + s.size, 0);
    await checkQuota(c, project, {
      volumes: 1,
      snapshots: snaps.length,
      gigabytes: v.size + snapGb,
      perVolume: v.size,
      typeId: v.volume_type_id,
    });
    await removeTransfer(c, id);
    await transitionVolume(c, v.id, [AWAITING], {
      status: "available",
      project_id: project,
      user_id: userId,
    });
    if (snaps.length > 0)
      await c.db
        .updateTable("volume_snapshot")
        .set({ project_id: project, user_id: userId })
        .where("volume_id", "=", v.id)
        .execute();
    return t;
  });
}
