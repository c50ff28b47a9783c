// The compute image proxy (/images, /images/{id}/metadata): Nova's view of the image service's images, filters,
// paging, delete, metadata, and the microversions that removed them.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

let c: ComputeCloud;
const V = "/v2.1/images";

before(async () => {
  c = await bootCompute();
});
after(() => c?.close());

/** Create an image through the image API as `token` (queued unless data is uploaded). */
async function glanceImage(token: string, body: Record<string, unknown>, data?: Buffer): Promise<string> {
  const app = c.t.cloud.app;
  const r = await app.inject({
    method: "POST",
    url: "/image/v2/images",
    headers: { "x-auth-token": token, "content-type": "application/json" },
    payload: JSON.stringify({ disk_format: "raw", container_format: "bare", ...body }),
  });
  assert.equal(r.statusCode, 201, r.payload);
  const id = JSON.parse(r.payload).id as string;
  if (data) {
    const up = await app.inject({
      method: "PUT",
      url: `/image/v2/images/${id}/file`,
      headers: { "x-auth-token": token, "content-type": "application/octet-stream" },
      payload: data,
    });
    assert.equal(up.statusCode, 204, up.payload);
  }
  return id;
}

test("show: Nova's image view, with metadata, server, disk config and links", async () => {
  const server = "11111111-2222-3333-4444-555555555555";
  const id = await glanceImage(
    c.demo,
    {
      name: "shown",
      min_ram: 64,
      min_disk: 2,
      instance_uuid: server,
      auto_disk_config: "true",
      os_distro: "x",
    },
    Buffer.alloc(2048),
  );
  const r = await c.req("GET", `${V}/${id}`, { token: c.demo });
  assert.equal(r.status, 200, r.text);
  const img = r.body.image;
  assert.equal(img.id, id);
  assert.equal(img.name, "shown");
  assert.equal(img.status, "ACTIVE");
  assert.equal(img.progress, 100);
  assert.equal(img.minRam, 64);
  assert.equal(img.minDisk, 2);
  assert.equal(img["OS-EXT-IMG-SIZE:size"], 2048);
  assert.equal(img["OS-DCF:diskConfig"], "AUTO");
  assert.deepEqual(img.metadata, { instance_uuid: server, auto_disk_config: "true", os_distro: "x" });
  assert.match(img.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(img.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(img.server.id, server);
  assert.deepEqual(
    img.server.links.map((l: any) => l.rel),
    ["self", "bookmark"],
  );
  assert.match(img.server.links[0].href, new RegExp(`/compute/v2.1/servers/${server}$`));
  assert.deepEqual(
    img.links.map((l: any) => [l.rel, l.type]),
    [
      ["self", undefined],
      ["bookmark", undefined],
      ["alternate", "application/vnd.openstack.image"],
    ],
  );
  assert.match(img.links[0].href, new RegExp(`/compute/v2.1/images/${id}$`));
  assert.match(img.links[1].href, new RegExp(`/compute/images/${id}$`));
  assert.match(img.links[2].href, new RegExp(`/image/images/${id}$`));
});

test("a queued image is SAVING at 25%, with size 0 and no server", async () => {
  const id = await glanceImage(c.demo, { name: "queued" });
  const img = (await c.req("GET", `${V}/${id}`, { token: c.demo })).body.image;
  assert.equal(img.status, "SAVING");
  assert.equal(img.progress, 25);
  assert.equal(img["OS-EXT-IMG-SIZE:size"], 0);
  assert.deepEqual(img.metadata, {});
  assert.equal(img.server, undefined);
});

test("unknown and invisible images are 404 'Image not found.'", async () => {
  const other = await glanceImage(c.admin, { name: "admin-private", visibility: "private" });
  for (const id of ["00000000-0000-0000-0000-000000000000", "nope", other]) {
    const r = await c.req("GET", `${V}/${id}`, { token: c.demo });
    assert.equal(r.status, 404, id);
    assert.equal(r.body.itemNotFound.message, "Image not found.");
  }
});

test("list and detail: filters by name, status, type, server (id or link), changes-since", async () => {
  const srv = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
  const a = await glanceImage(
    c.demo,
    { name: "flt-a", image_type: "snapshot", instance_uuid: srv },
    Buffer.alloc(8),
  );
  const b = await glanceImage(c.demo, { name: "flt-b" });
  const ids = async (q: string, detail = false) => {
    const r = await c.req("GET", `${V}${detail ? "/detail" : ""}?${q}`, { token: c.demo });
    assert.equal(r.status, 200, r.text);
    return r.body.images.map((i: any) => i.id) as string[];
  };
  const brief = (await c.req("GET", `${V}?name=flt-a`, { token: c.demo })).body.images;
  assert.deepEqual(Object.keys(brief[0]).sort(), ["id", "links", "name"]);
  assert.deepEqual(await ids("name=flt-a"), [a]);
  assert.deepEqual(await ids("name=flt-b", true), [b]);
  const active = await ids("status=ACTIVE");
  assert.ok(active.includes(a) && !active.includes(b));
  assert.ok((await ids("status=SAVING", true)).includes(b) === false, "queued is not glance's saving");
  assert.deepEqual(await ids("type=snapshot"), [a]);
  assert.deepEqual(await ids(`server=${srv}`), [a]);
  assert.deepEqual(await ids(`server=${encodeURIComponent(`http://h/compute/v2.1/servers/${srv}`)}`, true), [
    a,
  ]);
  assert.deepEqual(await ids(`property-image_type=snapshot`), [a]);
  const since = new Date(Date.now() - 60_000).toISOString();
  assert.ok((await ids(`changes-since=${encodeURIComponent(since)}`)).includes(a));
  assert.deepEqual(await ids(`changes-since=${encodeURIComponent("2999-01-01T00:00:00Z")}&name=flt-a`), []);
});

test("limit, marker and the next link", async () => {
  for (const n of [1, 2, 3]) await glanceImage(c.demo, { name: `page-${n}` });
  const first = await c.req("GET", `${V}/detail?limit=2`, { token: c.demo });
  assert.equal(first.status, 200);
  assert.equal(first.body.images.length, 2);
  const next = first.body.images_links[0];
  assert.equal(next.rel, "next");
  const url = new URL(next.href);
  assert.equal(url.pathname, "/compute/v2.1/images/detail");
  assert.equal(url.searchParams.get("marker"), first.body.images[1].id);
  assert.equal(url.searchParams.get("limit"), "2");
  const second = await c.req("GET", `${V}/detail?limit=2&marker=${first.body.images[1].id}`, {
    token: c.demo,
  });
  assert.equal(second.status, 200);
  assert.ok(!second.body.images.some((i: any) => first.body.images.some((j: any) => j.id === i.id)));
  const all = await c.req("GET", V, { token: c.demo });
  assert.equal(all.body.images_links, undefined);
  for (const bad of ["x", "-1", ""])
    assert.equal((await c.req("GET", `${V}?limit=${bad}`, { token: c.demo })).status, 400, bad);
});

test("delete: 204, then 404; others' images are 404 or 403 as the image service decides", async () => {
  const id = await glanceImage(c.demo, { name: "doomed" });
  assert.equal((await c.req("DELETE", `${V}/${id}`, { token: c.demo })).status, 204);
  assert.equal((await c.req("GET", `${V}/${id}`, { token: c.demo })).status, 404);
  assert.equal((await c.req("DELETE", `${V}/${id}`, { token: c.demo })).status, 404);
  assert.equal((await c.req("DELETE", `${V}/-1`, { token: c.demo })).status, 404);
  // A blank id (`images/`) is 404 as in Nova (tempest's test_delete_image_blank_id); without the slash the
  // collection answers only GET: 405 with an Allow header (the shared HTTP layer's rule).
  assert.equal((await c.req("DELETE", `${V}/`, { token: c.demo })).status, 404);
  assert.equal((await c.req("DELETE", V, { token: c.demo })).status, 405);
  const r = await c.req("DELETE", `${V}/${c.imageId}`, { token: c.demo });
  assert.equal(r.status, 403);
  assert.equal(r.body.forbidden.message, "You are not allowed to delete the image.");
});

test("the proxy is gone from 2.36, its metadata from 2.39", async () => {
  const id = await glanceImage(c.demo, { name: "mv" });
  assert.equal((await c.req("GET", `${V}/${id}`, { token: c.demo, mv: "2.35" })).status, 200);
  for (const [m, p] of [
    ["GET", V],
    ["GET", `${V}/detail`],
    ["GET", `${V}/${id}`],
    ["DELETE", `${V}/${id}`],
  ])
    assert.equal((await c.req(m, p, { token: c.demo, mv: "2.36" })).status, 404, `${m} ${p}`);
  assert.equal((await c.req("GET", `${V}/${id}/metadata`, { token: c.demo, mv: "2.38" })).status, 200);
  assert.equal((await c.req("GET", `${V}/${id}/metadata`, { token: c.demo, mv: "2.39" })).status, 404);
});

test("metadata: set (replace), update (merge), item show/set/delete", async () => {
  const id = await glanceImage(c.demo, { name: "meta", keep: "no" }, Buffer.alloc(8));
  const M = `${V}/${id}/metadata`;
  const list = async () => (await c.req("GET", M, { token: c.demo })).body.metadata;
  assert.deepEqual(await list(), { keep: "no" });
  const put = await c.req("PUT", M, {
    token: c.demo,
    body: { metadata: { os_version: "1", os_distro: "d" } },
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.body, { metadata: { os_version: "1", os_distro: "d" } });
  assert.deepEqual(await list(), { os_version: "1", os_distro: "d" });
  const post = await c.req("POST", M, { token: c.demo, body: { metadata: { os_version: "2", arch: "x" } } });
  assert.equal(post.status, 200, post.text);
  assert.deepEqual(post.body.metadata, { os_version: "2", os_distro: "d", arch: "x" });
  const item = await c.req("GET", `${M}/os_distro`, { token: c.demo });
  assert.deepEqual(item.body, { meta: { os_distro: "d" } });
  assert.equal((await c.req("GET", `${M}/missing`, { token: c.demo })).status, 404);
  const set = await c.req("PUT", `${M}/arch`, { token: c.demo, body: { meta: { arch: "y" } } });
  assert.deepEqual(set.body, { meta: { arch: "y" } });
  const mismatch = await c.req("PUT", `${M}/arch`, { token: c.demo, body: { meta: { other: "y" } } });
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.body.badRequest.message, "Request body and URI mismatch");
  for (const body of [{ meta: {} }, { meta: { a: "1", b: "2" } }, { metadata: { a: "1" } }, {}])
    assert.equal((await c.req("PUT", `${M}/a`, { token: c.demo, body })).status, 400, JSON.stringify(body));
  assert.equal((await c.req("PUT", M, { token: c.demo, body: { metadata: { k: 1 } } })).status, 400);
  assert.equal((await c.req("DELETE", `${M}/arch`, { token: c.demo })).status, 204);
  assert.deepEqual(await list(), { os_version: "2", os_distro: "d" });
  const gone = await c.req("DELETE", `${M}/arch`, { token: c.demo });
  assert.equal(gone.status, 404);
  assert.equal(gone.body.itemNotFound.message, "Invalid metadata key");
  const none = `${V}/00000000-0000-0000-0000-000000000000/metadata`;
  assert.equal((await c.req("GET", none, { token: c.demo })).status, 404);
  assert.equal((await c.req("POST", none, { token: c.demo, body: { metadata: { a: "b" } } })).status, 404);
  assert.equal((await c.req("DELETE", `${none}/a`, { token: c.demo })).status, 404);
});

test("metadata beyond the metadata_items quota is 403", async () => {
  const id = await glanceImage(c.demo, { name: "quota" });
  const metadata = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, "v"]));
  const r = await c.req("PUT", `${V}/${id}/metadata`, { token: c.demo, body: { metadata } });
  assert.equal(r.status, 403);
  assert.equal(r.body.forbidden.message, "Image metadata limit exceeded");
});
