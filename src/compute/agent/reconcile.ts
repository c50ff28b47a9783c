// Bringing the database and the hypervisor back into agreement: once when an agent starts (after a crash or a
// restart) and, for power states, periodically. Running guests are never disturbed by a restart.
import { PowerState, powerStateName } from "../drivers/types.js";
import { addFault, casUpdate, parseInstance, type Instance, type InstancePatch } from "../instances/store.js";
import { TaskState, VmState } from "../instances/states.js";
import { conductorContract } from "../rpc.js";
import type { AgentDeps } from "./deps.js";

/** Tasks of a move the conductor is driving: an agent restart must not clear them. */
const MOVE_TASKS = new Set<string>([
  TaskState.RESIZE_PREP,
  TaskState.RESIZE_MIGRATING,
  TaskState.RESIZE_MIGRATED,
  TaskState.RESIZE_FINISH,
  TaskState.RESIZE_REVERTING,
  TaskState.RESIZE_CONFIRMING,
  TaskState.MIGRATING,
]);

/** Migration statuses while the source host still holds the server's guest (resize not yet confirmed). */
const SOURCE_KEEPS_GUEST = [
  "pre-migrating",
  "migrating",
  "post-migrating",
  "finished",
  "running",
  "preparing",
  "reverting",
  "confirming",
];

/** Uuids of live servers that moved away from `host` but whose move may still come back (revert). */
async function movingAway(deps: AgentDeps, uuids: string[]): Promise<Set<string>> {
  if (uuids.length === 0) return new Set();
  const rows = (await deps.db
    .selectFrom("compute_server_migration")
    .innerJoin("compute_instance", "compute_instance.uuid", "compute_server_migration.instance_uuid")
    .select("compute_server_migration.instance_uuid as uuid")
    .where("compute_server_migration.source_compute", "=", deps.host)
    .where("compute_server_migration.status", "in", SOURCE_KEEPS_GUEST)
    .where("compute_server_migration.instance_uuid", "in", uuids)
    .where("compute_instance.deleted", "=", 0)
    .execute()) as Array<{ uuid: string }>;
  return new Set(rows.map((r) => r.uuid));
}

const SYSTEM_CTX = (uuid: string) => ({ requestId: `req-reconcile-${uuid}`, userId: "", projectId: "" });

/** Live instances the database places on this host. */
async function hostInstances(deps: AgentDeps): Promise<Instance[]> {
  const rows = await deps.db
    .selectFrom("compute_instance")
    .selectAll()
    .where("host", "=", deps.host)
    .where("deleted", "=", 0)
    .execute();
  return rows.map(parseInstance);
}

/**
 * After a restart: builds that were cut off go to ERROR, interrupted deletes are finished, interrupted actions
 * are cleared, guests whose server was deleted or evacuated elsewhere are destroyed, the rest are adopted.
 */
export async function reconcile(deps: AgentDeps): Promise<void> {
  const { db, driver, host, log } = deps;
  const guests = new Set(await driver.listInstances());
  const rows = await hostInstances(deps);
  const known = new Set(rows.map((r) => r.uuid));
  for (const inst of rows) {
    const present = guests.has(inst.uuid);
    if (inst.task_state === TaskState.DELETING) {
      await deps.bus.cast(conductorContract, "delete_instance", {
        ctx: SYSTEM_CTX(inst.uuid),
        uuid: inst.uuid,
      });
      continue;
    }
    if (inst.vm_state === VmState.BUILDING) {
      if (present && inst.task_state === TaskState.SPAWNING) {
        const info = await driver.getInfo(inst.uuid);
        if (info.state === PowerState.RUNNING) {
          await casUpdate(
            db,
            inst.uuid,
            { vmState: [VmState.BUILDING] },
            {
              vm_state: VmState.ACTIVE,
              task_state: null,
              power_state: info.state,
              launched_at: new Date().toISOString(),
            },
          );
          continue;
        }
      }
      if (present) await driver.destroy(inst.uuid);
      const ok = await casUpdate(
        db,
        inst.uuid,
        { vmState: [VmState.BUILDING] },
        {
          vm_state: VmState.ERROR,
          task_state: null,
        },
      );
      if (ok)
        await addFault(db, inst.uuid, {
          code: 500,
          message: `The compute agent on ${host} restarted while the server was being built; delete it and create it again.`,
          host,
        });
      continue;
    }
    if (!present) {
      // The guest vanished with the host (a fake host that lost its state, a wiped hypervisor).
      if (inst.vm_state === VmState.SHELVED_OFFLOADED || inst.vm_state === VmState.ERROR) continue;
      const ok = await casUpdate(
        db,
        inst.uuid,
        {},
        {
          vm_state: VmState.ERROR,
          task_state: null,
          power_state: PowerState.NOSTATE,
        },
      );
      if (ok)
        await addFault(db, inst.uuid, {
          code: 500,
          message: `The guest of this server is missing on ${host} (found when its agent restarted).`,
          host,
        });
      continue;
    }
    // Adopt: clear an interrupted task (not a move's: the conductor drives it) and take the hypervisor's
    // word for the power state.
    const info = await driver.getInfo(inst.uuid);
    const keepTask = inst.task_state !== null && MOVE_TASKS.has(inst.task_state);
    await db
      .updateTable("compute_instance")
      .set(keepTask ? { power_state: info.state } : { task_state: null, power_state: info.state })
      .where("uuid", "=", inst.uuid)
      .where("deleted", "=", 0)
      .execute();
  }
  const keep = await movingAway(
    deps,
    [...guests].filter((u) => !known.has(u)),
  );
  for (const uuid of guests) {
    if (known.has(uuid) || keep.has(uuid)) continue;
    // A guest with no live server here: deleted while the host was away, or evacuated to another host.
    log.info({ uuid, host }, "destroying a guest whose server is deleted or lives on another host now");
    await driver.destroy(uuid);
  }
}

/** Compare every settled instance's power state with the hypervisor and record the truth. */
export async function syncPowerStates(deps: AgentDeps): Promise<void> {
  const { db, driver, host, log } = deps;
  for (const inst of await hostInstances(deps)) {
    if (inst.task_state !== null || inst.vm_state === VmState.BUILDING) continue;
    await deps.lock(inst.uuid, async () => {
      const info = await driver.getInfo(inst.uuid).catch(() => null);
      const state = info?.state ?? PowerState.NOSTATE;
      if (state === inst.power_state) return;
      log.info(
        {
          uuid: inst.uuid,
          host,
          was: powerStateName(inst.power_state as PowerState),
          now: powerStateName(state),
        },
        "power state changed outside Stratus",
      );
      const patch: InstancePatch = { power_state: state };
      if (inst.vm_state === VmState.ACTIVE && (state === PowerState.SHUTDOWN || state === PowerState.CRASHED))
        patch.vm_state = VmState.STOPPED;
      await casUpdate(db, inst.uuid, { vmState: [inst.vm_state], taskState: [null] }, patch);
    });
  }
}
