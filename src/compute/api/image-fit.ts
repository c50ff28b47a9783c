// Whether an image fits a flavor, as Nova checks on create, rebuild and resize (_validate_flavor_image_nostatus):
// memory vs min_ram, a non-zero root disk vs the image's size, virtual size and min_disk, and a zero root disk
// (no size check at all) only for whom the zero_disk_flavor rule allows.
import type { RequestSpec } from "../instances/store.js";
import { badRequest, forbidden } from "../errors.js";
import type { Ctx } from "./common.js";

/** Nova's rule for booting an image-backed server on a flavor with a zero root disk (admin by default). */
export const ZERO_DISK_FLAVOR_RULE = "os_compute_api:servers:create:zero_disk_flavor";

const GiB = 1024 ** 3;

/** The flavor sizes the check reads. */
export interface FitFlavor {
  memory_mb: number;
  root_gb: number;
}

/** Throws Nova's error when the image cannot boot on the flavor (400, or 403 for a zero-disk flavor). */
export function checkImageFits(
  ctx: Ctx,
  image: RequestSpec["image"],
  flavor: FitFlavor,
  projectId: string,
): void {
  if ((image.min_ram ?? 0) > flavor.memory_mb)
    throw badRequest("Flavor's memory is too small for requested image.");
  const dest = flavor.root_gb * GiB;
  if (dest === 0) {
    if (!ctx.allowed(ZERO_DISK_FLAVOR_RULE, { project_id: projectId }))
      throw forbidden("Only volume-backed servers are allowed for flavors with zero disk.");
    return;
  }
  // Nova compares the stored size here and the virtual size when the compute host fetches the image; both refuse.
  const size = Math.max(image.size ?? 0, image.virtual_size ?? 0);
  if (size > dest)
    throw badRequest(
      `Flavor's disk is too small for requested image. Flavor disk is ${dest} bytes, image is ${size} bytes.`,
    );
  const minDisk = (image.min_disk ?? 0) * GiB;
  if (minDisk > dest)
    throw badRequest(
      "Flavor's disk is smaller than the minimum size specified in image metadata. " +
        `Flavor disk is ${dest} bytes, minimum size is ${minDisk} bytes.`,
    );
}
