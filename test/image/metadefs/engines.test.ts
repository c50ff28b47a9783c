// The metadef catalog on every SQL engine: seeding (twice, and concurrently), all-or-nothing creates, 409s from
// unique constraints inside transactions, case-sensitive and non-ASCII names, cascading deletes. SQLite always
// runs; PostgreSQL and MariaDB come from scripts/db-services.mjs and are skipped with the reason when not usable
// (unless CI is set: then it fails). STRATUS_TEST_ENGINES=sqlite,postgres limits the engines.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Cloud } from "../../../src/cloud/start.js";
import { seedMetadefs, defaultCatalog } from "../../../src/image/metadefs-seed/index.js";
import { passwordAuth } from "../../helpers/cloud.js";
import {
  createTempDatabase,
  ENGINES,
  prepareEngines,
  startEngineCloud,
  type TempDatabase,
} from "../../helpers/engines.js";

before(prepareEngines);

for (const engine of ENGINES) {
  describe(`metadefs on ${engine}`, () => {
    let skip: string | null = null;
    let dataDir = "";
    let db: TempDatabase | null = null;
    let cloud: Cloud | null = null;
    let token = "";

    const img = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const r = await cloud!.app.inject({
        method: method as any,
        url: `/image${path}`,
        headers: {
          accept: "application/json",
          "x-auth-token": token,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined };
    };

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `stratus-md-${engine}-`));
      db = await createTempDatabase(engine, { dataDir, prefix: "stratus_md" });
      skip = db.skipReason;
      if (skip) return;
      cloud = await startEngineCloud(dataDir, db.url);
      for (let i = 0; ; i++) {
        const r = await cloud.app.inject({
          method: "POST",
          url: "/identity/v3/auth/tokens?nocatalog",
          headers: { "content-type": "application/json" },
          payload: JSON.stringify(passwordAuth("admin", cloud.adminPassword, "admin")),
        });
        if (r.statusCode === 201) {
          token = r.headers["x-subject-token"] as string;
          break;
        }
        if (i > 500) throw new Error(`no admin token: ${r.statusCode} ${r.payload}`);
        await new Promise((res) => setTimeout(res, 10));
      }
    });

    after(async () => {
      if (cloud) await cloud.close();
      if (db) await db.drop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    test("seeded once, even when seeding runs again concurrently", async (t) => {
      if (skip) return t.skip(skip);
      // Start from an empty catalog, then let two seeders race (two processes starting on one database).
      const k = cloud!.db.kysely;
      for (const table of [
        "image_metadef_seeded",
        "image_metadef_ns_resource_type",
        "image_metadef_resource_type",
        "image_metadef_property",
        "image_metadef_object",
        "image_metadef_tag",
        "image_metadef_namespace",
      ])
        await k.deleteFrom(table).execute();
      await Promise.all([seedMetadefs(k), seedMetadefs(k), seedMetadefs(k)]);
      const r = await img("GET", "/v2/metadefs/namespaces?limit=1000");
      assert.equal(r.status, 200);
      const names: string[] = r.body.namespaces.map((n: any) => n.namespace);
      assert.equal(names.length, defaultCatalog.length);
      assert.equal(new Set(names).size, names.length);
      const q = await img("GET", "/v2/metadefs/namespaces/OS::Compute::Quota/objects");
      assert.ok(q.body.objects.length >= 3);
      const rts = (await img("GET", "/v2/metadefs/resource_types")).body.resource_types.map(
        (x: any) => x.name,
      );
      assert.equal(new Set(rts).size, rts.length);
      const w = await img("GET", "/v2/metadefs/namespaces/OS::Compute::Watchdog");
      assert.equal(w.body.resource_type_associations.length, 3);
    });

    test("all-or-nothing creates and 409s inside transactions", async (t) => {
      if (skip) return t.skip(skip);
      const bad = await img("POST", "/v2/metadefs/namespaces", {
        namespace: "E::Atomic",
        tags: [{ name: "a" }, { name: "a" }],
      });
      assert.equal(bad.status, 409);
      assert.equal((await img("GET", "/v2/metadefs/namespaces/E::Atomic")).status, 404);
      assert.equal((await img("POST", "/v2/metadefs/namespaces", { namespace: "E::Atomic" })).status, 201);
      assert.equal((await img("POST", "/v2/metadefs/namespaces", { namespace: "E::Atomic" })).status, 409);
      const base = "/v2/metadefs/namespaces/E::Atomic";
      assert.equal((await img("POST", `${base}/tags`, { tags: [{ name: "x" }, { name: "y" }] })).status, 201);
      const dup = await img(
        "POST",
        `${base}/tags`,
        { tags: [{ name: "z" }, { name: "x" }] },
        { "x-openstack-append": "true" },
      );
      assert.equal(dup.status, 409);
      const tags = (await img("GET", `${base}/tags?sort_key=name&sort_dir=asc`)).body.tags.map(
        (x: any) => x.name,
      );
      assert.deepEqual(tags, ["x", "y"]);
      assert.equal((await img("POST", `${base}/resource_types`, { name: "E::Type" })).status, 201);
      assert.equal((await img("POST", `${base}/resource_types`, { name: "E::Type" })).status, 409);
    });

    test("names are case-sensitive and may be non-ASCII; deletes cascade", async (t) => {
      if (skip) return t.skip(skip);
      const base = "/v2/metadefs/namespaces/E::Names";
      assert.equal(
        (await img("POST", "/v2/metadefs/namespaces", { namespace: "E::Names", description: "ünïcødé ✓" }))
          .status,
        201,
      );
      assert.equal((await img("POST", `${base}/tags/Tag`)).status, 201);
      assert.equal((await img("POST", `${base}/tags/tag`)).status, 201);
      assert.equal((await img("POST", `${base}/tags/${encodeURIComponent("étiquette")}`)).status, 201);
      const p = await img("POST", `${base}/properties`, { name: "größe", title: "Größe", type: "integer" });
      assert.equal(p.status, 201);
      assert.equal(
        (await img("GET", `${base}/properties/${encodeURIComponent("größe")}`)).body.title,
        "Größe",
      );
      assert.equal((await img("GET", base)).body.description, "ünïcødé ✓");
      assert.equal(
        (
          await img("POST", `${base}/objects`, {
            name: "O",
            properties: { a: { title: "A", type: "string" } },
          })
        ).status,
        201,
      );
      assert.equal((await img("DELETE", base)).status, 204);
      assert.equal((await img("POST", "/v2/metadefs/namespaces", { namespace: "E::Names" })).status, 201);
      const again = await img("GET", base);
      assert.equal(again.body.tags, undefined);
      assert.equal(again.body.objects, undefined);
      assert.equal(again.body.properties, undefined);
    });
  });
}
