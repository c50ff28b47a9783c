import type { Logger } from "pino";
import type { Config } from "../shared/config.js";
import { migrate, type Database } from "../shared/db/index.js";
import type { ServiceApi } from "../shared/http/service.js";
import { computeRoutes } from "./api/index.js";
import { computeMicroversions } from "./api/microversions.js";
import { seedFlavors } from "./api/flavors.js";
import { ComputeCore } from "./core.js";
import { formatComputeError } from "./errors.js";
import { computeMigrations } from "./migrations/index.js";

export { computePolicies } from "./api/policy.js";

/** The Compute service (Nova API v2.1): flavors, key pairs, quotas, limits and server groups so far. */
export class ComputeService {
  private constructor(readonly core: ComputeCore) {}

  /** Migrate the compute tables and seed the devstack default flavors (once). */
  static async start(db: Database, cfg: Config, log: Logger): Promise<ComputeService> {
    await migrate(db, "compute", computeMigrations);
    const core = new ComputeCore(db.kysely, log, cfg);
    await seedFlavors(core);
    return new ComputeService(core);
  }

  /** The HTTP API mounted at /compute. */
  api(): ServiceApi {
    return {
      name: "compute",
      serviceType: "compute",
      prefix: "/compute",
      routes: computeRoutes(this.core),
      formatError: formatComputeError,
      microversions: computeMicroversions,
      requestIdHeaders: ["x-compute-request-id"],
      // Nova's router has no route for a collection with a trailing slash (`DELETE /images/`): 404, not 405.
      trailingSlashNotFound: true,
    };
  }
}
