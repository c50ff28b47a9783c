// Recovery of orphaned work: builds and moves whose conductor died (its heartbeat stopped) or whose cast never
// reached a conductor (the API died after writing the row). Run by every conductor when it starts and then
// periodically; each orphan is claimed with a compare-and-set, so two conductors never recover the same server.
// Builds are scheduled afresh (or handed to their host again); resizes and migrations are rolled back to the
// source; confirm and revert are run again; evacuations and unshelves are resumed.
import type { ComputeCore } from "../core.js";
import { PowerState } from "../drivers/types.js";
import type { RequestContext } from "../instances/actions.js";
import {
  addFault,
  casUpdate,
  findInstance,
  parseInstance,
  type Instance,
  type InstanceFlavor,
} from "../instances/store.js";
import { TaskState as T, VmState as V } from "../instances/states.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { hostZone } from "../zones.js";
import { bindPortsTo } from "../networking/bindings.js";
import { settleAttachments } from "../volumes/flow.js";
import { scheduleAndDispatch } from "./conductor.js";
import { evacuateServer, unshelveServer } from "./evacuate.js";
import { findMigration, updateMigration } from "./migration-records.js";
import { STEP_TIMEOUT_MS, agentOf, restoreSourceClaim, withoutResize } from "./move-common.js";
import type { ConductorOwner } from "./ownership.js";
import { RESIZE_TASKS, confirmResize, flavorColumns, revertResize } from "./resize.js";

/** Task states a conductor drives (with vm_state building for builds, resized for confirm). */
const CONDUCTOR_TASKS: string[] = [
  T.SCHEDULING,
  T.NETWORKING,
  ...RESIZE_TASKS,
  T.RESIZE_REVERTING,
  T.MIGRATING,
  T.REBUILDING,
  T.UNSHELVING,
];

/** Migration statuses of a move still under way. */
const MOVING = ["accepted", "pre-migrating", "migrating", "post-migrating", "preparing", "running"];

/** The context of the server's latest action, so that recovered steps are recorded as its events. */
async function recoveryContext(core: ComputeCore, inst: Instance): Promise<RequestContext> {
  const a = (await core.db
    .selectFrom("compute_instance_action")
    .select(["request_id", "user_id", "project_id"])
    .where("instance_uuid", "=", inst.uuid)
    .orderBy("id", "desc")
    .executeTakeFirst()) as { request_id: string; user_id: string; project_id: string } | undefined;
  return a
    ? { requestId: a.request_id, userId: a.user_id, projectId: a.project_id }
    : { requestId: `req-recovery-${inst.uuid}`, userId: inst.user_id, projectId: inst.project_id };
}

/** Servers that may be orphaned: owned by a dead conductor, or unowned in a conductor's state for too long. */
async function candidates(core: ComputeCore, owner: ConductorOwner, now: number): Promise<Instance[]> {
  const dead = owner.deadBefore(now);
  const stale = new Date(dead).toISOString();
  const rows = await core.db
    .selectFrom("compute_instance")
    .selectAll()
    .where("deleted", "=", 0)
    .where((eb) =>
      eb.or([
        eb.and([
          eb("task_owner", "is not", null),
          eb(
            "task_owner",
            "not in",
            eb.selectFrom("compute_conductor").select("id").where("heartbeat_ms", ">=", dead),
          ),
        ]),
        eb.and([
          eb("task_owner", "is", null),
          eb("updated_at", "<", stale),
          eb.or([eb("task_state", "in", CONDUCTOR_TASKS), eb("vm_state", "=", V.RESIZED)]),
        ]),
      ]),
    )
    .execute();
  return rows.map((r) => parseInstance(r));
}

/**
 * Whether a candidate needs recovering. A dead conductor's server always does (if only to be released); one no
 * conductor took only in the states where a lost cast leaves it (not once it was handed to an agent).
 */
async function orphaned(core: ComputeCore, inst: Instance): Promise<boolean> {
  if (inst.task_owner) return true;
  const t = inst.task_state;
  if (inst.vm_state === V.BUILDING) return t === T.SCHEDULING;
  if (inst.vm_state === V.RESIZED)
    return !!(await findMigration(core.db, inst.uuid, ["confirming"])) || t === T.RESIZE_REVERTING;
  if (t === T.RESIZE_PREP || t === T.MIGRATING) return true;
  if (t === T.UNSHELVING) return inst.vm_state === V.SHELVED_OFFLOADED && !inst.host;
  if (t === T.REBUILDING) {
    const mig = await findMigration(core.db, inst.uuid, MOVING, ["evacuation"]);
    return !!mig && inst.host === mig.source_compute;
  }
  return false;
}

/** Roll an interrupted resize or cold migration back to its source host. */
async function rollBackResize(core: ComputeCore, inst: Instance): Promise<void> {
  const { db, bus } = core;
  const mig = await findMigration(db, inst.uuid, MOVING, ["resize", "migration"]);
  const source = mig?.source_compute ?? inst.host;
  const running = inst.vm_state !== V.STOPPED;
  const claimOwner = { projectId: inst.project_id, userId: inst.user_id };
  const step = async (what: string, host: string | null, fn: (h: string) => Promise<unknown>) => {
    if (!host) return;
    await fn(host).catch((e: Error) =>
      core.log.warn({ uuid: inst.uuid, host, step: what, err: e.message }, "recovery step failed"),
    );
  };
  if (mig?.dest_compute && mig.dest_compute !== source)
    await step("destroy the destination guest", mig.dest_compute, (h) =>
      bus.call(agentOf(h), "destroy_guest", { uuid: inst.uuid }, { timeoutMs: STEP_TIMEOUT_MS }),
    );
  await step("restore the source guest", source, (h) =>
    bus.call(
      agentOf(h),
      "finish_revert_migration",
      { uuid: inst.uuid, powerOn: running },
      { timeoutMs: STEP_TIMEOUT_MS },
    ),
  );
  if (mig) await restoreSourceClaim(core, mig.uuid, inst.uuid, claimOwner);
  const oldFlavor = (inst.system_metadata.old_flavor as InstanceFlavor | undefined) ?? inst.flavor;
  await casUpdate(
    db,
    inst.uuid,
    { taskState: RESIZE_TASKS },
    {
      task_state: null,
      host: source,
      node: mig?.source_node ?? inst.node,
      availability_zone: source ? await hostZone(core, source) : inst.availability_zone,
      power_state: running ? PowerState.RUNNING : PowerState.SHUTDOWN,
      sysmeta: withoutResize,
      ...flavorColumns(oldFlavor),
    },
  );
  if (mig) await updateMigration(db, mig.uuid, { status: "error" });
  await addFault(db, inst.uuid, {
    code: 500,
    message:
      "The resize or migration was interrupted (its conductor stopped) and has been rolled back; " +
      "the server is on its source host with its old flavor.",
    host: source,
  });
}

/** The guest's power state on `host` (null: no guest there; undefined: the host did not say). */
async function guestState(core: ComputeCore, host: string, uuid: string): Promise<number | null | undefined> {
  return core.bus.call(agentOf(host), "guest_state", { uuid }, { timeoutMs: 60_000 }).catch((e: Error) => {
    core.log.warn({ uuid, host, err: e.message }, "recovery: could not ask where the guest runs");
    return undefined;
  });
}

/**
 * Recover an interrupted live migration where the guest actually runs: still on the source (the migration had not
 * started or did not finish) → the destination is cleaned up and the server stays ACTIVE there, migration error;
 * only on the destination (the guest had moved) → the destination resumes it and the server is ACTIVE there,
 * migration completed. Each volume keeps the attachment of the host the guest runs on. Only when neither host can
 * say (or neither has it) does the server go to ERROR, on its source, whose attachments its volumes keep.
 */
async function recoverLive(core: ComputeCore, inst: Instance): Promise<void> {
  const { db, bus } = core;
  const mig = await findMigration(db, inst.uuid, MOVING, ["live-migration"]);
  const claimOwner = { projectId: inst.project_id, userId: inst.user_id };
  const source = mig?.source_compute ?? inst.host;
  const dest = mig?.dest_compute ?? null;
  // Before "running" the guest never left; after, ask both hosts.
  const started = mig?.status === "running";
  const onSource = started && source ? await guestState(core, source, inst.uuid) : PowerState.RUNNING;
  const onDest = started && dest ? await guestState(core, dest, inst.uuid) : null;
  const warn = (what: string) => (e: Error) =>
    core.log.warn({ uuid: inst.uuid, step: what, err: e.message }, "recovery step failed");
  const call = (
    host: string,
    method: "rollback_live_migration_at_destination" | "post_live_migration_at_destination",
  ) => bus.call(agentOf(host), method, { uuid: inst.uuid }, { timeoutMs: STEP_TIMEOUT_MS });

  if (source && onSource !== null && onSource !== undefined) {
    // The guest is (still) on the source: undo the destination's side.
    if (dest)
      await call(dest, "rollback_live_migration_at_destination").catch(warn("clean up the destination"));
    if (mig) await restoreSourceClaim(core, mig.uuid, inst.uuid, claimOwner);
    if (dest) await bindPortsTo(core, inst.uuid, source).catch(warn("bind the ports to the source"));
    await settleAttachments(core, inst, source, false);
    await casUpdate(db, inst.uuid, { taskState: [T.MIGRATING] }, { task_state: null, host: source });
    if (mig) await updateMigration(db, mig.uuid, { status: "error" });
    await addFault(db, inst.uuid, {
      code: 500,
      message:
        "The live migration was interrupted (its conductor stopped) and has been rolled back; " +
        "the server runs on its source host.",
      host: source,
    });
    return;
  }
  if (dest && mig && onSource === null && onDest !== null && onDest !== undefined) {
    // The guest had moved: finish on the destination (resume it if the hand-over did not happen yet).
    if (onDest !== PowerState.RUNNING && inst.vm_state !== V.PAUSED)
      await call(dest, "post_live_migration_at_destination").catch(warn("resume on the destination"));
    const state = await guestState(core, dest, inst.uuid);
    await settleAttachments(core, inst, dest, true);
    await casUpdate(
      db,
      inst.uuid,
      { taskState: [T.MIGRATING] },
      {
        task_state: null,
        host: dest,
        node: mig.dest_node,
        availability_zone: await hostZone(core, dest),
        power_state: typeof state === "number" ? state : onDest,
      },
    );
    await core.placement.deleteAllocations(mig.uuid);
    await updateMigration(db, mig.uuid, { status: "completed" });
    return;
  }
  if (mig) await restoreSourceClaim(core, mig.uuid, inst.uuid, claimOwner);
  // The server stays recorded on its source: so do its volumes (the destination's attachments are deleted).
  if (source) await settleAttachments(core, inst, source, false);
  await casUpdate(db, inst.uuid, { taskState: [T.MIGRATING] }, { task_state: null, vm_state: V.ERROR });
  if (mig) await updateMigration(db, mig.uuid, { status: "error" });
  await addFault(db, inst.uuid, {
    code: 500,
    message:
      "The live migration was interrupted while the guest was moving and neither host reports it; " +
      "check where it runs, then reset its state.",
    host: inst.host,
  });
}

/** Resume an evacuation: start it again if the server was not handed over yet, else hand it over again. */
async function resumeEvacuation(
  core: ComputeCore,
  scheduler: Scheduler,
  owner: ConductorOwner,
  inst: Instance,
  ctx: RequestContext,
): Promise<void> {
  const mig = await findMigration(core.db, inst.uuid, MOVING, ["evacuation"]);
  if (!mig) return;
  const claimOwner = { projectId: inst.project_id, userId: inst.user_id };
  if (!mig.dest_compute || inst.host === mig.source_compute) {
    await restoreSourceClaim(core, mig.uuid, inst.uuid, claimOwner);
    await updateMigration(core.db, mig.uuid, { status: "accepted" });
    await evacuateServer(core, scheduler, { ctx, uuid: inst.uuid }, owner);
    return;
  }
  await core.bus.cast(agentOf(mig.dest_compute), "rebuild_instance", {
    ctx,
    uuid: inst.uuid,
    imageRef: inst.image_ref,
    evacuate: true,
    migrationUuid: mig.uuid,
  });
  await core.placement.deleteAllocations(mig.uuid);
}

/** Recover one orphan this conductor has claimed. */
async function recoverOne(
  core: ComputeCore,
  scheduler: Scheduler,
  owner: ConductorOwner,
  inst: Instance,
): Promise<void> {
  const ctx = await recoveryContext(core, inst);
  const uuid = inst.uuid;
  if (inst.vm_state === V.BUILDING) {
    if (inst.task_state === T.SCHEDULING) {
      // Whatever the dead conductor had claimed goes; the build starts over (NoValidHost → ERROR as usual).
      await core.placement.deleteAllocations(uuid);
      await scheduleAndDispatch(core, scheduler, owner, ctx, uuid);
    } else if (inst.task_state === T.NETWORKING && inst.host) {
      // The agent ignores a second build of a server it already started.
      await core.bus.cast(agentOf(inst.host), "build_and_run_instance", { ctx, uuid, alternates: [] });
    }
    return;
  }
  if (inst.vm_state === V.RESIZED) {
    const mig = await findMigration(core.db, uuid, ["confirming", "reverting", "post-migrating"]);
    if (mig?.status === "confirming") await confirmResize(core, { ctx, uuid }, owner);
    else if (mig?.status === "reverting" && inst.task_state === T.RESIZE_REVERTING)
      await revertResize(core, { ctx, uuid }, owner);
    else if (mig?.status === "post-migrating")
      await updateMigration(core.db, mig.uuid, { status: "finished" });
    return;
  }
  if (inst.task_state && RESIZE_TASKS.includes(inst.task_state)) return rollBackResize(core, inst);
  if (inst.task_state === T.MIGRATING) return recoverLive(core, inst);
  if (inst.task_state === T.REBUILDING) return resumeEvacuation(core, scheduler, owner, inst, ctx);
  if (inst.task_state === T.UNSHELVING) {
    if (inst.vm_state === V.SHELVED_OFFLOADED && inst.host) {
      const imageRef = inst.system_metadata.shelved_image_id;
      if (typeof imageRef === "string")
        await core.bus.cast(agentOf(inst.host), "rebuild_instance", { ctx, uuid, imageRef, evacuate: true });
      return;
    }
    await unshelveServer(core, scheduler, { ctx, uuid }, owner);
  }
}

/**
 * Find and recover the orphaned builds and moves (see the file comment); returns how many were taken over.
 * `now` is for tests that want a conductor to look dead without waiting.
 */
export async function recoverOrphans(
  core: ComputeCore,
  scheduler: Scheduler,
  owner: ConductorOwner,
  now = Date.now(),
): Promise<number> {
  let n = 0;
  for (const inst of await candidates(core, owner, now)) {
    // This conductor is alive: what it owns is under way here, however long it takes.
    if (inst.task_owner === owner.id || !(await orphaned(core, inst))) continue;
    const claimed = await casUpdate(
      core.db,
      inst.uuid,
      {
        vmState: [inst.vm_state],
        taskState: [inst.task_state],
        owner: inst.task_owner ?? { deadBefore: owner.deadBefore(now) },
      },
      { task_owner: owner.id },
    );
    if (!claimed) continue;
    n++;
    core.log.warn(
      {
        uuid: inst.uuid,
        vmState: inst.vm_state,
        taskState: inst.task_state,
        deadOwner: inst.task_owner ?? null,
      },
      "conductor: recovering an orphaned build or move",
    );
    try {
      const fresh = (await findInstance(core.db, inst.uuid)) ?? inst;
      await recoverOne(core, scheduler, owner, fresh);
    } catch (e) {
      core.log.error({ uuid: inst.uuid, err: (e as Error).message }, "conductor: recovery failed");
    } finally {
      await owner.release(inst.uuid);
    }
  }
  return n;
}
