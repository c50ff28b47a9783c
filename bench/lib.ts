import { spawn, spawnSync, type ChildProcess } from "node:child_process";
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

/** More of startStratus: how long to wait for clouds.yaml (default 60 s), extra `stratus up` arguments. */
export interface StartOptions {
  readyTimeoutMs?: number;
  args?: string[];
}

/** Start `bin/stratus up` on a temp data dir and wait until clouds.yaml exists; `nodeArgs` go to node (--cpu-prof). */
export async function startStratus(
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  opts: StartOptions = {},
): Promise<BenchCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), "stratus-bench-"));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      "bin/stratus",
      "up",
      "--data-dir",
      dataDir,
      "--port",
      String(port),
      "--log-level",
      "error",
      ...(opts.args ?? []),
    ],
    {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, ...env },
    },
  );
  const file = join(dataDir, "clouds.yaml");
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (!existsSync(file)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error("stratus did not become ready");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const doc = parse(readFileSync(file, "utf8")) as { clouds: Record<string, { auth: { password: string } }> };
  return {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    adminPassword: doc.clouds["stratus-admin"].auth.password,
    child,
    async stop() {
      // SIGTERM, then SIGKILL when it lingers; it may have exited already (a Ctrl-C reaches it too).
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
        await exited;
        clearTimeout(t);
      }
      // As root the cloud ran the linux data plane, which outlives it by design: remove it with its data dir.
      if (process.getuid?.() === 0)
        spawnSync(process.execPath, ["bin/stratus", "wipe-network", "--data-dir", dataDir], {
          stdio: "ignore",
        });
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
  return summarize(name, lat, errors, (performance.now() - t0) / 1000);
}

/** A Result from each call's latency (ms), the failed calls and the run's length in seconds. */
export function summarize(name: string, lat: number[], errors: number, elapsed: number): Result {
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

/** A process's resident set size in bytes (VmRSS of /proc/PID/status), or null if it cannot be read. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; stop() returns the peak and the sample count. */
export function sampleRss(pid: number, intervalMs = 50): { stop(): { peak: number; samples: number } } {
  let peak = rssBytes(pid) ?? 0;
  let samples = 1;
  const timer = setInterval(() => {
    const v = rssBytes(pid);
    if (v !== null) {
      samples++;
      if (v > peak) peak = v;
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const v = rssBytes(pid);
      if (v !== null && v > peak) peak = v;
      return { peak, samples: samples + 1 };
    },
  };
}

/** CPU time a process has used so far (user + system, all its threads), in ms; null if it cannot be read. */
export function cpuMs(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/**
 * Wait until a process is idle (under 5% of a core for a whole second, or `maxMs` passed): a cloud keeps working
 * after it answers (images registered, agents started), which would otherwise land in the first measurement.
 * Returns the ms waited.
 */
export async function settle(pid: number, maxMs = 120_000): Promise<number> {
  const t0 = Date.now();
  let prev = cpuMs(pid);
  while (Date.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuMs(pid);
    if (now === null || prev === null || now - prev < 50) break;
    prev = now;
  }
  return Date.now() - t0;
}

/** Print rows of strings as an aligned table under a header. */
export function printRows(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? "").padEnd(w[i])).join("  ");
  console.log(line(head));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows) console.log(line(r));
}

/** An admin token for a bench cloud (project-scoped, password auth). */
export async function adminToken(cloud: BenchCloud): Promise<string> {
  const { request } = await import("undici");
  const r = await request(`${cloud.url}/identity/v3/auth/tokens?nocatalog`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "admin", domain: { name: "Default" }, password: cloud.adminPassword } },
        },
        scope: { project: { name: "admin", domain: { name: "Default" } } },
      },
    }),
  });
  await r.body.dump();
  if (r.statusCode !== 201) throw new Error(`token issue failed: HTTP ${r.statusCode}`);
  return String(r.headers["x-subject-token"]);
}

/** A keep-alive HTTP client pool for the benchmark. */
export const pool = (url: string, connections: number): Pool => new Pool(url, { connections, pipelining: 1 });
