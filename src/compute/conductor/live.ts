// Live migration (Nova's LiveMigrationTask and the compute manager's steps): the source claim moves to the
// migration record, the destination is claimed, the destination prepares, the source streams the running guest
// over, and the destination takes it. Until the source has let go, every step can be undone.
import type { ComputeCore } from "../core.js";
import { PowerState } from "../drivers/types.js";
import { withEvent, type RequestContext } from "../instances/actions.js";
import { casUpdate, findInstance } from "../instances/store.js";
import { TaskState as T, VmState as V } from "../instances/states.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { hostZone } from "../zones.js";
import { Rollback, createMigration, updateMigration } from "./migration-records.js";
import {
  STEP_TIMEOUT_MS,
  agentOf,
  asError,
  failMove,
  lostOwnership,
  restoreSourceClaim,
} from "./move-common.js";
import type { ConductorOwner } from "./ownership.js";
import { buildRequest } from "./schedule.js";
import {
  attachVolumesAt,
  finishAttachments,
  restoreAttachments,
  type MovedAttachment,
} from "../volumes/flow.js";
import { bindPortsTo } from "../networking/bindings.js";

/** Live-migrate a server whose API request set MIGRATING (to `host`, or where the scheduler says). */
export async function liveMigrate(
  core: ComputeCore,
  scheduler: Scheduler,
  args: { ctx: RequestContext; uuid: string; host?: string },
  owner: ConductorOwner,
): Promise<void> {
  const { db, placement, bus, log } = core;
  const { ctx, uuid, host } = args;
  const inst = await findInstance(db, uuid);
  if (!inst || inst.task_state !== T.MIGRATING || !inst.host) return;
  const source = inst.host;
  const claimOwner = { projectId: inst.project_id, userId: inst.user_id };
  const mig = await createMigration(db, {
    instance_uuid: uuid,
    source_compute: source,
    source_node: inst.node,
    old_flavor_id: inst.flavor.flavorid,
    new_flavor_id: inst.flavor.flavorid,
    status: "accepted",
    migration_type: "live-migration",
    project_id: inst.project_id,
    user_id: inst.user_id,
  });
  const rb = new Rollback(log);
  let dest: { host: string; node: string } | undefined;
  let moved: MovedAttachment[] = [];
  try {
    await withEvent(db, ctx, uuid, "conductor_live_migrate_instance", null, async () => {
      await placement.moveAllocations(uuid, mig.uuid, claimOwner);
      rb.push("give the source claim back to the server", () =>
        restoreSourceClaim(core, mig.uuid, uuid, claimOwner),
      );
      const { choice } = await scheduler.select(
        await buildRequest(db, inst, 0, { ignoreHosts: [source], requestedHost: host }),
      );
      dest = { host: choice.host, node: choice.node };
      rb.push("drop the destination claim", () => placement.deleteAllocations(uuid));
      await updateMigration(db, mig.uuid, {
        dest_compute: choice.host,
        dest_node: choice.node,
        dest_host: choice.host,
        status: "preparing",
      });
    });
    const to = dest!;
    // The destination needs its taps before its QEMU waits for the incoming guest.
    await bindPortsTo(core, uuid, to.host);
    rb.push("bind the ports to the source again", () => bindPortsTo(core, uuid, source));
    // Each volume gets a second attachment, the destination's; the source's stays until the guest has moved.
    moved = await attachVolumesAt(core, inst, to.host);
    rb.push("give the volumes back to the source's attachments", () => restoreAttachments(core, inst, moved));
    await withEvent(db, ctx, uuid, "compute_pre_live_migration", to.host, () =>
      bus.call(
        agentOf(to.host),
        "pre_live_migration",
        { uuid, sourceHost: source },
        { timeoutMs: STEP_TIMEOUT_MS },
      ),
    );
    rb.push("clean up the destination", () =>
      withEvent(db, ctx, uuid, "compute_rollback_live_migration_at_destination", to.host, () =>
        bus.call(
          agentOf(to.host),
          "rollback_live_migration_at_destination",
          { uuid },
          { timeoutMs: STEP_TIMEOUT_MS },
        ),
      ),
    );
    await updateMigration(db, mig.uuid, { status: "running" });
    await withEvent(db, ctx, uuid, "compute_live_migration", source, () =>
      bus.call(
        agentOf(source),
        "live_migration",
        { uuid, destHost: to.host },
        { timeoutMs: STEP_TIMEOUT_MS },
      ),
    );
  } catch (e) {
    if (!(await owner.owns(uuid))) return lostOwnership(core, uuid, "live migration");
    await rb.run();
    await updateMigration(db, mig.uuid, { status: "error" });
    // A failed live migration leaves the server running where it was.
    await failMove(core, inst, [T.MIGRATING], {}, asError(e), "live migration");
    return;
  }
  // A conductor that stalled past the orphan timeout lost the server: the recovery finishes (or undoes) it.
  if (!(await owner.owns(uuid))) return lostOwnership(core, uuid, "live migration");
  // The guest has left the source: from here on, finish on the destination whatever happens.
  const to = dest!;
  await finishAttachments(core, inst, moved);
  const bind = {
    host: to.host,
    node: to.node,
    availability_zone: await hostZone(core, to.host),
  };
  try {
    await withEvent(db, ctx, uuid, "compute_post_live_migration_at_destination", to.host, () =>
      bus.call(
        agentOf(to.host),
        "post_live_migration_at_destination",
        { uuid },
        { timeoutMs: STEP_TIMEOUT_MS },
      ),
    );
  } catch (e) {
    await updateMigration(db, mig.uuid, { status: "error" });
    await failMove(core, inst, [T.MIGRATING], { ...bind, vm_state: V.ERROR }, asError(e), "live migration");
    await placement.deleteAllocations(mig.uuid);
    return;
  }
  await casUpdate(
    db,
    uuid,
    { taskState: [T.MIGRATING] },
    {
      ...bind,
      task_state: null,
      power_state: inst.vm_state === V.PAUSED ? PowerState.PAUSED : PowerState.RUNNING,
    },
  );
  await placement.deleteAllocations(mig.uuid);
  await updateMigration(db, mig.uuid, { status: "completed" });
}
