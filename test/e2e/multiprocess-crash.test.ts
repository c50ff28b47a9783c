// Control-plane crash during a burst of creates (issue 8 item 3), as separate processes on a temporary PostgreSQL
// database and RabbitMQ vhost: `bin/stratus up --compute-hosts 0` and two `bin/stratus agent compute` processes.
// 30 servers are created at once and the control plane is killed with SIGKILL 0.3 s into the burst (once a third of
// the creates were accepted), then started again on the same database, bus and data dir. Every server the database
// holds must end ACTIVE or ERROR (bounded poll), each ACTIVE one with exactly one placement allocation, on its host.
//
// PostgreSQL and RabbitMQ are started when installed; when one cannot be used the case skips with the reason,
// unless CI is set: then it fails.
import { strict as assert } from "node:assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  login,
  processCloudEnv,
  request,
  startUp,
  untilOk,
  type ProcessCloudEnv,
} from "../helpers/multiprocess.js";
import { Proc } from "../helpers/stratus-process.js";

const HOSTS = ["crash-a", "crash-b"];
const BURST = 30;
// Guests take 15 s to boot, so the restarted control plane finds builds still under way (where a redelivered
// build_instances used to claim a second host); orphans are recovered 5 s after their conductor's last heartbeat.
const CONFIG =
  "compute:\n  hosts: 0\n  reportInterval: 1\n  serviceDownTime: 4\n  orphanTimeout: 5\n" +
  "  fake: { vcpus: 64, memoryMb: 131072, diskGb: 2048, spawnDelayMs: 15000, persist: true }\n";

let skip: string | null = "before() did not finish";
let env: ProcessCloudEnv | undefined;
const procs: Proc[] = [];

/** A control plane on the shared DB and bus; its public base URL and an admin token once it is ready. */
async function controlPlane(): Promise<{ proc: Proc; base: string; token: string }> {
  const { dbUrl, busUrl, root } = env!;
  const up = await startUp(
    "control plane",
    { dataDir: join(root, "cp"), dbUrl, busUrl, args: ["--compute-hosts", "0"] },
    120_000,
  );
  procs.push(up.proc);
  const { token } = await login(up.base, "admin", up.clouds["stratus-admin"].auth.password, "admin");
  return { proc: up.proc, base: up.base, token };
}

/** One API call; the body parsed (null when empty or not JSON). */
const call = (base: string, token: string, method: string, path: string, body?: unknown, headers = {}) =>
  request(base, method, path, { token, body, headers });

before(async () => {
  const e = await processCloudEnv("crash");
  if ("skip" in e) {
    skip = e.skip;
    return;
  }
  env = e;
  for (const dir of ["cp", ...HOSTS].map((d) => join(e.root, d))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "stratus.yaml"), CONFIG);
  }
  skip = null;
});

after(async () => {
  for (const p of procs) await p.stop().catch(() => undefined);
  await env?.cleanup();
});

test("SIGKILL the control plane 0.3 s into 30 creates, restart it: every server ACTIVE or ERROR, one claim on its host", async (t) => {
  if (skip) return t.skip(skip);
  let { proc: cp, base, token } = await controlPlane();
  const { dbUrl, busUrl, root } = env!;
  for (const host of HOSTS) {
    // prettier-ignore
    const agent = new Proc(`agent ${host}`, [
      "agent", "compute", "--host", host, "--bus", busUrl, "--db", dbUrl, "--data-dir", join(root, host),
      "--config", join(root, host, "stratus.yaml"),
    ]);
    procs.push(agent);
    await agent.waitFor(new RegExp(`Compute agent ${host} is ready`), 60_000);
  }
  const context = () => procs.map((p) => `--- ${p.name}:\n${p.output.slice(-3000)}`).join("\n");
  const img = await call(base, token, "POST", "/image/v2/images", {
    name: "crash-image",
    disk_format: "raw",
    container_format: "bare",
    visibility: "public",
  });
  assert.equal(img.status, 201, img.text);
  const imageId = img.body.id as string;
  const up = await call(base, token, "PUT", `/image/v2/images/${imageId}/file`, Buffer.alloc(64 * 1024), {
    "content-type": "application/octet-stream",
  });
  assert.equal(up.status, 204, up.text);
  const quota = { instances: 100, cores: 200, ram: 1_000_000 };
  const admin = await call(base, token, "GET", "/identity/v3/projects?name=admin");
  const adminProject = admin.body.projects[0].id as string;
  assert.equal(
    (await call(base, token, "PUT", `/compute/v2.1/os-quota-sets/${adminProject}`, { quota_set: quota }))
      .status,
    200,
  );

  // The burst, and the kill 0.3 s into it. Requests cut off by the kill fail; that is expected.
  const mv = { "openstack-api-version": "compute 2.37" };
  const burst = Array.from({ length: BURST }, (_, i) =>
    call(
      base,
      token,
      "POST",
      "/compute/v2.1/servers",
      { server: { name: `crash-${i}`, imageRef: imageId, flavorRef: "42", networks: "none" } },
      mv,
    ).catch((e: Error) => ({ status: 0, body: null, text: e.message })),
  );
  // 0.3 s into the burst, and not before a third of it was accepted (a loaded machine answers late).
  let answers = 0;
  for (const p of burst) void p.then((r) => (answers += r.status === 202 ? 1 : 0));
  await Promise.all([
    sleep(300),
    untilOk("a third of the creates accepted", async () => answers >= BURST / 3, 120_000),
  ]);
  cp.child.kill("SIGKILL");
  assert.equal((await cp.exited).signal, "SIGKILL");
  const answered = await Promise.all(burst);
  const accepted = answered.filter((r) => r.status === 202).length;
  t.diagnostic(`${accepted} of ${BURST} creates were accepted before the kill`);

  ({ proc: cp, base, token } = await controlPlane());
  const api = (path: string) =>
    call(base, token, "GET", path, undefined, { "openstack-api-version": "compute 2.93" });
  const listServers = async () =>
    (await api("/compute/v2.1/servers/detail?all_tenants=1")).body.servers as Array<Record<string, any>>;
  const settled = await untilOk(
    `every server ACTIVE or ERROR\n${context()}`,
    async () => {
      const list = await listServers();
      return list.every((s) => (s.status === "ACTIVE" || s.status === "ERROR") && !s["OS-EXT-STS:task_state"])
        ? list
        : null;
    },
    180_000,
  );
  assert.ok(accepted >= 1 && settled.length >= accepted, `${settled.length} servers, ${accepted} accepted`);
  t.diagnostic(
    `${settled.length} servers after the restart: ` +
      `${settled.filter((s) => s.status === "ACTIVE").length} ACTIVE, ` +
      `${settled.filter((s) => s.status === "ERROR").length} ERROR`,
  );
  const providers = (
    await call(base, token, "GET", "/placement/resource_providers", undefined, {
      "openstack-api-version": "placement 1.39",
    })
  ).body.resource_providers as Array<{ uuid: string; name: string }>;
  const rpOf = new Map(providers.map((p) => [p.name, p.uuid]));
  for (const s of settled) {
    const allocs = (
      await call(base, token, "GET", `/placement/allocations/${s.id}`, undefined, {
        "openstack-api-version": "placement 1.39",
      })
    ).body.allocations as Record<string, unknown>;
    const node = s["OS-EXT-SRV-ATTR:hypervisor_hostname"] as string | null;
    // A server in ERROR may keep the claim on the host it failed on, never more.
    if (s.status === "ERROR" && (Object.keys(allocs).length === 0 || !node)) {
      assert.deepEqual(Object.keys(allocs), [], `server ${s.id} in ERROR on no host holds no claim`);
      continue;
    }
    assert.deepEqual(
      Object.keys(allocs),
      [rpOf.get(node!)],
      `server ${s.id} (${s.status}): one allocation, on its host ${node}`,
    );
  }
});
