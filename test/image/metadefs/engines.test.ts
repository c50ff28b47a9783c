// The metadef catalog on every SQL engine: seeding (twice, and concurrently), all-or-nothing creates, 409s from
// unique constraints inside transactions, case-sensitive and non-ASCII names, cascading deletes. SQLite always
// runs; PostgreSQL and MariaDB come from scripts/db-services.mjs and are skipped with the reason when not usable
// (unless CI is set: then it fails). STRATUS_TEST_ENGINES=sqlite,postgres limits the engines.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { sql } from "kysely";
import { startCloud, type Cloud } from "../../../src/cloud/start.js";
import { seedMetadefs, defaultCatalog } from "../../../src/image/metadefs-seed/index.js";
import { loadConfig } from "../../../src/shared/config.js";
import { openDatabase, type Engine } from "../../../src/shared/db/index.js";
import { passwordAuth } from "../../helpers/cloud.js";

interface ServerStatus {
  usable: boolean;
  url: string | null;
  reason: string | null;
}
interface DbServices {
  ensureDatabases(opts?: { engines?: string[]; install?: boolean }): Promise<Record<string, ServerStatus>>;
  databaseUrl(adminUrl: string, name: string): string;
}

const ALL: Engine[] = ["sqlite", "postgres", "mysql"];
const ENGINES = process.env.STRATUS_TEST_ENGINES
  ? ALL.filter((e) => process.env.STRATUS_TEST_ENGINES!.split(",").includes(e))
  : ALL;
const CI = !!process.env.CI && !["0", "false", "no"].includes(process.env.CI.toLowerCase());
// Compiled to dist/test/image/metadefs/: the repository root is four levels up.
const servicesModule = new URL("../../../../scripts/db-services.mjs", import.meta.url).href;

let services: DbServices | null = null;
let servers: Record<string, ServerStatus> = {};

before(async () => {
  const needed = ENGINES.filter((e) => e !== "sqlite");
  if (!needed.length) return;
  services = (await import(servicesModule)) as DbServices;
  servers = await services.ensureDatabases({
    engines: needed,
    install: CI || process.env.STRATUS_DB_INSTALL === "1",
  });
});

for (const engine of ENGINES) {
  describe(`metadefs on ${engine}`, () => {
    let skip: string | null = null;
    let dataDir = "";
    let dbName = "";
    let adminUrl = "";
    let url = "";
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
      if (engine === "sqlite") url = `sqlite://${join(dataDir, "stratus.db")}`;
      else {
        const st = servers[engine];
        if (!services || !st?.usable || !st.url) {
          skip = `${engine} is not available: ${st?.reason ?? "ensureDatabases() did not run"}`;
          if (CI) throw new Error(`${skip} (CI is set, so an unavailable engine is a failure)`);
          console.log(`skipping ${engine}: ${skip}`);
          return;
        }
        adminUrl = st.url;
        dbName = `stratus_md_${randomBytes(5).toString("hex")}`;
        const admin = await openDatabase(adminUrl);
        try {
          await sql.raw(`CREATE DATABASE ${dbName}`).execute(admin.kysely);
        } finally {
          await admin.close();
        }
        url = services.databaseUrl(adminUrl, dbName);
      }
      const cfg = loadConfig(
        {
          dataDir,
          port: 0,
          logLevel: "silent",
          db: url,
          identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
        } as any,
        {},
      );
      cloud = await startCloud(cfg, { listen: false });
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
      if (dbName) {
        const admin = await openDatabase(adminUrl);
        try {
          const drop = `DROP DATABASE IF EXISTS ${dbName}`;
          if (engine === "postgres")
            await sql
              .raw(`${drop} WITH (FORCE)`)
              .execute(admin.kysely)
              .catch(() => sql.raw(drop).execute(admin.kysely));
          else await sql.raw(drop).execute(admin.kysely);
        } finally {
          await admin.close();
        }
      }
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
