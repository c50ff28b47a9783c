// The conductor's move workflows as RPC handlers: resize and cold migration with confirm/revert, evacuation,
// live migration and unshelve. Each lives in its own file; this one only wires them to the contract.
import type { Handlers } from "../../shared/bus/index.js";
import type { ComputeCore } from "../core.js";
import type { conductorContract } from "../rpc.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { evacuateServer, unshelveServer } from "./evacuate.js";
import { liveMigrate } from "./live.js";
import { confirmResize, migrateServer, revertResize } from "./resize.js";

/** The undo stack of the move workflows. */
export { Rollback } from "./migration-records.js";

/** Handlers of the move workflows. */
export function moveHandlers(
  core: ComputeCore,
  scheduler: Scheduler,
): Pick<
  Handlers<typeof conductorContract>,
  "migrate_server" | "confirm_resize" | "revert_resize" | "evacuate" | "live_migrate" | "unshelve"
> {
  return {
    migrate_server: (args) => migrateServer(core, scheduler, args),
    confirm_resize: (args) => confirmResize(core, args),
    revert_resize: (args) => revertResize(core, args),
    evacuate: (args) => evacuateServer(core, scheduler, args),
    live_migrate: (args) => liveMigrate(core, scheduler, args),
    unshelve: (args) => unshelveServer(core, scheduler, args),
  };
}
