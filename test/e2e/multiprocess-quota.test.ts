// Quotas hold across API processes: two `bin/stratus up` processes share one data directory (token keys, bootstrap
// secrets), a temporary PostgreSQL database and a temporary RabbitMQ vhost. Concurrent creates alternate between
// the two processes; exactly the quota is accepted (compute instances: 403 for the rest; image count: 413).
//
// PostgreSQL and RabbitMQ are started when installed; when one cannot be used the cases skip with the reason,
// unless CI is set: then they fail. Every wait is bounded.
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { sql } from "kysely";
import { parse as parseYaml } from "yaml";
import { openDatabase } from "../../src/shared/db/index.js";
import { CI, rabbitVhost } from "../helpers/rabbit.js";
import { ROOT } from "../helpers/stratus-process.js";

const IMAGE_COUNT = 6;
const CONFIG = `compute:\n  hosts: 0\nimage:\n  quotas:\n    imageCountTotal: ${IMAGE_COUNT}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DbServices {
  ensureDatabases(opts?: {
    engines?: string[];
    install?: boolean;
  }): Promise<Record<string, { usable: boolean; url: string | null; reason: string | null }>>;
  databaseUrl(adminUrl: string, name: string): string;
}

/** One `bin/stratus up` child process and what it printed. */
class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  out = "";

  constructor(
    readonly name: string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, [join(ROOT, "bin", "stratus"), ...args], {
      cwd: ROOT,
      env: { ...process.env, STRATUS_PASSWORD_HASH_COST: "12" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on("data", (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((res) => this.child.on("exit", res));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wait until the output matches `re` (failing early if the process exits). */
  async waitFor(re: RegExp, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.out)) {
      if (!this.running) throw new Error(`${this.name} exited before printing ${re}:\n${this.out}`);
      if (Date.now() > end)
        throw new Error(`${this.name} did not print ${re} within ${timeoutMs} ms:\n${this.out}`);
      await sleep(50);
    }
  }

  /** SIGTERM, then SIGKILL after 10 s; resolves once it has exited. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

describe("quotas across two API processes on PostgreSQL and RabbitMQ", () => {
  let skip: string | null = "before() did not finish";
  const cleanups: Array<() => Promise<void> | void> = [];
  const procs: Proc[] = [];
  const bases: string[] = []; // each process's base URL
  let adminToken = "";
  let demoToken = "";
  let demoProject = "";
  let adminProject = "";
  let imageId = "";

  const guard = (t: TestContext): boolean => {
    if (skip) t.skip(skip);
    return !!skip;
  };

  const call = async (base: string, token: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: {
        "x-auth-token": token,
        "openstack-api-version": "compute 2.37",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(60_000),
    });
    const text = await r.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null; // Glance's errors are HTML
    }
    return { status: r.status, body: parsed, text };
  };

  const login = async (base: string, user: string, password: string, project: string) => {
    const r = await fetch(`${base}/identity/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: user, domain: { name: "Default" }, password } },
          },
          scope: { project: { name: project, domain: { name: "Default" } } },
        },
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await r.text();
    assert.equal(r.status, 201, text);
    const body = JSON.parse(text) as { token: { project: { id: string } } };
    return { token: r.headers.get("x-subject-token") as string, project: body.token.project.id };
  };

  before(async () => {
    const services = (await import(
      new URL("../../../scripts/db-services.mjs", import.meta.url).href
    )) as DbServices;
    const pg = (
      await services.ensureDatabases({
        engines: ["postgres"],
        install: CI || process.env.STRATUS_DB_INSTALL === "1",
      })
    ).postgres;
    if (!pg?.usable || !pg.url) {
      const reason = `PostgreSQL is not usable: ${pg?.reason}`;
      if (CI) throw new Error(`${reason} (CI is set, so this is a failure)`);
      skip = reason;
      return;
    }
    const vhost = await rabbitVhost(); // throws under CI when RabbitMQ is missing
    if ("skip" in vhost) {
      skip = vhost.skip;
      return;
    }
    cleanups.push(() => vhost.drop());
    const dbName = `stratus_mpq_${randomBytes(5).toString("hex")}`;
    const admin = await openDatabase(pg.url);
    try {
      await sql.raw(`CREATE DATABASE ${dbName}`).execute(admin.kysely);
    } finally {
      await admin.close();
    }
    const adminUrl = pg.url;
    cleanups.push(async () => {
      const a = await openDatabase(adminUrl);
      try {
        await sql.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).execute(a.kysely);
      } finally {
        await a.close();
      }
    });
    const dbUrl = services.databaseUrl(adminUrl, dbName);
    const root = mkdtempSync(join(tmpdir(), "stratus-e2e-mpq-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, "stratus.yaml"), CONFIG);
    const cloudsYaml = join(root, "clouds.yaml");
    // One after the other on the same data directory: the second finds the first's token keys and secrets.
    for (const name of ["api-1", "api-2"]) {
      rmSync(cloudsYaml, { force: true });
      // prettier-ignore
      const p = new Proc(name, [
        "up", "--data-dir", root, "--config", join(root, "stratus.yaml"), "--host", "127.0.0.1", "--port", "0",
        "--db", dbUrl, "--bus", vhost.url, "--compute-hosts", "0", "--log-level", "warn",
      ]);
      procs.push(p);
      await p.waitFor(/Stratus is ready/, 120_000);
      const clouds = (parseYaml(readFileSync(cloudsYaml, "utf8")) as { clouds: Record<string, any> }).clouds;
      bases.push((clouds["stratus-admin"].auth.auth_url as string).replace(/\/identity\/v3\/?$/, ""));
      if (!adminToken) {
        const a = await login(bases[0], "admin", clouds["stratus-admin"].auth.password, "admin");
        const d = await login(bases[0], "demo", clouds["stratus-demo"].auth.password, "demo");
        [adminToken, adminProject, demoToken, demoProject] = [a.token, a.project, d.token, d.project];
      }
    }
    const img = await call(bases[0], adminToken, "POST", "/image/v2/images", {
      name: "mpq-image",
      disk_format: "raw",
      container_format: "bare",
      visibility: "public",
    });
    assert.equal(img.status, 201, img.text);
    imageId = img.body.id;
    const up = await fetch(`${bases[1]}/image/v2/images/${imageId}/file`, {
      method: "PUT",
      headers: { "x-auth-token": adminToken, "content-type": "application/octet-stream" },
      body: Buffer.alloc(64 * 1024),
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(up.status, 204, await up.text());
    skip = null;
  });

  after(async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
    for (const c of cleanups.reverse()) await c();
  });

  /** Fire `n` creates at once, alternating between the processes; the statuses and bodies. */
  const burst = (token: string, n: number, prefix: string) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(bases[i % 2], token, "POST", "/compute/v2.1/servers", {
          server: { name: `${prefix}-${i}`, imageRef: imageId, flavorRef: "42", networks: "none" },
        }),
      ),
    );

  const instancesQuota = async (project: string, limit: number) => {
    const r = await call(bases[0], adminToken, "PUT", `/compute/v2.1/os-quota-sets/${project}`, {
      quota_set: { instances: limit, cores: -1, ram: -1 },
    });
    assert.equal(r.status, 200, r.text);
  };

  const liveServers = async (token: string) => {
    const r = await call(bases[1], token, "GET", "/compute/v2.1/servers?limit=1000");
    assert.equal(r.status, 200, r.text);
    return (r.body.servers as unknown[]).length;
  };

  /**
   * Rounds of 20 creates alternating between the processes; before each round the instances quota is raised by
   * `step`, so every round is a fresh race for exactly `step` free slots (the races of a round are timing-dependent:
   * several rounds make an over-commit show up reliably when the check is not atomic).
   */
  const rounds = async (token: string, project: string, step: number, n: number, prefix: string) => {
    for (let round = 1; round <= n; round++) {
      await instancesQuota(project, step * round);
      const results = await burst(token, 20, `${prefix}-${round}`);
      const statuses = results.map((r) => r.status);
      const accepted = statuses.filter((s) => s === 202).length;
      assert.equal(
        accepted,
        step,
        `round ${round}: ${accepted} accepted for ${step} free (${statuses.join(",")})`,
      );
      for (const r of results.filter((x) => x.status !== 202)) {
        assert.equal(r.status, 403, r.text);
        assert.match(r.text, /Quota exceeded for instances/);
      }
      assert.equal(await liveServers(token), step * round);
    }
  };

  test("instances=5 on a member project: 20 creates over two processes, exactly 5 accepted", async (t) => {
    if (guard(t)) return;
    await rounds(demoToken, demoProject, 5, 4, "mpq-demo");
  });

  test("instances=10 on the admin project: 20 creates over two processes, exactly 10 accepted", async (t) => {
    if (guard(t)) return;
    await rounds(adminToken, adminProject, 10, 3, "mpq-admin");
  });

  test(`image count ${IMAGE_COUNT}: 20 image creates over two processes, exactly ${IMAGE_COUNT} owned`, async (t) => {
    if (guard(t)) return;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(bases[i % 2], demoToken, "POST", "/image/v2/images", { name: `mpq-img-${i}` }),
      ),
    );
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, IMAGE_COUNT, `statuses: ${statuses.join(",")}`);
    for (const r of results.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 413, r.text);
      assert.match(r.text, /image_count_total is over limit of 6/);
    }
    const mine = await call(bases[0], demoToken, "GET", `/image/v2/images?owner=${demoProject}&limit=100`);
    assert.equal(mine.body.images.length, IMAGE_COUNT);
  });
});
