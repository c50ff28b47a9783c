// Quotas of every service on every SQL engine, with two clouds (as two API processes) on one database and one data
// directory: many concurrent creates alternate between them and exactly the limit is accepted: compute instances
// and server groups (Nova's 403), image count and image storage total (oslo.limit's 413). SQLite always runs;
// PostgreSQL and MariaDB are skipped with the reason when not usable (unless CI is set: then it fails).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startCloud, type Cloud } from "../../../src/cloud/start.js";
import { loadConfig } from "../../../src/shared/config.js";
import { passwordAuth } from "../../helpers/cloud.js";
import {
  createTempDatabase,
  ENGINES,
  prepareEngines,
  waitForTokenKeys,
  type TempDatabase,
} from "../../helpers/engines.js";

before(prepareEngines);

/** A cloud on `url` with no compute hosts (servers stay unbuilt; they count against quota all the same). */
async function boot(dataDir: string, url: string): Promise<Cloud> {
  const cfg = loadConfig(
    {
      dataDir,
      port: 0,
      logLevel: "silent",
      db: url,
      identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
      compute: { hosts: 0 },
    } as any,
    {},
  );
  const cloud = await startCloud(cfg, { listen: false });
  await waitForTokenKeys(cloud);
  return cloud;
}

for (const engine of ENGINES) {
  describe(`quotas over two clouds on one ${engine} database`, () => {
    let skip: string | null = null;
    let dataDir = "";
    let tmp: TempDatabase | null = null;
    const clouds: Cloud[] = [];
    let admin = "";
    let demo = "";
    let demoProject = "";
    let imageId = "";

    const api = async (
      i: number,
      token: string,
      method: string,
      url: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const r = await clouds[i % 2].app.inject({
        method: method as any,
        url,
        headers: {
          "x-auth-token": token,
          "openstack-api-version": "compute 2.37",
          ...(body !== undefined && !Buffer.isBuffer(body) ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        ...(body === undefined ? {} : { payload: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
      });
      return { status: r.statusCode, text: r.payload };
    };
    const login = async (user: string, password: string, project: string) => {
      const r = await clouds[0].app.inject({
        method: "POST",
        url: "/identity/v3/auth/tokens?nocatalog",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(passwordAuth(user, password, project)),
      });
      assert.equal(r.statusCode, 201, r.payload);
      return {
        token: r.headers["x-subject-token"] as string,
        project: JSON.parse(r.payload).token.project.id,
      };
    };
    /** `n` requests at once, alternating between the two clouds; their statuses and bodies. */
    const burst = (n: number, req: (i: number) => Promise<{ status: number; text: string }>) =>
      Promise.all(Array.from({ length: n }, (_, i) => req(i)));
    const expectExactly = (
      results: Array<{ status: number; text: string }>,
      ok: number,
      accepted: number,
      refused: number,
      message: RegExp,
    ) => {
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === ok).length, accepted, statuses.join(","));
      for (const r of results.filter((x) => x.status !== ok)) {
        assert.equal(r.status, refused, r.text);
        assert.match(r.text, message);
      }
    };

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `stratus-quota-${engine}-`));
      tmp = await createTempDatabase(engine, { dataDir, prefix: "stratus_quota" });
      skip = tmp.skipReason;
      if (skip) return;
      // One after the other: the second finds the first's schema, token keys and bootstrap secrets.
      clouds.push(await boot(dataDir, tmp.url));
      clouds.push(await boot(dataDir, tmp.url));
      admin = (await login("admin", clouds[0].adminPassword, "admin")).token;
      const d = await login("demo", clouds[0].demoPassword, "demo");
      [demo, demoProject] = [d.token, d.project];
      const img = await api(0, admin, "POST", "/image/v2/images", {
        name: "quota-image",
        disk_format: "raw",
        container_format: "bare",
        visibility: "public",
      });
      assert.equal(img.status, 201, img.text);
      imageId = JSON.parse(img.text).id;
      const up = await api(1, admin, "PUT", `/image/v2/images/${imageId}/file`, Buffer.alloc(4096), {
        "content-type": "application/octet-stream",
      });
      assert.equal(up.status, 204, up.text);
    });

    after(async () => {
      for (const c of clouds) await c.close();
      await tmp?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    test("instances=5: 20 concurrent server creates, exactly 5 accepted, the rest 403", async (t) => {
      if (skip) return t.skip(skip);
      const q = await api(0, admin, "PUT", `/compute/v2.1/os-quota-sets/${demoProject}`, {
        quota_set: { instances: 5, cores: -1, ram: -1 },
      });
      assert.equal(q.status, 200, q.text);
      const results = await burst(20, (i) =>
        api(i, demo, "POST", "/compute/v2.1/servers", {
          server: { name: `q-${i}`, imageRef: imageId, flavorRef: "42", networks: "none" },
        }),
      );
      expectExactly(
        results,
        202,
        5,
        403,
        /Quota exceeded for instances: Requested 1, but already used 5 of 5/,
      );
      const list = await api(1, demo, "GET", "/compute/v2.1/servers");
      assert.equal(JSON.parse(list.text).servers.length, 5);
    });

    test("server_groups=3: 12 concurrent group creates, exactly 3 accepted, the rest 403", async (t) => {
      if (skip) return t.skip(skip);
      const q = await api(0, admin, "PUT", `/compute/v2.1/os-quota-sets/${demoProject}`, {
        quota_set: { server_groups: 3 },
      });
      assert.equal(q.status, 200, q.text);
      const results = await burst(12, (i) =>
        api(i, demo, "POST", "/compute/v2.1/os-server-groups", {
          server_group: { name: `g-${i}`, policies: ["affinity"] },
        }),
      );
      expectExactly(results, 200, 3, 403, /Quota exceeded, too many server groups/);
    });

    test("image count 4: 16 concurrent image creates, exactly 4 accepted, the rest 413", async (t) => {
      if (skip) return t.skip(skip);
      for (const c of clouds) c.cfg.image.projectQuotas[demoProject] = { imageCountTotal: 4 };
      const results = await burst(16, (i) => api(i, demo, "POST", "/image/v2/images", { name: `img-${i}` }));
      expectExactly(results, 201, 4, 413, /image_count_total is over limit of 4/);
    });

    test("image size total 3000 bytes: 4 concurrent 1000-byte uploads, exactly 3 stored, the rest 413", async (t) => {
      if (skip) return t.skip(skip);
      for (const c of clouds) c.cfg.image.projectQuotas[demoProject] = { imageSizeTotal: 3000 };
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await api(i, demo, "POST", "/image/v2/images", {
          name: `data-${i}`,
          disk_format: "raw",
          container_format: "bare",
        });
        assert.equal(r.status, 201, r.text);
        ids.push(JSON.parse(r.text).id);
      }
      const results = await burst(4, (i) =>
        api(i, demo, "PUT", `/image/v2/images/${ids[i]}/file`, Buffer.alloc(1000, i), {
          "content-type": "application/octet-stream",
        }),
      );
      expectExactly(results, 204, 3, 413, /quota|over a limit/i);
      const usage = JSON.parse((await api(0, demo, "GET", "/image/v2/info/usage")).text);
      assert.equal(usage.usage.image_count_uploading.usage, 0);
      const active = await api(1, demo, "GET", `/image/v2/images?status=active&owner=${demoProject}`);
      assert.equal(JSON.parse(active.text).images.length, 3, active.text);
    });
  });
}
