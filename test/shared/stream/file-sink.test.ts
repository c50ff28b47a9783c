// The streaming file sink: the file and the worker-thread digests equal node:crypto's for many sizes and chunkings,
// and every failure (too large, source error, hash worker killed, path taken) leaves no file and no hash job.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileSinkHooks, SLOTS, SLOT_SIZE, streamToFile } from "../../../src/shared/stream/file-sink.js";
import { HASH_WORKERS, closeHashPool, hashPoolStats } from "../../../src/shared/stream/hashing.js";
import { RECLAIM_EVERY, reclaimRuns } from "../../../src/shared/stream/reclaim.js";

const dir = mkdtempSync(join(tmpdir(), "stratus-sink-"));
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await closeHashPool();
});
let n = 0;
const path = () => join(dir, `f${n++}`);

function pseudoRandom(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >> 16;
  }
  return b;
}

async function* chunks(data: Buffer, size: number, fail?: Error): AsyncGenerator<Buffer> {
  for (let off = 0; off < data.length; off += size) {
    if (fail && off >= data.length / 2) throw fail;
    // A copy, so a sink that kept a reference to a chunk instead of its bytes would be caught.
    yield Buffer.from(data.subarray(off, off + size));
  }
}

const hex = (algo: string, b: Buffer) => createHash(algo).update(b).digest("hex");

/** No job is left in the hash pool, and it has not grown past its size. */
function assertPoolIdle(): void {
  const s = hashPoolStats();
  assert.equal(s.jobs, 0);
  assert.ok(s.workers <= HASH_WORKERS, `${s.workers} workers`);
}

describe("streamToFile", () => {
  const sizes = [0, 1, 4095, SLOT_SIZE - 1, SLOT_SIZE, SLOT_SIZE + 1, SLOT_SIZE * SLOTS * 3 + 12345];
  for (const size of sizes)
    test(`${size} bytes: file, size and md5/sha512/sha256 match node:crypto in every chunking`, async () => {
      const data = pseudoRandom(size, size + 7);
      for (const chunk of [1, 7, 65536, 3 * SLOT_SIZE + 5]) {
        if (chunk === 1 && size > 100_000) continue;
        const p = path();
        const seen = createHash("md5");
        let seenBytes = 0;
        const r = await streamToFile(chunks(data, chunk), p, {
          algorithms: ["md5", "sha512", "sha256"],
          onData: (piece) => {
            assert.ok(piece.length <= SLOT_SIZE);
            seenBytes += piece.length;
            seen.update(piece);
          },
        });
        assert.equal(r.size, size);
        assert.deepEqual(r.digests, [hex("md5", data), hex("sha512", data), hex("sha256", data)]);
        assert.equal(seenBytes, size);
        assert.equal(seen.digest("hex"), hex("md5", data));
        assert.ok(readFileSync(p).equals(data), `file content, chunks of ${chunk}`);
        rmSync(p);
      }
      assertPoolIdle();
    });

  /** Whether files in `d` can be opened for direct I/O (not on tmpfs, for one). */
  const directIn = (d: string): boolean => {
    const probe = join(d, `probe-${n++}`);
    try {
      closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT, 0o600));
      return true;
    } catch {
      return false;
    } finally {
      rmSync(probe, { force: true });
    }
  };
  /** Bytes of a file resident in the page cache (util-linux's fincore). */
  const cached = (p: string): number =>
    Number(
      execFileSync("fincore", ["--bytes", "--noheadings", "--output", "RES", p], { encoding: "utf8" }).trim(),
    );

  test("direct: the same bytes and digests for every size, whole blocks kept out of the page cache", async () => {
    const possible = directIn(dir);
    // This machine's test directory is on a disk: a skip here would hide a broken direct path.
    if (process.env.CI) assert.ok(possible, `${dir} takes O_DIRECT`);
    const big = SLOT_SIZE * SLOTS * 2 + 4096 * 3 + 5;
    for (const size of [0, 1, 4095, 4096, 4097, SLOT_SIZE - 1, SLOT_SIZE, SLOT_SIZE + 1, big]) {
      const data = pseudoRandom(size, size + 11);
      const p = path();
      const r = await streamToFile(chunks(data, 65536), p, { algorithms: ["md5"], direct: true });
      assert.equal(r.size, size);
      assert.deepEqual(r.digests, [hex("md5", data)]);
      assert.equal(r.direct, possible && size >= 4096, `${size} bytes`);
      if (possible) assert.ok(cached(p) <= 4096, `${size} bytes: ${cached(p)} cached`);
      assert.ok(readFileSync(p).equals(data), `${size} bytes read back`);
      rmSync(p);
    }
    // Without it the data stays cached (what the check above would see if direct writes went through the cache).
    const p = path();
    const data = pseudoRandom(big, 3);
    assert.equal((await streamToFile(chunks(data, 65536), p, { algorithms: [] })).direct, false);
    if (possible) assert.ok(cached(p) >= big - 4096, `${cached(p)} cached`);
    rmSync(p);
    assertPoolIdle();
  });

  test("direct where the file system refuses it, at open or at a write: through the cache, same bytes", async () => {
    const data = pseudoRandom(SLOT_SIZE * 3 + 4097, 5);
    const refusal = () => Object.assign(new Error("EINVAL: invalid argument"), { code: "EINVAL" });
    const real = fileSinkHooks.openDirect;
    let closed = 0;
    const cases: Array<typeof real> = [
      () => Promise.reject(refusal()),
      // Opened, but its writes are refused (a device with another alignment): the rest goes through the cache.
      async () => ({ write: () => Promise.reject(refusal()), close: async () => void closed++ }) as never,
    ];
    try {
      for (const openDirect of cases) {
        fileSinkHooks.openDirect = openDirect;
        const p = path();
        const r = await streamToFile(chunks(data, 65536), p, { algorithms: ["md5"], direct: true });
        assert.equal(r.direct, false);
        assert.deepEqual(r.digests, [hex("md5", data)]);
        assert.ok(readFileSync(p).equals(data));
        rmSync(p);
      }
      assert.equal(closed, 1, "the refused descriptor is closed");
    } finally {
      fileSinkHooks.openDirect = real;
    }
    assertPoolIdle();
  });

  test("received HTTP body chunks are freed as the stream goes: 256 MiB never holds 20 MiB of them", async () => {
    // The HTTP parser hands out each received piece in a fresh buffer outside the JS heap; left to V8 alone, 28 MiB
    // of them piled up here (and up to 70 MiB in a server), 10 MiB with a minor collection every RECLAIM_EVERY.
    const total = 256 << 20;
    await streamToFile(chunks(Buffer.alloc(SLOT_SIZE), 65536), path(), { algorithms: [] }); // the ring exists
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const runs = reclaimRuns();
    const server = createServer((req, res) => {
      async function* watched(): AsyncGenerator<Buffer> {
        for await (const c of req as AsyncIterable<Buffer>) {
          peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
          yield c;
        }
      }
      streamToFile(watched(), path(), { algorithms: ["md5"] }).then(
        () => res.writeHead(204).end(),
        () => res.writeHead(500).end(),
      );
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const req = httpRequest({
        port: (server.address() as AddressInfo).port,
        host: "127.0.0.1",
        method: "PUT",
      });
      const block = Buffer.alloc(1 << 20, 7);
      for (let off = 0; off < total; off += block.length) if (!req.write(block)) await once(req, "drain");
      req.end();
      const [res] = (await once(req, "response")) as [IncomingMessage];
      res.resume();
      assert.equal(res.statusCode, 204);
    } finally {
      server.close();
    }
    assert.ok(reclaimRuns() - runs >= total / RECLAIM_EVERY - 1, `${reclaimRuns() - runs} minor collections`);
    assert.ok(peak < 20 << 20, `received buffers peaked at ${(peak / 2 ** 20).toFixed(1)} MiB`);
    assertPoolIdle();
  });

  test("no algorithms: just the file", async () => {
    const data = pseudoRandom(SLOT_SIZE * 2 + 3, 1);
    const p = path();
    const r = await streamToFile(chunks(data, 100_000), p, { algorithms: [] });
    assert.deepEqual(r, { size: data.length, digests: [], direct: false });
    assert.ok(readFileSync(p).equals(data));
  });

  test("more than maxBytes: the given error, no file, no job left", async () => {
    const p = path();
    class Big extends Error {}
    await assert.rejects(
      streamToFile(chunks(pseudoRandom(SLOT_SIZE * 3, 2), 65536), p, {
        algorithms: ["md5", "sha512"],
        maxBytes: SLOT_SIZE * 2 + 1,
        tooLarge: () => new Big(),
      }),
      Big,
    );
    assert.equal(existsSync(p), false);
    assertPoolIdle();
  });

  test("a source that fails half way (a client gone): its error, no file, no job left", async () => {
    const p = path();
    const gone = Object.assign(new Error("aborted"), { code: "ECONNRESET" });
    await assert.rejects(
      streamToFile(chunks(pseudoRandom(SLOT_SIZE * SLOTS * 2, 3), 65536, gone), p, {
        algorithms: ["md5", "sha512"],
      }),
      (e) => e === gone,
    );
    assert.equal(existsSync(p), false);
    assertPoolIdle();
    // The pool still works afterwards.
    const data = pseudoRandom(5000, 4);
    const q = path();
    assert.deepEqual((await streamToFile(chunks(data, 999), q, { algorithms: ["md5"] })).digests, [
      hex("md5", data),
    ]);
  });

  test("hash workers killed mid-stream: the write fails, no file, and new workers serve the next one", async () => {
    const p = path();
    async function* killing(): AsyncGenerator<Buffer> {
      const block = pseudoRandom(SLOT_SIZE, 5);
      for (let i = 0; i < SLOTS * 4; i++) {
        if (i === SLOTS) await closeHashPool();
        yield block;
      }
    }
    await assert.rejects(streamToFile(killing(), p, { algorithms: ["md5", "sha512"] }), /hash worker/);
    assert.equal(existsSync(p), false);
    assertPoolIdle();
    const data = pseudoRandom(SLOT_SIZE + 9, 6);
    const r = await streamToFile(chunks(data, 65536), path(), { algorithms: ["md5", "sha512"] });
    assert.deepEqual(r.digests, [hex("md5", data), hex("sha512", data)]);
  });

  test("an existing path is refused and left alone", async () => {
    const p = path();
    writeFileSync(p, "keep me");
    await assert.rejects(
      streamToFile(chunks(Buffer.from("new"), 1), p, { algorithms: ["md5"] }),
      (e: NodeJS.ErrnoException) => e.code === "EEXIST",
    );
    assert.equal(readFileSync(p, "utf8"), "keep me");
    assertPoolIdle();
  });
});
