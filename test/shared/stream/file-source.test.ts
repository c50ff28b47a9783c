// The file source behind downloads: piped, it delivers exactly the file or range through a fixed set of reused
// buffers (a fresh buffer per read made downloads collect garbage constantly); read otherwise, it is an ordinary
// readable; a missing file is an error before any byte.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, describe, test } from "node:test";
import { FileSource, READ_BUFFERS, READ_SIZE } from "../../../src/shared/stream/file-source.js";

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

async function piped(range?: { start: number; end: number }) {
  const c = collector();
  const src = new FileSource(file, range);
  src.pipe(c.w);
  await Promise.all([once(c.w, "finish"), once(src, "end")]);
  return { bytes: Buffer.concat(c.parts), buffers: c.backing.size };
}

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

  test("a destination that goes away stops the pump and closes the file", async () => {
    const src = new FileSource(file);
    const w = new Writable({
      write(_chunk, _enc, cb) {
        w.destroy();
        cb();
      },
    });
    src.on("error", () => {});
    w.on("error", () => {});
    w.on("close", () => src.destroy());
    src.pipe(w);
    await once(src, "close");
    assert.equal(src.pending, true, "file handle released");
  });
});
