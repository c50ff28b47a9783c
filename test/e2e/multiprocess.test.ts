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
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { login, processCloudEnv, request, startUp, untilOk } from "../helpers/multiprocess.js";
import { OPENSTACK, Proc, pyEnv } from "../helpers/stratus-process.js";

const HOSTS = ["mp-a", "mp-b"] as const;
type Host = (typeof HOSTS)[number];
const CONFIG = "compute:\n  hosts: 0\n  reportInterval: 1\n  serviceDownTime: 4\n";

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

describe("multi-process deployment: PostgreSQL, RabbitMQ, a control plane and two compute agents", () => {
  let skip: string | null = "before() did not finish";
  let root = "";
  let dbUrl = "";
  let busUrl = "";
  let cleanup = async () => {};
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
  const api = (method: string, path: string, body?: unknown, mv = "2.93") =>
    request(base, method, `/compute/v2.1${path}`, {
      token,
      body,
      headers: { "openstack-api-version": `compute ${mv}` },
    });
  const server = async (id: string) => (await api("GET", `/servers/${id}`)).body.server;
  const settledOn = (id: string, host: Host) =>
    untilOk(
      `server ${id} ACTIVE on ${host}`,
      async () => {
        const s = await server(id);
        if (s.status === "ERROR") throw new Error(`server ${id} went to ERROR: ${JSON.stringify(s.fault)}`);
        return s.status === "ACTIVE" &&
          s["OS-EXT-STS:task_state"] === null &&
          s["OS-EXT-SRV-ATTR:host"] === host
          ? s
          : null;
      },
      60_000,
    );
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
    const env = await processCloudEnv("mp");
    if ("skip" in env) {
      skip = env.skip;
      return;
    }
    ({ dbUrl, busUrl, root, cleanup } = env);
    for (const dir of [join(root, "cp"), ...HOSTS.map(dirOf)]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "stratus.yaml"), CONFIG);
    }
    cloudsYaml = join(root, "cp", "clouds.yaml");
    const up = await startUp(
      "control plane",
      { dataDir: join(root, "cp"), dbUrl, busUrl, args: ["--compute-hosts", "0"] },
      90_000,
    );
    cp = up.proc;
    base = up.base;
    token = (await login(base, "admin", up.clouds["stratus-admin"].auth.password, "admin")).token;
    for (const host of HOSTS) await startAgent(host);
    skip = null;
  });

  after(async () => {
    for (const p of [...agents.values(), cp]) await p?.stop().catch(() => undefined);
    await cleanup();
  });

  test("the control plane runs no agent of its own; both agent processes register and are up", async (t) => {
    if (guard(t)) return;
    const states = await untilOk(
      "both compute services up",
      async () => {
        const s = await computeStates();
        return s["mp-a"] === "up" && s["mp-b"] === "up" ? s : null;
      },
      30_000,
    );
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
    const img = await request(base, "POST", "/image/v2/images", {
      token,
      body: { name: "mp-image", disk_format: "raw", container_format: "bare", visibility: "public" },
    });
    assert.equal(img.status, 201);
    imageId = (img.body as { id: string }).id;
    const up = await request(base, "PUT", `/image/v2/images/${imageId}/file`, {
      token,
      body: Buffer.alloc(64 * 1024),
      headers: { "content-type": "application/octet-stream" },
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
    await untilOk(
      "openstack compute service list: mp-a down",
      async () => {
        const s = await computeStates();
        return s["mp-a"] === "down" && s["mp-b"] === "up";
      },
      30_000,
    );
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
    await untilOk(
      "mp-a's reconcile destroyed the evacuated guests",
      async () => guestsOn("mp-a").length === 0,
      30_000,
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
    await untilOk(
      "openstack compute service list: both up",
      async () => {
        const s = await computeStates();
        return s["mp-a"] === "up" && s["mp-b"] === "up";
      },
      30_000,
    );
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
    await untilOk(
      "every server deleted",
      async () => {
        for (const sid of servers.keys())
          if ((await api("GET", `/servers/${sid}`)).status !== 404) return false;
        return true;
      },
      60_000,
    );
    for (const host of HOSTS) assert.deepEqual(guestsOn(host), [], `${host} has no guest left`);
  });
});
