// Helper of the volume benchmark: backup create -> available (full, then incremental with one changed 32 MiB
// chunk) and restore -> available, for a 1 GiB volume with 512 MiB written (random bytes: compression does not
// help), with the cloud's configured backup driver (swift: object storage in the same process).
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { startCloud } from "../src/cloud/start.js";
import type { Result } from "./lib.js";

type Cloud = Awaited<ReturnType<typeof startCloud>>;

const MIB = 1024 * 1024;

/** Time backup and restore of one volume through the API (one run each, in ms). */
export async function measureBackups(
  cloud: Cloud,
  base: string,
  headers: Record<string, string>,
): Promise<Result[]> {
  const call = async (method: "GET" | "POST", url: string, body?: unknown) => {
    const r = await cloud.app.inject({
      method,
      url: `${base}${url}`,
      headers,
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.payload}`);
    return JSON.parse(r.payload || "{}");
  };
  const waitFor = async (kind: "volumes" | "backups", id: string, want: string) => {
    for (;;) {
      const b = await call("GET", `/${kind}/${id}`);
      const s = (kind === "volumes" ? b.volume : b.backup).status as string;
      if (s === want) return;
      if (s.startsWith("error")) throw new Error(`${kind} ${id}: ${s}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const timed = async (name: string, fn: () => Promise<void>): Promise<Result> => {
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    return { name, requests: 1, errors: 0, seconds: ms / 1000, perSecond: 1000 / ms, p50ms: ms, p99ms: ms };
  };
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
