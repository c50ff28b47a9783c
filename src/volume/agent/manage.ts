// The volume agent's half of manage and unmanage (Cinder's os-volume-manage and os-unmanage): adopt data a
// backend already holds as a volume, and forget a volume while its data stays on the backend.
import type { VolumeCore } from "../core.js";
import type { VolumeBackend, VolumeSpec } from "../drivers/types.js";
import type { VolumeRow } from "../store/rows.js";
import { getVolume, removeVolume, transitionVolume } from "../store/volumes.js";

/** What manage and unmanage need of their agent. */
export interface ManageDeps {
  core: VolumeCore;
  backendOf(v: { host: string | null }): VolumeBackend;
  specOf(v: VolumeRow): Promise<VolumeSpec>;
  fail(v: VolumeRow, requestId: string, action: string, err: unknown): Promise<void>;
}

/** Adopt `ref` as the `managing` volume: available with the data's size, or error_managing. */
export async function manageVolume(d: ManageDeps, volumeId: string, ref: string, requestId: string) {
  const v = await getVolume(d.core, volumeId);
  if (!v || v.status !== "managing") return;
  const backend = d.backendOf(v);
  try {
    if (!backend.manage) throw new Error(`the ${backend.name} backend cannot manage existing volumes`);
    const { location, sizeGb } = await backend.manage(await d.specOf(v), ref);
    const done = await transitionVolume(d.core, v.id, ["managing"], {
      status: "available",
      size: Math.max(1, sizeGb),
      location: JSON.stringify(location),
    });
    // Deleted while it was adopted: hand the data back under its reference.
    if (!done && !(await getVolume(d.core, v.id))) await backend.unmanage?.(v.id);
  } catch (err) {
    await transitionVolume(d.core, v.id, ["managing"], { status: "error_managing" });
    await d.fail(v, requestId, "manage volume", err);
  }
}

/** Forget the `unmanaging` volume: the backend keeps its data (under a reference manage takes), the row goes. */
export async function unmanageVolume(d: ManageDeps, volumeId: string, requestId: string) {
  const v = await getVolume(d.core, volumeId);
  if (!v || v.status !== "unmanaging") return;
  const backend = d.backendOf(v);
  try {
    if (!backend.unmanage) throw new Error(`the ${backend.name} backend cannot unmanage volumes`);
    await backend.unmanage(v.id);
    await removeVolume(d.core, v.id);
  } catch (err) {
    await transitionVolume(d.core, v.id, ["unmanaging"], { status: "error_unmanaging" });
    await d.fail(v, requestId, "unmanage volume", err);
  }
}
