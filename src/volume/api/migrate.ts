// Volume migration (Cinder's os-migrate_volume and os-migrate_volume_completion admin actions, and the migration
// a retype with migration_policy on-demand needs): the checks and the state change; the volume's agent copies the
// data to the other backend (agent/migrate.ts). Stratus moves volumes between backends of one volume host only,
// and never an attached one: Cinder would have Nova swap the guest's disk (swap_volume), which Stratus lacks.
import { reply } from "../../shared/http/reply.js";
import { capabilitiesMatch } from "../capabilities.js";
import type { VolumeCore } from "../core.js";
import { invalidInput, invalidVolume, notFound } from "../errors.js";
import { agentOf, NoValidBackend, pickHost, poolsUp, type Pool } from "../scheduler.js";
import { parseMap, type TypeRow, type VolumeRow } from "../store/rows.js";
import { snapshotsOf } from "../store/snapshots.js";
import { getType } from "../store/types.js";
import { getVolume, transitionVolume, updateVolume } from "../store/volumes.js";
import { boolOf, field, optString, type Ctx } from "./common.js";

/** "host@backend" of a "host@backend#pool". */
const backendHost = (host: string): string => host.split("#", 1)[0];

/** The specs of a volume's type. */
async function specsOf(core: VolumeCore, typeId: string | null): Promise<Map<string, string>> {
  return parseMap(typeId ? (await getType(core, typeId))?.extra_specs : null);
}

/** 400 unless the volume can be moved now: available, no migration under way, no snapshots, not in a group. */
async function checkMovable(core: VolumeCore, v: VolumeRow): Promise<void> {
  if (v.status === "in-use")
    throw invalidVolume(
      "Stratus cannot migrate an attached volume (Cinder would need the compute service's swap_volume); detach it first.",
    );
  if (v.status !== "available")
    throw invalidVolume(`Volume status must be available to migrate, but current status is: ${v.status}.`);
  if (v.migration_status === "migrating")
    throw invalidVolume(`Volume ${v.id} is already part of an active migration.`);
  if ((await snapshotsOf(core, v.id)).length > 0)
    throw invalidVolume(`Volume ${v.id} must not have snapshots.`);
  if (v.group_id) throw invalidVolume(`Volume ${v.id} must not be part of a group.`);
  if (!v.host) throw invalidVolume(`Volume ${v.id} has no host.`);
}

/** Mark the volume migrating (its status `status`) and have its agent move it to `dest`. */
async function startMigration(
  core: VolumeCore,
  ctx: Ctx,
  v: VolumeRow,
  dest: string,
  status: string,
  newTypeId: string | null,
): Promise<void> {
  const ok = await transitionVolume(core, v.id, ["available"], { status, migration_status: "migrating" });
  if (!ok) throw invalidVolume("Volume status must be available to migrate.");
  await core.agents.cast(agentOf(v.host as string), "migrate_volume", {
    volumeId: v.id,
    host: dest,
    newTypeId,
    requestId: ctx.requestId,
  });
}

/** os-migrate_volume: move an available volume to `host` ("host@backend" or "host@backend#pool"). */
export async function migrateAction(core: VolumeCore, ctx: Ctx, v: VolumeRow, o: Record<string, unknown>) {
  const host = optString(o, "host", 255);
  if (!host) throw invalidInput("Missing required element 'host' in request body.");
  // Both flags are checked; the copy is always the host's, and the volume is always locked (below).
  if (field(o, "lock_volume") !== undefined) boolOf("lock_volume", field(o, "lock_volume"));
  if (field(o, "force_host_copy") !== undefined) boolOf("force_host_copy", field(o, "force_host_copy"));
  await checkMovable(core, v);
  const pools = await poolsUp(core, v.availability_zone);
  const dest = pools.find((p) => p.host === host || backendHost(p.host) === host);
  if (!dest) throw invalidInput(`Invalid host: No available service named ${host}`);
  if (backendHost(dest.host) === backendHost(v.host as string))
    throw invalidInput("Invalid host: Destination host must be different than the current host.");
  if (agentOf(dest.host) !== agentOf(v.host as string))
    throw invalidInput(
      `Invalid host: Stratus migrates volumes between backends of one volume host (${agentOf(v.host as string)}).`,
    );
  if (!capabilitiesMatch(await specsOf(core, v.volume_type_id), dest.caps))
    throw invalidInput(`Invalid host: ${host} does not have the capabilities the volume's type asks for.`);
  if (dest.stats.freeCapacityGb < v.size)
    throw invalidInput(`Invalid host: ${host} has not enough free space.`);
  // Locked either way: Cinder without lock_volume keeps it available but refuses other work while it migrates.
  await startMigration(core, ctx, v, dest.host, "maintenance", null);
  return reply(202, undefined);
}

/**
 * os-migrate_volume_completion, Cinder's hook for Nova's swap_volume: Stratus's migrations finish in one step on
 * the agent and never make a target volume, so only its checks and the error report (`error: true`: the source's
 * migration failed) apply; completing a swap is refused.
 */
export async function migrateCompletionAction(
  core: VolumeCore,
  _ctx: Ctx,
  v: VolumeRow,
  o: Record<string, unknown>,
) {
  const newId = optString(o, "new_volume", 36);
  if (!newId) throw invalidInput("Missing required element 'new_volume' in request body.");
  const error = field(o, "error") === undefined ? false : boolOf("error", field(o, "error"));
  const target = await getVolume(core, newId);
  if (!target) throw notFound(`Volume ${newId} could not be found.`);
  if (!v.migration_status) throw invalidVolume("Source volume not mid-migration.");
  if (!target.migration_status) throw invalidVolume("Destination volume not mid-migration.");
  if (target.migration_status !== `target:${v.id}`)
    throw invalidVolume(
      `Destination has migration_status ${target.migration_status}, expected target:${v.id}.`,
    );
  if (!error)
    throw invalidVolume("Stratus migrates a volume in one step; there is no swapped volume to complete.");
  await updateVolume(core, v.id, { migration_status: "error" });
  await updateVolume(core, target.id, { migration_status: null });
  return { save_volume_id: v.id };
}

/**
 * A retype's placement: null when the volume's pool satisfies the new type (or is not reporting: retyped in
 * place), else the pool of its host to migrate it to (400 when the policy forbids it or none fits).
 */
export async function retypeTarget(
  core: VolumeCore,
  v: VolumeRow,
  t: TypeRow,
  policy: string | null,
): Promise<string | null> {
  if (!v.host) return null;
  const specs = parseMap(t.extra_specs);
  const pools = await poolsUp(core, v.availability_zone);
  const here: Pool | undefined = pools.find((p) => p.host === v.host);
  if (!here || capabilitiesMatch(specs, here.caps)) return null;
  if (policy !== "on-demand")
    throw invalidInput(
      `Volume ${v.id} needs migration to be retyped to ${t.name}, but the migration policy is 'never'.`,
    );
  await checkMovable(core, v);
  const hostOf = agentOf(v.host);
  try {
    return await pickHost(
      core,
      v.size,
      v.availability_zone,
      specs,
      (h) => agentOf(h) === hostOf && h !== v.host,
    );
  } catch (err) {
    if (err instanceof NoValidBackend)
      throw invalidInput(`No backend of volume host ${hostOf} fits type ${t.name}: ${err.message}`);
    throw err;
  }
}

/** Start the migration a retype needs (the agent sets the new type once the data moved). */
export async function startRetypeMigration(
  core: VolumeCore,
  ctx: Ctx,
  v: VolumeRow,
  dest: string,
  newTypeId: string,
): Promise<void> {
  await startMigration(core, ctx, v, dest, "retyping", newTypeId);
}
