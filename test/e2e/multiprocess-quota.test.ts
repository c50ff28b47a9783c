// Quotas hold across API processes: two `bin/stratus up` processes share one data directory (token keys, bootstrap
// secrets), a temporary PostgreSQL database and a temporary RabbitMQ vhost. Concurrent creates alternate between
// the two processes; exactly the quota is accepted (compute instances: 403 for the rest; image count: 413).
//
// PostgreSQL and RabbitMQ are started when installed; when one cannot be used the cases skip with the reason,
// unless CI is set: then they fail. Every wait is bounded.
import { strict as assert } from "node:assert";
import { after, before, describe, test, type TestContext } from "node:test";
import { twoProcessCloud, type TwoProcessCloud } from "../helpers/multiprocess.js";

const IMAGE_COUNT = 6;
const CONFIG = `compute:\n  hosts: 0\nimage:\n  quotas:\n    imageCountTotal: ${IMAGE_COUNT}\n`;

describe("quotas across two API processes on PostgreSQL and RabbitMQ", () => {
  let skip: string | null = "before() did not finish";
  let cloud: TwoProcessCloud | null = null;
  let bases: string[] = [];
  let adminToken = "";
  let demoToken = "";
  let demoProject = "";
  let adminProject = "";
  let imageId = "";

  const guard = (t: TestContext): boolean => {
    if (skip) t.skip(skip);
    return !!skip;
  };

  const call: TwoProcessCloud["call"] = (...a) => cloud!.call(...a);

  before(async () => {
    const c = await twoProcessCloud("mpq", "postgres", CONFIG, [
      ["--compute-hosts", "0"],
      ["--compute-hosts", "0"],
    ]);
    if ("skip" in c) {
      skip = c.skip;
      return;
    }
    cloud = c;
    bases = c.bases;
    [adminToken, adminProject, demoToken, demoProject] = [
      c.admin.token,
      c.admin.project,
      c.demo.token,
      c.demo.project,
    ];
    imageId = await c.tinyImage("mpq-image");
    skip = null;
  });

  after(async () => {
    await cloud?.stop();
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
