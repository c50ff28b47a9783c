// Nova's checks of a volume before it is reserved for a server (attach, and the volumes of a create request).
import { badRequest } from "../../errors.js";
import type { CinderVolume } from "../../volume-client.js";
import type { Ctx } from "../common.js";

/** Nova's 400 for a multiattach volume below 2.60. */
export const MULTIATTACH_OLD_MICROVERSION =
  "Multiattach volumes are only supported starting with compute API version 2.60.";

/**
 * Whether a volume may be attached to one more server: available, or in-use when multiattach; a multiattach
 * volume only from microversion 2.60 (Nova's MultiattachNotSupportedOldMicroversion).
 */
export function checkAttachable(ctx: Ctx, vol: CinderVolume): void {
  if (vol.status !== "available" && !(vol.multiattach && vol.status === "in-use"))
    throw badRequest(
      `Invalid volume: volume '${vol.id}' status must be 'available'. Currently in '${vol.status}'`,
    );
  if (vol.multiattach && ctx.microversion.lt("2.60")) throw badRequest(MULTIATTACH_OLD_MICROVERSION);
}
