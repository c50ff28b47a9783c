// The common shape of an agent action (Nova's compute manager methods wrapped in reverts_task_state and
// wrap_instance_fault): take the instance lock, check the row still expects this action here, run the driver
// work inside an instance-action event, then settle the row with compare-and-set (task_state back to null). On
// failure the task is reverted, a fault is recorded, and vm_state is kept unless the action says otherwise.
import { PowerState } from "../drivers/types.js";
import { withEvent, type RequestContext } from "../instances/actions.js";
import { addFault, casUpdate, findInstance, type Instance, type InstancePatch } from "../instances/store.js";
import { mergeSysMeta } from "../instances/system-metadata.js";
import type { AgentDeps } from "./deps.js";

/** What one action does on this host. */
export interface AgentAction {
  /** Nova's event name, e.g. "compute_pause_instance". */
  event: string;
  /** Task states this action runs in (the one the API set and any it moves through); null = no task. */
  tasks: readonly (string | null)[];
  /** vm_states the action accepts (default: any). */
  vmStates?: readonly string[];
  /** The driver work; may return columns to set along with the outcome. */
  run(inst: Instance): Promise<InstancePatch | void>;
  /** Columns to set on success (task_state null and the power state are added). */
  done(inst: Instance): InstancePatch;
  /** Columns to set on failure besides task_state null (default: none, vm_state kept). */
  failed?(inst: Instance, err: Error, power: number): InstancePatch;
  /** Clean-up after a failure (best effort, errors logged). */
  cleanup?(inst: Instance, err: Error): Promise<void>;
}

/** The driver's power state of an instance now (NOSTATE when the hypervisor does not know it). */
export async function powerOf(deps: AgentDeps, uuid: string): Promise<number> {
  const info = await deps.driver.getInfo(uuid).catch(() => null);
  return info?.state ?? PowerState.NOSTATE;
}

/** Move the task forward while the action runs (e.g. image_pending_upload → image_uploading). */
export async function advanceTask(
  deps: AgentDeps,
  inst: Instance,
  from: readonly (string | null)[],
  to: string,
) {
  const ok = await casUpdate(deps.db, inst.uuid, { taskState: from, host: deps.host }, { task_state: to });
  if (!ok) throw new Error(`Instance ${inst.uuid} changed state while the action was under way.`);
}

/** Record a failed action on the server: task reverted, fault added. */
export async function failAction(
  deps: AgentDeps,
  inst: Instance,
  tasks: readonly (string | null)[],
  err: Error,
  patch: InstancePatch = {},
): Promise<void> {
  const ok = await casUpdate(deps.db, inst.uuid, { taskState: tasks }, { ...patch, task_state: null });
  deps.log.warn({ uuid: inst.uuid, host: deps.host, err: err.message }, "instance action failed");
  if (ok)
    await addFault(deps.db, inst.uuid, {
      code: 500,
      message: err.message,
      details: err.stack,
      host: deps.host,
    });
}

/** Run one action as described; never throws (a cast has nobody to report to). */
export async function runAction(
  deps: AgentDeps,
  ctx: RequestContext,
  uuid: string,
  action: AgentAction,
): Promise<void> {
  const { db, host, log } = deps;
  await deps.lock(uuid, async () => {
    const inst = await findInstance(db, uuid);
    if (
      !inst ||
      inst.host !== host ||
      !action.tasks.includes(inst.task_state) ||
      (action.vmStates && !action.vmStates.includes(inst.vm_state))
    ) {
      log.info(
        { uuid, event: action.event, vm: inst?.vm_state, task: inst?.task_state, host: inst?.host },
        "action no longer applies to the instance; ignored",
      );
      return;
    }
    let extra: InstancePatch | void;
    try {
      extra = await withEvent(db, ctx, uuid, action.event, host, () => action.run(inst));
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const power = await powerOf(deps, uuid);
      if (action.cleanup)
        await action
          .cleanup(inst, err)
          .catch((c: Error) => log.warn({ uuid, err: c.message }, "clean-up after a failed action failed"));
      await failAction(deps, inst, action.tasks, err, {
        power_state: power,
        ...(action.failed?.(inst, err, power) ?? {}),
      });
      return;
    }
    const power = await powerOf(deps, uuid);
    const done = action.done(inst);
    const ok = await casUpdate(
      db,
      uuid,
      { taskState: action.tasks },
      {
        power_state: power,
        ...done,
        ...extra,
        sysmeta: mergeSysMeta(done.sysmeta, extra?.sysmeta),
        task_state: null,
      },
    );
    if (!ok)
      log.info({ uuid, event: action.event }, "instance changed meanwhile (deleted?); outcome not recorded");
  });
}

/** The system_metadata keys a shelve leaves behind, removed once the server runs again. */
export const SHELVED_KEYS: readonly string[] = [
  "shelved_at",
  "shelved_image_id",
  "shelved_host",
  "shelved_image_url",
];
