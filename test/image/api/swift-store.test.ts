// The image service's `swift` store: images as static large objects in the service project's account, written and
// read through the object storage API (uploads segment by segment), ranges, clean-up of refused and deleted data.
// Booting real guests from such images: test/e2e/qemu-guest.test.ts runs with the swift store.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { qcow2 } from "../inspector/images.js";
import { bootImageCloud, type ImageCloud } from "./helpers.js";

const SEGMENT = 1024 * 1024;
let t: ImageCloud;
let account: string;
let service: string;

before(async () => {
  t = await bootImageCloud({
    image: {
      maxImageSize: 8 * SEGMENT,
      store: "swift",
      swift: { container: "glance", segmentSize: SEGMENT },
    },
  });
  account = `AUTH_${await t.c.projectId("service")}`;
  const secrets = JSON.parse(readFileSync(join(t.c.dataDir, "bootstrap-secrets.json"), "utf8"));
  service = await t.c.token("nova", secrets.servicePassword, "service");
});
after(() => t.close());

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");

/** A Swift request to the store's account, as its service user. */
async function swift(method: string, path: string) {
  const r = await t.c.cloud.app.inject({
    method: method as "GET",
    url: `/object-store/v1/${account}${path}`,
    headers: { "x-auth-token": service, accept: "application/json" },
  });
  return { status: r.statusCode, headers: r.headers, json: r.payload ? JSON.parse(r.payload) : undefined };
}

const segmentsOf = async (id: string) =>
  ((await swift("GET", `/glance_segments?prefix=${id}/&format=json`)).json ?? []) as { name: string }[];

describe("swift image store", () => {
  test("an upload becomes an SLO of 1 MiB segments; download, ranges and hashes match; /v2/info/stores", async () => {
    const data = randomBytes(3 * SEGMENT + 12345);
    const img = await t.create({}, t.demo);
    const up = await t.upload(img.id, data, t.demo);
    assert.equal(up.status, 204, up.body.toString());
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(shown.status, "active");
    assert.equal(shown.stores, "swift");
    assert.equal(shown.size, data.length);
    assert.equal(shown.checksum, md5(data));
    assert.equal(shown.os_hash_value, createHash("sha512").update(data).digest("hex"));
    const segs = await segmentsOf(img.id);
    assert.deepEqual(
      segs.map((s) => s.name),
      [1, 2, 3, 4].map((n) => `${img.id}/0000000${n}`),
    );
    const manifest = await swift("HEAD", `/glance/${img.id}`);
    assert.equal(manifest.headers["x-static-large-object"], "True");
    assert.equal(manifest.headers["content-length"], String(data.length));
    const dl = await t.download(img.id, t.demo);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers["content-md5"], md5(data));
    assert.ok(dl.body.equals(data));
    // A range across a segment boundary.
    const from = SEGMENT - 100;
    const part = await t.download(img.id, t.demo, { range: `bytes=${from}-${from + 299}` });
    assert.equal(part.status, 206);
    assert.equal(part.headers["content-range"], `bytes ${from}-${from + 299}/${data.length}`);
    assert.ok(part.body.equals(data.subarray(from, from + 300)));
    const stores = (await t.api("GET", "/v2/info/stores")).body.stores;
    assert.deepEqual(
      stores.map((s: { id: string; default?: string }) => [s.id, s.default]),
      [
        ["file", undefined],
        ["swift", "true"],
      ],
    );
    // Deleting the image deletes the manifest and its segments.
    assert.equal((await t.api("DELETE", `/v2/images/${img.id}`, { token: t.demo })).status, 204);
    assert.equal((await swift("HEAD", `/glance/${img.id}`)).status, 404);
    assert.deepEqual(await segmentsOf(img.id), []);
  });

  test("an empty image is a plain empty object", async () => {
    const img = await t.create({}, t.demo);
    assert.equal((await t.upload(img.id, Buffer.alloc(0), t.demo)).status, 204);
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(shown.size, 0);
    assert.equal((await swift("HEAD", `/glance/${img.id}`)).headers["content-length"], "0");
    const dl = await t.download(img.id, t.demo);
    assert.equal(dl.status, 200);
    assert.equal(dl.body.length, 0);
  });

  test("refused data leaves no segment behind: a qcow2 declared raw, and data over the size cap", async () => {
    const img = await t.create({ disk_format: "raw" }, t.demo);
    const bad = Buffer.concat([qcow2({ size: 64 * SEGMENT }), randomBytes(2 * SEGMENT)]);
    const up = await t.upload(img.id, bad, t.demo);
    assert.equal(up.status, 400, up.body.toString());
    assert.deepEqual(await segmentsOf(img.id), []);
    assert.equal((await swift("HEAD", `/glance/${img.id}`)).status, 404);
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(shown.status, "queued");
    const big = await t.create({}, t.demo);
    const over = await t.upload(big.id, randomBytes(8 * SEGMENT + 1), t.demo);
    assert.equal(over.status, 413, over.body.toString());
    assert.deepEqual(await segmentsOf(big.id), []);
    assert.equal((await swift("HEAD", `/glance/${big.id}`)).status, 404);
  });
});
