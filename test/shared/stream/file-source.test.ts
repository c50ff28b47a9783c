// The file source behind downloads: piped, it delivers exactly the file or range through a fixed set of reused
// buffers (a fresh buffer per read made downloads collect garbage constantly); read otherwise, it is an ordinary
// readable; a missing file is an error before any byte.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, test } from "node:test";
import { eventually } from "../../helpers/wait.js";
import { execFileSync } from "node:child_process";
import {
  DIRECT_READ_MIN,
  directPoolStats,
  FileSource,
  READ_BUFFERS,
  READ_SIZE,
} from "../../../src/shared/stream/file-source.js";

const dir = mkdtempSync(join(tmpdir(), "stratus-source-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const data = Buffer.alloc(READ_SIZE * 5 + 777);
for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 9)) & 0xff;
const file = join(dir, "f");
writeFileSync(file, data);

/** A slow writable that copies what it gets and records the memory each chunk lives in. */
function collector() {
  const parts: Buffer[] = [];
  const backing = new Set<ArrayBufferLike>();
  const w = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      backing.add(chunk.buffer);
      setImmediate(cb);
    },
  });
  return { w, parts, backing };
}

async function piped(range?: { start: number; end: number }, direct = false, path = file) {
  const c = collector();
  const src = new FileSource(path, range, { direct });
  let wentDirect: boolean | undefined;
  src.once("ready", () => (wentDirect = src.direct));
  src.pipe(c.w);
  await Promise.all([once(c.w, "finish"), once(src, "end")]);
  return { bytes: Buffer.concat(c.parts), buffers: c.backing.size, direct: wentDirect };
}

/** Bytes of a file resident in the page cache (util-linux's fincore). */
const cached = (p: string): number =>
  Number(
    execFileSync("fincore", ["--bytes", "--noheadings", "--output", "RES", p], { encoding: "utf8" }).trim(),
  );
/** Drop a file's pages from the page cache (GNU dd's documented way: posix_fadvise DONTNEED). */
const uncache = (p: string) =>
  execFileSync("dd", [`of=${p}`, "if=/dev/null", "oflag=nocache", "conv=notrunc,fdatasync", "count=0"], {
    stdio: "ignore",
  });

/** Pipe `src` into a destination that goes away after its first chunk; resolves once `src` has closed. */
async function abandoned(src: FileSource): Promise<void> {
  const w = new Writable({
    highWaterMark: 1,
    write(_chunk, _enc, cb) {
      setImmediate(() => {
        w.destroy();
        cb();
      });
    },
  });
  src.on("error", () => {});
  w.on("error", () => {});
  w.on("close", () => src.destroy());
  src.pipe(w);
  await once(src, "close");
}

/** Every buffer of the direct-read pool is back in it (eventually: a destination lets go of them as it closes). */
const poolAllBack = () =>
  eventually(() => {
    const pool = directPoolStats();
    assert.equal(pool.free, pool.made);
  });

describe("FileSource", () => {
  test("piped: the whole file through at most READ_BUFFERS reused buffers", async () => {
    const r = await piped();
    assert.ok(r.bytes.equals(data));
    assert.ok(r.buffers <= READ_BUFFERS, `${r.buffers} distinct buffers`);
  });

  test("piped ranges: exactly the bytes asked for", async () => {
    for (const [start, end] of [
      [0, 0],
      [5, READ_SIZE + 10],
      [READ_SIZE - 1, READ_SIZE * 3],
      [data.length - 100, data.length - 1],
    ]) {
      const r = await piped({ start, end });
      assert.ok(r.bytes.equals(data.subarray(start, end + 1)), `${start}-${end}`);
    }
  });

  test("read with for await: the same bytes", async () => {
    const parts: Buffer[] = [];
    for await (const c of new FileSource(file, { start: 3, end: READ_SIZE * 2 })) parts.push(c as Buffer);
    assert.ok(Buffer.concat(parts).equals(data.subarray(3, READ_SIZE * 2 + 1)));
  });

  test("an empty file ends at once; a missing one is an error before any byte", async () => {
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    const c = collector();
    new FileSource(empty).pipe(c.w);
    await once(c.w, "finish");
    assert.equal(c.parts.length, 0);
    const missing = new FileSource(join(dir, "nope"));
    const [err] = (await once(missing, "error").catch((e: unknown) => [e])) as [NodeJS.ErrnoException];
    assert.equal(err.code, "ENOENT");
  });

  test("direct: a large file's bytes and any range, read around the page cache, pooled buffers given back", async () => {
    assert.ok(data.length >= DIRECT_READ_MIN);
    uncache(file);
    assert.equal(cached(file), 0);
    const whole = await piped(undefined, true);
    assert.ok(whole.bytes.equals(data));
    // This machine's test directory is on a disk, which takes direct I/O.
    assert.equal(whole.direct, true);
    assert.ok(cached(file) <= 4096, `${cached(file)} bytes cached`);
    for (const [start, end] of [
      [0, 0],
      [1, 4095],
      [4095, 4096],
      [5, READ_SIZE + 10],
      [READ_SIZE - 1, READ_SIZE * 3],
      [READ_SIZE * 2 + 4096, READ_SIZE * 2 + 8191],
      [data.length - 100, data.length - 1],
      [data.length - 777, data.length - 1],
    ]) {
      const r = await piped({ start, end }, true);
      assert.equal(r.direct, true);
      assert.ok(r.bytes.equals(data.subarray(start, end + 1)), `${start}-${end}`);
    }
    const pool = directPoolStats();
    assert.equal(pool.free, pool.made, "every pooled buffer is back");
    // Read without it, the same file lands in the cache (what the check above would see otherwise).
    assert.equal((await piped()).direct, false);
    assert.ok(cached(file) >= data.length - 4096);
  });

  test("direct: a file cut short after it was opened is an error, not a quietly short answer", async () => {
    const cut = join(dir, "cut");
    writeFileSync(cut, data);
    const src = new FileSource(cut, undefined, { direct: true });
    await once(src, "ready");
    assert.equal(src.direct, true);
    truncateSync(cut, READ_SIZE * 2 + 100);
    const c = collector();
    src.pipe(c.w);
    const [err] = (await once(src, "error")) as [Error];
    assert.match(err.message, /short read/);
    await poolAllBack();
  });

  test("direct: a file under DIRECT_READ_MIN is read through the cache", async () => {
    const small = join(dir, "small");
    writeFileSync(small, data.subarray(0, DIRECT_READ_MIN - 1));
    const r = await piped(undefined, true, small);
    assert.equal(r.direct, false);
    assert.ok(r.bytes.equals(data.subarray(0, DIRECT_READ_MIN - 1)));
  });

  test("direct: a destination that goes away still gives the pooled buffers back", async () => {
    await abandoned(new FileSource(file, undefined, { direct: true }));
    await poolAllBack();
  });

  test("a destination that goes away stops the pump and closes the file", async () => {
    const src = new FileSource(file);
    await abandoned(src);
    assert.equal(src.pending, true, "file handle released");
  });
});
