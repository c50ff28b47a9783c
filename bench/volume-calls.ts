// Helper of the volume benchmark: calls to the block storage API of an in-process cloud, waits for a status, and a
// one-run timer (the slow operations are timed once each, in ms).
import type { startCloud } from "../src/cloud/start.js";
import type { Result } from "./lib.js";

/** The in-process cloud the volume benchmark runs. */
export type Cloud = Awaited<ReturnType<typeof startCloud>>;

/** The resources a benchmark waits on, with the key of their body. */
const BODY = { volumes: "volume", backups: "backup", snapshots: "snapshot" } as const;

/** API calls below `base` (/volume/v3/<project>) with `headers`. */
export function volumeCalls(cloud: Cloud, base: string, headers: Record<string, string>) {
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
  const waitFor = async (kind: keyof typeof BODY, id: string, want: string) => {
    for (;;) {
      const b = await call("GET", `/${kind}/${id}`);
      const s = b[BODY[kind]].status as string;
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
  return { call, waitFor, timed };
}
