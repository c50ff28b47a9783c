// Agent handlers for one-host server actions (Nova's compute manager): power (stop, start, reboot, pause,
// suspend and their inverses), rescue, crash dumps, snapshots, rebuild, shelve and consoles. The API has already
// checked the state and set the task; each handler does the driver work and settles the row (see run-action.ts).
import type { Handlers } from "../../shared/bus/index.js";
import { InstanceNotFound, requireCapability } from "../drivers/errors.js";
import { PowerState } from "../drivers/types.js";
import type { RequestContext } from "../instances/actions.js";
import { TaskState as T, VmState as V } from "../instances/states.js";
import type { agentContract } from "../rpc.js";
import type { AgentDeps } from "./deps.js";
import { openSerialEndpoint } from "./serial-endpoints.js";
import { rebuildInstance } from "./rebuild.js";
import { SHELVED_KEYS, runAction, type AgentAction } from "./run-action.js";
import { deleteShelvedImage, shelveInstance, shelveOffloadInstance, snapshotInstance } from "./snapshot.js";

/** Seconds a clean shutdown may take before the guest is powered off forcibly (Nova's shutdown_timeout). */
const SHUTDOWN_TIMEOUT_S = 60;

const SOFT_TASKS = [T.REBOOTING, T.REBOOT_PENDING, T.REBOOT_STARTED];
const HARD_TASKS = [T.REBOOTING_HARD, T.REBOOT_PENDING_HARD, T.REBOOT_STARTED_HARD];

/** The last `length` lines of a console log (all of it when length is absent or -1). */
export function tailLines(text: string, length?: number): string {
  if (length === undefined || length < 0) return text;
  if (length === 0) return "";
  // As Nova tails it: the last `length` pieces of the log split on newlines, joined again.
  return text.split("\n").slice(-length).join("\n");
}

/** A one-step power action: `task` → `vmState`, running `op` on the driver. */
function simple(
  event: string,
  task: string,
  vmState: string,
  op: (uuid: string) => Promise<void>,
): AgentAction {
  return {
    event,
    tasks: [task],
    run: (inst) => op(inst.uuid),
    done: () => ({ vm_state: vmState }),
  };
}

/** The handlers of one-host actions. */
export function actionHandlers(
  deps: AgentDeps,
): Pick<
  Handlers<typeof agentContract>,
  | "stop_instance"
  | "start_instance"
  | "reboot_instance"
  | "pause_instance"
  | "unpause_instance"
  | "suspend_instance"
  | "resume_instance"
  | "rescue_instance"
  | "unrescue_instance"
  | "trigger_crash_dump"
  | "snapshot_instance"
  | "rebuild_instance"
  | "shelve_instance"
  | "shelve_offload_instance"
  | "get_console_output"
  | "get_vnc_console"
  | "get_serial_console"
> {
  const { driver } = deps;
  const act = (ctx: RequestContext, uuid: string, a: AgentAction) => runAction(deps, ctx, uuid, a);

  /** The instance must be on this host for a synchronous call to make sense. */
  const here = async (uuid: string): Promise<void> => {
    const list = await driver.listInstances();
    if (!list.includes(uuid)) throw new InstanceNotFound(uuid);
  };

  return {
    stop_instance: ({ ctx, uuid }) =>
      act(ctx, uuid, {
        ...simple("compute_stop_instance", T.POWERING_OFF, V.STOPPED, (u) =>
          driver.powerOff(u, { timeoutS: SHUTDOWN_TIMEOUT_S }),
        ),
        done: () => ({ vm_state: V.STOPPED, progress: 0 }),
      }),

    start_instance: ({ ctx, uuid }) =>
      act(ctx, uuid, {
        event: "compute_start_instance",
        // UNSHELVING: a shelved (not offloaded) server is unshelved by powering it on where it is.
        tasks: [T.POWERING_ON, T.UNSHELVING],
        async run(inst) {
          await driver.powerOn(inst.uuid);
          if (inst.vm_state === V.SHELVED) await deleteShelvedImage(deps, inst, ctx.token);
        },
        done: (inst) =>
          inst.vm_state === V.SHELVED
            ? { vm_state: V.ACTIVE, sysmeta: { remove: SHELVED_KEYS } }
            : { vm_state: V.ACTIVE },
      }),

    reboot_instance: ({ ctx, uuid, type }) =>
      act(ctx, uuid, {
        event: "compute_reboot_instance",
        tasks: type === "SOFT" ? SOFT_TASKS : HARD_TASKS,
        async run(inst) {
          if (type === "HARD") return driver.reboot(inst.uuid, "HARD");
          // A guest that ignores (or cannot take) a soft reboot gets a hard one, as Nova's drivers do.
          await driver.reboot(inst.uuid, "SOFT").catch(() => driver.reboot(inst.uuid, "HARD"));
        },
        done: () => ({ vm_state: V.ACTIVE }),
        // Nova: a failed reboot leaves a running guest ACTIVE, anything else in ERROR.
        failed: (_inst, _err, power) => ({ vm_state: power === PowerState.RUNNING ? V.ACTIVE : V.ERROR }),
      }),

    pause_instance: ({ ctx, uuid }) =>
      act(
        ctx,
        uuid,
        simple("compute_pause_instance", T.PAUSING, V.PAUSED, (u) =>
          requireCapability(driver, "pause").pause(u),
        ),
      ),

    unpause_instance: ({ ctx, uuid }) =>
      act(
        ctx,
        uuid,
        simple("compute_unpause_instance", T.UNPAUSING, V.ACTIVE, (u) =>
          requireCapability(driver, "unpause").unpause(u),
        ),
      ),

    suspend_instance: ({ ctx, uuid }) =>
      act(
        ctx,
        uuid,
        simple("compute_suspend_instance", T.SUSPENDING, V.SUSPENDED, (u) =>
          requireCapability(driver, "suspend").suspend(u),
        ),
      ),

    resume_instance: ({ ctx, uuid }) =>
      act(
        ctx,
        uuid,
        simple("compute_resume_instance", T.RESUMING, V.ACTIVE, (u) =>
          requireCapability(driver, "resume").resume(u),
        ),
      ),

    rescue_instance: ({ ctx, uuid, rescueImageRef }) =>
      act(ctx, uuid, {
        event: "compute_rescue_instance",
        tasks: [T.RESCUING],
        run: (inst) =>
          requireCapability(driver, "rescue").rescue(inst.uuid, {
            image: { id: rescueImageRef ?? inst.image_ref },
          }),
        done: (inst) => ({
          vm_state: V.RESCUED,
          sysmeta: { set: { old_vm_state: inst.vm_state } },
        }),
      }),

    unrescue_instance: ({ ctx, uuid }) =>
      act(ctx, uuid, {
        event: "compute_unrescue_instance",
        tasks: [T.UNRESCUING],
        run: (inst) => requireCapability(driver, "unrescue").unrescue(inst.uuid),
        done: () => ({ vm_state: V.ACTIVE, sysmeta: { remove: ["old_vm_state"] } }),
      }),

    trigger_crash_dump: ({ ctx, uuid }) =>
      act(ctx, uuid, {
        event: "compute_trigger_crash_dump",
        tasks: [null],
        run: (inst) => requireCapability(driver, "triggerCrashDump").triggerCrashDump(inst.uuid),
        done: () => ({}),
      }),

    snapshot_instance: (args) => snapshotInstance(deps, args),
    rebuild_instance: (args) => rebuildInstance(deps, args),
    shelve_instance: (args) => shelveInstance(deps, args),
    shelve_offload_instance: (args) => shelveOffloadInstance(deps, args),

    get_console_output: ({ uuid, length }) =>
      deps.lock(uuid, async () => {
        await here(uuid);
        const out = await requireCapability(driver, "getConsoleOutput").getConsoleOutput(uuid);
        return tailLines(out, length);
      }),

    get_vnc_console: ({ uuid }) =>
      deps.lock(uuid, async () => {
        await here(uuid);
        return requireCapability(driver, "getVncConsole").getVncConsole(uuid);
      }),

    get_serial_console: ({ uuid }) =>
      deps.lock(uuid, async () => {
        await here(uuid);
        const live = await requireCapability(driver, "getSerialConsole").getSerialConsole(uuid);
        return openSerialEndpoint(deps, live);
      }),
  };
}
