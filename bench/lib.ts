import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { parse } from "yaml";

/** Latency/throughput figures of one scenario. */
export interface Result {
  name: string;
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** A cloud started as a separate process, as users run it. */
export interface BenchCloud {
  url: string;
  dataDir: string;
  adminPassword: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Start `bin/stratus up` on a temp data dir and wait until clouds.yaml exists. */
export async function startStratus(env: Record<string, string> = {}): Promise<BenchCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), "stratus-bench-"));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["bin/stratus", "up", "--data-dir", dataDir, "--port", String(port), "--log-level", "error"],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, ...env },
    },
  );
  const file = join(dataDir, "clouds.yaml");
  const deadline = Date.now() + 60_000;
  while (!existsSync(file)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("stratus did not become ready");
    await new Promise((r) => setTimeout(r, 100));
  }
  const doc = parse(readFileSync(file, "utf8")) as { clouds: Record<string, { auth: { password: string } }> };
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    adminPassword: doc.clouds["stratus-admin"].auth.password,
    child,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Run `fn` with `concurrency` workers for `seconds`, recording latency of each call. */
export async function measure(
  name: string,
  concurrency: number,
  seconds: number,
  fn: (i: number) => Promise<boolean>,
): Promise<Result> {
  const lat: number[] = [];
  let errors = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        const ok = await fn(n++).catch(() => false);
        lat.push(performance.now() - s);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))] ?? 0;
  return {
    name,
    requests: lat.length,
    errors,
    seconds: elapsed,
    perSecond: lat.length / elapsed,
    p50ms: pct(50),
    p99ms: pct(99),
  };
}

/** Print results as an aligned table. */
export function printTable(rows: Result[], notes: Record<string, string> = {}): void {
  const head = ["scenario", "requests", "errors", "req/s", "p50 ms", "p99 ms", "target / reference"];
  const body = rows.map((r) => [
    r.name,
    String(r.requests),
    String(r.errors),
    r.perSecond.toFixed(1),
    r.p50ms.toFixed(2),
    r.p99ms.toFixed(2),
    notes[r.name] ?? "",
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join("  ");
  console.log(line(head));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const b of body) console.log(line(b));
}

/** A keep-alive HTTP client pool for the benchmark. */
export const pool = (url: string, connections: number): Pool => new Pool(url, { connections, pipelining: 1 });
