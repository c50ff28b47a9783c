// The os-volume_upload_image action: a queued image is made in the volume's project (with the volume's image
// metadata, so it boots as the volume did), the volume goes to uploading, and its agent streams the data into the
// image (agent/upload.ts). Answered as Cinder does, with visibility and protected from 3.1.
import { ApiError } from "../../shared/http/errors.js";
import { reply } from "../../shared/http/reply.js";
import { UPLOAD_FORMATS } from "../agent/upload.js";
import type { VolumeCore } from "../core.js";
import { badRequest, invalidVolume } from "../errors.js";
import { ImageWriteError } from "../image-writer.js";
import { agentOf } from "../scheduler.js";
import { parseMap, type VolumeRow } from "../store/rows.js";
import { transitionVolume } from "../store/volumes.js";
import { boolOf, callerOf, field, isoTime, optString, type Ctx } from "./common.js";
import { TypeCache, typeView } from "./views.js";

const CONTAINER_FORMATS = ["bare", "ovf", "ova", "docker", "compressed"];
const VISIBILITIES = ["public", "private", "community", "shared"];
/** Volume image metadata that describes the source image itself, not what the new image should carry. */
const NOT_COPIED = new Set([
  "image_id",
  "image_name",
  "checksum",
  "container_format",
  "disk_format",
  "size",
  "virtual_size",
  "min_disk",
  "min_ram",
  "os_hash_algo",
  "os_hash_value",
  "owner",
  "protected",
  "visibility",
  "status",
  "id",
  "name",
  "created_at",
  "updated_at",
  "os_hidden",
  "stores",
]);

/** Handle os-volume_upload_image for volume `v` with the action's argument. */
export async function uploadImageAction(core: VolumeCore, ctx: Ctx, v: VolumeRow, arg: unknown) {
  if (arg === null || typeof arg !== "object" || Array.isArray(arg))
    throw badRequest("Invalid request body for os-volume_upload_image.");
  const o = arg as Record<string, unknown>;
  const name = optString(o, "image_name");
  if (!name) throw badRequest("No image_name was specified in request.");
  const force = field(o, "force") === undefined ? false : boolOf("force", field(o, "force"));
  const disk = optString(o, "disk_format", 16) ?? "raw";
  if (!UPLOAD_FORMATS.has(disk))
    throw badRequest(
      `Invalid disk-format '${disk}' is specified. Allowed disk-formats are ${[...UPLOAD_FORMATS.keys()].join(", ")}.`,
    );
  const container = optString(o, "container_format", 16) ?? "bare";
  if (!CONTAINER_FORMATS.includes(container))
    throw badRequest(`Invalid container-format '${container}' is specified.`);
  const caller = callerOf(ctx);
  const since31 = ctx.microversion.gte("3.1");
  const visibility = (since31 ? optString(o, "visibility", 16) : null) ?? "private";
  if (!VISIBILITIES.includes(visibility)) throw badRequest(`Invalid visibility '${visibility}'.`);
  if (visibility === "public" && !caller.isAdmin)
    throw new ApiError(403, "Policy doesn't allow image:publicize_image to be performed.");
  const prot =
    since31 && field(o, "protected") !== undefined ? boolOf("protected", field(o, "protected")) : false;
  if (v.status !== "available" && !(force && v.status === "in-use"))
    throw invalidVolume(
      v.status === "in-use"
        ? `Volume ${v.id} status must be available, but current status is: in-use (use force to upload an attached volume).`
        : `Volume ${v.id} status must be available or in-use, but current status is: ${v.status}.`,
    );
  if (!core.imageWriter || !v.host) throw badRequest("The image service is not available.");
  const meta = parseMap(v.image_metadata);
  const props: Record<string, string> = {};
  for (const [k, x] of meta) if (!NOT_COPIED.has(k)) props[k] = x;
  const minRam = Number(meta.get("min_ram") ?? "0");
  let imageId: string;
  try {
    imageId = await core.imageWriter.create({
      ...props,
      name,
      disk_format: disk,
      container_format: container,
      visibility,
      protected: prot,
      owner: v.project_id,
      min_disk: v.size,
      ...(Number.isInteger(minRam) && minRam > 0 ? { min_ram: minRam } : {}),
    });
  } catch (e) {
    if (e instanceof ImageWriteError && e.status >= 400 && e.status < 500)
      throw new ApiError(e.status, e.message);
    throw e;
  }
  if (!(await transitionVolume(core, v.id, [v.status], { status: "uploading" }))) {
    await core.imageWriter.remove(imageId).catch(() => {});
    throw invalidVolume("the volume's status changed; try again.");
  }
  await core.agents.cast(agentOf(v.host), "upload_image", {
    volumeId: v.id,
    imageId,
    diskFormat: disk,
    requestId: ctx.requestId,
  });
  const t = await new TypeCache(core).get(v.volume_type_id);
  const out: Record<string, unknown> = {
    id: v.id,
    updated_at: isoTime(v.updated_at),
    status: "uploading",
    display_description: v.description,
    size: v.size,
    volume_type: t ? typeView(t, caller.isAdmin) : null,
    image_id: imageId,
    container_format: container,
    disk_format: disk,
    image_name: name,
  };
  if (since31) {
    out.visibility = visibility;
    out.protected = prot;
  }
  return reply(202, { "os-volume_upload_image": out });
}
