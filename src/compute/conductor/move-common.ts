// What the move workflows (resize, migrate, evacuate, live migration, unshelve) share: calling a host's agent,
// recording how a move failed on the server, and the system metadata a resize keeps while it waits.
import { target } from "../../shared/bus/index.js";
import type { ComputeCore } from "../core.js";
import { addFault, casUpdate, type Instance, type InstancePatch } from "../instances/store.js";
import type { SysMetaChange } from "../instances/system-metadata.js";
import { agentContract } from "../rpc.js";

/** How long one migration step on an agent may take (Nova's long_rpc_timeout is 1800 s). */
export const STEP_TIMEOUT_MS = 600_000;

/** The agent of one host, as a bus target. */
export const agentOf = (host: string) => target(agentContract, host);

/** Keys a resize keeps in system_metadata until it is confirmed or reverted. */
export const RESIZE_KEYS = ["old_flavor", "new_flavor", "old_vm_state", "migration_uuid"] as const;

/** The system_metadata change that drops the resize bookkeeping (and nothing else). */
export const withoutResize: SysMetaChange = { remove: RESIZE_KEYS };

/** The error as an Error (bus errors and driver errors are; anything else is wrapped). */
export const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * Record a failed move: put the row back (task_state null plus `patch`) if it is still in one of `tasks`, and add
 * a fault saying what went wrong.
 */
export async function failMove(
  core: ComputeCore,
  inst: Instance,
  tasks: readonly (string | null)[],
  patch: InstancePatch,
  err: Error,
  what: string,
): Promise<void> {
  core.log.warn({ uuid: inst.uuid, what, err: err.message }, "move failed; server put back");
  const ok = await casUpdate(core.db, inst.uuid, { taskState: tasks }, { ...patch, task_state: null });
  if (ok)
    await addFault(core.db, inst.uuid, {
      code: 500,
      message: err.message,
      details: err.stack,
      host: inst.host,
    });
}

/** A conductor that stalled past the orphan timeout lost the server to another one, which undoes or finishes. */
export function lostOwnership(core: ComputeCore, uuid: string, what: string): void {
  core.log.warn({ uuid, what }, "another conductor took this move over; leaving the clean-up to it");
}

/**
 * Give the source claim a migration holds back to the server (replacing the server's destination claim). Does
 * nothing when the migration holds none (already given back, or never taken).
 */
export async function restoreSourceClaim(
  core: ComputeCore,
  migrationUuid: string,
  uuid: string,
  owner: { projectId: string; userId: string },
): Promise<void> {
  const held = await core.placement.getAllocations(migrationUuid);
  if (Object.keys(held.allocations).length === 0) return;
  await core.placement.moveAllocations(migrationUuid, uuid, owner);
}

/** Whether a resize or cold migration may land on the source host (compute.allowResizeToSameHost). */
export async function sameHostAllowed(core: ComputeCore): Promise<boolean> {
  const allow = core.cfg.compute.allowResizeToSameHost;
  if (allow !== "auto") return allow;
  const hosts = await core.db
    .selectFrom("compute_service")
    .select("id")
    .where("binary", "=", "nova-compute")
    .limit(2)
    .execute();
  return hosts.length <= 1;
}
