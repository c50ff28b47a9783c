// Resize and cold migration (Nova's MigrationTask and the compute manager's prep/resize/finish steps), driven
// from the conductor: move the server's claim to a migration record, claim the destination, migrate the disk
// and power off on the source, build on the destination, and wait in VERIFY_RESIZE. Confirm drops the source;
// revert drops the destination and brings the source back.
import type { ComputeCore } from "../core.js";
import { PowerState } from "../drivers/types.js";
import { withEvent, type RequestContext } from "../instances/actions.js";
import { casUpdate, findInstance, type Instance, type InstanceFlavor } from "../instances/store.js";
import { TaskState as T, VmState as V } from "../instances/states.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { hostZone } from "../zones.js";
import {
  Rollback,
  createMigration,
  findMigration,
  loadFlavor,
  updateMigration,
  type MigrationRow,
} from "./migration-records.js";
import {
  STEP_TIMEOUT_MS,
  agentOf,
  asError,
  failMove,
  lostOwnership,
  restoreSourceClaim,
  sameHostAllowed,
  withoutResize,
} from "./move-common.js";
import type { ConductorOwner } from "./ownership.js";
import { buildRequest } from "./schedule.js";
import { reconnectVolumes } from "../volumes/flow.js";
import { bindPortsTo } from "../networking/bindings.js";

/** Task states of a resize or cold migration under way in the conductor. */
export const RESIZE_TASKS: string[] = [T.RESIZE_PREP, T.RESIZE_MIGRATING, T.RESIZE_MIGRATED, T.RESIZE_FINISH];

/** The columns that follow an instance's flavor. */
export const flavorColumns = (f: InstanceFlavor) => ({ flavor: f, vcpus: f.vcpus, memory_mb: f.memory_mb });

/** The vm_state a resized server returns to (stopped servers stay stopped). */
export const settledState = (inst: Instance): string =>
  inst.system_metadata.old_vm_state === V.STOPPED ? V.STOPPED : V.ACTIVE;

/**
 * Resize (flavorid) or cold-migrate (optional host) a server whose API request set RESIZE_PREP; the source host
 * may be chosen again when compute.allowResizeToSameHost says so.
 */
export async function migrateServer(
  core: ComputeCore,
  scheduler: Scheduler,
  args: { ctx: RequestContext; uuid: string; flavorid?: string; host?: string },
  owner: ConductorOwner,
): Promise<void> {
  const { db, placement, bus, log } = core;
  const { ctx, uuid, flavorid, host } = args;
  const inst = await findInstance(db, uuid);
  if (!inst || inst.task_state !== T.RESIZE_PREP || !inst.host) return;
  const source = inst.host;
  const claimOwner = { projectId: inst.project_id, userId: inst.user_id };
  const running = inst.vm_state !== V.STOPPED;
  const rb = new Rollback(log);
  let mig: MigrationRow | undefined;
  try {
    await withEvent(db, ctx, uuid, "conductor_migrate_server", null, async () => {
      const flavor = flavorid ? await loadFlavor(db, flavorid) : inst.flavor;
      if (!flavor) throw new Error(`Flavor ${flavorid} could not be found.`);
      const m = (mig = await createMigration(db, {
        instance_uuid: uuid,
        source_compute: source,
        source_node: inst.node,
        old_flavor_id: inst.flavor.flavorid,
        new_flavor_id: flavor.flavorid,
        status: "pre-migrating",
        migration_type: flavorid ? "resize" : "migration",
        project_id: inst.project_id,
        user_id: inst.user_id,
      }));
      await placement.moveAllocations(uuid, m.uuid, claimOwner);
      rb.push("give the source claim back to the server", () =>
        restoreSourceClaim(core, m.uuid, uuid, claimOwner),
      );

      const req = await buildRequest(db, { ...inst, flavor }, 0, {
        ignoreHosts: (await sameHostAllowed(core)) ? [] : [source],
        requestedHost: host,
      });
      const { choice } = await scheduler.select(req);
      const dest = choice.host;
      rb.push("drop the destination claim", () => placement.deleteAllocations(uuid));
      await updateMigration(db, m.uuid, {
        dest_compute: dest,
        dest_node: choice.node,
        dest_host: dest,
        status: "migrating",
      });
      if (
        !(await casUpdate(
          db,
          uuid,
          { taskState: [T.RESIZE_PREP] },
          {
            task_state: T.RESIZE_MIGRATING,
            sysmeta: {
              set: {
                old_flavor: inst.flavor,
                new_flavor: flavor,
                old_vm_state: inst.vm_state,
                migration_uuid: m.uuid,
              },
            },
          },
        ))
      )
        throw new Error(`Instance ${uuid} changed state while it was being migrated.`);

      const disk = await withEvent(db, ctx, uuid, "compute_resize_instance", source, () =>
        bus.call(
          agentOf(source),
          "migrate_disk_and_power_off",
          { uuid, destHost: dest },
          { timeoutMs: STEP_TIMEOUT_MS },
        ),
      );
      rb.push("restore the guest on the source", () =>
        bus.call(
          agentOf(source),
          "finish_revert_migration",
          { uuid, powerOn: running },
          { timeoutMs: STEP_TIMEOUT_MS },
        ),
      );
      await updateMigration(db, m.uuid, { status: "post-migrating" });
      await casUpdate(db, uuid, { taskState: [T.RESIZE_MIGRATING] }, { task_state: T.RESIZE_MIGRATED });
      // The destination's network agent makes the taps its guest opens.
      if (dest !== source) {
        await bindPortsTo(core, uuid, dest);
        rb.push("bind the ports to the source again", () => bindPortsTo(core, uuid, source));
        // Its volumes: the attachments get the destination's connector (and the source's again on rollback).
        await reconnectVolumes(core, inst, dest);
        rb.push("reconnect the volumes to the source", () => reconnectVolumes(core, inst, source));
      }

      await bus.call(
        agentOf(dest),
        "finish_migration",
        { ctx, uuid, disk, powerOn: running },
        { timeoutMs: STEP_TIMEOUT_MS },
      );
      // On the same host, restoring the source guest (above) is what discards the resized one.
      if (dest !== source)
        rb.push("destroy the guest on the destination", () =>
          bus.call(agentOf(dest), "destroy_guest", { uuid }, { timeoutMs: STEP_TIMEOUT_MS }),
        );
      const done = await casUpdate(
        db,
        uuid,
        { taskState: [T.RESIZE_MIGRATED] },
        {
          vm_state: V.RESIZED,
          task_state: null,
          host: dest,
          node: choice.node,
          availability_zone: await hostZone(core, dest),
          power_state: running ? PowerState.RUNNING : PowerState.SHUTDOWN,
          ...flavorColumns(flavor),
        },
      );
      if (!done) throw new Error(`Instance ${uuid} changed state while it was being migrated.`);
      await updateMigration(db, m.uuid, { status: "finished" });
    });
  } catch (e) {
    if (!(await owner.owns(uuid))) return lostOwnership(core, uuid, "resize");
    await rb.run();
    if (mig) await updateMigration(db, mig.uuid, { status: "error" });
    await failMove(
      core,
      inst,
      RESIZE_TASKS,
      { vm_state: inst.vm_state, power_state: inst.power_state, sysmeta: withoutResize },
      asError(e),
      flavorid ? "resize" : "migrate",
    );
  }
}

/** Confirm a resize: the source guest and the source claim (held by the migration) go. */
export async function confirmResize(
  core: ComputeCore,
  args: { ctx: RequestContext; uuid: string },
  owner: ConductorOwner,
): Promise<void> {
  const { db, placement, bus } = core;
  const { ctx, uuid } = args;
  const inst = await findInstance(db, uuid);
  if (!inst || inst.vm_state !== V.RESIZED) return;
  const mig = await findMigration(db, uuid, ["confirming"], ["resize", "migration"]);
  if (!mig?.source_compute) return;
  const source = mig.source_compute;
  try {
    await withEvent(db, ctx, uuid, "compute_confirm_resize", source, async () => {
      await bus.call(agentOf(source), "confirm_migration", { uuid }, { timeoutMs: STEP_TIMEOUT_MS });
      await placement.deleteAllocations(mig.uuid);
    });
    await casUpdate(
      db,
      uuid,
      { vmState: [V.RESIZED] },
      { vm_state: settledState(inst), task_state: null, sysmeta: withoutResize },
    );
    await updateMigration(db, mig.uuid, { status: "confirmed" });
  } catch (e) {
    if (!(await owner.owns(uuid))) return lostOwnership(core, uuid, "confirm resize");
    await updateMigration(db, mig.uuid, { status: "error" });
    await failMove(
      core,
      inst,
      [null, T.RESIZE_CONFIRMING],
      { vm_state: V.ERROR },
      asError(e),
      "confirm resize",
    );
  }
}

/** Revert a resize: the destination guest and claim go, the source claim and guest come back. */
export async function revertResize(
  core: ComputeCore,
  args: { ctx: RequestContext; uuid: string },
  owner: ConductorOwner,
): Promise<void> {
  const { db, bus } = core;
  const { ctx, uuid } = args;
  const inst = await findInstance(db, uuid);
  if (!inst || inst.vm_state !== V.RESIZED || inst.task_state !== T.RESIZE_REVERTING) return;
  const mig = await findMigration(db, uuid, ["reverting"], ["resize", "migration"]);
  if (!mig?.source_compute || !mig.dest_compute) return;
  const { source_compute: source, dest_compute: dest } = mig;
  const claimOwner = { projectId: inst.project_id, userId: inst.user_id };
  const oldFlavor = (inst.system_metadata.old_flavor as InstanceFlavor | undefined) ?? inst.flavor;
  const running = settledState(inst) === V.ACTIVE;
  try {
    // On the same host, finish_revert_migration below swaps the resized guest for the source one.
    if (dest !== source)
      await withEvent(db, ctx, uuid, "compute_revert_resize", dest, () =>
        bus.call(agentOf(dest), "destroy_guest", { uuid }, { timeoutMs: STEP_TIMEOUT_MS }),
      );
    await restoreSourceClaim(core, mig.uuid, uuid, claimOwner);
    if (dest !== source) {
      await bindPortsTo(core, uuid, source);
      await reconnectVolumes(core, inst, source);
    }
    await withEvent(db, ctx, uuid, "compute_finish_revert_resize", source, () =>
      bus.call(
        agentOf(source),
        "finish_revert_migration",
        { uuid, powerOn: running },
        { timeoutMs: STEP_TIMEOUT_MS },
      ),
    );
    await casUpdate(
      db,
      uuid,
      { taskState: [T.RESIZE_REVERTING] },
      {
        vm_state: settledState(inst),
        task_state: null,
        host: source,
        node: mig.source_node,
        availability_zone: await hostZone(core, source),
        power_state: running ? PowerState.RUNNING : PowerState.SHUTDOWN,
        sysmeta: withoutResize,
        ...flavorColumns(oldFlavor),
      },
    );
    await updateMigration(db, mig.uuid, { status: "reverted" });
  } catch (e) {
    if (!(await owner.owns(uuid))) return lostOwnership(core, uuid, "revert resize");
    await updateMigration(db, mig.uuid, { status: "error" });
    await failMove(core, inst, [T.RESIZE_REVERTING], { vm_state: V.ERROR }, asError(e), "revert resize");
  }
}
