// A split deployment as separate processes: `bin/stratus up --compute-hosts 0` (the control plane) and two
// `bin/stratus agent compute` processes (hosts mp-a and mp-b, each with its own data dir), on a temporary
// PostgreSQL database and a temporary RabbitMQ vhost. Servers are booted on both hosts; mp-a is killed with
// SIGKILL; once `openstack compute service list` reports it down its servers are evacuated to mp-b; mp-a is started
// again on the same data dir: it comes back up, its reconcile destroys the guests that now live on mp-b, and every
// server's guest exists on exactly the host the API names.
//
// PostgreSQL (scripts/db-services.mjs) and RabbitMQ (scripts/rabbitmq.mjs) are started when installed; when one
// cannot be used the cases skip with the reason, unless CI is set: then they fail. Every wait is bounded.
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { sql } from "kysely";
import { parse as parseYaml } from "yaml";
import { openDatabase } from "../../src/shared/db/index.js";
import { rabbitVhost } from "../helpers/rabbit.js";
import { OPENSTACK, ROOT, pyEnv } from "../helpers/stratus-process.js";

const CI = !!process.env.CI && !["0", "false", "no"].includes(process.env.CI.toLowerCase());
const HOSTS = ["mp-a", "mp-b"] as const;
type Host = (typeof HOSTS)[number];
const CONFIG = "compute:\n  hosts: 0\n  reportInterval: 1\n  serviceDownTime: 4\n";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DbServices {
  ensureDatabases(opts?: {
    engines?: string[];
    install?: boolean;
  }): Promise<Record<string, { usable: boolean; url: string | null; reason: string | null }>>;
  databaseUrl(adminUrl: string, name: string): string;
}

/** One `bin/stratus` child process and everything it printed. */
class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private out = "";

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
    this.exited = new Promise((res) => this.child.on("exit", (code, signal) => res({ code, signal })));
  }

  get output(): string {
    return this.out;
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

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const t = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Run `openstack ARGS -f json` as admin of the control plane's clouds.yaml, killed after `timeoutMs`. */
function osc(cloudsYaml: string, args: string[], timeoutMs = 60_000): Promise<any> {
  return new Promise((res, rej) => {
    const child = spawn(OPENSTACK, [...args, "-f", "json"], {
      env: pyEnv({ OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: "stratus-admin" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", rej);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) rej(new Error(`openstack ${args.join(" ")} exited ${code}: ${stderr}`));
      else res(stdout.trim() ? JSON.parse(stdout) : null);
    });
  });
}

/** Poll `fn` until it returns a truthy value; fail with `what` (and the last value) after `timeoutMs`. */
async function until<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T>,
  everyMs = 250,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${String(last)})`);
    await sleep(everyMs);
  }
}

describe("multi-process deployment: PostgreSQL, RabbitMQ, a control plane and two compute agents", () => {
  let skip: string | null = "before() did not finish";
  let root = "";
  let dbUrl = "";
  let busUrl = "";
  const cleanups: Array<() => Promise<void> | void> = [];
  let cp: Proc | undefined;
  const agents = new Map<Host, Proc>();
  let cloudsYaml = "";
  let base = "";
  let token = "";
  let imageId = "";
  const servers = new Map<string, Host>(); // server id → the host it was booted on

  const dirOf = (host: Host) => join(root, host);
  const stateFile = (host: Host) => join(dirOf(host), "fake-hosts", `${host}.json`);
  const guestsOn = (host: Host): string[] =>
    existsSync(stateFile(host))
      ? (JSON.parse(readFileSync(stateFile(host), "utf8")).instances as Array<{ spec: { uuid: string } }>)
          .map((r) => r.spec.uuid)
          .sort()
      : [];

  const startAgent = async (host: Host): Promise<Proc> => {
    const p = new Proc(`agent ${host}`, [
      "agent",
      "compute",
      "--host",
      host,
      "--bus",
      busUrl,
      "--db",
      dbUrl,
      "--data-dir",
      dirOf(host),
      "--config",
      join(dirOf(host), "stratus.yaml"),
    ]);
    agents.set(host, p);
    await p.waitFor(new RegExp(`Compute agent ${host} is ready`), 60_000);
    return p;
  };

  /** One compute API call as admin; the body parsed. */
  const api = async (method: string, path: string, body?: unknown, mv = "2.93") => {
    const r = await fetch(`${base}/compute/v2.1${path}`, {
      method,
      headers: {
        "x-auth-token": token,
        "openstack-api-version": `compute ${mv}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null, text };
  };
  const server = async (id: string) => (await api("GET", `/servers/${id}`)).body.server;
  const settledOn = (id: string, host: Host) =>
    until(`server ${id} ACTIVE on ${host}`, 60_000, async () => {
      const s = await server(id);
      if (s.status === "ERROR") throw new Error(`server ${id} went to ERROR: ${JSON.stringify(s.fault)}`);
      return s.status === "ACTIVE" &&
        s["OS-EXT-STS:task_state"] === null &&
        s["OS-EXT-SRV-ATTR:host"] === host
        ? s
        : null;
    });
  const computeStates = async (): Promise<Record<string, string>> => {
    const list = (await osc(cloudsYaml, [
      "compute",
      "service",
      "list",
      "--service",
      "nova-compute",
    ])) as Array<{
      Host: string;
      State: string;
    }>;
    return Object.fromEntries(list.map((s) => [s.Host, s.State]));
  };
  const context = () =>
    [cp, ...agents.values()].map((p) => (p ? `--- ${p.name}:\n${p.output.slice(-3000)}` : "")).join("\n");
  const guard = (t: TestContext): boolean => {
    if (skip) t.skip(skip);
    return !!skip;
  };

  before(async () => {
    assert.ok(
      existsSync(OPENSTACK),
      `${OPENSTACK} is missing: apt-get install python3-openstackclient (npm test does this)`,
    );
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
    busUrl = vhost.url;
    cleanups.push(() => vhost.drop());
    const adminUrl = pg.url;
    const dbName = `stratus_mp_${randomBytes(5).toString("hex")}`;
    const admin = await openDatabase(adminUrl);
    try {
      await sql.raw(`CREATE DATABASE ${dbName}`).execute(admin.kysely);
    } finally {
      await admin.close();
    }
    dbUrl = services.databaseUrl(adminUrl, dbName);
    cleanups.push(async () => {
      const a = await openDatabase(adminUrl);
      try {
        await sql.raw(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).execute(a.kysely);
      } finally {
        await a.close();
      }
    });
    root = mkdtempSync(join(tmpdir(), "stratus-e2e-mp-"));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    for (const dir of [join(root, "cp"), ...HOSTS.map(dirOf)]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "stratus.yaml"), CONFIG);
    }
    cloudsYaml = join(root, "cp", "clouds.yaml");
    // prettier-ignore
    cp = new Proc("control plane", [
      "up", "--data-dir", join(root, "cp"), "--config", join(root, "cp", "stratus.yaml"), "--host", "127.0.0.1",
      "--port", "0", "--db", dbUrl, "--bus", busUrl, "--compute-hosts", "0", "--log-level", "warn",
    ]);
    await cp.waitFor(/Stratus is ready/, 90_000);
    const cloud = (parseYaml(readFileSync(cloudsYaml, "utf8")) as { clouds: Record<string, any> }).clouds[
      "stratus-admin"
    ];
    const authUrl = cloud.auth.auth_url as string;
    base = authUrl.replace(/\/identity\/v3\/?$/, "");
    const auth = await fetch(`${authUrl}/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "admin", domain: { name: "Default" }, password: cloud.auth.password } },
          },
          scope: { project: { name: "admin", domain: { name: "Default" } } },
        },
      }),
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(auth.status, 201, await auth.text());
    token = auth.headers.get("x-subject-token") as string;
    for (const host of HOSTS) await startAgent(host);
    skip = null;
  });

  after(async () => {
    for (const p of [...agents.values(), cp]) await p?.stop().catch(() => undefined);
    for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  });

  test("the control plane runs no agent of its own; both agent processes register and are up", async (t) => {
    if (guard(t)) return;
    const states = await until("both compute services up", 30_000, async () => {
      const s = await computeStates();
      return s["mp-a"] === "up" && s["mp-b"] === "up" ? s : null;
    });
    assert.deepEqual(
      Object.keys(states).sort(),
      [...HOSTS],
      "only the two agent processes are compute hosts",
    );
    const hv = (await api("GET", "/os-hypervisors/detail")).body.hypervisors as Array<{
      hypervisor_hostname: string;
    }>;
    assert.deepEqual(hv.map((h) => h.hypervisor_hostname).sort(), [...HOSTS]);
    for (const host of HOSTS) assert.deepEqual(guestsOn(host), [], `${host} starts with no guests`);
  });

  test("servers boot on both hosts; each guest is in its host's state file", async (t) => {
    if (guard(t)) return;
    const img = await fetch(`${base}/image/v2/images`, {
      method: "POST",
      headers: { "x-auth-token": token, "content-type": "application/json" },
      body: JSON.stringify({
        name: "mp-image",
        disk_format: "raw",
        container_format: "bare",
        visibility: "public",
      }),
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(img.status, 201);
    imageId = ((await img.json()) as { id: string }).id;
    const up = await fetch(`${base}/image/v2/images/${imageId}/file`, {
      method: "PUT",
      headers: { "x-auth-token": token, "content-type": "application/octet-stream" },
      body: Buffer.alloc(64 * 1024),
      signal: AbortSignal.timeout(30_000),
    });
    assert.equal(up.status, 204);
    for (const [name, host] of [
      ["mp-1", "mp-a"],
      ["mp-2", "mp-a"],
      ["mp-3", "mp-b"],
    ] as Array<[string, Host]>) {
      const r = await api(
        "POST",
        "/servers",
        {
          server: {
            name,
            imageRef: imageId,
            flavorRef: "42",
            networks: "none",
            availability_zone: `nova:${host}`,
          },
        },
        "2.37",
      );
      assert.equal(r.status, 202, r.text);
      servers.set(r.body.server.id as string, host);
    }
    for (const [id, host] of servers) await settledOn(id, host);
    for (const host of HOSTS)
      assert.deepEqual(
        guestsOn(host),
        [...servers]
          .filter(([, h]) => h === host)
          .map(([id]) => id)
          .sort(),
        `the guests in ${host}'s state file`,
      );
  });

  test("SIGKILL mp-a: reported down, its servers evacuate to mp-b", async (t) => {
    if (guard(t)) return;
    const a = agents.get("mp-a")!;
    a.child.kill("SIGKILL");
    assert.equal((await a.exited).signal, "SIGKILL");
    const onA = [...servers].filter(([, h]) => h === "mp-a").map(([id]) => id);
    assert.deepEqual(guestsOn("mp-a"), onA.sort(), "the dead host's guests are still in its state file");
    await until("openstack compute service list: mp-a down", 30_000, async () => {
      const s = await computeStates();
      return s["mp-a"] === "down" && s["mp-b"] === "up";
    });
    for (const id of onA) {
      const r = await api("POST", `/servers/${id}/action`, { evacuate: {} }, "2.29");
      assert.equal(r.status, 200, `evacuate ${id}: ${r.status} ${r.text}\n${context()}`);
    }
    for (const id of onA) {
      await settledOn(id, "mp-b");
      servers.set(id, "mp-b");
    }
    assert.deepEqual(guestsOn("mp-b"), [...servers.keys()].sort(), "every server has a guest on mp-b now");
  });

  test("mp-a restarts on its data dir: up again, evacuated guests destroyed, no guest on two hosts", async (t) => {
    if (guard(t)) return;
    await startAgent("mp-a");
    await until(
      "mp-a's reconcile destroyed the evacuated guests",
      30_000,
      async () => guestsOn("mp-a").length === 0,
    );
    const where = new Map<string, Host[]>();
    for (const host of HOSTS)
      for (const id of guestsOn(host)) where.set(id, [...(where.get(id) ?? []), host]);
    for (const id of servers.keys()) {
      const s = await server(id);
      assert.equal(s.status, "ACTIVE");
      assert.deepEqual(
        where.get(id),
        [s["OS-EXT-SRV-ATTR:host"]],
        `server ${id}: one guest, on the API's host`,
      );
    }
    assert.deepEqual([...where.keys()].sort(), [...servers.keys()].sort(), "no guest without a server");
    await until("openstack compute service list: both up", 30_000, async () => {
      const s = await computeStates();
      return s["mp-a"] === "up" && s["mp-b"] === "up";
    });
  });

  test("the restarted mp-a takes new servers; deletes reach both agents", async (t) => {
    if (guard(t)) return;
    const r = await api(
      "POST",
      "/servers",
      {
        server: {
          name: "mp-4",
          imageRef: imageId,
          flavorRef: "42",
          networks: "none",
          availability_zone: "nova:mp-a",
        },
      },
      "2.37",
    );
    assert.equal(r.status, 202, r.text);
    const id = r.body.server.id as string;
    servers.set(id, "mp-a");
    await settledOn(id, "mp-a");
    assert.deepEqual(guestsOn("mp-a"), [id]);
    for (const sid of servers.keys()) assert.equal((await api("DELETE", `/servers/${sid}`)).status, 204);
    await until("every server deleted", 60_000, async () => {
      for (const sid of servers.keys())
        if ((await api("GET", `/servers/${sid}`)).status !== 404) return false;
      return true;
    });
    for (const host of HOSTS) assert.deepEqual(guestsOn(host), [], `${host} has no guest left`);
  });
});
