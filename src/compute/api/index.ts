import type { Route } from "../../shared/http/route.js";
import type { ComputeCore } from "../core.js";
import { flavorRoutes } from "./flavors.js";
import { keypairRoutes } from "./keypairs.js";
import { quotaRoutes } from "./quotas.js";
import { serverGroupRoutes } from "./servergroups.js";
import { versionRoutes } from "./versions.js";
import { adminRoutes } from "./admin/index.js";
import { legacyRoutes } from "./legacy/index.js";
import { serverActionRoutes } from "./server-actions/index.js";
import { serverRoutes } from "./servers/index.js";

/** Every route of the Compute API (below /compute). */
export function computeRoutes(core: ComputeCore): Route[] {
  return [
    ...versionRoutes(),
    ...flavorRoutes(core),
    ...keypairRoutes(core),
    ...quotaRoutes(core),
    ...serverGroupRoutes(core),
    ...serverRoutes(core),
    ...serverActionRoutes(core),
    ...adminRoutes(core),
    ...legacyRoutes(core),
  ];
}
