// createImage of a volume-backed server (Nova's snapshot_volume_backed): each attached volume is snapshotted through
// the block storage service (forced, as it is in use), and the image is a bucket of properties with no data (size 0)
// whose `block_device_mapping` (with `bdm_v2`) names those snapshots; a server booted from it gets new volumes
// made from them. The API does it all at once: no task state, no agent.
import { ApiError } from "../../../shared/http/errors.js";
import type { ComputeCore } from "../../core.js";
import { startAction } from "../../instances/actions.js";
import type { Instance } from "../../instances/store.js";
import { listBdms } from "../../volumes/bdm-store.js";
import { volumeClient } from "../../volumes/flow.js";
import { badRequest } from "../../errors.js";
import { VolumeRefused } from "../../volume-client.js";
import type { Ctx } from "../common.js";
import { snapshotMapping, type ImageMapping } from "../servers/image-mappings.js";
import { requestContext } from "../servers/create.js";

/** Whether the server's root disk is a volume. */
export async function isVolumeBacked(core: ComputeCore, inst: Instance): Promise<boolean> {
  return (await listBdms(core.db, inst.uuid)).some((b) => b.bootIndex === 0 && b.volumeId !== null);
}

/**
 * Snapshot the server's volumes, then have `createImage` create the image with the given extra properties (the
 * caller's metadata, then the mappings); activate it with no data. Returns the image id.
 */
export async function snapshotVolumeBacked(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  name: string,
  createImage: (properties: Record<string, string>) => Promise<string>,
): Promise<string> {
  const client = volumeClient(core);
  await startAction(core.db, requestContext(ctx), inst.uuid, "createImage");
  const mappings: ImageMapping[] = [];
  let rootDevice: string | null = null;
  for (const b of await listBdms(core.db, inst.uuid)) {
    if (!b.volumeId) continue;
    const vol = await client.showVolume(inst.project_id, b.volumeId);
    const snap = await client
      .createSnapshot(inst.project_id, {
        volume_id: b.volumeId,
        name: `snapshot for ${name}`,
        ...(typeof vol.description === "string" ? { description: vol.description } : {}),
        force: true,
      })
      .catch((e: unknown) => {
        if (e instanceof VolumeRefused) throw badRequest(`Invalid volume: ${e.message}`);
        throw e;
      });
    mappings.push(snapshotMapping(b, snap.id, vol.size));
    if (b.bootIndex === 0) rootDevice = b.deviceName;
  }
  const imageId = await createImage({
    ...(rootDevice ? { root_device_name: rootDevice } : {}),
    block_device_mapping: JSON.stringify(mappings),
    bdm_v2: "True",
    // Nova activates the data-less image with an empty upload; raw is what empty data is.
    disk_format: "raw",
    container_format: "bare",
  });
  const up = await core.image.request("PUT", `/v2/images/${imageId}/file`, {
    token: ctx.auth?.token,
    headers: { "content-type": "application/octet-stream" },
  });
  if (up.status !== 204)
    throw new ApiError(500, `The image service did not activate the snapshot image (${up.status}).`);
  return imageId;
}
