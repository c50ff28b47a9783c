// Per-project quotas (413 when exceeded): image count, stored bytes, staged bytes, concurrent uploads, per-project
// overrides, and the per-image limits on properties, tags and members.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { bootImageCloud, isGlanceError, type ImageCloud } from "./helpers.js";

let t: ImageCloud;
let defaults: string;
before(async () => {
  t = await bootImageCloud();
  defaults = JSON.stringify(t.c.cloud.cfg.image);
});
after(() => t.close());
beforeEach(() => {
  // Each test starts from the default quotas and demo owning no images.
  Object.assign(t.c.cloud.cfg.image, JSON.parse(defaults));
});

const cfg = () => t.c.cloud.cfg.image;

async function clearDemo(): Promise<void> {
  const r = await t.api("GET", "/v2/images?limit=1000&member_status=all&visibility=all", { token: t.demo });
  for (const img of r.body.images)
    if (img.owner === t.demoProject) await t.api("DELETE", `/v2/images/${img.id}`, { token: t.demo });
}

describe("project quotas", () => {
  test("image count: 413 once the project owns imageCountTotal images", async () => {
    await clearDemo();
    cfg().quotas.imageCountTotal = 2;
    await t.create({}, t.demo);
    await t.create({}, t.demo);
    const r = await t.api("POST", "/v2/images", { token: t.demo, body: { name: "third" } });
    assert.equal(r.status, 413);
    assert.ok(isGlanceError(r.body, 413), r.text);
    assert.match(r.body.message, /image_count_total/);
    // Other projects have their own count.
    await t.create({});
  });

  test("per-project overrides win over the defaults", async () => {
    await clearDemo();
    cfg().quotas.imageCountTotal = 0;
    cfg().projectQuotas[t.demoProject] = { imageCountTotal: 1 };
    await t.create({}, t.demo);
    assert.equal((await t.api("POST", "/v2/images", { token: t.demo, body: {} })).status, 413);
    assert.equal((await t.api("POST", "/v2/images", { token: t.admin, body: {} })).status, 413);
  });

  test("stored bytes: an upload that would pass imageSizeTotal is 413 and leaves nothing", async () => {
    await clearDemo();
    cfg().quotas.imageSizeTotal = 1000;
    const a = await t.create({}, t.demo);
    assert.equal((await t.upload(a.id, Buffer.alloc(600, 1), t.demo)).status, 204);
    const b = await t.create({}, t.demo);
    const r = await t.upload(b.id, Buffer.alloc(600, 2), t.demo);
    assert.equal(r.status, 413, r.body.toString());
    assert.ok(isGlanceError(r.json, 413));
    assert.equal((await t.api("GET", `/v2/images/${b.id}`, { token: t.demo })).body.status, "queued");
    assert.deepEqual(
      readdirSync(join(t.c.dataDir, "images")).filter((f) => f.startsWith(b.id)),
      [],
    );
    assert.equal((await t.upload(b.id, Buffer.alloc(400, 2), t.demo)).status, 204);
    // Now at the limit: nothing more fits, and imports are refused up front.
    const c = await t.create({}, t.demo);
    assert.equal((await t.upload(c.id, Buffer.alloc(1, 3), t.demo)).status, 413);
    cfg().quotas.imageSizeTotal = 999;
    const s = await t.upload(c.id, Buffer.alloc(1, 3), t.demo, "stage");
    assert.equal(s.status, 413);
    // Deleting frees the quota.
    cfg().quotas.imageSizeTotal = 1000;
    await t.api("DELETE", `/v2/images/${a.id}`, { token: t.demo });
    assert.equal((await t.upload(c.id, Buffer.alloc(500, 3), t.demo)).status, 204);
  });

  test("staged bytes and uploads in progress", async () => {
    await clearDemo();
    cfg().quotas.imageStageTotal = 100;
    const a = await t.create({}, t.demo);
    assert.equal((await t.upload(a.id, Buffer.alloc(150), t.demo, "stage")).status, 413);
    assert.equal((await t.api("GET", `/v2/images/${a.id}`, { token: t.demo })).body.status, "queued");
    assert.equal((await t.upload(a.id, Buffer.alloc(80), t.demo, "stage")).status, 204);
    const b = await t.create({}, t.demo);
    assert.equal((await t.upload(b.id, Buffer.alloc(30), t.demo, "stage")).status, 413);
    cfg().quotas.imageStageTotal = -1;
    cfg().quotas.imageCountUploading = 1;
    // a is staged (uploading), so no second upload may start.
    assert.equal((await t.upload(b.id, Buffer.alloc(30), t.demo)).status, 413);
    cfg().quotas.imageCountUploading = 2;
    assert.equal((await t.upload(b.id, Buffer.alloc(30), t.demo)).status, 204);
  });
});

describe("per-image limits", () => {
  test("properties, tags and members", async () => {
    cfg().quotas.imagePropertyQuota = 2;
    cfg().quotas.imageTagQuota = 2;
    cfg().quotas.imageMemberQuota = 1;
    assert.equal(
      (await t.api("POST", "/v2/images", { token: t.demo, body: { a: "1", b: "2", c: "3" } })).status,
      413,
    );
    assert.equal(
      (await t.api("POST", "/v2/images", { token: t.demo, body: { tags: ["1", "2", "3"] } })).status,
      413,
    );
    const img = await t.create({ a: "1", b: "2", tags: ["x", "y"] }, t.demo);
    const patch = await t.api("PATCH", `/v2/images/${img.id}`, {
      token: t.demo,
      headers: { "content-type": "application/openstack-images-v2.1-json-patch" },
      body: [{ op: "add", path: "/c", value: "3" }],
    });
    assert.equal(patch.status, 413);
    assert.equal((await t.api("PUT", `/v2/images/${img.id}/tags/z`, { token: t.demo })).status, 413);
    assert.equal(
      (await t.api("PUT", `/v2/images/${img.id}/tags/x`, { token: t.demo })).status,
      204,
      "already there",
    );
    assert.equal(
      (await t.api("POST", `/v2/images/${img.id}/members`, { token: t.demo, body: { member: "p1" } })).status,
      200,
    );
    assert.equal(
      (await t.api("POST", `/v2/images/${img.id}/members`, { token: t.demo, body: { member: "p2" } })).status,
      413,
    );
  });
});
