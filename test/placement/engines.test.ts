// Placement's core on every SQL engine (SQLite, PostgreSQL, MariaDB): migrations and seeds, providers with
// case-sensitive names, inventories with float allocation ratios, generations under concurrent writers, allocations
// racing for the last units of capacity (no overcommit), usages (sums come back as numbers), and allocation
// candidates on both the single-query and the tree paths.
//
// PostgreSQL and MariaDB come from scripts/db-services.mjs (ensureDatabases). An engine that is not usable is
// skipped with the reason, unless CI is set: then it fails. STRATUS_TEST_ENGINES=sqlite,postgres limits the engines.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Cloud } from "../../src/cloud/start.js";
import { passwordAuth, type TestCloud } from "../helpers/cloud.js";
import {
  createTempDatabase,
  ENGINES,
  prepareEngines,
  startEngineCloud,
  waitForTokenKeys,
  type TempDatabase,
} from "../helpers/engines.js";
import { assertPlacementError, withPlacement, type PlacementCloud } from "./helpers.js";

before(prepareEngines);

/** A minimal TestCloud over a Cloud (what withPlacement needs: the app and an admin token). */
function asTestCloud(cloud: Cloud, dataDir: string): TestCloud {
  let admin: string | null = null;
  const auth = async (user: string, password: string, project: string) => {
    const r = await cloud.app.inject({
      method: "POST",
      url: "/identity/v3/auth/tokens?nocatalog",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify(passwordAuth(user, password, project)),
    });
    assert.equal(r.statusCode, 201, r.payload);
    return String(r.headers["x-subject-token"]);
  };
  return {
    cloud,
    dataDir,
    adminToken: async () => (admin ??= await auth("admin", cloud.adminPassword, "admin")),
    demoToken: () => auth("demo", cloud.demoPassword, "demo"),
    close: async () => {},
  } as unknown as TestCloud;
}

for (const engine of ENGINES) {
  describe(`placement on ${engine}`, () => {
    let skip: string | null = null;
    let dataDir = "";
    let db: TempDatabase | null = null;
    let cloud: Cloud | null = null;
    let p: PlacementCloud;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `stratus-placement-${engine}-`));
      db = await createTempDatabase(engine, { dataDir, prefix: "stratus_placement" });
      skip = db.skipReason;
      if (skip) return;
      cloud = await startEngineCloud(dataDir, db.url);
      // Identity loads its token keys in the background.
      await waitForTokenKeys(cloud);
      p = await withPlacement(asTestCloud(cloud, dataDir));
    });

    after(async () => {
      if (cloud) await cloud.close();
      if (db) await db.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    const it = (name: string, fn: () => Promise<void>) =>
      test(name, async (t) => {
        if (skip) return t.skip(skip);
        await fn();
      });

    it("seeds standard traits and classes; names are case-sensitive", async () => {
      const traits = (await p.ok("GET", "/traits", 200, { mv: "latest" })).traits;
      assert.ok(traits.length >= 100);
      const classes = (await p.ok("GET", "/resource_classes", 200, { mv: "latest" })).resource_classes;
      assert.equal(classes[0].name, "VCPU");
      await p.provider("Node-1");
      await p.provider("node-1");
      assertPlacementError(
        await p.req("POST", "/resource_providers", { mv: "latest", body: { name: "node-1" } }),
        409,
        "placement.duplicate_name",
      );
      await p.ok("PUT", "/traits/CUSTOM_CASE_X", 201, { mv: "latest" });
      const lower = await p.ok("GET", "/traits?name=startswith:custom_", 200, { mv: "latest" });
      assert.deepEqual(lower.traits, []);
      const upper = await p.ok("GET", "/traits?name=startswith:CUSTOM_", 200, { mv: "latest" });
      assert.deepEqual(upper.traits, ["CUSTOM_CASE_X"]);
      const underscore = await p.ok("GET", "/traits?name=startswith:CUSTOM%5FCASE", 200, { mv: "latest" });
      assert.deepEqual(underscore.traits, ["CUSTOM_CASE_X"]);
    });

    it("inventories keep float ratios; concurrent writers with one generation: one wins", async () => {
      const rp = await p.provider();
      await p.inventory(rp.uuid, { VCPU: { total: 10, reserved: 1, allocation_ratio: 1.5 } });
      const inv = await p.ok("GET", `/resource_providers/${rp.uuid}/inventories/VCPU`, 200, { mv: "latest" });
      assert.equal(inv.allocation_ratio, 1.5);
      const gen = inv.resource_provider_generation;
      const writes = await Promise.all(
        [2, 3, 4, 5].map((total) =>
          p.req("PUT", `/resource_providers/${rp.uuid}/inventories`, {
            mv: "latest",
            body: { resource_provider_generation: gen, inventories: { VCPU: { total } } },
          }),
        ),
      );
      assert.deepEqual(
        writes.map((w) => w.status).sort(),
        [200, 409, 409, 409],
        writes.map((w) => w.text).join("\n"),
      );
      for (const w of writes.filter((x) => x.status === 409))
        assertPlacementError(w, 409, "placement.concurrent_update");
    });

    it("allocations racing for the last units never overcommit", async () => {
      const rp = await p.provider();
      await p.inventory(rp.uuid, { VCPU: { total: 4 }, MEMORY_MB: { total: 1024 } });
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          p.req("PUT", `/allocations/${randomUUID()}`, {
            mv: "latest",
            body: {
              allocations: { [rp.uuid]: { resources: { VCPU: 1, MEMORY_MB: 100 } } },
              project_id: "race",
              user_id: "race",
              consumer_generation: null,
              consumer_type: "INSTANCE",
            },
          }),
        ),
      );
      const ok = results.filter((r) => r.status === 204).length;
      assert.equal(ok, 4, results.map((r) => `${r.status} ${r.text}`).join("\n"));
      for (const r of results.filter((x) => x.status !== 204)) assert.equal(r.status, 409, r.text);
      const usages = await p.ok("GET", `/resource_providers/${rp.uuid}/usages`, 200);
      assert.deepEqual(usages.usages, { VCPU: 4, MEMORY_MB: 400 });
      assert.deepEqual((await p.ok("GET", "/usages?project_id=race", 200, { mv: "1.9" })).usages, {
        VCPU: 4,
        MEMORY_MB: 400,
      });
      assert.deepEqual((await p.ok("GET", "/usages?project_id=race", 200, { mv: "1.38" })).usages, {
        INSTANCE: { VCPU: 4, MEMORY_MB: 400, consumer_count: 4 },
      });
      assert.equal(usages.resource_provider_generation, 1 + 4);
    });

    it("consumer generations and POST /allocations", async () => {
      const rp = await p.provider();
      await p.inventory(rp.uuid, { DISK_GB: { total: 100 } });
      const c = await p.allocate({ [rp.uuid]: { DISK_GB: 10 } });
      const got = await p.ok("GET", `/allocations/${c}`, 200, { mv: "latest" });
      assert.equal(got.consumer_generation, 1);
      const body = (gen: number | null, n: number) => ({
        allocations: { [rp.uuid]: { resources: { DISK_GB: n } } },
        project_id: "p",
        user_id: "u",
        consumer_generation: gen,
        consumer_type: "INSTANCE",
      });
      const [a, b] = await Promise.all([
        p.req("PUT", `/allocations/${c}`, { mv: "latest", body: body(1, 20) }),
        p.req("PUT", `/allocations/${c}`, { mv: "latest", body: body(1, 30) }),
      ]);
      assert.deepEqual([a.status, b.status].sort(), [204, 409]);
      const other = randomUUID();
      await p.ok("POST", "/allocations", 204, {
        mv: "latest",
        body: { [c]: body(2, 5), [other]: body(null, 5) },
      });
      assert.equal((await p.ok("GET", `/resource_providers/${rp.uuid}/usages`, 200)).usages.DISK_GB, 10);
    });

    it("allocation candidates: single-query path with limit, then with a tree", async () => {
      const cns: any[] = [];
      for (let i = 0; i < 5; i++) {
        const rp = await p.provider(`eng-cn${i}`);
        await p.inventory(rp.uuid, {
          VCPU: { total: 16 },
          MEMORY_MB: { total: 65536 },
          DISK_GB: { total: 1000 },
        });
        cns.push(rp);
      }
      await p.allocate({ [cns[0].uuid]: { VCPU: 16 } });
      const agg = randomUUID();
      await p.ok("PUT", `/resource_providers/${cns[1].uuid}/aggregates`, 200, {
        mv: "latest",
        body: { aggregates: [agg], resource_provider_generation: 1 },
      });
      const q = "resources=VCPU:2,MEMORY_MB:4096";
      const all = await p.ok("GET", `/allocation_candidates?${q}`, 200, { mv: "1.36" });
      const names = (r: any) =>
        Object.keys(r.provider_summaries).filter((u) => cns.some((c) => c.uuid === u));
      assert.equal(names(all).length, 4, "the full one is out");
      const lim = await p.ok("GET", `/allocation_candidates?${q}&limit=2`, 200, { mv: "1.36" });
      assert.equal(lim.allocation_requests.length, 2);
      const inAgg = await p.ok("GET", `/allocation_candidates?${q}&member_of=${agg}`, 200, { mv: "1.36" });
      assert.deepEqual(Object.keys(inAgg.provider_summaries), [cns[1].uuid]);
      // A child with VFs makes it a tree: the general path answers the same for the flat request.
      const pf = await p.provider("eng-pf", { parent_provider_uuid: cns[2].uuid });
      await p.inventory(pf.uuid, { SRIOV_NET_VF: { total: 2 } });
      const again = await p.ok("GET", `/allocation_candidates?${q}`, 200, { mv: "1.36" });
      assert.equal(names(again).length, 4);
      const nested = await p.ok("GET", "/allocation_candidates?resources=VCPU:1,SRIOV_NET_VF:1", 200, {
        mv: "1.36",
      });
      assert.equal(nested.allocation_requests.length, 1);
      assert.deepEqual(
        Object.keys(nested.allocation_requests[0].allocations).sort(),
        [cns[2].uuid, pf.uuid].sort(),
      );
      assert.equal(nested.provider_summaries[pf.uuid].parent_provider_uuid, cns[2].uuid);
      assertPlacementError(
        await p.req("DELETE", `/resource_providers/${cns[2].uuid}`, { mv: "latest" }),
        409,
        "placement.resource_provider.cannot_delete_parent",
      );
    });
  });
}
