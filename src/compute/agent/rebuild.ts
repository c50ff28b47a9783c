// rebuild_instance: re-create a guest on this host from an image. Three callers: rebuild (the guest is here:
// destroy it and spawn from the new image), evacuate (the guest died with another host: spawn it here and mark
// the evacuation done) and unshelve of an offloaded server (spawn it here from its shelved snapshot).
import type { ArgsOf } from "../../shared/bus/index.js";
import { nowIso } from "../../shared/db/index.js";
import type { InstanceSpec } from "../drivers/types.js";
import { findInstance, type Instance } from "../instances/store.js";
import { TaskState as T, VmState as V } from "../instances/states.js";
import type { agentContract } from "../rpc.js";
import type { AgentDeps } from "./deps.js";
import { specVolumes } from "./volumes.js";
import { whenVifsPlugged } from "./vif-events.js";
import { deleteShelvedImage } from "./snapshot.js";
import { SHELVED_KEYS, advanceTask, runAction, type AgentAction } from "./run-action.js";

type RebuildArgs = ArgsOf<typeof agentContract, "rebuild_instance">;

/** Set an evacuation's migration record status (done or failed). */
async function migrationStatus(deps: AgentDeps, uuid: string | undefined, status: string): Promise<void> {
  if (!uuid) return;
  await deps.db
    .updateTable("compute_server_migration")
    .set({ status, updated_at: nowIso() })
    .where("uuid", "=", uuid)
    .execute();
}

/** Spawn the instance here from `imageRef`, leaving it powered off when it was stopped before. */
async function spawnFrom(deps: AgentDeps, inst: Instance, imageRef: string): Promise<void> {
  const base = deps.spec(inst);
  // Its volumes stay attached (Nova's rebuild detaches and attaches them again around the spawn).
  const volumes = await specVolumes(deps.db, inst.uuid);
  const spec: InstanceSpec = {
    ...base,
    image: { ...base.image, id: imageRef },
    ...(volumes.length > 0 ? { volumes } : {}),
  };
  await whenVifsPlugged(deps, inst.uuid, spec.networkInfo ?? [], () => deps.driver.spawn(spec));
  if (inst.vm_state === V.STOPPED) await deps.driver.powerOff(inst.uuid);
}

function rebuildAction(deps: AgentDeps, args: RebuildArgs): AgentAction {
  const { uuid, imageRef, evacuate, migrationUuid } = args;
  const settled = (inst: Instance) => (inst.vm_state === V.STOPPED ? V.STOPPED : V.ACTIVE);
  return {
    event: "compute_rebuild_instance",
    tasks: [T.REBUILDING, T.REBUILD_SPAWNING],
    vmStates: [V.ACTIVE, V.STOPPED, V.ERROR],
    async run(inst) {
      // Rebuild: the old guest goes first. Evacuate: remove whatever an earlier attempt left here.
      await deps.driver.destroy(uuid);
      await advanceTask(deps, inst, [T.REBUILDING], T.REBUILD_SPAWNING);
      await spawnFrom(deps, inst, imageRef);
      if (evacuate) await migrationStatus(deps, migrationUuid, "done");
      return { launched_at: nowIso() };
    },
    done: (inst) => ({ vm_state: settled(inst), progress: 0 }),
    failed: () => ({ vm_state: V.ERROR }),
    async cleanup() {
      await deps.driver.destroy(uuid).catch(() => undefined);
      if (evacuate) await migrationStatus(deps, migrationUuid, "failed");
    },
  };
}

function unshelveAction(deps: AgentDeps, args: RebuildArgs): AgentAction {
  const { ctx, uuid, imageRef } = args;
  return {
    event: "compute_unshelve_instance",
    tasks: [T.UNSHELVING],
    vmStates: [V.SHELVED_OFFLOADED],
    async run(inst) {
      const volumes = await specVolumes(deps.db, uuid);
      const spec = {
        ...deps.spec(inst),
        image: { id: imageRef },
        ...(volumes.length > 0 ? { volumes } : {}),
      };
      await whenVifsPlugged(deps, uuid, spec.networkInfo ?? [], () => deps.driver.spawn(spec));
      // The shelved snapshot has served its purpose (Nova deletes it once the server is back).
      if (inst.system_metadata.shelved_image_id === imageRef) await deleteShelvedImage(deps, inst, ctx.token);
      return { sysmeta: { remove: SHELVED_KEYS }, launched_at: nowIso() };
    },
    done: () => ({ vm_state: V.ACTIVE }),
    // Back to offloaded, on no host, so that it can be unshelved again.
    failed: () => ({ vm_state: V.SHELVED_OFFLOADED, host: null, node: null }),
    async cleanup() {
      await deps.driver.destroy(uuid).catch(() => undefined);
    },
  };
}

/** Handle rebuild_instance for a rebuild, an evacuation or an unshelve (told apart by the task state). */
export async function rebuildInstance(deps: AgentDeps, args: RebuildArgs): Promise<void> {
  const inst = await findInstance(deps.db, args.uuid);
  const unshelving = inst?.task_state === T.UNSHELVING;
  await runAction(
    deps,
    args.ctx,
    args.uuid,
    unshelving ? unshelveAction(deps, args) : rebuildAction(deps, args),
  );
}
