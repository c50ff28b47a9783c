import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import { migrate, type Database } from "../shared/db/index.js";
import type { ServiceApi } from "../shared/http/service.js";
import { placementRoutes } from "./api/index.js";
import { PlacementCore } from "./core.js";
import { formatPlacementError } from "./errors.js";
import { placementMigrations } from "./migrations/index.js";
import { placementMicroversions } from "./microversions.js";
import { seedResourceClasses } from "./store/resource-classes.js";
import { seedTraits } from "./store/traits.js";

export { placementPolicies } from "./api/policy.js";

/** The Placement service: resource providers, inventories, allocations and allocation candidates. */
export class PlacementService {
  private constructor(readonly core: PlacementCore) {}

  /** Migrate the placement tables and seed the standard resource classes and traits. */
  static async start(db: Database, _cfg: Config, log: Logger): Promise<PlacementService> {
    await migrate(db, "placement", placementMigrations);
    const core = new PlacementCore(db.kysely, db.engine, log);
    await seedResourceClasses(core);
    await seedTraits(core);
    return new PlacementService(core);
  }

  /** The HTTP API mounted at /placement. */
  api(): ServiceApi {
    return {
      name: "placement",
      serviceType: "placement",
      prefix: "/placement",
      routes: placementRoutes(this.core),
      formatError: formatPlacementError,
      microversions: placementMicroversions,
    };
  }
}
