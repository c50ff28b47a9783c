// Agent handlers for the steps of cold migration/resize and live migration. The conductor calls them in order on
// the source and the destination and keeps the instance and migration rows itself; each step here only drives
// this host's hypervisor (under the instance lock) and fails with the driver's error for the conductor to undo.
import type { Handlers } from "../../shared/bus/index.js";
import { requireCapability } from "../drivers/errors.js";
import type { InstanceSpec, MigrationDiskInfo } from "../drivers/types.js";
import { withEvent } from "../instances/actions.js";
import { getInstance, type Instance, type InstanceFlavor } from "../instances/store.js";
import type { agentContract } from "../rpc.js";
import type { AgentDeps } from "./deps.js";
import { specVolumes } from "./volumes.js";
import { whenVifsPlugged } from "./vif-events.js";

/** The driver spec of an instance with the flavor it is being resized to (system_metadata.new_flavor). */
export function resizedSpec(deps: AgentDeps, inst: Instance): InstanceSpec {
  const flavor = (inst.system_metadata.new_flavor as InstanceFlavor | undefined) ?? inst.flavor;
  return deps.spec({ ...inst, flavor });
}

/** Whether `disk` looks like what migrateDiskAndPowerOff returned (it crossed the bus untyped). */
function isDiskInfo(disk: unknown, uuid: string): disk is MigrationDiskInfo {
  const d = disk as MigrationDiskInfo | null;
  return !!d && typeof d === "object" && d.uuid === uuid && Array.isArray(d.disks);
}

/** The migration step handlers. */
export function migrateAgentHandlers(
  deps: AgentDeps,
): Pick<
  Handlers<typeof agentContract>,
  | "migrate_disk_and_power_off"
  | "finish_migration"
  | "confirm_migration"
  | "finish_revert_migration"
  | "destroy_guest"
  | "pre_live_migration"
  | "live_migration"
  | "post_live_migration_at_destination"
  | "rollback_live_migration_at_destination"
  | "guest_state"
> {
  const { driver, db, host } = deps;
  const locked = <R>(uuid: string, fn: () => Promise<R>) => deps.lock(uuid, fn);
  return {
    migrate_disk_and_power_off: ({ uuid, destHost }) =>
      locked(uuid, () =>
        requireCapability(driver, "migrateDiskAndPowerOff").migrateDiskAndPowerOff(uuid, destHost),
      ),

    finish_migration: ({ ctx, uuid, disk, powerOn }) =>
      locked(uuid, async () => {
        if (!isDiskInfo(disk, uuid)) throw new Error(`finish_migration: bad disk info for ${uuid}`);
        const inst = await getInstance(db, uuid);
        const d = requireCapability(driver, "finishMigration");
        const volumes = await specVolumes(db, uuid);
        const spec = { ...resizedSpec(deps, inst), ...(volumes.length > 0 ? { volumes } : {}) };
        await withEvent(db, ctx, uuid, "compute_finish_resize", host, () =>
          whenVifsPlugged(deps, uuid, powerOn ? (spec.networkInfo ?? []) : [], () =>
            d.finishMigration(spec, disk, { powerOn }),
          ),
        );
      }),

    confirm_migration: ({ uuid }) =>
      locked(uuid, () => requireCapability(driver, "confirmMigration").confirmMigration(uuid)),

    finish_revert_migration: ({ uuid, powerOn }) =>
      locked(uuid, async () => {
        // The ports came back to this host (their taps are made again when they had left it).
        const vifs = powerOn ? (deps.spec(await getInstance(db, uuid)).networkInfo ?? []) : [];
        await whenVifsPlugged(deps, uuid, vifs, () =>
          requireCapability(driver, "finishRevertMigration").finishRevertMigration(uuid, { powerOn }),
        );
      }),

    destroy_guest: ({ uuid }) => locked(uuid, () => driver.destroy(uuid)),

    pre_live_migration: ({ uuid, sourceHost }) =>
      locked(uuid, async () => {
        const volumes = await specVolumes(db, uuid);
        const spec = {
          ...deps.spec(await getInstance(db, uuid)),
          ...(volumes.length > 0 ? { volumes } : {}),
        };
        await whenVifsPlugged(deps, uuid, spec.networkInfo ?? [], () =>
          requireCapability(driver, "preLiveMigration").preLiveMigration(spec, sourceHost),
        );
      }),

    live_migration: ({ uuid, destHost }) =>
      locked(uuid, () => requireCapability(driver, "liveMigration").liveMigration(uuid, destHost)),

    post_live_migration_at_destination: ({ uuid }) =>
      locked(uuid, () =>
        requireCapability(driver, "postLiveMigrationAtDestination").postLiveMigrationAtDestination(uuid),
      ),

    // Not under the instance lock: a step that hung when its conductor died may hold it.
    guest_state: async ({ uuid }) =>
      (await driver.listInstances()).includes(uuid) ? (await driver.getInfo(uuid)).state : null,

    rollback_live_migration_at_destination: ({ uuid }) =>
      locked(uuid, () =>
        requireCapability(driver, "rollbackLiveMigrationAtDestination").rollbackLiveMigrationAtDestination(
          uuid,
        ),
      ),
  };
}
