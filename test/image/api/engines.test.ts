// The image core on every SQL engine: uploads (bigint sizes, sums for quotas), listing with filters, sorting on
// nullable columns and marker paging, case-sensitive names and tags, member uniqueness, patch and delete.
// SQLite always runs; PostgreSQL and MariaDB come from scripts/db-services.mjs and are skipped with the reason
// when not usable (unless CI is set: then it fails). STRATUS_TEST_ENGINES=sqlite,postgres limits the engines.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Cloud } from "../../../src/cloud/start.js";
import { passwordAuth } from "../../helpers/cloud.js";
import {
  createTempDatabase,
  ENGINES,
  prepareEngines,
  startEngineCloud,
  type TempDatabase,
} from "../../helpers/engines.js";
import { raw } from "./helpers.js";

before(prepareEngines);

for (const engine of ENGINES) {
  describe(`images on ${engine}`, () => {
    let skip: string | null = null;
    let dataDir = "";
    let db: TempDatabase | null = null;
    let cloud: Cloud | null = null;
    let token = "";
    let base = "";

    const api = async (
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
      return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined, text: r.payload };
    };
    const create = async (body: Record<string, unknown>) => {
      const r = await api("POST", "/v2/images", { disk_format: "raw", container_format: "bare", ...body });
      assert.equal(r.status, 201, r.text);
      return r.body;
    };
    const upload = (id: string, data: Buffer) =>
      raw(`${base}/image/v2/images/${id}/file`, {
        method: "PUT",
        headers: {
          accept: "application/json",
          "x-auth-token": token,
          "content-type": "application/octet-stream",
        },
        body: data,
      });

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), `stratus-img-${engine}-`));
      db = await createTempDatabase(engine, { dataDir, prefix: "stratus_img" });
      skip = db.skipReason;
      if (skip) return;
      cloud = await startEngineCloud(dataDir, db.url, { host: "127.0.0.1", listen: true });
      base = cloud.url;
      const r = await cloud.app.inject({
        method: "POST",
        url: "/identity/v3/auth/tokens?nocatalog",
        headers: { "content-type": "application/json" },
        payload: JSON.stringify(passwordAuth("admin", cloud.adminPassword, "admin")),
      });
      assert.equal(r.statusCode, 201, r.payload);
      token = r.headers["x-subject-token"] as string;
    });

    after(async () => {
      if (cloud) {
        await cloud.image.settled();
        await cloud.close();
      }
      if (db) await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    });

    test("uploads, sizes, sorting on nullable columns and marker paging", async (t) => {
      if (skip) return t.skip(skip);
      const sizes = [3000, 0, 70_000, 500];
      const ids: string[] = [];
      for (const [i, n] of sizes.entries()) {
        const img = await create({
          name: `Img-${i}`,
          tier: i % 2 ? "gold" : "Gold",
          tags: [i % 2 ? "Tag" : "tag"],
        });
        ids.push(img.id);
        const up = await upload(img.id, Buffer.alloc(n, i + 1));
        assert.equal(up.status, 204, up.body.toString());
      }
      ids.push((await create({ name: null })).id); // no name, no size
      const shown = (await api("GET", `/v2/images/${ids[2]}`)).body;
      assert.equal(shown.size, 70_000);
      assert.equal(typeof shown.size, "number");
      const bySize = (await api("GET", "/v2/images?sort=size:asc,name:asc")).body.images;
      assert.deepEqual(
        bySize.map((i: any) => i.size),
        [null, 0, 500, 3000, 70_000],
      );
      const desc = (await api("GET", "/v2/images?sort_key=name&sort_dir=desc")).body.images;
      assert.deepEqual(
        desc.map((i: any) => i.name),
        ["Img-3", "Img-2", "Img-1", "Img-0", null],
      );
      const seen: string[] = [];
      let next: string | undefined = "/v2/images?sort=size:desc,name:desc&limit=2";
      while (next) {
        const page: any = (await api("GET", next)).body;
        seen.push(...page.images.map((i: any) => i.id));
        next = page.next;
      }
      assert.deepEqual(
        seen,
        [...bySize].reverse().map((i: any) => i.id),
      );
      assert.deepEqual(
        (await api("GET", "/v2/images?size_min=500&size_max=3000&sort=size:asc")).body.images.map(
          (i: any) => i.size,
        ),
        [500, 3000],
      );
      assert.deepEqual((await api("GET", "/v2/images?name=img-1")).body.images, []);
      assert.equal((await api("GET", "/v2/images?name=Img-1")).body.images.length, 1);
      assert.equal((await api("GET", "/v2/images?tier=Gold")).body.images.length, 2);
      assert.equal((await api("GET", "/v2/images?tag=Tag")).body.images.length, 2);
      const since = new Date(Date.now() - 60_000).toISOString();
      assert.equal((await api("GET", `/v2/images?created_at=gte:${since}`)).body.images.length, 5);
      const usage = (await api("GET", "/v2/info/usage")).body.usage;
      assert.equal(usage.image_count_total.usage, 5);
      assert.equal(usage.image_size_total.usage, 1);
    });

    test("size quota sums, members, patch, delete", async (t) => {
      if (skip) return t.skip(skip);
      cloud!.cfg.image.quotas.imageSizeTotal = 74_000;
      try {
        const img = await create({ name: "quota" });
        const big = await upload(img.id, Buffer.alloc(1000, 1));
        assert.equal(big.status, 413, big.body.toString());
        assert.equal((await upload(img.id, Buffer.alloc(500, 1))).status, 204);
      } finally {
        cloud!.cfg.image.quotas.imageSizeTotal = -1;
      }
      const shared = await create({ name: "shared" });
      assert.equal((await api("POST", `/v2/images/${shared.id}/members`, { member: "Proj" })).status, 200);
      assert.equal((await api("POST", `/v2/images/${shared.id}/members`, { member: "proj" })).status, 200);
      assert.equal((await api("POST", `/v2/images/${shared.id}/members`, { member: "Proj" })).status, 409);
      const patched = await api(
        "PATCH",
        `/v2/images/${shared.id}`,
        [
          { op: "add", path: "/Prop", value: "é" },
          { op: "add", path: "/prop", value: "e" },
        ],
        { "content-type": "application/openstack-images-v2.1-json-patch" },
      );
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.Prop, "é");
      assert.equal(patched.body.prop, "e");
      assert.equal((await api("DELETE", `/v2/images/${shared.id}`)).status, 204);
      assert.equal((await api("GET", `/v2/images/${shared.id}`)).status, 404);
      assert.equal((await api("POST", "/v2/images", { id: shared.id })).status, 409);
    });
  });
}
