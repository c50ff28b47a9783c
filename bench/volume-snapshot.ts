// Helper of the volume benchmark: snapshot create -> available, volume from that snapshot -> available and clone
// (volume from a volume) -> available, for a 1 GiB volume with 512 MiB written (random bytes), on the cloud's
// backend (`file`: qcow2 internal snapshots, copies out of them).
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { Result } from "./lib.js";
import { volumeCalls, type Cloud } from "./volume-calls.js";

const MIB = 1024 * 1024;

/** Time snapshot, volume from snapshot and clone of one volume through the API (one run each, in ms). */
export async function measureSnapshots(
  cloud: Cloud,
  base: string,
  headers: Record<string, string>,
): Promise<Result[]> {
  const { call, waitFor, timed } = volumeCalls(cloud, base, headers);
  const vol = (await call("POST", "/volumes", { volume: { size: 1 } })).volume.id as string;
  await waitFor("volumes", vol, "available");
  await cloud.volume.localAgent!.backend.writeImage(vol, Readable.from([randomBytes(512 * MIB)]), "raw");
  let snap = "";
  return [
    await timed("snapshot create -> available (1 GiB, 512 MiB written)", async () => {
      snap = (await call("POST", "/snapshots", { snapshot: { volume_id: vol } })).snapshot.id;
      await waitFor("snapshots", snap, "available");
    }),
    await timed("volume from snapshot -> available", async () => {
      const id = (await call("POST", "/volumes", { volume: { snapshot_id: snap } })).volume.id;
      await waitFor("volumes", id, "available");
    }),
    await timed("clone (volume from volume) -> available", async () => {
      const id = (await call("POST", "/volumes", { volume: { source_volid: vol } })).volume.id;
      await waitFor("volumes", id, "available");
    }),
  ];
}
