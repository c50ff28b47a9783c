// Evacuate (rebuild a server whose host is down on another host) and unshelve (boot a shelved server again):
// both schedule the server afresh, claim the new host, bind the row to it and hand the guest's creation to that
// host's agent (rebuild_instance).
import type { ComputeCore } from "../core.js";
import { withEvent, type RequestContext } from "../instances/actions.js";
import { casUpdate, findInstance } from "../instances/store.js";
import { TaskState as T, VmState as V } from "../instances/states.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { hostZone } from "../zones.js";
import {
  Rollback,
  createMigration,
  findMigration,
  updateMigration,
  type MigrationRow,
} from "./migration-records.js";
import { agentOf, asError, failMove, lostOwnership, restoreSourceClaim } from "./move-common.js";
import type { ConductorOwner } from "./ownership.js";
import { buildRequest } from "./schedule.js";
import { reconnectVolumes } from "../volumes/flow.js";
import { bindPortsTo } from "../networking/bindings.js";

/**
 * Evacuate: the API checked that the source host is down, set REBUILDING and recorded an "accepted" evacuation.
 * The source's claim moves to the migration (and is dropped once the rebuild is handed over); the destination is
 * claimed for the server. The source agent, if it ever comes back, destroys the guest it no longer owns.
 */
export async function evacuateServer(
  core: ComputeCore,
  scheduler: Scheduler,
  args: { ctx: RequestContext; uuid: string; host?: string },
  owner: ConductorOwner,
): Promise<void> {
  const { db, placement, bus, log } = core;
  const { ctx, uuid, host } = args;
  const inst = await findInstance(db, uuid);
  if (!inst || inst.task_state !== T.REBUILDING || !inst.host) return;
  const source = inst.host;
  const claimOwner = { projectId: inst.project_id, userId: inst.user_id };
  const rb = new Rollback(log);
  let mig: MigrationRow | undefined;
  try {
    await withEvent(db, ctx, uuid, "conductor_rebuild_server", null, async () => {
      const m = (mig =
        (await findMigration(db, uuid, ["accepted"], ["evacuation"])) ??
        (await createMigration(db, {
          instance_uuid: uuid,
          source_compute: source,
          source_node: inst.node,
          status: "accepted",
          migration_type: "evacuation",
          project_id: inst.project_id,
          user_id: inst.user_id,
        })));
      await updateMigration(db, m.uuid, { status: "pre-migrating" });
      await placement.moveAllocations(uuid, m.uuid, claimOwner);
      rb.push("give the source claim back to the server", () =>
        restoreSourceClaim(core, m.uuid, uuid, claimOwner),
      );
      const { choice } = await scheduler.select(
        await buildRequest(db, inst, 0, { ignoreHosts: [source], requestedHost: host }),
      );
      rb.push("drop the destination claim", () => placement.deleteAllocations(uuid));
      const bound = await casUpdate(
        db,
        uuid,
        { taskState: [T.REBUILDING], host: source },
        { host: choice.host, node: choice.node, availability_zone: await hostZone(core, choice.host) },
      );
      if (!bound) throw new Error(`Instance ${uuid} changed state while it was being evacuated.`);
      rb.push("bind the server to its old host again", () =>
        casUpdate(db, uuid, { host: choice.host }, { host: source, node: inst.node }),
      );
      await updateMigration(db, m.uuid, {
        dest_compute: choice.host,
        dest_node: choice.node,
        dest_host: choice.host,
      });
      await bindPortsTo(core, uuid, choice.host);
      rb.push("bind the ports to the old host again", () => bindPortsTo(core, uuid, source));
      await reconnectVolumes(core, inst, choice.host);
      await bus.cast(agentOf(choice.host), "rebuild_instance", {
        ctx,
        uuid,
        imageRef: inst.image_ref,
        evacuate: true,
        migrationUuid: m.uuid,
      });
      rb.clear();
      // The dead host's share of the claim is not coming back.
      await placement.deleteAllocations(m.uuid);
    });
  } catch (e) {
    if (!(await owner.owns(uuid))) return lostOwnership(core, uuid, "evacuate");
    await rb.run();
    if (mig) await updateMigration(db, mig.uuid, { status: "error" });
    // Nova puts a server it could not evacuate in ERROR (it stays on its dead host).
    await failMove(core, inst, [T.REBUILDING], { vm_state: V.ERROR }, asError(e), "evacuate");
  }
}

/**
 * Unshelve: a shelved (not offloaded) server is powered on where it is; an offloaded one is scheduled, claimed
 * and spawned from its shelved snapshot on the chosen host.
 */
export async function unshelveServer(
  core: ComputeCore,
  scheduler: Scheduler,
  args: { ctx: RequestContext; uuid: string; availabilityZone?: string | null; host?: string },
  owner: ConductorOwner,
): Promise<void> {
  const { db, placement, bus, log } = core;
  const { ctx, uuid, host } = args;
  const inst = await findInstance(db, uuid);
  if (!inst || inst.task_state !== T.UNSHELVING) return;
  if (inst.vm_state === V.SHELVED && inst.host) {
    await bus.cast(agentOf(inst.host), "start_instance", { ctx, uuid });
    return;
  }
  if (inst.vm_state !== V.SHELVED_OFFLOADED) return;
  const rb = new Rollback(log);
  try {
    await withEvent(db, ctx, uuid, "conductor_unshelve_instance", null, async () => {
      const imageId = inst.system_metadata.shelved_image_id;
      if (typeof imageId !== "string" || !imageId)
        throw new Error(`Instance ${uuid} has no shelved image to unshelve from.`);
      // A claim left from before the offload (the agent cannot release it) would be counted twice.
      await placement.deleteAllocations(uuid);
      const { choice } = await scheduler.select(await buildRequest(db, inst, 0, { requestedHost: host }));
      rb.push("drop the claim", () => placement.deleteAllocations(uuid));
      const bound = await casUpdate(
        db,
        uuid,
        { taskState: [T.UNSHELVING], vmState: [V.SHELVED_OFFLOADED] },
        { host: choice.host, node: choice.node, availability_zone: await hostZone(core, choice.host) },
      );
      if (!bound) throw new Error(`Instance ${uuid} changed state while it was being unshelved.`);
      rb.push("unbind the server", () =>
        casUpdate(db, uuid, { host: choice.host }, { host: null, node: null }),
      );
      await bindPortsTo(core, uuid, choice.host);
      rb.push("unbind the ports", () => bindPortsTo(core, uuid, ""));
      await reconnectVolumes(core, inst, choice.host);
      await bus.cast(agentOf(choice.host), "rebuild_instance", {
        ctx,
        uuid,
        imageRef: imageId,
        evacuate: true,
      });
    });
  } catch (e) {
    if (!(await owner.owns(uuid))) return lostOwnership(core, uuid, "unshelve");
    await rb.run();
    await failMove(
      core,
      inst,
      [T.UNSHELVING],
      { vm_state: V.SHELVED_OFFLOADED, host: null, node: null },
      asError(e),
      "unshelve",
    );
  }
}
