// Quotas hold across API processes: two `bin/stratus up` processes share one data directory (token keys, bootstrap
// secrets), a temporary PostgreSQL database and a temporary RabbitMQ vhost. Concurrent creates alternate between
// the two processes; exactly the quota is accepted (compute instances: 403 for the rest; image count: 413).
//
// PostgreSQL and RabbitMQ are started when installed; when one cannot be used the cases skip with the reason,
// unless CI is set: then they fail. Every wait is bounded.
import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { login, processCloudEnv, request, startUp } from "../helpers/multiprocess.js";
import type { Proc } from "../helpers/stratus-process.js";

const IMAGE_COUNT = 6;
const CONFIG = `compute:\n  hosts: 0\nimage:\n  quotas:\n    imageCountTotal: ${IMAGE_COUNT}\n`;

describe("quotas across two API processes on PostgreSQL and RabbitMQ", () => {
  let skip: string | null = "before() did not finish";
  let cleanup = async () => {};
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

  const call = (base: string, token: string, method: string, path: string, body?: unknown) =>
    request(base, method, path, {
      token,
      body,
      headers: { "openstack-api-version": "compute 2.37" },
      timeoutMs: 60_000,
    });

  before(async () => {
    const env = await processCloudEnv("mpq");
    if ("skip" in env) {
      skip = env.skip;
      return;
    }
    cleanup = env.cleanup;
    const { root, dbUrl, busUrl } = env;
    writeFileSync(join(root, "stratus.yaml"), CONFIG);
    // One after the other on the same data directory: the second finds the first's token keys and secrets.
    for (const name of ["api-1", "api-2"]) {
      const args = ["--compute-hosts", "0"];
      const { proc, clouds, base } = await startUp(name, { dataDir: root, dbUrl, busUrl, args }, 120_000);
      procs.push(proc);
      bases.push(base);
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
    const up = await request(bases[1], "PUT", `/image/v2/images/${imageId}/file`, {
      token: adminToken,
      body: Buffer.alloc(64 * 1024),
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(up.status, 204, up.text);
    skip = null;
  });

  after(async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
    await cleanup();
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
