import type { Route } from "../../shared/http/route.js";
import type { PlacementCore } from "../core.js";
import { aggregateRoutes } from "./aggregates.js";
import { candidateRoutes } from "./allocation-candidates.js";
import { allocationRoutes } from "./allocations.js";
import { methodNotAllowedRoutes } from "./common.js";
import { inventoryRoutes } from "./inventories.js";
import { resourceClassRoutes } from "./resource-classes.js";
import { providerRoutes } from "./resource-providers.js";
import { reshaperRoutes } from "./reshaper.js";
import { rootRoutes } from "./root.js";
import { traitRoutes } from "./traits.js";
import { usageRoutes } from "./usages.js";

/** Every route of the Placement API, plus 405s (with Allow) for the methods a path does not have. */
export function placementRoutes(core: PlacementCore): Route[] {
  const routes = [
    ...rootRoutes(),
    ...providerRoutes(core),
    ...inventoryRoutes(core),
    ...usageRoutes(core),
    ...aggregateRoutes(core),
    ...traitRoutes(core),
    ...resourceClassRoutes(core),
    ...allocationRoutes(core),
    ...candidateRoutes(core),
    ...reshaperRoutes(core),
  ];
  return [...routes, ...methodNotAllowedRoutes(routes)];
}
