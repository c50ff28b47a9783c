// Revocation across API processes (issue 8, item 1): three `bin/stratus up` processes share one PostgreSQL
// database. A writes (on RabbitMQ); B-bus shares A's RabbitMQ vhost but polls the database only once an hour, so
// only the bus fanout can reach it in time; B-poll has a private in-process bus (A's messages never reach it) and
// polls every second, so only the database high-water mark can. For a token revoked, a user disabled, a role
// removed and a password changed on A, both B processes refuse the token they had validated and cached, within a
// bounded wait of a few seconds (the bus normally does it in milliseconds, the poll within a second).
//
// PostgreSQL (scripts/db-services.mjs) and RabbitMQ (scripts/rabbitmq.mjs) are started when installed; when one
// cannot be used the cases skip with the reason, unless CI is set: then they fail. Every wait is bounded.
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { sql } from "kysely";
import { parse as parseYaml } from "yaml";
import { openDatabase } from "../../src/shared/db/index.js";
import { CI, rabbitVhost } from "../helpers/rabbit.js";
import { ROOT } from "../helpers/stratus-process.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a B process may take to refuse: generous for a loaded machine; the design target is 1 s. */
const DEADLINE_MS = 8_000;

interface DbServices {
  ensureDatabases(opts?: {
    engines?: string[];
    install?: boolean;
  }): Promise<Record<string, { usable: boolean; url: string | null; reason: string | null }>>;
  databaseUrl(adminUrl: string, name: string): string;
}

/** One `bin/stratus up` child process, its base URL once ready, and what it printed. */
class Up {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  base = "";
  private out = "";

  constructor(
    readonly name: string,
    readonly dir: string,
    args: string[],
  ) {
    this.child = spawn(process.execPath, [join(ROOT, "bin", "stratus"), "up", ...args], {
      cwd: ROOT,
      env: { ...process.env, STRATUS_PASSWORD_HASH_COST: "12" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on("data", (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((res) => this.child.on("exit", res));
  }

  get output(): string {
    return this.out;
  }

  /** Wait for "Stratus is ready" (failing early if the process exits) and read its URL from clouds.yaml. */
  async ready(timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!/Stratus is ready/.test(this.out)) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited:\n${this.out}`);
      if (Date.now() > end) throw new Error(`${this.name} not ready within ${timeoutMs} ms:\n${this.out}`);
      await sleep(100);
    }
    const doc = parseYaml(readFileSync(join(this.dir, "clouds.yaml"), "utf8")) as { clouds: any };
    this.base = (doc.clouds["stratus-admin"].auth.auth_url as string).replace(/\/identity\/v3\/?$/, "");
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** One HTTP request; the status and parsed body. */
async function http(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(base + path, {
    method,
    headers: {
      ...(opts.token ? { "x-auth-token": opts.token } : {}),
      ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      ...opts.headers,
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: r.status, body, headers: r.headers };
}

describe("revocation across API processes sharing PostgreSQL (bus fanout and high-water poll)", () => {
  let skip: string | null = "before() did not finish";
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const procs: Up[] = [];
  let a: Up;
  let bBus: Up;
  let bPoll: Up;
  let admin = "";
  let member = "";
  let n = 0;

  const guard = (t: TestContext): boolean => {
    if (skip) t.skip(skip);
    return !!skip;
  };
  const context = () => procs.map((p) => `--- ${p.name}:\n${p.output.slice(-3000)}`).join("\n");

  /** A token for a new user with `member` on a new project, issued by A. */
  const fixture = async () => {
    n++;
    const id = `${n}-${randomBytes(3).toString("hex")}`;
    const p = await http(a.base, "POST", "/identity/v3/projects", {
      token: admin,
      body: { project: { name: `rev-p${id}`, domain_id: "default" } },
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    const password = `rev-pw-${id}-secret`;
    const u = await http(a.base, "POST", "/identity/v3/users", {
      token: admin,
      body: { user: { name: `rev-u${id}`, domain_id: "default", password } },
    });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    const projectId = p.body.project.id as string;
    const userId = u.body.user.id as string;
    const g = await http(
      a.base,
      "PUT",
      `/identity/v3/projects/${projectId}/users/${userId}/roles/${member}`,
      {
        token: admin,
      },
    );
    assert.equal(g.status, 204);
    const tok = await http(a.base, "POST", "/identity/v3/auth/tokens", {
      body: {
        auth: {
          identity: { methods: ["password"], password: { user: { id: userId, password } } },
          scope: { project: { id: projectId } },
        },
      },
    });
    assert.equal(tok.status, 201, JSON.stringify(tok.body));
    return { projectId, userId, token: tok.headers.get("x-subject-token") as string };
  };

  /** How `proc` answers a request of another service (image) made with `token`. */
  const use = async (proc: Up, token: string) =>
    (await http(proc.base, "GET", "/image/v2/images", { token })).status;

  /** Every process accepts the token, twice (so each has it cached), before the write. */
  const acceptedEverywhere = async (token: string) => {
    for (const p of procs)
      for (let i = 0; i < 2; i++) assert.equal(await use(p, token), 200, `${p.name} accepts the fresh token`);
  };

  /** After the write on A: A refuses at once; each B refuses within the deadline (a bounded poll). */
  const refusedEverywhere = async (t: TestContext, token: string, what: string) => {
    const t0 = Date.now();
    assert.equal(await use(a, token), 401, `${what}: A refuses the token at once`);
    for (const p of [bBus, bPoll]) {
      const end = t0 + DEADLINE_MS;
      let status = 0;
      while ((status = await use(p, token)) !== 401) {
        assert.equal(status, 200, `${what}: ${p.name} answered ${status}`);
        if (Date.now() > end)
          assert.fail(`${what}: ${p.name} still accepted the token ${DEADLINE_MS} ms later\n${context()}`);
        await sleep(50);
      }
      t.diagnostic(`${what}: ${p.name} refused it ${Date.now() - t0} ms after the write returned`);
    }
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
    const adminUrl = pg.url;
    const dbName = `stratus_rev_${randomBytes(5).toString("hex")}`;
    const adminDb = await openDatabase(adminUrl);
    try {
      await sql.raw(`CREATE DATABASE ${dbName}`).execute(adminDb.kysely);
    } finally {
      await adminDb.close();
    }
    const dbUrl = services.databaseUrl(adminUrl, dbName);
    cleanups.push(async () => {
      const d = await openDatabase(adminUrl);
      try {
        await sql.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).execute(d.kysely);
      } finally {
        await d.close();
      }
    });
    const root = mkdtempSync(join(tmpdir(), "stratus-e2e-rev-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const start = (name: string, dirName: string, bus: string, pollSeconds: number): Up => {
      const dir = join(root, dirName);
      mkdirSync(dir, { recursive: true });
      const cfg = join(dir, "stratus.yaml");
      writeFileSync(cfg, `compute:\n  hosts: 0\nidentity:\n  revocationPollInterval: ${pollSeconds}\n`);
      // prettier-ignore
      const p = new Up(name, dir, [
        "--data-dir", dir, "--config", cfg, "--host", "127.0.0.1", "--port", "0", "--db", dbUrl, "--bus", bus,
        "--log-level", "warn",
      ]);
      procs.push(p);
      return p;
    };
    a = start("A", "a", vhost.url, 1);
    await a.ready(90_000);
    // The others are more API processes of the same cloud: the same token keys and bootstrap secrets.
    for (const d of ["b-bus", "b-poll"]) {
      mkdirSync(join(root, d), { recursive: true });
      cpSync(join(root, "a", "fernet-keys"), join(root, d, "fernet-keys"), { recursive: true });
      cpSync(join(root, "a", "bootstrap-secrets.json"), join(root, d, "bootstrap-secrets.json"));
    }
    bBus = start("B-bus (polls hourly)", "b-bus", vhost.url, 3600);
    await bBus.ready(90_000);
    bPoll = start("B-poll (no shared bus)", "b-poll", "memory", 1);
    await bPoll.ready(90_000);
    const secrets = JSON.parse(readFileSync(join(root, "a", "bootstrap-secrets.json"), "utf8"));
    const auth = await http(a.base, "POST", "/identity/v3/auth/tokens", {
      body: {
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "admin", domain: { id: "default" }, password: secrets.adminPassword } },
          },
          scope: { project: { name: "admin", domain: { id: "default" } } },
        },
      },
    });
    assert.equal(auth.status, 201, JSON.stringify(auth.body));
    admin = auth.headers.get("x-subject-token") as string;
    const roles = await http(a.base, "GET", "/identity/v3/roles?name=member", { token: admin });
    member = roles.body.roles[0].id;
    skip = null;
  });

  after(async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  });

  test("a token revoked on A (DELETE /v3/auth/tokens) is refused by the other processes", async (t) => {
    if (guard(t)) return;
    const f = await fixture();
    await acceptedEverywhere(f.token);
    const r = await http(a.base, "DELETE", "/identity/v3/auth/tokens", {
      token: admin,
      headers: { "x-subject-token": f.token },
    });
    assert.equal(r.status, 204);
    await refusedEverywhere(t, f.token, "token revoked");
    // Keystone's own validation on B (X-Subject-Token) agrees.
    for (const p of [bBus, bPoll]) {
      const v = await http(p.base, "GET", "/identity/v3/auth/tokens", {
        token: admin,
        headers: { "x-subject-token": f.token },
      });
      assert.equal(v.status, 404, `${p.name} validates the revoked token as not found`);
    }
  });

  test("a user disabled on A is refused by the other processes", async (t) => {
    if (guard(t)) return;
    const f = await fixture();
    await acceptedEverywhere(f.token);
    const r = await http(a.base, "PATCH", `/identity/v3/users/${f.userId}`, {
      token: admin,
      body: { user: { enabled: false } },
    });
    assert.equal(r.status, 200);
    await refusedEverywhere(t, f.token, "user disabled");
  });

  test("a role removed on A is refused by the other processes", async (t) => {
    if (guard(t)) return;
    const f = await fixture();
    await acceptedEverywhere(f.token);
    const r = await http(
      a.base,
      "DELETE",
      `/identity/v3/projects/${f.projectId}/users/${f.userId}/roles/${member}`,
      { token: admin },
    );
    assert.equal(r.status, 204);
    await refusedEverywhere(t, f.token, "role removed");
  });

  test("a password changed on A is refused by the other processes", async (t) => {
    if (guard(t)) return;
    const f = await fixture();
    await acceptedEverywhere(f.token);
    const r = await http(a.base, "PATCH", `/identity/v3/users/${f.userId}`, {
      token: admin,
      body: { user: { password: "a-new-password-for-the-test" } },
    });
    assert.equal(r.status, 200);
    await refusedEverywhere(t, f.token, "password changed");
  });

  test("a token of a user whose access was not touched keeps working everywhere", async (t) => {
    if (guard(t)) return;
    const f = await fixture();
    await acceptedEverywhere(f.token);
  });
});
