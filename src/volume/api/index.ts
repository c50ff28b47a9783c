import type { Route } from "../../shared/http/route.js";
import type { VolumeCore } from "../core.js";
import { actionRoutes } from "./actions.js";
import { adminRoutes } from "./admin.js";
import { attachmentRoutes } from "./attachments.js";
import { quotaRoutes } from "./quotas.js";
import { snapshotRoutes } from "./snapshots.js";
import { typeRoutes } from "./types.js";
import { versionRoutes } from "./versions.js";
import { volumeRoutes } from "./volumes.js";

/** Every route of the Block Storage API (Cinder v3, below /volume). */
export function volumeApiRoutes(core: VolumeCore): Route[] {
  return [
    ...versionRoutes(),
    ...volumeRoutes(core),
    ...actionRoutes(core),
    ...snapshotRoutes(core),
    ...attachmentRoutes(core),
    ...typeRoutes(core),
    ...quotaRoutes(core),
    ...adminRoutes(core),
  ];
}
