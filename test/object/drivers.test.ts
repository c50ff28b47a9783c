// The store-driver contract, run against every driver of the registry: put hashes and stores a stream, get reads it
// whole or by range, delete is idempotent, a refused or failed put leaves nothing readable, and data is streamed
// (a large object passes with bounded memory).
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, test } from "node:test";
import { objectDrivers, openObjectDriver, type ObjectDriverName } from "../../src/object/drivers/index.js";
import { DataTooLarge } from "../../src/object/drivers/store.js";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const key = () => randomBytes(16).toString("hex");

async function read(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A stream of `total` pseudo-random bytes made on the fly, in 64 KiB chunks, with their MD5. */
function generated(total: number): { stream: Readable; md5: () => string } {
  const h = createHash("md5");
  let left = total;
  const chunk = randomBytes(64 * 1024);
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      chunk[0] = (chunk[0] + 1) & 0xff;
      const piece = Buffer.from(chunk.subarray(0, n));
      h.update(piece);
      this.push(piece);
    },
  });
  return { stream, md5: () => h.digest("hex") };
}

for (const name of Object.keys(objectDrivers) as ObjectDriverName[]) {
  describe(`object store driver contract: ${name}`, () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stratus-object-driver-"));
    const store = openObjectDriver(name, { dataDir });
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    test("put reports size and MD5; get returns the bytes, whole or a range", async () => {
      const data = randomBytes(300_000);
      const k = key();
      const r = await store.put(k, Readable.from([data.subarray(0, 1000), data.subarray(1000)]), {
        maxBytes: 1e9,
      });
      assert.deepEqual(r, { size: data.length, md5: md5(data) });
      assert.ok((await read(store.get(k))).equals(data));
      assert.ok((await read(store.get(k, { start: 10, end: 99 }))).equals(data.subarray(10, 100)));
    });

    test("a small object (bounded by its length) round-trips, also through getBuffer when the driver has it", async () => {
      const data = randomBytes(4096);
      const k = key();
      const r = await store.put(k, Readable.from([data.subarray(0, 100), data.subarray(100)]), {
        maxBytes: data.length,
      });
      assert.deepEqual(r, { size: data.length, md5: md5(data) });
      assert.ok((await read(store.get(k))).equals(data));
      if (store.getBuffer) {
        assert.ok((await store.getBuffer(k)).equals(data));
        assert.ok((await store.getBuffer(k, { start: 5, end: 9 })).equals(data.subarray(5, 10)));
        await assert.rejects(store.getBuffer(key()));
      }
      const broken = new Readable({
        read() {
          this.push(randomBytes(10));
          this.destroy(new Error("gone"));
        },
      });
      const k2 = key();
      await assert.rejects(store.put(k2, broken, { maxBytes: 100 }), /gone/);
      await assert.rejects(read(store.get(k2)));
    });

    test("an empty object", async () => {
      const k = key();
      const r = await store.put(k, Readable.from([]), { maxBytes: 10 });
      assert.deepEqual(r, { size: 0, md5: md5(Buffer.alloc(0)) });
      assert.equal((await read(store.get(k))).length, 0);
    });

    test("more than maxBytes is DataTooLarge and leaves nothing under the key", async () => {
      const k = key();
      await assert.rejects(store.put(k, Readable.from([randomBytes(100)]), { maxBytes: 99 }), DataTooLarge);
      await assert.rejects(read(store.get(k)));
    });

    test("a source that fails mid-way leaves nothing under the key", async () => {
      const k = key();
      const broken = new Readable({
        read() {
          this.push(randomBytes(1000));
          this.destroy(new Error("client went away"));
        },
      });
      await assert.rejects(store.put(k, broken, { maxBytes: 1e9 }), /client went away/);
      await assert.rejects(read(store.get(k)));
    });

    test("delete removes the data and is idempotent; a missing key's stream fails", async () => {
      const k = key();
      await store.put(k, Readable.from([Buffer.from("x")]), { maxBytes: 10 });
      await store.delete(k);
      await store.delete(k);
      await assert.rejects(read(store.get(k)));
    });

    test("256 MiB streams in and out with bounded memory", async () => {
      const size = 256 * 1024 * 1024;
      const k = key();
      const src = generated(size);
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      try {
        const r = await store.put(k, src.stream, { maxBytes: size });
        assert.equal(r.size, size);
        assert.equal(r.md5, src.md5());
        const h = createHash("md5");
        let n = 0;
        for await (const c of store.get(k)) {
          h.update(c as Buffer);
          n += (c as Buffer).length;
        }
        assert.equal(n, size);
        assert.equal(h.digest("hex"), r.md5);
      } finally {
        clearInterval(timer);
      }
      // Far less than the object: the ring and read buffers, not the data.
      assert.ok(peak - rssBefore < 96 * 1024 * 1024, `RSS grew by ${(peak - rssBefore) >> 20} MiB`);
      await store.delete(k);
    });

    if (name === "file")
      test("file: no temporary file survives a put, failed or not", () => {
        const left = readdirSync(join(dataDir, "objects"), { recursive: true }).filter((f) =>
          String(f).includes(".partial-"),
        );
        assert.deepEqual(left, []);
      });
  });
}
