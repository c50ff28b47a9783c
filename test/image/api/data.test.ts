// Image data over real sockets: upload → active with checksums and hashes, download with Content-MD5 and
// ranges, format inspection (qcow2 declared raw refused, nothing kept), concurrent and interrupted uploads,
// size limits, and deletion freeing the bytes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { recoverInterrupted } from "../../../src/image/import.js";
import { removePartialFiles } from "../../../src/image/data.js";
import { imagesInStatus } from "../../../src/image/store/images.js";
import { hashPoolStats } from "../../../src/shared/stream/hashing.js";
import { qcow2 } from "../inspector/images.js";
import { until } from "../../helpers/wait.js";
import { bootImageCloud, isGlanceError, raw, type ImageCloud } from "./helpers.js";

let t: ImageCloud;
let imagesDir: string;
before(async () => {
  t = await bootImageCloud();
  imagesDir = join(t.c.dataDir, "images");
});
after(() => t.close());

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const sha512 = (b: Buffer) => createHash("sha512").update(b).digest("hex");
const filesOf = (id: string) => readdirSync(imagesDir).filter((f) => f.startsWith(id));

function pseudoRandom(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >> 16;
  }
  return b;
}

describe("upload and download", () => {
  test("round trip: 204, active, md5/sha512/size/virtual_size, stores; download with Content-MD5", async () => {
    const img = await t.create({}, t.demo);
    const data = pseudoRandom(300_000, 7);
    const up = await t.upload(img.id, data, t.demo);
    assert.equal(up.status, 204, up.body.toString());
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(shown.status, "active");
    assert.equal(shown.size, data.length);
    assert.equal(shown.virtual_size, data.length);
    assert.equal(shown.checksum, md5(data));
    assert.equal(shown.os_hash_algo, "sha512");
    assert.equal(shown.os_hash_value, sha512(data));
    assert.equal(shown.stores, "file");
    const dl = await t.download(img.id, t.demo);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers["content-type"], "application/octet-stream");
    assert.equal(dl.headers["content-md5"], md5(data));
    assert.equal(dl.headers["content-length"], String(data.length));
    assert.ok(dl.body.equals(data));
    assert.deepEqual(filesOf(img.id), [img.id]);
  });

  test("a streamed (chunked) upload of several MiB is not buffered into memory first", async () => {
    const img = await t.create({}, t.demo);
    const chunk = pseudoRandom(64 * 1024, 3);
    const count = 128;
    const hash = createHash("sha512");
    for (let i = 0; i < count; i++) hash.update(chunk);
    async function* gen() {
      for (let i = 0; i < count; i++) yield chunk;
    }
    const r = await raw(`${t.base}/image/v2/images/${img.id}/file`, {
      method: "PUT",
      headers: { "x-auth-token": t.demo, "content-type": "application/octet-stream" },
      body: Readable.from(gen()),
    });
    assert.equal(r.status, 204, r.body.toString());
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(shown.size, chunk.length * count);
    assert.equal(shown.os_hash_value, hash.digest("hex"));
  });

  test("ranges: 206 with Content-Range, suffix and open ranges, 416 when unsatisfiable, 400 for several", async () => {
    const img = await t.create({}, t.demo);
    const data = Buffer.from("0123456789abcdefghij");
    await t.upload(img.id, data, t.demo);
    const get = (range: string) => t.download(img.id, t.demo, { range });
    let r = await get("bytes=2-5");
    assert.equal(r.status, 206);
    assert.equal(r.body.toString(), "2345");
    assert.equal(r.headers["content-range"], "bytes 2-5/20");
    assert.equal(r.headers["content-length"], "4");
    r = await get("bytes=15-");
    assert.equal(r.body.toString(), "fghij");
    assert.equal(r.headers["content-range"], "bytes 15-19/20");
    r = await get("bytes=-3");
    assert.equal(r.body.toString(), "hij");
    r = await get("bytes=18-100");
    assert.equal(r.status, 206);
    assert.equal(r.body.toString(), "ij");
    for (const bad of ["bytes=20-", "bytes=30-40", "bytes=5-2", "lines=1-2", "bytes=x-y"]) {
      const b = await get(bad);
      assert.equal(b.status, 416, bad);
      assert.ok(isGlanceError(b.json, 416), b.body.toString());
    }
    assert.equal((await get("bytes=0-1,4-5")).status, 400);
  });

  test("no data yet is 204; 415 without application/octet-stream; a second upload is 409", async () => {
    const img = await t.create({}, t.demo);
    const empty = await t.download(img.id, t.demo);
    assert.equal(empty.status, 204);
    for (const type of ["application/json", "text/plain", undefined]) {
      const headers: Record<string, string> = { "x-auth-token": t.demo };
      if (type) headers["content-type"] = type;
      const r = await raw(`${t.base}/image/v2/images/${img.id}/file`, {
        method: "PUT",
        headers,
        body: Buffer.from('{"a":1}'),
      });
      assert.equal(r.status, 415, `${type}: ${r.body.toString()}`);
    }
    assert.equal((await t.upload(img.id, Buffer.from("one"), t.demo)).status, 204);
    const second = await t.upload(img.id, Buffer.from("two"), t.demo);
    assert.equal(second.status, 409);
    assert.ok(isGlanceError(second.json, 409));
    assert.equal((await t.download(img.id, t.demo)).body.toString(), "one");
  });

  test("formats must be set first (400); others' images cannot be written (403/404)", async () => {
    const img = await t.create({ disk_format: null, container_format: null }, t.demo);
    const r = await t.upload(img.id, Buffer.from("x"), t.demo);
    assert.equal(r.status, 400);
    assert.match(r.json.message, /disk_format, container_format must be set/);
    assert.equal((await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body.status, "queued");
    const pub = await t.create({ visibility: "public" });
    assert.equal((await t.upload(pub.id, Buffer.from("x"), t.demo)).status, 403);
    const priv = await t.create({ visibility: "private" });
    assert.equal((await t.upload(priv.id, Buffer.from("x"), t.demo)).status, 404);
    assert.equal((await t.download(priv.id, t.demo)).status, 404);
  });

  test("an empty image is fine", async () => {
    const img = await t.create({}, t.demo);
    assert.equal((await t.upload(img.id, Buffer.alloc(0), t.demo)).status, 204);
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(shown.size, 0);
    assert.equal(shown.checksum, md5(Buffer.alloc(0)));
    const dl = await t.download(img.id, t.demo);
    assert.equal(dl.status, 200);
    assert.equal(dl.body.length, 0);
  });
});

describe("format inspection", () => {
  test("qcow2 declared raw is 400, the image stays queued and nothing is stored", async () => {
    const img = await t.create({ disk_format: "raw" }, t.demo);
    const r = await t.upload(img.id, qcow2(), t.demo);
    assert.equal(r.status, 400, r.body.toString());
    assert.ok(isGlanceError(r.json, 400));
    assert.match(r.json.message, /qcow2/);
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(shown.status, "queued");
    assert.equal(shown.size, null);
    assert.equal(shown.checksum, null);
    assert.deepEqual(filesOf(img.id), []);
  });

  test("qcow2 declared qcow2 is active with the virtual size from its header", async () => {
    const img = await t.create({ disk_format: "qcow2" }, t.demo);
    const data = qcow2({ size: 128 * 1024 * 1024 });
    assert.equal((await t.upload(img.id, data, t.demo)).status, 204);
    const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
    assert.equal(shown.status, "active");
    assert.equal(shown.size, data.length);
    assert.equal(shown.virtual_size, 128 * 1024 * 1024);
  });

  test("a qcow2 with a backing file is refused even when declared qcow2", async () => {
    const img = await t.create({ disk_format: "qcow2" }, t.demo);
    const r = await t.upload(img.id, qcow2({ backing: "/etc/passwd" }), t.demo);
    assert.equal(r.status, 400);
    assert.match(r.json.message, /backing/);
    assert.deepEqual(filesOf(img.id), []);
    assert.equal((await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body.status, "queued");
  });

  test("raw data declared qcow2 is refused", async () => {
    const img = await t.create({ disk_format: "qcow2" }, t.demo);
    const r = await t.upload(img.id, Buffer.alloc(4096, 0x41), t.demo);
    assert.equal(r.status, 400);
    assert.deepEqual(filesOf(img.id), []);
  });
});

describe("concurrency and failures", () => {
  test("concurrent uploads of different images all land intact", async () => {
    const imgs = await Promise.all(Array.from({ length: 6 }, () => t.create({}, t.demo)));
    const datas = imgs.map((_, i) => pseudoRandom(200_000 + i * 1000, i + 11));
    const results = await Promise.all(imgs.map((img, i) => t.upload(img.id, datas[i], t.demo)));
    for (const r of results) assert.equal(r.status, 204, r.body.toString());
    for (const [i, img] of imgs.entries()) {
      const dl = await t.download(img.id, t.demo);
      assert.ok(dl.body.equals(datas[i]), `image ${i}`);
      const shown = (await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body;
      assert.equal(shown.checksum, md5(datas[i]));
    }
  });

  test("two uploads racing for one image: one wins, the other is 409", async () => {
    const img = await t.create({}, t.demo);
    const a = pseudoRandom(500_000, 1);
    const b = pseudoRandom(500_000, 2);
    const [ra, rb] = await Promise.all([t.upload(img.id, a, t.demo), t.upload(img.id, b, t.demo)]);
    assert.deepEqual([ra.status, rb.status].sort(), [204, 409]);
    const winner = ra.status === 204 ? a : b;
    assert.ok((await t.download(img.id, t.demo)).body.equals(winner));
  });

  test("a client that disconnects mid-upload leaves the image queued and no partial file", async () => {
    const img = await t.create({}, t.demo);
    const req = httpRequest(`${t.base}/image/v2/images/${img.id}/file`, {
      method: "PUT",
      headers: {
        "x-auth-token": t.demo,
        "content-type": "application/octet-stream",
        "content-length": String(50 * 1024 * 1024),
      },
    });
    req.on("error", () => {});
    req.write(pseudoRandom(1024 * 1024, 5));
    await t.waitStatus(img.id, ["saving"], t.demo);
    // Some bytes are on disk in a partial file by now.
    await until("the upload to be written to a partial file", () =>
      readdirSync(imagesDir).some((f) => f.startsWith(`${img.id}.partial`)),
    );
    req.destroy();
    const back = await t.waitStatus(img.id, ["queued"], t.demo);
    assert.equal(back.size, null);
    await until("the partial file to be removed", () => filesOf(img.id).length === 0);
    // No hash job of the upload is left on the worker threads.
    await until("the upload's hash jobs to end", () => hashPoolStats().jobs === 0);
    // And the upload can be retried.
    assert.equal((await t.upload(img.id, Buffer.from("retry"), t.demo)).status, 204);
  });

  test("data over image.maxImageSize is 413 and not kept", async () => {
    const cfg = t.c.cloud.cfg.image;
    const before = cfg.maxImageSize;
    cfg.maxImageSize = 1000;
    try {
      const img = await t.create({}, t.demo);
      async function* gen() {
        for (let i = 0; i < 10; i++) yield Buffer.alloc(500, 1);
      }
      const r = await raw(`${t.base}/image/v2/images/${img.id}/file`, {
        method: "PUT",
        headers: { "x-auth-token": t.demo, "content-type": "application/octet-stream" },
        body: Readable.from(gen()),
      });
      assert.equal(r.status, 413, r.body.toString());
      assert.ok(isGlanceError(r.json, 413));
      assert.deepEqual(filesOf(img.id), []);
      assert.equal((await t.api("GET", `/v2/images/${img.id}`, { token: t.demo })).body.status, "queued");
      const declared = await t.upload(img.id, Buffer.alloc(2000), t.demo);
      assert.equal(declared.status, 413);
      assert.equal((await t.upload(img.id, Buffer.alloc(1000, 2), t.demo)).status, 204);
    } finally {
      cfg.maxImageSize = before;
    }
  });

  test("deleting an image deletes its bytes", async () => {
    const img = await t.create({}, t.demo);
    await t.upload(img.id, pseudoRandom(10_000, 9), t.demo);
    assert.deepEqual(filesOf(img.id), [img.id]);
    assert.equal((await t.api("DELETE", `/v2/images/${img.id}`, { token: t.demo })).status, 204);
    assert.deepEqual(filesOf(img.id), []);
    assert.equal((await t.download(img.id, t.demo)).status, 404);
  });
});

describe("restart recovery", () => {
  test("images left saving or importing go back to queued; partial files are removed", async () => {
    const core = t.c.cloud.image.core;
    const a = await t.create({}, t.demo);
    const b = await t.create({}, t.demo);
    const db = t.c.cloud.db.kysely;
    await db.updateTable("image_image").set({ status: "saving" }).where("id", "=", a.id).execute();
    await db.updateTable("image_image").set({ status: "importing" }).where("id", "=", b.id).execute();
    writeFileSync(join(imagesDir, `${a.id}.partial-1-2`), "half");
    await removePartialFiles(imagesDir);
    await recoverInterrupted(core, await imagesInStatus(core, ["saving", "importing", "uploading"]));
    assert.deepEqual(filesOf(a.id), []);
    assert.equal((await t.api("GET", `/v2/images/${a.id}`, { token: t.demo })).body.status, "queued");
    const bb = (await t.api("GET", `/v2/images/${b.id}`, { token: t.demo })).body;
    assert.equal(bb.status, "queued");
    assert.equal(bb.os_glance_failed_import, "file");
  });
});
