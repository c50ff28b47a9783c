// The attachment state machine shared by the attachments API (3.27+) and the classic actions: reserve (volume
// reserved), connect (the agent exports the volume; volume attaching), complete (attached; volume in-use) and
// remove (unexported when no other attachment needs it; volume back to available, or in-use while others remain).
import { nowIso } from "../shared/db/index.js";
import { ApiError } from "../shared/http/errors.js";
import type { VolumeCore } from "./core.js";
import { invalidVolume } from "./errors.js";
import { agentOf } from "./scheduler.js";
import {
  attachmentsOf,
  deleteAttachment,
  getAttachment,
  insertAttachment,
  updateAttachment,
} from "./store/attachments.js";
import type { AttachmentRow, VolumeRow } from "./store/rows.js";
import { getVolume, transitionVolume, updateVolume } from "./store/volumes.js";

/**
 * Reserve a volume for an instance: a new attachment (reserved); the volume becomes reserved (400 when busy).
 * As Cinder: a multiattach volume may be reserved while in-use (it goes back to reserved until the new attachment
 * completes); any volume may get another attachment for an instance it is already attached or reserved to (the
 * second attachment of a move).
 */
export async function reserve(
  core: VolumeCore,
  v: VolumeRow,
  instance: string | null,
  mode: "rw" | "ro",
): Promise<AttachmentRow> {
  const from = v.multiattach ? ["available", "in-use"] : ["available"];
  const reserved = from.includes(v.status)
    ? await transitionVolume(core, v.id, [v.status], { status: "reserved" })
    : false;
  const sameInstance =
    !reserved &&
    instance !== null &&
    ["in-use", "reserved"].includes(v.status) &&
    (await attachmentsOf(core, v.id)).some((x) => x.instance_uuid === instance);
  if (!reserved && !sameInstance)
    throw invalidVolume(
      `Volume ${v.id} status must be ${from.join(" or ")} to reserve, but the current status is ${v.status}.`,
    );
  const a: AttachmentRow = {
    id: core.newId(),
    volume_id: v.id,
    project_id: v.project_id,
    instance_uuid: instance,
    attached_host: null,
    mountpoint: null,
    attach_mode: mode,
    attach_status: "reserved",
    connector: null,
    connection_info: null,
    attach_time: null,
    detach_time: null,
    created_at: nowIso(),
  };
  await insertAttachment(core, a);
  return a;
}

/** Export the volume for a connector (through its host's agent) and record the connection info. */
export async function connect(
  core: VolumeCore,
  a: AttachmentRow,
  connector: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const v = await getVolume(core, a.volume_id);
  if (!v?.host) throw invalidVolume(`Volume ${a.volume_id} has no host to export it from.`);
  let info: Record<string, unknown>;
  try {
    info = (await core.agents.call(agentOf(v.host), "initialize_connection", {
      volumeId: v.id,
      readOnly: a.attach_mode === "ro" || Boolean(v.readonly),
    })) as unknown as Record<string, unknown>;
  } catch (err) {
    await updateAttachment(core, a.id, { attach_status: "error_attaching" });
    throw new ApiError(
      500,
      `Unable to export volume ${v.id}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const data = { ...(info.data as Record<string, unknown>), attachment_id: a.id };
  const connectionInfo = { ...info, data };
  const host = typeof connector.host === "string" ? connector.host.slice(0, 255) : null;
  // The guest's device, as Nova tells it in the connector (Cinder's attachment_update keeps it as the mountpoint).
  const mountpoint =
    typeof connector.mountpoint === "string" ? connector.mountpoint.slice(0, 255) : undefined;
  await updateAttachment(core, a.id, {
    ...(mountpoint !== undefined ? { mountpoint } : {}),
    connector: JSON.stringify(connector),
    connection_info: JSON.stringify(connectionInfo),
    attached_host: host,
    attach_status: a.attach_status === "attached" ? "attached" : "attaching",
  });
  if (v.status === "reserved") await transitionVolume(core, v.id, ["reserved"], { status: "attaching" });
  return connectionInfo;
}

/** Mark an attachment attached; the volume is in-use. */
export async function complete(
  core: VolumeCore,
  a: AttachmentRow,
  mountpoint?: string | null,
): Promise<void> {
  await updateAttachment(core, a.id, {
    attach_status: "attached",
    attach_time: nowIso(),
    ...(mountpoint !== undefined ? { mountpoint } : {}),
  });
  await updateVolume(core, a.volume_id, { status: "in-use", attach_status: "attached" });
}

/** What a volume's status is from its remaining attachments. */
export async function settle(core: VolumeCore, volumeId: string): Promise<void> {
  const v = await getVolume(core, volumeId);
  if (!v || ["deleting", "error_deleting", "extending", "creating"].includes(v.status)) return;
  const rest = await attachmentsOf(core, volumeId);
  const attached = rest.some((x) => x.attach_status === "attached");
  const status = attached
    ? "in-use"
    : rest.some((x) => x.attach_status === "attaching")
      ? "attaching"
      : rest.length > 0
        ? "reserved"
        : "available";
  await updateVolume(core, volumeId, { status, attach_status: attached ? "attached" : "detached" });
}

/** Remove an attachment: unexport when no other attachment is connected, then settle the volume's status. */
export async function remove(core: VolumeCore, id: string): Promise<void> {
  const a = await getAttachment(core, id);
  if (!a) return;
  await deleteAttachment(core, id);
  const v = await getVolume(core, a.volume_id);
  const others = await attachmentsOf(core, a.volume_id);
  if (v?.host && a.connection_info && !others.some((x) => x.connection_info))
    await core.agents
      .call(agentOf(v.host), "terminate_connection", { volumeId: v.id })
      .catch((err: unknown) => core.log.warn({ err, volume: v.id }, "volume: unexport failed"));
  await settle(core, a.volume_id);
}
