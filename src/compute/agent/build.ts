// Agent handlers for a server's life and death on this host: build (spawn, then report success or hand the
// server back to the conductor for a reschedule) and terminate.
import type { Handlers } from "../../shared/bus/index.js";
import { nowIso } from "../../shared/db/index.js";
import { PowerState } from "../drivers/types.js";
import { withEvent } from "../instances/actions.js";
import { casUpdate, findInstance } from "../instances/store.js";
import { TaskState, VmState } from "../instances/states.js";
import { conductorContract, type agentContract } from "../rpc.js";
import type { AgentDeps } from "./deps.js";
import { specVolumes } from "./volumes.js";
import { VirtualInterfaceCreateError, whenVifsPlugged } from "./vif-events.js";

/** build_and_run_instance and terminate_instance. */
export function buildHandlers(
  deps: AgentDeps,
): Pick<Handlers<typeof agentContract>, "build_and_run_instance" | "terminate_instance"> {
  const { db, driver, host, bus, log } = deps;
  return {
    async build_and_run_instance({ ctx, uuid, alternates }) {
      await deps.lock(uuid, async () => {
        const inst = await findInstance(db, uuid);
        if (!inst || inst.host !== host) return; // deleted meanwhile, or rescheduled elsewhere
        const spawning = await casUpdate(
          db,
          uuid,
          {
            vmState: [VmState.BUILDING],
            taskState: [null, TaskState.SCHEDULING, TaskState.NETWORKING],
            host,
          },
          { task_state: TaskState.SPAWNING },
        );
        if (!spawning) return; // a delete won the race
        try {
          const volumes = await specVolumes(db, uuid);
          const spec = { ...deps.spec(inst), ...(volumes.length > 0 ? { volumes } : {}) };
          await withEvent(db, ctx, uuid, "compute_build_and_run_instance", host, () =>
            whenVifsPlugged(deps, uuid, spec.networkInfo ?? [], () => driver.spawn(spec)),
          );
        } catch (e) {
          const reason = (e as Error).message;
          // VIFs not plugged are not this host's fault alone: the build is aborted, not rescheduled (as Nova).
          const abort = e instanceof VirtualInterfaceCreateError;
          log.warn({ uuid, host, reason, abort }, "spawn failed; handing the server back to the conductor");
          await driver.destroy(uuid).catch(() => undefined);
          await casUpdate(
            db,
            uuid,
            { vmState: [VmState.BUILDING], taskState: [TaskState.SPAWNING] },
            { task_state: TaskState.SCHEDULING },
          );
          await bus.cast(conductorContract, "reschedule", {
            ctx,
            uuid,
            failedHost: host,
            alternates,
            reason,
            ...(abort ? { abort } : {}),
          });
          return;
        }
        const done = await casUpdate(
          db,
          uuid,
          { vmState: [VmState.BUILDING], taskState: [TaskState.SPAWNING], host },
          {
            vm_state: VmState.ACTIVE,
            task_state: null,
            power_state: PowerState.RUNNING,
            launched_at: nowIso(),
            progress: 0,
          },
        );
        // Deleted while spawning: the delete workflow owns the row; leave no guest behind.
        if (!done) await driver.destroy(uuid).catch(() => undefined);
      });
    },

    async terminate_instance({ ctx, uuid }) {
      await deps.lock(uuid, () =>
        withEvent(db, ctx, uuid, "compute_terminate_instance", host, () => driver.destroy(uuid)),
      );
    },
  };
}
