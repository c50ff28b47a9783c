// The base image cache: fetched once (concurrent requests share one download), verified against os_hash_value,
// inspected (declared format must match, no backing file), converted once when needed, published by rename;
// unused entries pruned by age and size, least recently used first.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdir, readFile, utimes } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ImageHashMismatch, ImageUnusable } from "../../../../src/compute/drivers/qemu/errors.js";
import { ImageCache, type CacheableImage } from "../../../../src/compute/drivers/qemu/image-cache.js";
import type { DiskFormat } from "../../../../src/compute/drivers/types.js";
import { SKIP_QEMU_IMG, scratchDir } from "./helpers.js";

const sha512 = (b: Buffer) => createHash("sha512").update(b).digest("hex");

/** An in-memory "image service": bytes by id, served in small chunks after a tick, counting fetches. */
function store() {
  const images = new Map<string, Buffer>();
  const fetches = new Map<string, number>();
  const fetch = async function* (id: string): AsyncIterable<Uint8Array> {
    fetches.set(id, (fetches.get(id) ?? 0) + 1);
    const data = images.get(id);
    if (!data) throw new Error(`404 ${id}`);
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
  };
  const add = (id: string, data: Buffer, diskFormat: DiskFormat): CacheableImage => {
    images.set(id, data);
    return { id, diskFormat, osHashAlgo: "sha512", osHashValue: sha512(data), sizeBytes: data.length };
  };
  return { fetch, add, fetches };
}

describe("image cache", { skip: SKIP_QEMU_IMG }, () => {
  let dir = "";
  let cleanup = async () => {};
  let work = "";
  before(async () => {
    ({ dir, cleanup } = await scratchDir("cache"));
    work = join(dir, "work");
    execFileSync("mkdir", ["-p", work]);
  });
  after(() => cleanup());
  const qemuImg = (...args: string[]) =>
    execFileSync("qemu-img", args, { stdio: ["ignore", "ignore", "pipe"] });

  test("concurrent requests share one download; later ones hit the cache", async () => {
    const s = store();
    const cache = new ImageCache({ dir: join(dir, "c1"), fetch: s.fetch });
    const img = s.add("11111111-aaaa-4aaa-8aaa-000000000001", Buffer.alloc(300 * 1024, 7), "raw");
    const results = await Promise.all([cache.get(img), cache.get(img), cache.get(img)]);
    assert.equal(s.fetches.get(img.id), 1);
    for (const r of results) assert.deepEqual(r, results[0]);
    assert.equal(results[0].format, "raw");
    assert.equal(results[0].virtualSize, 300 * 1024);
    assert.deepEqual(await readFile(results[0].path), Buffer.alloc(300 * 1024, 7));
    await cache.get(img);
    assert.equal(s.fetches.get(img.id), 1);
    // A new cache object over the same directory (an agent restart) still has it.
    const again = new ImageCache({ dir: join(dir, "c1"), fetch: s.fetch });
    assert.deepEqual(await again.get(img), results[0]);
    assert.equal(s.fetches.get(img.id), 1);
  });

  test("bytes that do not match os_hash_value are never published", async () => {
    const s = store();
    const cacheDir = join(dir, "c2");
    const cache = new ImageCache({ dir: cacheDir, fetch: s.fetch });
    const img = s.add("22222222-aaaa-4aaa-8aaa-000000000002", Buffer.alloc(1024, 1), "raw");
    await assert.rejects(
      cache.get({ ...img, osHashValue: sha512(Buffer.alloc(1024, 2)) }),
      ImageHashMismatch,
    );
    assert.deepEqual(await readdir(cacheDir), []);
    await assert.rejects(cache.get({ ...img, osHashValue: null }), ImageUnusable);
    await assert.rejects(cache.get({ ...img, osHashAlgo: "md5" }), ImageUnusable);
    await assert.rejects(cache.get({ ...img, id: "../etc" }), ImageUnusable);
    await assert.rejects(cache.get({ ...img, sizeBytes: 100 }), /larger than 100 bytes/);
    assert.deepEqual(await readdir(cacheDir), []);
  });

  test("a qcow2 declared raw, and a qcow2 with a backing file, are refused", async () => {
    const s = store();
    const cacheDir = join(dir, "c3");
    const cache = new ImageCache({ dir: cacheDir, fetch: s.fetch });
    qemuImg("create", "-q", "-f", "qcow2", join(work, "plain.qcow2"), "16M");
    const plain = await readFile(join(work, "plain.qcow2"));
    await assert.rejects(
      cache.get(s.add("33333333-aaaa-4aaa-8aaa-000000000003", plain, "raw")),
      ImageUnusable,
    );
    qemuImg("create", "-q", "-f", "qcow2", "-F", "raw", "-b", "/etc/passwd", join(work, "evil.qcow2"));
    const evil = await readFile(join(work, "evil.qcow2"));
    await assert.rejects(
      cache.get(s.add("33333333-aaaa-4aaa-8aaa-000000000004", evil, "qcow2")),
      (e: unknown) => e instanceof ImageUnusable && /backing/.test(e.message),
    );
    assert.deepEqual(await readdir(cacheDir), []);
    const ok = await cache.get(s.add("33333333-aaaa-4aaa-8aaa-000000000005", plain, "qcow2"));
    assert.equal(ok.format, "qcow2");
    assert.equal(ok.virtualSize, 16 * 1024 * 1024);
  });

  test("a vmdk is converted once to qcow2", async () => {
    const s = store();
    const cache = new ImageCache({ dir: join(dir, "c4"), fetch: s.fetch });
    qemuImg("create", "-q", "-f", "vmdk", join(work, "disk.vmdk"), "8M");
    const img = s.add(
      "44444444-aaaa-4aaa-8aaa-000000000004",
      await readFile(join(work, "disk.vmdk")),
      "vmdk",
    );
    const cached = await cache.get(img);
    assert.equal(cached.format, "qcow2");
    assert.equal(cached.diskFormat, "vmdk");
    assert.equal(cached.virtualSize, 8 * 1024 * 1024);
    assert.equal((await readFile(cached.path)).subarray(0, 4).toString("latin1"), "QFI\xfb");
  });

  test("prune removes unused entries by age and down to a size budget, least recently used first", async () => {
    const s = store();
    const cacheDir = join(dir, "c5");
    const cache = new ImageCache({ dir: cacheDir, fetch: s.fetch });
    const ids = ["a", "b", "c", "d"].map((x) => `55555555-aaaa-4aaa-8aaa-00000000000${x}`);
    const imgs = ids.map((id) => s.add(id, Buffer.alloc(100 * 1024, 1), "raw"));
    for (const img of imgs) await cache.get(img);
    // Last used: a long ago, b an hour ago, c a minute ago, d now.
    const ago = (ms: number) => new Date(Date.now() - ms);
    for (const [i, ms] of [24 * 3600e3, 3600e3, 60e3].entries()) {
      await utimes(join(cacheDir, `${ids[i]}.json`), ago(ms), ago(ms));
    }
    assert.deepEqual(await cache.prune({ inUse: new Set(), maxUnusedAgeMs: 2 * 3600e3 }), [ids[0]]);
    assert.deepEqual(await cache.prune({ inUse: new Set([ids[1]]), maxTotalBytes: 200 * 1024 }), [ids[2]]);
    assert.deepEqual(
      (await cache.list()).map((c) => c.id),
      [ids[1], ids[3]],
    );
    assert.equal(await cache.lookup(ids[0]), null);
    await cache.get(imgs[0]);
    assert.equal(s.fetches.get(ids[0]), 2, "a pruned image is fetched again when needed");
  });
});
