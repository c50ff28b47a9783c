// A volume's move to another backend of its host (os-migrate_volume, and the migration of a retype): the new
// backend makes a volume of the same id and size, the source's raw bytes are written into it, then the row names
// the new host (and the new type) and the source's copy is deleted. A failure deletes the copy and leaves the
// volume where it was, with migration_status error. The volume keeps its id, as after Cinder's completion step.
import type { Logger } from "pino";
import type { VolumeCore } from "../core.js";
import type { NamedBackend, VolumeBackend, VolumeSpec } from "../drivers/types.js";
import { agentOf, backendNameOf } from "../scheduler.js";
import type { VolumeRow } from "../store/rows.js";
import { getVolume, transitionVolume, updateVolume } from "../store/volumes.js";

/** What a migration needs of its agent. */
export interface MigrationDeps {
  core: VolumeCore;
  /** The agent's host (a migration stays on it). */
  host: string;
  backendOf(v: { host: string | null }): VolumeBackend;
  named(name: string | null): NamedBackend | null;
  specOf(v: VolumeRow): Promise<VolumeSpec>;
  fail(v: VolumeRow, requestId: string, err: unknown): Promise<void>;
  log: Logger;
}

/** The status a migrating volume goes back to (its lock, or the retype's, is released). */
const settled = (status: string): string =>
  status === "maintenance" || status === "retyping" ? "available" : status;

/** Copy a `migrating` volume to `destHost`'s backend, then point its row there (with newTypeId, retype it). */
export async function migrateVolume(
  d: MigrationDeps,
  volumeId: string,
  destHost: string,
  newTypeId: string | null,
  requestId: string,
): Promise<void> {
  const { core, log } = d;
  const v = await getVolume(core, volumeId);
  if (!v || v.migration_status !== "migrating") return;
  const src = d.backendOf(v);
  const dest = agentOf(destHost) === d.host ? d.named(backendNameOf(destHost)) : null;
  let made = false;
  try {
    if (!dest) throw new Error(`backend ${destHost} is not on volume host ${d.host}`);
    if (dest.backend === src) throw new Error(`the volume is already on ${destHost}`);
    const spec = await d.specOf(newTypeId ? { ...v, volume_type_id: newTypeId } : v);
    made = true;
    const loc = await dest.backend.create(spec);
    await dest.backend.writeImage(v.id, await src.readRaw(v.id), "raw");
    const moved = await transitionVolume(core, v.id, [v.status], {
      status: settled(v.status),
      host: destHost,
      location: JSON.stringify(loc),
      migration_status: "success",
      ...(newTypeId ? { volume_type_id: newTypeId } : {}),
    });
    if (!moved) throw new Error("the volume changed status while its data was copied");
    made = false;
    await src.delete(v.id).catch((e: unknown) => log.warn({ err: e, volume: v.id }, "migrate: source left"));
  } catch (err) {
    if (made) await dest?.backend.delete(v.id).catch(() => {});
    await transitionVolume(core, v.id, [v.status], { status: settled(v.status) });
    await updateVolume(core, v.id, { migration_status: "error" });
    await d.fail(v, requestId, err);
  }
}

/** After a restart: migrations of this host's volumes that were under way failed (their copies are removed). */
export async function reconcileMigrations(d: MigrationDeps, ours: readonly VolumeRow[]): Promise<void> {
  for (const v of ours) {
    if (v.migration_status !== "migrating") continue;
    await transitionVolume(d.core, v.id, [v.status], { status: settled(v.status) });
    await updateVolume(d.core, v.id, { migration_status: "error" });
    await d.fail(v, "", new Error("the volume agent restarted while migrating it"));
  }
}
