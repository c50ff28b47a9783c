// The network service on every SQL engine, with collisions forced: the IP and segmentation id picks of racing
// requests all start at the same offset (the random source returns zeros), so concurrent creates collide on the
// database's unique keys and must retry inside their transaction (a savepoint) until each has its own address and
// VNI. SQLite always runs; PostgreSQL and MariaDB come from scripts/db-services.mjs and are skipped with the reason
// when not usable (unless CI is set: then it fails). STRATUS_TEST_ENGINES=sqlite,postgres limits the engines.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Cloud } from "../../src/cloud/start.js";
import { passwordAuth } from "../helpers/cloud.js";
import {
  createTempDatabase,
  ENGINES,
  prepareEngines,
  startEngineCloud,
  type TempDatabase,
} from "../helpers/engines.js";

before(prepareEngines);

for (const engine of ENGINES) {
  describe(`network service on ${engine}`, () => {
    let skip: string | null = null;
    let dataDir = "";
    let db: TempDatabase | null = null;
    let cloud: Cloud | null = null;
    const tokens: string[] = [];

    const api = async (token: string, method: string, path: string, body?: unknown) => {
      const r = await cloud!.app.inject({
        method: method as any,
        url: `/networking/v2.0${path}`,
        headers: {
          accept: "application/json",
          "x-auth-token": token,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined, text: r.payload };
    };
    const login = async (user: string, password: string, project: string) => {
      const r = await cloud!.app.inject({
        method: "POST",
        url: "/identity/v3/auth/tokens?nocatalog",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(passwordAuth(user, password, project)),
      });
      assert.equal(r.statusCode, 201, r.payload);
      return r.headers["x-subject-token"] as string;
    };

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `stratus-net-${engine}-`));
      db = await createTempDatabase(engine, { dataDir, prefix: "stratus_net" });
      skip = db.skipReason;
      if (skip) return;
      cloud = await startEngineCloud(dataDir, db.url);
      tokens.push(
        await login("admin", cloud.adminPassword, "admin"),
        await login("demo", cloud.demoPassword, "demo"),
      );
      // Every pick of an address (16 random bytes) or a segmentation id (4) starts at the same place; MACs stay random.
      cloud.network.core.random = (n) => (n === 3 ? randomBytes(3) : Buffer.alloc(n));
    });

    after(async () => {
      await cloud?.close();
      if (db) await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    test("the start-up topology exists once", async (t) => {
      if (skip) return t.skip(skip);
      const nets = (await api(tokens[0], "GET", "/networks?sort_key=name&sort_dir=asc")).body.networks;
      assert.deepEqual(
        nets.map((n: { name: string }) => n.name),
        ["private", "public"],
      );
    });

    test("networks created at once by two projects get distinct VNIs", async (t) => {
      if (skip) return t.skip(skip);
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api(tokens[i % 2], "POST", "/networks", { network: { name: `Net-${i}` } }),
        ),
      );
      for (const r of results) assert.equal(r.status, 201, r.text);
      const vnis = await Promise.all(
        results.map(
          async (r) =>
            (await api(tokens[0], "GET", `/networks/${r.body.network.id}`)).body.network[
              "provider:segmentation_id"
            ],
        ),
      );
      assert.equal(new Set(vnis).size, 12, vnis.join(" "));
      // Names compare exactly on every engine.
      assert.equal((await api(tokens[0], "GET", "/networks?name=net-1")).body.networks.length, 0);
      assert.equal((await api(tokens[0], "GET", "/networks?name=Net-1")).body.networks.length, 1);
    });

    test("ports created at once by two projects on a shared network get distinct addresses", async (t) => {
      if (skip) return t.skip(skip);
      for (const project of ["admin", "demo"]) {
        const id = (await cloud!.identity.core.db
          .selectFrom("identity_project")
          .select("id")
          .where("name", "=", project)
          .executeTakeFirstOrThrow()) as { id: string };
        assert.equal((await api(tokens[0], "PUT", `/quotas/${id.id}`, { quota: { port: -1 } })).status, 200);
      }
      const net = (await api(tokens[0], "POST", "/networks", { network: { name: "race", shared: true } }))
        .body.network.id;
      const s = await api(tokens[0], "POST", "/subnets", {
        subnet: { network_id: net, ip_version: 4, cidr: "10.88.0.0/26" },
      });
      assert.equal(s.status, 201, s.text);
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          api(tokens[i % 2], "POST", "/ports", { port: { network_id: net } }),
        ),
      );
      for (const r of results) assert.equal(r.status, 201, r.text);
      const ips = results.map((r) => r.body.port.fixed_ips[0].ip_address as string);
      assert.equal(new Set(ips).size, 20, ips.join(" "));
      // The picks all started at the pool's first address, so the addresses are the first 20 of the pool.
      assert.deepEqual(
        [...ips].sort((a, b) => Number(a.split(".")[3]) - Number(b.split(".")[3])),
        Array.from({ length: 20 }, (_, i) => `10.88.0.${i + 2}`),
      );
      const tag = await api(tokens[0], "PUT", `/ports/${results[0].body.port.id}/tags`, { tags: ["B", "b"] });
      assert.deepEqual(tag.body.tags, ["B", "b"]);
    });

    test("router1 exists once; racing floating IPs for one fixed address: one wins, the others get 409", async (t) => {
      if (skip) return t.skip(skip);
      const demo = tokens[1];
      const routers = (await api(demo, "GET", "/routers?name=router1")).body.routers;
      assert.equal(routers.length, 1);
      const priv = (await api(demo, "GET", "/networks?name=private")).body.networks[0];
      const pub = (await api(demo, "GET", "/networks?name=public")).body.networks[0];
      const port = (await api(demo, "POST", "/ports", { port: { network_id: priv.id } })).body.port;
      const fips = await Promise.all(
        Array.from({ length: 4 }, () =>
          api(demo, "POST", "/floatingips", { floatingip: { floating_network_id: pub.id } }),
        ),
      );
      for (const r of fips) assert.equal(r.status, 201, r.text);
      const results = await Promise.all(
        fips.map((r) =>
          api(demo, "PUT", `/floatingips/${r.body.floatingip.id}`, { floatingip: { port_id: port.id } }),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status).sort(),
        [200, 409, 409, 409],
        results.map((r) => r.text).join(),
      );
      const won = results.find((r) => r.status === 200)!.body.floatingip;
      assert.equal(won.router_id, routers[0].id);
    });
  });
}
