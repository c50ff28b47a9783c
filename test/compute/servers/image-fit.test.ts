// Image vs flavor checks on create, rebuild and resize (issue 8 item 10): Nova's FlavorDiskSmallerThanImage (by
// virtual size too), FlavorDiskSmallerThanMinDisk, and the zero_disk_flavor rule (admin only by default).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { qcow2 } from "../../image/inspector/images.js";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

const GiB = 1024 ** 3;
let c: ComputeCloud;

/** A public active image uploaded by the admin. */
async function image(name: string, data: Buffer, extra: Record<string, unknown> = {}): Promise<string> {
  const inject = async (url: string, method: "POST" | "PUT", type: string, payload: string | Buffer) => {
    const r = await c.t.cloud.app.inject({
      method,
      url,
      headers: { "x-auth-token": c.admin, "content-type": type },
      payload,
    });
    return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined };
  };
  const fmt = data.subarray(0, 4).toString("latin1") === "QFI\xfb" ? "qcow2" : "raw";
  const meta = { name, disk_format: fmt, container_format: "bare", visibility: "public", ...extra };
  const img = await inject("/image/v2/images", "POST", "application/json", JSON.stringify(meta));
  assert.equal(img.status, 201);
  const up = await inject(`/image/v2/images/${img.body.id}/file`, "PUT", "application/octet-stream", data);
  assert.equal(up.status, 204);
  return img.body.id;
}

const create = (token: string, server: Record<string, unknown>) =>
  c.req("POST", "/v2.1/servers", {
    token,
    mv: "2.37",
    body: { server: { name: "fit", imageRef: c.imageId, flavorRef: "42", networks: "none", ...server } },
  });

let big = "";
before(async () => {
  c = await bootCompute();
  big = await image("big", qcow2({ size: 20 * GiB }));
  const r = await c.req("POST", "/v2.1/flavors", {
    token: c.admin,
    body: { flavor: { name: "zero", id: "zero", ram: 64, vcpus: 1, disk: 0 } },
  });
  assert.equal(r.status, 200);
});
after(() => c?.close());

test("a qcow2 whose virtual size exceeds the flavor's root disk is refused (FlavorDiskSmallerThanImage)", async () => {
  const shown = await c.t.cloud.app.inject({
    method: "GET",
    url: `/image/v2/images/${big}`,
    headers: { "x-auth-token": c.admin },
  });
  assert.equal(JSON.parse(shown.payload).virtual_size, 20 * GiB);
  const r = await create(c.demo, { imageRef: big });
  assert.equal(r.status, 400);
  assert.equal(
    r.body.badRequest.message,
    `Flavor's disk is too small for requested image. Flavor disk is ${GiB} bytes, image is ${20 * GiB} bytes.`,
  );
  assert.equal((await create(c.demo, { imageRef: big, flavorRef: "3" })).status, 202);
});

test("min_disk above the flavor's root disk is refused (FlavorDiskSmallerThanMinDisk)", async () => {
  const id = await image("needs-5", Buffer.alloc(1024), { min_disk: 5 });
  const r = await create(c.demo, { imageRef: id });
  assert.equal(r.status, 400);
  assert.equal(
    r.body.badRequest.message,
    "Flavor's disk is smaller than the minimum size specified in image metadata. " +
      `Flavor disk is ${GiB} bytes, minimum size is ${5 * GiB} bytes.`,
  );
});

test("a zero-disk flavor boots image-backed servers for admins only (zero_disk_flavor)", async () => {
  const r = await create(c.demo, { imageRef: big, flavorRef: "zero" });
  assert.equal(r.status, 403);
  assert.equal(
    r.body.forbidden.message,
    "Only volume-backed servers are allowed for flavors with zero disk.",
  );
  assert.equal((await create(c.admin, { flavorRef: "zero" })).status, 202);
});

test("rebuild and resize check the image against the flavor too", async () => {
  const id = await c.createServer(c.demo, { name: "fit-moves" });
  await c.waitStatus(c.demo, id, "ACTIVE");
  const rebuild = await c.req("POST", `/v2.1/servers/${id}/action`, {
    token: c.demo,
    body: { rebuild: { imageRef: big } },
  });
  assert.equal(rebuild.status, 400);
  assert.match(rebuild.body.badRequest.message, /^Flavor's disk is too small for requested image/);
  const onBig = await c.createServer(c.demo, { name: "fit-big", imageRef: big, flavorRef: "3" });
  await c.waitStatus(c.demo, onBig, "ACTIVE");
  const resize = await c.req("POST", `/v2.1/servers/${onBig}/action`, {
    token: c.demo,
    body: { resize: { flavorRef: "1" } },
  });
  assert.equal(resize.status, 400);
  assert.match(resize.body.badRequest.message, /^Flavor's disk is too small for requested image/);
});
