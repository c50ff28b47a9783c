// The control plane's half of attaching and detaching volumes (Nova's compute API + the cinder calls of its
// compute manager): reserve, connect the host, let the agent plug the disk, complete; undo every step on failure.
// The block storage calls are made here (the conductor or the API holds the service clients); the agent only
// hears the connection info.
import { target } from "../../shared/bus/index.js";
import type { ComputeCore } from "../core.js";
import type { Instance } from "../instances/store.js";
import { agentContract } from "../rpc.js";
import type { VolumeClient } from "../volume-client.js";
import { deleteBdm, listBdms, updateBdm, type Bdm } from "./bdm-store.js";

/** How long an agent may take to plug or unplug one volume (hot-plug waits for the guest). */
const AGENT_TIMEOUT_MS = 120_000;

/** The block storage client, or an error saying there is none. */
export function volumeClient(core: ComputeCore): VolumeClient {
  const v = core.volume;
  if (!v) throw new Error("no block storage service is configured");
  return v;
}

/**
 * Connect a reserved attachment to `host` and plug the volume into the server there, then complete it. On failure
 * the disk is unplugged again (best effort) and the error is thrown; the caller removes the attachment and row.
 */
export async function connectVolume(
  core: ComputeCore,
  inst: Instance,
  host: string,
  bdm: Bdm,
): Promise<void> {
  const client = volumeClient(core);
  if (!bdm.volumeId || !bdm.attachmentId) throw new Error(`mapping ${bdm.uuid} has no volume attachment`);
  const agent = target(agentContract, host);
  const connector = await core.bus.call(agent, "volume_connector", {});
  const att = await client.updateAttachment(inst.project_id, bdm.attachmentId, connector);
  if (!att.connection_info) throw new Error(`attachment ${bdm.attachmentId} has no connection info`);
  await updateBdm(core.db, bdm.uuid, { connectionInfo: att.connection_info });
  await core.bus.call(
    agent,
    "attach_volume",
    { uuid: inst.uuid, volumeId: bdm.volumeId, connectionInfo: att.connection_info },
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
  if (bdm.attachmentId)
    await volumeClient(core)
      .deleteAttachment(inst.project_id, bdm.attachmentId)
      .catch((e: Error) =>
        core.log.warn(
          { uuid: inst.uuid, attachment: bdm.attachmentId, err: e.message },
          "attachment not deleted",
        ),
      );
  await deleteBdm(core.db, bdm.uuid);
}

/** Detach a volume: unplug it on the server's host (when it has one), delete the attachment, drop the mapping. */
export async function disconnectVolume(core: ComputeCore, inst: Instance, bdm: Bdm): Promise<void> {
  if (inst.host && bdm.volumeId)
    await core.bus.call(
      target(agentContract, inst.host),
      "detach_volume",
      { uuid: inst.uuid, volumeId: bdm.volumeId },
      { timeoutMs: AGENT_TIMEOUT_MS },
    );
  if (bdm.attachmentId) await volumeClient(core).deleteAttachment(inst.project_id, bdm.attachmentId);
  await deleteBdm(core.db, bdm.uuid);
}

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
