// The control plane's half of attaching and detaching volumes (Nova's compute API + the cinder calls of its
// compute manager): reserve, connect the host, let the agent plug the disk, complete; undo every step on failure.
// The block storage calls are made here (the conductor or the API holds the service clients); the agent only
// hears the connection info.
import { target } from "../../shared/bus/index.js";
import type { ComputeCore } from "../core.js";
import type { Instance } from "../instances/store.js";
import { agentContract } from "../rpc.js";
import type { ConnectionInfo, VolumeClient } from "../volume-client.js";
import { deleteBdm, listBdms, updateBdm, type Bdm } from "./bdm-store.js";

/** How long a volume the conductor creates may take to become available (Nova's block_device_allocate_retries). */
export const VOLUME_CREATE_TIMEOUT_MS = 180_000;

/** How long an agent may take to plug or unplug one volume (hot-plug waits for the guest). */
const AGENT_TIMEOUT_MS = 120_000;

/** The block storage client, or an error saying there is none. */
export function volumeClient(core: ComputeCore): VolumeClient {
  const v = core.volume;
  if (!v) throw new Error("no block storage service is configured");
  return v;
}

/** The connection info as the host's driver gets it: marked `multiattach` for a shareable volume (as Nova does). */
function markShared(info: ConnectionInfo, multiattach: boolean): ConnectionInfo {
  return multiattach ? { ...info, multiattach: true } : info;
}

/**
 * Connect a reserved attachment to `host` and plug the volume into the server there, then complete it. On failure
 * the disk is unplugged again (best effort) and the error is thrown; the caller removes the attachment and row.
 * A `multiattach` volume is plugged shareable (other servers may write to it too).
 */
export async function connectVolume(
  core: ComputeCore,
  inst: Instance,
  host: string,
  bdm: Bdm,
  multiattach = false,
): Promise<void> {
  const client = volumeClient(core);
  if (!bdm.volumeId || !bdm.attachmentId) throw new Error(`mapping ${bdm.uuid} has no volume attachment`);
  const agent = target(agentContract, host);
  const connector = await core.bus.call(agent, "volume_connector", {});
  const att = await client.updateAttachment(inst.project_id, bdm.attachmentId, connector, bdm.deviceName);
  if (!att.connection_info) throw new Error(`attachment ${bdm.attachmentId} has no connection info`);
  const connectionInfo = markShared(att.connection_info, multiattach);
  await updateBdm(core.db, bdm.uuid, { connectionInfo });
  await core.bus.call(
    agent,
    "attach_volume",
    { uuid: inst.uuid, volumeId: bdm.volumeId, connectionInfo },
    { timeoutMs: AGENT_TIMEOUT_MS },
  );
  try {
    await client.completeAttachment(inst.project_id, bdm.attachmentId);
  } catch (e) {
    await core.bus
      .call(
        agent,
        "detach_volume",
        { uuid: inst.uuid, volumeId: bdm.volumeId },
        { timeoutMs: AGENT_TIMEOUT_MS },
      )
      .catch(() => undefined);
    throw e;
  }
}

/** Undo a reservation: delete the attachment (best effort) and the mapping. */
export async function forgetVolume(core: ComputeCore, inst: Instance, bdm: Bdm): Promise<void> {
  if (bdm.attachmentId) await dropAttachment(core, inst, bdm.attachmentId);
  await deleteBdm(core.db, bdm.uuid);
}

/** Detach a volume: unplug it on the server's host (when it has one), delete the attachment, drop the mapping. */
export async function disconnectVolume(core: ComputeCore, inst: Instance, bdm: Bdm): Promise<void> {
  if (inst.host && bdm.volumeId)
    await core.bus
      .call(
        target(agentContract, inst.host),
        "detach_volume",
        { uuid: inst.uuid, volumeId: bdm.volumeId },
        { timeoutMs: AGENT_TIMEOUT_MS },
      )
      .catch((e: Error) => {
        throw new GuestDetachFailed(e.message);
      });
  if (bdm.attachmentId) await volumeClient(core).deleteAttachment(inst.project_id, bdm.attachmentId);
  await deleteBdm(core.db, bdm.uuid);
}

/** The host could not unplug the volume (the guest did not release it): nothing was changed, it stays attached. */
export class GuestDetachFailed extends Error {}

/**
 * A deleted server's volumes (its guest is gone): delete each attachment, then the volumes marked
 * delete_on_termination, then the mappings. Failures are logged: the server is deleted anyway, as in Nova.
 */
export async function releaseVolumes(core: ComputeCore, inst: Instance): Promise<void> {
  const bdms = await listBdms(core.db, inst.uuid);
  if (bdms.length === 0) return;
  const client = core.volume;
  for (const b of bdms) {
    if (client && b.attachmentId)
      await client
        .deleteAttachment(inst.project_id, b.attachmentId)
        .catch((e: Error) =>
          core.log.warn({ uuid: inst.uuid, volume: b.volumeId, err: e.message }, "attachment not deleted"),
        );
    if (client && b.volumeId && b.deleteOnTermination)
      await client
        .deleteVolume(inst.project_id, b.volumeId)
        .catch((e: Error) =>
          core.log.warn({ uuid: inst.uuid, volume: b.volumeId, err: e.message }, "volume not deleted"),
        );
    await deleteBdm(core.db, b.uuid);
  }
}

/** Poll `read` until it says available, error, or the time is up; the last status, tries and seconds waited. */
async function pollAvailable(read: () => Promise<string>, timeoutMs: number) {
  const start = Date.now();
  for (let attempts = 1; ; attempts++) {
    const status = await read();
    const waitedS = Math.round((Date.now() - start) / 1000);
    if (status === "available" || status === "error" || Date.now() - start > timeoutMs)
      return { ok: status === "available", status, attempts, waitedS };
    await new Promise((r) => setTimeout(r, Math.min(1000, 50 * attempts)));
  }
}

/** Wait for a new volume to be available; Nova's VolumeNotCreated message when it fails or takes too long. */
async function waitAvailable(
  core: ComputeCore,
  project: string,
  id: string,
  timeoutMs: number,
): Promise<void> {
  const client = volumeClient(core);
  const r = await pollAvailable(async () => (await client.showVolume(project, id)).status, timeoutMs);
  if (!r.ok)
    throw new Error(
      `Volume ${id} did not finish being created even after we waited ${r.waitedS} seconds or ${r.attempts} ` +
        `attempts. And its status is ${r.status}.`,
    );
}

/** Wait for a snapshot a volume is made from to be available (a server's snapshot may still be being taken). */
async function waitSnapshot(
  core: ComputeCore,
  project: string,
  id: string,
  timeoutMs: number,
): Promise<void> {
  const client = volumeClient(core);
  const r = await pollAvailable(async () => (await client.showSnapshot(project, id)).status, timeoutMs);
  if (!r.ok) throw new Error(`Snapshot ${id} is ${r.status}: no volume can be made from it.`);
}

/**
 * Before a build goes to its host (the conductor, once the host is known): make the volumes the request asked for
 * (from an image or a volume snapshot, or blank), reserve each volume for the server, connect it to `host` and
 * complete the attachment, so the agent finds the connection info of every mapping. A retried build on another
 * host reconnects them there.
 */
export async function prepareVolumes(
  core: ComputeCore,
  inst: Instance,
  host: string,
  timeoutMs = VOLUME_CREATE_TIMEOUT_MS,
): Promise<void> {
  const bdms = (await listBdms(core.db, inst.uuid)).filter((b) => b.destinationType === "volume");
  if (bdms.length === 0) return;
  const client = volumeClient(core);
  const project = inst.project_id;
  const connector = await core.bus.call(target(agentContract, host), "volume_connector", {});
  for (const b of bdms) {
    let volumeId = b.volumeId;
    if (!volumeId) {
      const snapshot = b.sourceType === "snapshot" && b.snapshotId ? b.snapshotId : undefined;
      if (snapshot) await waitSnapshot(core, project, snapshot, timeoutMs);
      const v = await client.createVolume(project, {
        size: b.volumeSize ?? 1,
        name: "",
        ...(b.sourceType === "image" && b.imageId ? { imageRef: b.imageId } : {}),
        ...(snapshot ? { snapshot_id: snapshot } : {}),
        ...(inst.availability_zone ? { availability_zone: inst.availability_zone } : {}),
      });
      volumeId = v.id;
      await updateBdm(core.db, b.uuid, { volumeId });
      await waitAvailable(core, project, volumeId, timeoutMs);
    }
    let attachmentId = b.attachmentId;
    if (!attachmentId) {
      attachmentId = (await client.createAttachment(project, volumeId, inst.uuid)).id;
      await updateBdm(core.db, b.uuid, { attachmentId });
    }
    const att = await client.updateAttachment(project, attachmentId, connector, b.deviceName);
    if (!att.connection_info) throw new Error(`attachment ${attachmentId} has no connection info`);
    const shared = (await client.showVolume(project, volumeId)).multiattach === true;
    await updateBdm(core.db, b.uuid, { connectionInfo: markShared(att.connection_info, shared) });
    await client.completeAttachment(project, attachmentId);
  }
}

/**
 * A server moves to `host` (resize, cold migration, evacuation, or back on revert/rollback): each of its attachments
 * gets that host's connector, and the connection info it answers is what the host's driver opens.
 */
export async function reconnectVolumes(core: ComputeCore, inst: Instance, host: string): Promise<void> {
  const bdms = (await listBdms(core.db, inst.uuid)).filter((b) => b.attachmentId);
  if (bdms.length === 0) return;
  const client = volumeClient(core);
  const connector = await core.bus.call(target(agentContract, host), "volume_connector", {});
  for (const b of bdms) {
    const att = await client.updateAttachment(inst.project_id, b.attachmentId!, connector, b.deviceName);
    const shared = b.connectionInfo?.multiattach === true;
    if (att.connection_info)
      await updateBdm(core.db, b.uuid, { connectionInfo: markShared(att.connection_info, shared) });
  }
}

/** A live migration's second attachment of one volume: the new one (the destination's) and what it replaced. */
export interface MovedAttachment {
  bdm: string;
  attachmentId: string;
  old: Pick<Bdm, "attachmentId" | "connectionInfo">;
}

/**
 * Before a live migration (Nova's pre-live-migration attachments): each attached volume gets a new attachment
 * connected to `host`'s connector, and the mapping names it, so the destination opens its own connection while
 * the source keeps its one. All or nothing: on failure what was made is undone and the error thrown.
 */
export async function attachVolumesAt(
  core: ComputeCore,
  inst: Instance,
  host: string,
): Promise<MovedAttachment[]> {
  const bdms = (await listBdms(core.db, inst.uuid)).filter((b) => b.attachmentId && b.volumeId);
  if (bdms.length === 0) return [];
  const client = volumeClient(core);
  const moved: MovedAttachment[] = [];
  try {
    const connector = await core.bus.call(target(agentContract, host), "volume_connector", {});
    for (const b of bdms) {
      const attachmentId = (await client.createAttachment(inst.project_id, b.volumeId!, inst.uuid)).id;
      moved.push({
        bdm: b.uuid,
        attachmentId,
        old: { attachmentId: b.attachmentId, connectionInfo: b.connectionInfo },
      });
      const att = await client.updateAttachment(inst.project_id, attachmentId, connector, b.deviceName);
      if (!att.connection_info) throw new Error(`attachment ${attachmentId} has no connection info`);
      const shared = b.connectionInfo?.multiattach === true;
      await updateBdm(core.db, b.uuid, {
        attachmentId,
        connectionInfo: markShared(att.connection_info, shared),
      });
    }
  } catch (e) {
    await restoreAttachments(core, inst, moved);
    throw e;
  }
  return moved;
}

/** A live migration failed: the mappings name the source's attachments again; the new ones are deleted. */
export async function restoreAttachments(
  core: ComputeCore,
  inst: Instance,
  moved: MovedAttachment[],
): Promise<void> {
  for (const m of moved) {
    await updateBdm(core.db, m.bdm, {
      ...(m.old.attachmentId ? { attachmentId: m.old.attachmentId } : {}),
      ...(m.old.connectionInfo ? { connectionInfo: m.old.connectionInfo } : {}),
    });
    await dropAttachment(core, inst, m.attachmentId);
  }
}

/** A live migration succeeded: the destination's attachments are complete, the source's deleted (Nova's post). */
export async function finishAttachments(
  core: ComputeCore,
  inst: Instance,
  moved: MovedAttachment[],
): Promise<void> {
  for (const m of moved) {
    await volumeClient(core)
      .completeAttachment(inst.project_id, m.attachmentId)
      .catch((e: Error) =>
        core.log.warn(
          { uuid: inst.uuid, attachment: m.attachmentId, err: e.message },
          "attachment not completed",
        ),
      );
    if (m.old.attachmentId) await dropAttachment(core, inst, m.old.attachmentId);
  }
}

/** Delete one attachment, logging (not throwing) a failure. */
async function dropAttachment(core: ComputeCore, inst: Instance, id: string): Promise<void> {
  await volumeClient(core)
    .deleteAttachment(inst.project_id, id)
    .catch((e: Error) =>
      core.log.warn({ uuid: inst.uuid, attachment: id, err: e.message }, "attachment not deleted"),
    );
}

/**
 * After a live migration whose conductor died (what attachVolumesAt made is not remembered): each volume keeps one
 * attachment of the server, for `host` where the guest runs; the others are deleted. The server's attachments are
 * listed through the attachments API (a volume's body lists only attached ones, not a destination's that is
 * reserved or connected). `moved`: the guest is on the destination, whose attachment the mapping names (completed);
 * else the source's, the attached one (the destination's is never completed before the guest has moved), is named
 * again with its own connection info (or `host` connects it again). Failures are logged.
 */
export async function settleAttachments(
  core: ComputeCore,
  inst: Instance,
  host: string,
  moved: boolean,
): Promise<void> {
  const client = core.volume;
  if (!client) return;
  for (const b of await listBdms(core.db, inst.uuid)) {
    if (!b.attachmentId || !b.volumeId) continue;
    try {
      const all = await client.listAttachments(inst.project_id, b.volumeId, inst.uuid);
      const keep = moved
        ? b.attachmentId
        : (
            all.find((a) => a.id === b.attachmentId && a.status === "attached") ??
            all.find((a) => a.status === "attached") ??
            all.find((a) => a.id === b.attachmentId)
          )?.id;
      if (!keep) continue;
      const others = all.filter((a) => a.id !== keep).map((a) => a.id);
      if (moved) {
        if (others.length === 0) continue;
        await client.completeAttachment(inst.project_id, keep);
      } else if (keep !== b.attachmentId || others.length > 0) {
        // The kept attachment's own connection info (the source's), else `host` connects it again.
        let info = all.find((a) => a.id === keep)?.connection_info;
        if (!info || Object.keys(info).length === 0) {
          const connector = await core.bus.call(target(agentContract, host), "volume_connector", {});
          info = (await client.updateAttachment(inst.project_id, keep, connector, b.deviceName))
            .connection_info;
        }
        const shared = b.connectionInfo?.multiattach === true;
        await updateBdm(core.db, b.uuid, {
          attachmentId: keep,
          ...(info ? { connectionInfo: markShared(info, shared) } : {}),
        });
      }
      for (const o of others) await dropAttachment(core, inst, o);
    } catch (e) {
      core.log.warn(
        { uuid: inst.uuid, volume: b.volumeId, err: (e as Error).message },
        "attachment not settled",
      );
    }
  }
}
