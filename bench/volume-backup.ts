// Helper of the volume benchmark: backup create -> available (full, then incremental with one changed 32 MiB
// chunk) and restore -> available, for a 1 GiB volume with 512 MiB written (random bytes: compression does not
// help), with the cloud's configured backup driver (swift: object storage in the same process).
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { Result } from "./lib.js";
import { volumeCalls, type Cloud } from "./volume-calls.js";

const MIB = 1024 * 1024;

/** Time backup and restore of one volume through the API (one run each, in ms). */
export async function measureBackups(
  cloud: Cloud,
  base: string,
  headers: Record<string, string>,
): Promise<Result[]> {
  const { call, waitFor, timed } = volumeCalls(cloud, base, headers);
  const vol = (await call("POST", "/volumes", { volume: { size: 1 } })).volume.id as string;
  await waitFor("volumes", vol, "available");
  const backend = cloud.volume.localAgent!.backend;
  const data = randomBytes(512 * MIB);
  await backend.writeImage(vol, Readable.from([data]), "raw");
  const rows: Result[] = [];
  let full = "";
  rows.push(
    await timed("backup create -> available (1 GiB, 512 MiB written)", async () => {
      full = (await call("POST", "/backups", { backup: { volume_id: vol } })).backup.id;
      await waitFor("backups", full, "available");
    }),
  );
  data.fill(7, 0, 32 * MIB);
  await backend.writeImage(vol, Readable.from([data]), "raw");
  rows.push(
    await timed("incremental backup -> available (32 MiB changed)", async () => {
      const id = (await call("POST", "/backups", { backup: { volume_id: vol, incremental: true } })).backup
        .id;
      await waitFor("backups", id, "available");
    }),
  );
  rows.push(
    await timed("restore -> available (new 1 GiB volume)", async () => {
      const r = await call("POST", `/backups/${full}/restore`, { restore: {} });
      await waitFor("volumes", r.restore.volume_id, "available");
    }),
  );
  return rows;
}
