// The conductor's move workflows as RPC handlers: resize and cold migration with confirm/revert, evacuation,
// live migration and unshelve. Each lives in its own file; this one only wires them to the contract.
import type { Handlers } from "../../shared/bus/index.js";
import type { ComputeCore } from "../core.js";
import type { conductorContract } from "../rpc.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import type { Expect } from "../instances/store.js";
import { TaskState as T, VmState as V } from "../instances/states.js";
import type { ConductorOwner } from "./ownership.js";
import { evacuateServer, unshelveServer } from "./evacuate.js";
import { liveMigrate } from "./live.js";
import { confirmResize, migrateServer, revertResize } from "./resize.js";

/** The undo stack of the move workflows. */
export { Rollback } from "./migration-records.js";

/** Handlers of the move workflows, each driven by one conductor at a time (`owner` claims the server). */
export function moveHandlers(
  core: ComputeCore,
  scheduler: Scheduler,
  owner: ConductorOwner,
): Pick<
  Handlers<typeof conductorContract>,
  "migrate_server" | "confirm_resize" | "revert_resize" | "evacuate" | "live_migrate" | "unshelve"
> {
  const drive = async (uuid: string, expect: Expect, fn: () => Promise<void>) => {
    await owner.drive(uuid, expect, fn);
  };
  return {
    migrate_server: (args) =>
      drive(args.uuid, { taskState: [T.RESIZE_PREP] }, () => migrateServer(core, scheduler, args, owner)),
    confirm_resize: (args) =>
      drive(args.uuid, { vmState: [V.RESIZED] }, () => confirmResize(core, args, owner)),
    revert_resize: (args) =>
      drive(args.uuid, { vmState: [V.RESIZED], taskState: [T.RESIZE_REVERTING] }, () =>
        revertResize(core, args, owner),
      ),
    evacuate: (args) =>
      drive(args.uuid, { taskState: [T.REBUILDING] }, () => evacuateServer(core, scheduler, args, owner)),
    live_migrate: (args) =>
      drive(args.uuid, { taskState: [T.MIGRATING] }, () => liveMigrate(core, scheduler, args, owner)),
    unshelve: (args) =>
      drive(args.uuid, { taskState: [T.UNSHELVING] }, () => unshelveServer(core, scheduler, args, owner)),
  };
}
