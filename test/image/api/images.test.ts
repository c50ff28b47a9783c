// Image records: create/show/delete as Glance answers them, the JSON view, validation and reserved attributes,
// JSON-patch updates (both media types), deactivate/reactivate, and version discovery.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootImageCloud, isGlanceError, type ImageCloud } from "./helpers.js";

let t: ImageCloud;
before(async () => {
  t = await bootImageCloud();
});
after(() => t.close());

const PATCH = { "content-type": "application/openstack-images-v2.1-json-patch" };
const PATCH4 = { "content-type": "application/openstack-images-v2.0-json-patch" };
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

describe("version discovery", () => {
  test("GET /image is 300 with v2.16 CURRENT down to v2.0; /image/versions is 200", async () => {
    const r = await t.api("GET", "", { token: null });
    assert.equal(r.status, 300);
    const ids = r.body.versions.map((v: any) => v.id);
    assert.equal(ids[0], "v2.16");
    assert.equal(ids.at(-1), "v2.0");
    assert.equal(ids.length, 17);
    assert.equal(r.body.versions[0].status, "CURRENT");
    assert.ok(r.body.versions.slice(1).every((v: any) => v.status === "SUPPORTED"));
    assert.match(r.body.versions[0].links[0].href, /\/image\/v2\/$/);
    const v = await t.api("GET", "/versions", { token: null });
    assert.equal(v.status, 200);
    assert.deepEqual(v.body, r.body);
  });
});

describe("create and show", () => {
  test("defaults: queued, shared, owned by the caller's project, Glance's exact keys", async () => {
    const r = await t.api("POST", "/v2/images", { token: t.demo, body: { name: "cirros" } });
    assert.equal(r.status, 201);
    const img = r.body;
    assert.match(String(r.headers.location), new RegExp(`^http://[^/]+/image/v2/images/${img.id}$`));
    assert.equal(r.headers["openstack-image-import-methods"], "glance-direct");
    assert.equal(r.headers["openstack-image-store-ids"], "file");
    assert.deepEqual(Object.keys(img).sort(), [
      "checksum",
      "container_format",
      "created_at",
      "disk_format",
      "file",
      "id",
      "min_disk",
      "min_ram",
      "name",
      "os_hash_algo",
      "os_hash_value",
      "os_hidden",
      "owner",
      "protected",
      "schema",
      "self",
      "size",
      "status",
      "tags",
      "updated_at",
      "virtual_size",
      "visibility",
    ]);
    assert.equal(img.status, "queued");
    assert.equal(img.visibility, "shared");
    assert.equal(img.owner, t.demoProject);
    assert.equal(img.protected, false);
    assert.equal(img.os_hidden, false);
    assert.equal(img.size, null);
    assert.equal(img.checksum, null);
    assert.equal(img.disk_format, null);
    assert.equal(img.min_disk, 0);
    assert.deepEqual(img.tags, []);
    assert.equal(img.self, `/v2/images/${img.id}`);
    assert.equal(img.file, `/v2/images/${img.id}/file`);
    assert.equal(img.schema, "/v2/schemas/image");
    assert.match(img.created_at, TIME);
    assert.match(img.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const g = await t.api("GET", `/v2/images/${img.id}`, { token: t.demo });
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, img);
    assert.ok(!("locations" in g.body));
  });

  test("custom properties are strings at top level; an explicit id; tags deduplicated", async () => {
    const id = "11111111-2222-3333-4444-555555555555";
    const img = await t.create({
      id,
      name: "props",
      os_distro: "cirros",
      hw_disk_bus: "virtio",
      tags: ["a", "b", "a"],
      min_ram: 64,
      protected: false,
      ramdisk_id: "00000000-1111-2222-3333-444455556666",
    });
    assert.equal(img.id, id);
    assert.equal(img.os_distro, "cirros");
    assert.equal(img.hw_disk_bus, "virtio");
    assert.equal(img.min_ram, 64);
    assert.deepEqual([...img.tags].sort(), ["a", "b"]);
    const dup = await t.api("POST", "/v2/images", { body: { id } });
    assert.equal(dup.status, 409);
    assert.ok(isGlanceError(dup.body, 409), dup.text);
    assert.equal(dup.body.code, "409 Conflict");
  });

  test("bad input is 400, read-only and reserved attributes are 403", async () => {
    const cases: Array<[unknown, number]> = [
      [{ disk_format: "floppy" }, 400],
      [{ container_format: "box" }, 400],
      [{ name: "x".repeat(256) }, 400],
      [{ min_ram: "lots" }, 400],
      [{ os_distro: 5 }, 400],
      [{ id: "not-a-uuid" }, 400],
      [{ visibility: "everyone" }, 400],
      [{ tags: "a" }, 400],
      [["not", "an", "object"], 400],
      [{ min_disk: -1 }, 400],
      [{ ["k".repeat(256)]: "v" }, 400],
      [{ self: "/x" }, 403],
      [{ file: "/x" }, 403],
      [{ schema: "/x" }, 403],
      [{ direct_url: "x" }, 403],
      [{ status: "active" }, 403],
      [{ size: 5 }, 403],
      [{ checksum: "abc" }, 403],
      [{ os_glance_foo: "bar" }, 403],
      [{ deleted: "1" }, 403],
      [{ location: "http://x" }, 403],
      [{ locations: [] }, 403],
    ];
    for (const [body, status] of cases) {
      const r = await t.api("POST", "/v2/images", { token: t.demo, body });
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 60)} → ${r.status} ${r.text}`);
      assert.ok(isGlanceError(r.body, status), r.text);
    }
    const bad = await t.api("POST", "/v2/images", { token: t.demo, body: "{nope" });
    assert.equal(bad.status, 400);
    const none = await t.api("POST", "/v2/images", { token: t.demo });
    assert.equal(none.status, 400);
  });

  test("only admins publicize; nobody else creates images for another project", async () => {
    const pub = await t.api("POST", "/v2/images", { token: t.demo, body: { visibility: "public" } });
    assert.equal(pub.status, 403);
    const other = await t.api("POST", "/v2/images", { token: t.demo, body: { owner: t.adminProject } });
    assert.equal(other.status, 403);
    assert.match(other.body.message, /not permitted to create images owned by/);
    const comm = await t.create({ visibility: "community" }, t.demo);
    assert.equal(comm.visibility, "community");
    const adminPub = await t.create({ visibility: "public", owner: t.demoProject });
    assert.equal(adminPub.visibility, "public");
    assert.equal(adminPub.owner, t.demoProject);
  });

  test("unknown or invisible images are 404; no token is 401", async () => {
    const priv = await t.create({ visibility: "private" });
    for (const id of ["00000000-0000-0000-0000-000000000000", "x".repeat(300), priv.id]) {
      const r = await t.api("GET", `/v2/images/${id}`, { token: t.demo });
      assert.equal(r.status, 404, id);
      assert.ok(isGlanceError(r.body, 404));
    }
    const r = await t.api("GET", `/v2/images/${priv.id}`, { token: null });
    assert.equal(r.status, 401);
    const d = await t.api("DELETE", `/v2/images/${priv.id}`, { token: t.demo });
    assert.equal(d.status, 404);
  });
});

describe("delete", () => {
  test("204, then 404; protected images are 403; ids are never reused", async () => {
    const img = await t.create({ protected: true }, t.demo);
    const p = await t.api("DELETE", `/v2/images/${img.id}`, { token: t.demo });
    assert.equal(p.status, 403);
    assert.match(p.body.message, /protected/);
    const un = await t.api("PATCH", `/v2/images/${img.id}`, {
      token: t.demo,
      headers: PATCH,
      body: [{ op: "replace", path: "/protected", value: false }],
    });
    assert.equal(un.status, 200, un.text);
    const d = await t.api("DELETE", `/v2/images/${img.id}`, { token: t.demo });
    assert.equal(d.status, 204);
    assert.equal((await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).status, 404);
    assert.equal((await t.api("DELETE", `/v2/images/${img.id}`, { token: t.demo })).status, 404);
    const again = await t.api("POST", "/v2/images", { token: t.demo, body: { id: img.id } });
    assert.equal(again.status, 409);
  });

  test("another project's shared image: visible to a member, but delete is 403", async () => {
    const img = await t.create({ visibility: "public" });
    const r = await t.api("DELETE", `/v2/images/${img.id}`, { token: t.demo });
    assert.equal(r.status, 403);
  });
});

describe("PATCH", () => {
  test("add/replace/remove on attributes and custom properties (draft 10)", async () => {
    const img = await t.create({ name: "p", foo: "1" }, t.demo);
    const r = await t.api("PATCH", `/v2/images/${img.id}`, {
      token: t.demo,
      headers: PATCH,
      body: [
        { op: "replace", path: "/name", value: "renamed" },
        { op: "add", path: "/bar", value: "2" },
        { op: "add", path: "/foo", value: "1b" },
        { op: "remove", path: "/bar" },
        { op: "replace", path: "/min_disk", value: 3 },
        { op: "replace", path: "/tags", value: ["x", "y"] },
        { op: "add", path: "/os_hidden", value: true },
        { op: "replace", path: "/disk_format", value: "qcow2" },
        { op: "add", path: "/a~1b", value: "slash" },
      ],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, "renamed");
    assert.equal(r.body.foo, "1b");
    assert.ok(!("bar" in r.body));
    assert.equal(r.body.min_disk, 3);
    assert.deepEqual([...r.body.tags].sort(), ["x", "y"]);
    assert.equal(r.body.os_hidden, true);
    assert.equal(r.body.disk_format, "qcow2");
    assert.equal(r.body["a/b"], "slash");
    const g = await t.api("GET", `/v2/images/${img.id}`, { token: t.demo });
    assert.deepEqual(g.body, r.body);
  });

  test("draft 4 syntax; add of an existing property is 409 there", async () => {
    const img = await t.create({ foo: "1" }, t.demo);
    const ok = await t.api("PATCH", `/v2/images/${img.id}`, {
      token: t.demo,
      headers: PATCH4,
      body: [{ add: "/baz", value: "3" }, { replace: "/name", value: "d4" }, { remove: "/foo" }],
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.baz, "3");
    assert.equal(ok.body.name, "d4");
    assert.ok(!("foo" in ok.body));
    const dup = await t.api("PATCH", `/v2/images/${img.id}`, {
      token: t.demo,
      headers: PATCH4,
      body: [{ add: "/baz", value: "4" }],
    });
    assert.equal(dup.status, 409);
  });

  test("errors: media type 415, bad ops 400, read-only/reserved 403, missing property 409", async () => {
    const img = await t.create({}, t.demo);
    const path = `/v2/images/${img.id}`;
    const wrongType = await t.api("PATCH", path, { token: t.demo, body: [{ op: "remove", path: "/x" }] });
    assert.equal(wrongType.status, 415);
    assert.match(String(wrongType.headers["accept-patch"]), /openstack-images-v2\.1-json-patch/);
    const cases: Array<[unknown, number]> = [
      [{ op: "replace", path: "/name", value: "x" }, 400],
      [[{ op: "move", path: "/name", value: "x" }], 400],
      [[{ path: "/name", value: "x" }], 400],
      [[{ op: "replace", value: "x" }], 400],
      [[{ op: "replace", path: "name", value: "x" }], 400],
      [[{ op: "replace", path: "/name" }], 400],
      [[{ op: "replace", path: "/a/b", value: "x" }], 400],
      [[{ op: "replace", path: "/min_ram", value: "big" }], 400],
      [[{ op: "replace", path: "/visibility", value: "galaxy" }], 400],
      [[{ op: "add", path: "/custom", value: 7 }], 400],
      [[{ op: "replace", path: "/min_ram", value: -5 }], 400],
      [["op"], 400],
      [[{ op: "replace", path: "/status", value: "active" }], 403],
      [[{ op: "replace", path: "/id", value: "x" }], 403],
      [[{ op: "add", path: "/os_glance_foo", value: "bar" }], 403],
      [[{ op: "remove", path: "/name" }], 403],
      [[{ op: "replace", path: "/owner", value: t.adminProject }], 403],
      [[{ op: "replace", path: "/visibility", value: "public" }], 403],
      [[{ op: "replace", path: "/locations", value: [] }], 403],
      [[{ op: "replace", path: "/nothere", value: "x" }], 409],
      [[{ op: "remove", path: "/nothere" }], 409],
    ];
    for (const [body, status] of cases) {
      const r = await t.api("PATCH", path, { token: t.demo, headers: PATCH, body });
      assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
      assert.ok(isGlanceError(r.body, status), r.text);
    }
    const unchanged = await t.api("GET", path, { token: t.demo });
    assert.deepEqual(unchanged.body, img);
  });

  test("admins may change the owner and publicize; a non-owner member may not modify", async () => {
    const img = await t.create({}, t.demo);
    const r = await t.api("PATCH", `/v2/images/${img.id}`, {
      headers: PATCH,
      body: [
        { op: "replace", path: "/visibility", value: "public" },
        { op: "replace", path: "/owner", value: t.adminProject },
      ],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.owner, t.adminProject);
    const demoTry = await t.api("PATCH", `/v2/images/${img.id}`, {
      token: t.demo,
      headers: PATCH,
      body: [{ op: "replace", path: "/name", value: "mine" }],
    });
    assert.equal(demoTry.status, 403);
  });
});

describe("deactivate / reactivate", () => {
  test("the owning project or an admin; only active images; non-admins cannot download while deactivated", async () => {
    const img = await t.create({ visibility: "public" });
    const q = await t.api("POST", `/v2/images/${img.id}/actions/deactivate`);
    assert.equal(q.status, 403, "queued images cannot be deactivated");
    const up = await t.upload(img.id, Buffer.from("hello world"));
    assert.equal(up.status, 204, up.body.toString());
    const demoTry = await t.api("POST", `/v2/images/${img.id}/actions/deactivate`, { token: t.demo });
    assert.equal(demoTry.status, 403, "not demo's image");
    assert.equal((await t.api("POST", `/v2/images/${img.id}/actions/deactivate`)).status, 204);
    assert.equal((await t.api("POST", `/v2/images/${img.id}/actions/deactivate`)).status, 204);
    assert.equal((await t.api("GET", `/v2/images/${img.id}`)).body.status, "deactivated");
    assert.equal((await t.download(img.id, t.demo)).status, 403);
    const adminDl = await t.download(img.id);
    assert.equal(adminDl.status, 200);
    assert.equal(adminDl.body.toString(), "hello world");
    assert.equal(
      (await t.api("POST", `/v2/images/${img.id}/actions/reactivate`, { token: t.demo })).status,
      403,
    );
    assert.equal((await t.api("POST", `/v2/images/${img.id}/actions/reactivate`)).status, 204);
    assert.equal((await t.api("GET", `/v2/images/${img.id}`)).body.status, "active");
    assert.equal((await t.download(img.id, t.demo)).status, 200);
  });

  test("a project member deactivates its own image (as tempest does) and then cannot download it", async () => {
    const img = await t.create({ visibility: "private" }, t.demo);
    await t.upload(img.id, Buffer.from("mine"), t.demo);
    assert.equal(
      (await t.api("POST", `/v2/images/${img.id}/actions/deactivate`, { token: t.demo })).status,
      204,
    );
    assert.equal((await t.download(img.id, t.demo)).status, 403);
    assert.equal(
      (await t.api("POST", `/v2/images/${img.id}/actions/reactivate`, { token: t.demo })).status,
      204,
    );
    assert.equal((await t.download(img.id, t.demo)).body.toString(), "mine");
    const priv = await t.create({ visibility: "private" });
    assert.equal(
      (await t.api("POST", `/v2/images/${priv.id}/actions/deactivate`, { token: t.demo })).status,
      404,
    );
  });
});

describe("robustness", () => {
  test("malformed input never gets a 500, and every error is Glance's shape", async () => {
    const img = await t.create({ name: "fuzz" }, t.demo);
    const p = `/v2/images/${img.id}`;
    const reqs: Array<[string, string, unknown?, Record<string, string>?]> = [
      ["GET", "/v2/images?limit=99999999999999999999999"],
      ["GET", "/v2/images?sort=,,,"],
      ["GET", "/v2/images?sort=:"],
      ["GET", "/v2/images?name=in:"],
      ["GET", '/v2/images?name=in:"a\\"b",c'],
      ["GET", "/v2/images?created_at=gt:"],
      ["GET", "/v2/images?created_at=2020-13-45T99:99:99Z"],
      ["GET", "/v2/images?size_min=1e400"],
      ["GET", "/v2/images?size=99999999999999999999999"],
      ["GET", "/v2/images?min_ram=abc"],
      ["GET", "/v2/images?foo_min=1"],
      ["GET", "/v2/images?__proto__=x&constructor=y"],
      ["GET", "/v2/images?marker="],
      ["GET", "/v2/images?tag=&tag="],
      ["GET", "/v2/images?limit=&marker=&sort_key=&sort_dir="],
      ["POST", "/v2/images", { name: { a: 1 } }],
      ["POST", "/v2/images", { tags: [1, 2] }],
      ["POST", "/v2/images", { min_ram: 1e30 }],
      ["POST", "/v2/images", { min_ram: 1.5 }],
      ["POST", "/v2/images", { protected: "yes" }],
      ["POST", "/v2/images", '{"__proto__": "x", "constructor": "y", "toString": "z"}'],
      ["POST", "/v2/images", "null"],
      ["POST", "/v2/images", "[]"],
      ["POST", "/v2/images", '"string"'],
      ["POST", "/v2/images", "12"],
      ["PATCH", p, [{ op: "add", path: "/__proto__", value: "x" }], PATCH_HDR()],
      ["PATCH", p, [{ op: "add", path: "/constructor", value: "x" }], PATCH_HDR()],
      ["PATCH", p, [{ op: "add", path: "/", value: "x" }], PATCH_HDR()],
      ["PATCH", p, [{ op: "add", path: "//", value: "x" }], PATCH_HDR()],
      ["PATCH", p, [{ op: "add", path: "/~2", value: "x" }], PATCH_HDR()],
      ["PATCH", p, [{ op: "add", path: 7, value: "x" }], PATCH_HDR()],
      ["PATCH", p, [{ op: "add", path: "/member", value: "x" }], PATCH_HDR()],
      ["PATCH", p, [{ op: "add", path: "/image_id", value: "x" }], PATCH_HDR()],
      ["PATCH", p, [{ op: "replace", path: "/tags", value: [1] }], PATCH_HDR()],
      ["PATCH", p, [{ op: "replace", path: "/min_disk", value: 1e30 }], PATCH_HDR()],
      ["PATCH", p, "{not json", PATCH_HDR()],
      ["PATCH", p, {}, PATCH_HDR()],
      ["PUT", `${p}/tags/%00`],
      ["PUT", `${p}/tags/${"%F0%9F%98%80".repeat(10)}`],
      ["POST", `${p}/members`, { member: { a: 1 } }],
      ["POST", `${p}/members`, { member: 12345 }],
      ["PUT", `${p}/members/x`, { status: ["accepted"] }],
      ["POST", `${p}/import`, { method: "glance-direct" }],
      ["POST", `${p}/import`, { method: { name: ["glance-direct"] } }],
      ["POST", `${p}/import`, []],
      ["GET", `${p}/file`, undefined, { range: "bytes=99999999999999999999999-" }],
      ["GET", "/v2/images/%zz"],
      ["GET", `/v2/images/${"a".repeat(2000)}`],
      ["DELETE", "/v2/images"],
    ];
    for (const [method, path, body, headers] of reqs) {
      const r = await t.api(method, path, {
        token: t.demo,
        ...(body !== undefined ? { body } : {}),
        ...(headers ? { headers } : {}),
      });
      const what = `${method} ${path} ${JSON.stringify(body) ?? ""}`;
      assert.ok(r.status < 500, `${what} → ${r.status} ${r.text}`);
      if (r.status >= 400 && r.text) assert.ok(isGlanceError(r.body, r.status), `${what}: ${r.text}`);
    }
    const still = await t.api("GET", p, { token: t.demo });
    assert.equal(still.status, 200);
    // Property names that are special in JavaScript are plain names.
    const odd = await t.api("POST", "/v2/images", {
      token: t.demo,
      body: '{"__proto__": "x", "constructor": "y"}',
    });
    assert.equal(odd.status, 201, odd.text);
    const shown = JSON.parse((await t.api("GET", `/v2/images/${odd.body.id}`, { token: t.demo })).text);
    assert.equal(Object.getOwnPropertyDescriptor(shown, "__proto__")?.value, "x");
    assert.equal(shown.constructor, "y");
  });
});

function PATCH_HDR(): Record<string, string> {
  return { "content-type": "application/openstack-images-v2.1-json-patch" };
}
