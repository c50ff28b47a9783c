// The conductor (nova-conductor): owns the multi-step workflows. Builds: schedule (the scheduler claims in
// placement), bind the server to its host, hand it to that host's agent; on a failed spawn, try the alternates.
// Deletes: destroy the guest through its agent (or locally when the host is down), free the claim, mark deleted.
import type { Handlers, ServerHandle } from "../../shared/bus/index.js";
import { target } from "../../shared/bus/index.js";
import { nowIso } from "../../shared/db/index.js";
import type { ComputeCore } from "../core.js";
import { PowerState } from "../drivers/types.js";
import { withEvent, type RequestContext } from "../instances/actions.js";
import { addFault, casUpdate, findInstance, type Instance } from "../instances/store.js";
import { TaskState, VmState } from "../instances/states.js";
import { agentContract, conductorContract, type HostChoice } from "../rpc.js";
import { NoValidHost, type Scheduler } from "../scheduler/scheduler.js";
import { computeHostUp } from "../servicegroup.js";
import { moveHandlers } from "./moves.js";
import { ConductorOwner } from "./ownership.js";
import { recoverOrphans } from "./recovery.js";
import { reportResources } from "./nodes.js";
import { buildRequest } from "./schedule.js";
import { hostZone } from "../zones.js";
import { allocateNetworks, deallocateNetworks } from "../networking/allocate.js";
import { bindPortsTo } from "../networking/bindings.js";
import { prepareVolumes, releaseVolumes } from "../volumes/flow.js";

/** Put a server that could not be built in ERROR with a fault saying why. */
async function failBuild(core: ComputeCore, inst: Instance, message: string): Promise<void> {
  const now = await findInstance(core.db, inst.uuid);
  if (now)
    await deallocateNetworks(core, now).catch((e: Error) =>
      core.log.warn({ uuid: inst.uuid, err: e.message }, "could not free a failed build's ports"),
    );
  const ok = await casUpdate(
    core.db,
    inst.uuid,
    { vmState: [VmState.BUILDING] },
    { vm_state: VmState.ERROR, task_state: null, power_state: PowerState.NOSTATE },
  );
  if (ok) await addFault(core.db, inst.uuid, { code: 500, message, host: inst.host });
}

/**
 * Bind a server to a chosen host and hand it to that host's agent (the conductor `owner` drives the build). False
 * if it was deleted (or taken over) meanwhile.
 */
async function dispatch(
  core: ComputeCore,
  owner: ConductorOwner,
  ctx: RequestContext,
  inst: Instance,
  choice: HostChoice,
  alternates: HostChoice[],
): Promise<boolean> {
  const az = inst.request_spec.availabilityZone ?? (await hostZone(core, choice.host));
  const bound = await casUpdate(
    core.db,
    inst.uuid,
    { vmState: [VmState.BUILDING], taskState: [TaskState.SCHEDULING], owner: owner.id },
    { host: choice.host, node: choice.node, availability_zone: az, task_state: TaskState.NETWORKING },
  );
  if (!bound) {
    // Deleted meanwhile: drop the claim, unless another conductor took the build over (it owns the claims now).
    const now = await findInstance(core.db, inst.uuid);
    if (!now?.task_owner || now.task_owner === owner.id) await core.placement.deleteAllocations(inst.uuid);
    return false;
  }
  // Ports are made here, once the host is known (Nova's compute manager does it in _build_networks_for_instance;
  // here the conductor holds the service clients, and split agents talk only to the bus). A failure aborts the
  // build without a reschedule, as Nova's BuildAbortException does.
  try {
    await allocateNetworks(core, { ...inst, availability_zone: az }, choice.host);
  } catch (e) {
    core.log.error({ uuid: inst.uuid, err: (e as Error).message }, "network allocation failed");
    await failBuild(
      core,
      inst,
      `Build of instance ${inst.uuid} aborted: Failed to allocate the network(s): ${(e as Error).message}`,
    );
    return false;
  }
  // Volumes (boot from volume, extra volumes): made, reserved and connected to the host before it spawns.
  try {
    await prepareVolumes(core, inst, choice.host);
  } catch (e) {
    core.log.error({ uuid: inst.uuid, err: (e as Error).message }, "volume preparation failed");
    await failBuild(
      core,
      inst,
      `Build of instance ${inst.uuid} aborted: Failure prepping block device: ${(e as Error).message}`,
    );
    return false;
  }
  await core.bus.cast(target(agentContract, choice.host), "build_and_run_instance", {
    ctx,
    uuid: inst.uuid,
    alternates,
  });
  return true;
}

/** What a conductor claims to build a server: one still waiting to be scheduled. */
export const BUILD_CLAIM = { vmState: [VmState.BUILDING], taskState: [TaskState.SCHEDULING] };

/**
 * Schedule a server the conductor `owner` has claimed and hand it to its host; NoValidHost or any other failure
 * puts it in ERROR with a fault.
 */
export async function scheduleAndDispatch(
  core: ComputeCore,
  scheduler: Scheduler,
  owner: ConductorOwner,
  ctx: RequestContext,
  uuid: string,
): Promise<void> {
  const inst = await findInstance(core.db, uuid);
  if (!inst) return;
  const attempts = core.cfg.compute.scheduler.maxAttempts;
  try {
    const sel = await withEvent(
      core.db,
      ctx,
      uuid,
      "conductor_schedule_and_build_instances",
      null,
      async () => scheduler.select(await buildRequest(core.db, inst, attempts - 1)),
    );
    await dispatch(core, owner, ctx, inst, sel.choice, sel.alternates);
  } catch (e) {
    if (e instanceof NoValidHost) await failBuild(core, inst, e.message);
    else {
      core.log.error({ err: (e as Error).message, uuid }, "build failed in the conductor");
      await failBuild(core, inst, `Build of instance ${uuid} failed: ${(e as Error).message}`);
    }
  }
}

/** Finish a delete: free the claims, leave the server group, mark the row deleted. */
export async function finishDelete(core: ComputeCore, inst: Instance): Promise<void> {
  const { db, placement } = core;
  // A port the network service could not free now is logged, not a reason to keep a deleted server.
  await deallocateNetworks(core, (await findInstance(db, inst.uuid)) ?? inst).catch((e: Error) =>
    core.log.warn({ uuid: inst.uuid, err: e.message }, "could not free a deleted server's ports"),
  );
  // Its volumes: attachments deleted, delete_on_termination volumes deleted (the guest is gone already).
  await releaseVolumes(core, inst).catch((e: Error) =>
    core.log.warn({ uuid: inst.uuid, err: e.message }, "could not release a deleted server's volumes"),
  );
  await placement.deleteAllocations(inst.uuid);
  const migrations = (await db
    .selectFrom("compute_server_migration")
    .select(["uuid"])
    .where("instance_uuid", "=", inst.uuid)
    .execute()) as Array<{ uuid: string }>;
  for (const m of migrations) await placement.deleteAllocations(m.uuid);
  await db.deleteFrom("compute_server_group_member").where("instance_uuid", "=", inst.uuid).execute();
  const now = nowIso();
  await db
    .updateTable("compute_instance")
    .set({
      deleted: inst.id,
      deleted_at: now,
      terminated_at: now,
      updated_at: now,
      vm_state: VmState.DELETED,
      task_state: null,
      power_state: PowerState.NOSTATE,
    })
    .where("uuid", "=", inst.uuid)
    .where("deleted", "=", 0)
    .execute();
}

/** The conductor's RPC handlers. */
export function conductorHandlers(
  core: ComputeCore,
  scheduler: Scheduler,
  owner: ConductorOwner,
): Handlers<typeof conductorContract> {
  const { db, log } = core;

  // Only a server waiting to be scheduled is built, by one conductor: a duplicate or redelivered cast finds it
  // claimed (or already on a host) and does nothing.
  const buildOne = (ctx: RequestContext, uuid: string) =>
    owner.drive(uuid, BUILD_CLAIM, () => scheduleAndDispatch(core, scheduler, owner, ctx, uuid));

  const reschedule = async (
    ctx: RequestContext,
    uuid: string,
    failedHost: string,
    alternates: HostChoice[],
    reason: string,
  ) => {
    const inst = await findInstance(db, uuid);
    await core.placement.deleteAllocations(uuid);
    if (!inst) return;
    // The failed host's ports go; the next host gets its own (rebound user ports, new ones for networks).
    await deallocateNetworks(core, inst);
    inst.network_info = [];
    const rest = [...alternates];
    while (rest.length > 0) {
      const next = rest.shift()!;
      if (!(await computeHostUp(db, core.cfg, next.host))) continue;
      const claimed = await core.placement.claim(
        uuid,
        next.allocations,
        { projectId: inst.project_id, userId: inst.user_id },
        null,
      );
      if (!claimed) continue;
      log.info({ uuid, from: failedHost, to: next.host }, "rescheduling a failed build");
      await dispatch(core, owner, ctx, inst, next, rest);
      return;
    }
    await failBuild(
      core,
      inst,
      `Build of instance ${uuid} failed on ${failedHost} (${reason}) and no alternate host was left: ` +
        `exhausted all hosts available for retrying build failures.`,
    );
  };

  // A build the host gave up on for a reason another host would not fix (its VIFs were not plugged in time).
  const abortBuild = async (ctx: RequestContext, uuid: string, reason: string) => {
    void ctx;
    const inst = await findInstance(db, uuid);
    await core.placement.deleteAllocations(uuid);
    if (inst)
      await failBuild(
        core,
        inst,
        `Build of instance ${uuid} aborted: Failed to allocate the network(s), not rescheduling. ${reason}`,
      );
  };

  return {
    async build_instances({ ctx, uuids }) {
      // Members of one server group are placed one after another, so each sees where the previous went
      // (anti-affinity across a multi-create); other servers are scheduled in parallel.
      const first = uuids.length > 1 ? await findInstance(db, uuids[0]) : undefined;
      if (first?.request_spec.groupUuid) for (const u of uuids) await buildOne(ctx, u);
      else await Promise.all(uuids.map((u) => buildOne(ctx, u)));
    },

    async reschedule({ ctx, uuid, failedHost, alternates, reason, abort }) {
      await owner.drive(uuid, BUILD_CLAIM, () =>
        abort ? abortBuild(ctx, uuid, reason) : reschedule(ctx, uuid, failedHost, alternates, reason),
      );
    },

    async port_statuses({ uuid, portIds }) {
      const out: Record<string, string> = {};
      if (!core.neutron) return out;
      const wanted = new Set(portIds);
      for (const p of await core.neutron.listPorts(`device_id=${encodeURIComponent(uuid)}`))
        if (wanted.has(p.id)) out[p.id] = p.status;
      return out;
    },

    async delete_instance({ ctx, uuid }) {
      const inst = await findInstance(db, uuid);
      if (!inst) return;
      if (inst.host && (await computeHostUp(db, core.cfg, inst.host))) {
        try {
          await core.bus.call(
            target(agentContract, inst.host),
            "terminate_instance",
            { ctx, uuid },
            {
              timeoutMs: 120_000,
            },
          );
        } catch (e) {
          log.error({ uuid, host: inst.host, err: (e as Error).message }, "delete failed on the host");
          await casUpdate(db, uuid, {}, { vm_state: VmState.ERROR, task_state: null });
          await addFault(db, uuid, {
            code: 500,
            message: `Deleting the guest on ${inst.host} failed: ${(e as Error).message}. Try deleting again.`,
            host: inst.host,
          });
          return;
        }
      }
      // A down host's agent destroys the leftover guest when it comes back (reconcile).
      await finishDelete(core, inst);
    },

    async release_allocations({ uuid }) {
      const inst = await findInstance(db, uuid);
      if (inst && inst.vm_state === VmState.SHELVED_OFFLOADED && inst.host === null) {
        await core.placement.deleteAllocations(uuid);
        // Its ports stay with the server but on no host (the unshelve binds them where it lands).
        await bindPortsTo(core, uuid, "").catch((e: Error) =>
          log.warn({ uuid, err: e.message }, "could not unbind a shelved server's ports"),
        );
      }
    },

    async report_resources({ host, resources }) {
      return { nodeUuid: await reportResources(core, host, resources) };
    },

    ...moveHandlers(core, scheduler, owner),
  };
}

/** A running conductor: its identity (what it owns), a way to look for orphans now, and stop. */
export interface ConductorHandle extends ServerHandle {
  owner: ConductorOwner;
  /** Recover orphaned builds and moves now (as the periodic task does); `now` lets tests age conductors. */
  recover(now?: number): Promise<number>;
}

/**
 * Serve the conductor's queue as a new conductor process: register it, heartbeat, and look for the orphaned work
 * of dead conductors at start and then every quarter of compute.orphanTimeout.
 */
export async function startConductor(
  core: ComputeCore,
  scheduler: Scheduler,
  server: string,
): Promise<ConductorHandle> {
  const timeoutMs = core.cfg.compute.orphanTimeout * 1000;
  const owner = await ConductorOwner.register(core.db, server, timeoutMs);
  const handle = await core.bus.serve(conductorContract, server, conductorHandlers(core, scheduler, owner));
  let recovering: Promise<number> | null = null;
  const recover = (now?: number) => {
    // One pass at a time; a caller arriving during a pass waits for it and then runs its own.
    const run = async () => {
      await owner.heartbeat();
      return recoverOrphans(core, scheduler, owner, now);
    };
    const next: Promise<number> = (recovering ?? Promise.resolve(0)).catch(() => 0).then(run);
    recovering = next;
    return next;
  };
  const tick = () =>
    void recover().catch((e: Error) =>
      core.log.error({ err: e.message }, "conductor: orphan recovery failed"),
    );
  const beat = setInterval(
    () => void owner.heartbeat().catch(() => undefined),
    Math.min(core.cfg.compute.reportInterval * 1000, timeoutMs / 3),
  );
  const sweep = setInterval(tick, Math.max(250, timeoutMs / 4));
  beat.unref();
  sweep.unref();
  tick();
  void owner.prune().catch(() => undefined);
  return {
    topic: handle.topic,
    server: handle.server,
    owner,
    recover,
    async stop() {
      clearInterval(beat);
      clearInterval(sweep);
      await handle.stop();
      await recovering?.catch(() => undefined);
      await owner.unregister().catch(() => undefined);
    },
  };
}
