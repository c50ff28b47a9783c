// The chunked backup driver over the posix and memory stores, without a cloud: chunking, zero chunks, incremental
// reuse of the parent's objects, restore with sha256 checks (a corrupt chunk fails), delete of own objects only,
// and names that would leave the posix directory refused.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { deflateSync } from "node:zlib";
import { ChunkedBackupDriver } from "../../src/volume/backup/chunked.js";
import { MemoryChunkStore } from "../../src/volume/backup/fake.js";
import { PosixChunkStore } from "../../src/volume/backup/posix.js";
import type { BackupRef } from "../../src/volume/backup/types.js";

const CHUNK = 1024;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const ref = (id: string): BackupRef => ({ id, projectId: "p1", volumeId: "v1", container: "c1" });
const bytes = async (r: Readable): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const p of r) parts.push(p as Buffer);
  return Buffer.concat(parts);
};

describe("chunked backup driver", () => {
  it("stores non-zero chunks, reuses the parent's unchanged ones, restores and deletes", async () => {
    const store = new MemoryChunkStore();
    const d = new ChunkedBackupDriver("fake", store, CHUNK);
    const data = Buffer.concat([randomBytes(CHUNK), Buffer.alloc(2 * CHUNK), randomBytes(CHUNK + 10)]);
    const full = await d.backup(ref("b1"), Readable.from([data.subarray(0, 700), data.subarray(700)]), null);
    assert.equal(full.objectCount, 4, "chunks 1, 4 and 5 (the tail) and the metadata");
    const changed = Buffer.from(data);
    changed.fill(1, CHUNK, CHUNK + 5);
    const incr = await d.backup(ref("b2"), Readable.from([changed]), ref("b1"));
    assert.equal(incr.objectCount, 2, "the changed chunk and the metadata");
    assert.ok((await bytes(await d.restore(ref("b1")))).equals(data));
    assert.ok((await bytes(await d.restore(ref("b2")))).equals(changed));
    const before = store.objects.size;
    await d.delete(ref("b2"));
    assert.equal(store.objects.size, before - 2, "only the incremental's own objects go");
    assert.ok((await bytes(await d.restore(ref("b1")))).equals(data), "the parent still restores");
    await d.delete(ref("b1"));
    assert.equal(store.objects.size, 0);
    await d.delete(ref("b1"));
  });

  it("refuses a corrupt chunk on restore, and unsafe names in the posix store", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stv-backup-"));
    dirs.push(dir);
    const d = new ChunkedBackupDriver("posix", new PosixChunkStore(dir), CHUNK);
    await d.backup(ref("b1"), Readable.from([randomBytes(2 * CHUNK)]), null);
    const chunk = join(dir, "p1", "c1", "volume_v1", "backup_b1", "00002");
    assert.ok((await readFile(chunk)).length > 0);
    await writeFile(chunk, deflateSync(Buffer.alloc(CHUNK, 3)));
    await assert.rejects(bytes(await d.restore(ref("b1"))), /sha256 mismatch/);
    await assert.rejects(
      d.backup({ ...ref("b9"), container: ".." }, Readable.from([Buffer.alloc(1, 1)]), null),
      /unsafe/,
    );
    await assert.rejects(
      d.backup({ ...ref("b9"), projectId: "../x" }, Readable.from([Buffer.alloc(1, 1)]), null),
      /unsafe/,
    );
  });
});
