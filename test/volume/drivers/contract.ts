// The volume backend contract: what every backend (file qcow2, file raw, fake) must do, through the interface
// only. Content is checked by writing raw images with writeImage and reading them back with readRaw.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import type { VolumeBackend, VolumeSpec } from "../../../src/volume/drivers/types.js";

const GiB = 1024 ** 3;
const ZERO = Buffer.alloc(1024 * 1024);

/** Whether a buffer is all zeros (compared a MiB at a time: a byte loop over GiBs is slow). */
function isZero(b: Buffer): boolean {
  for (let o = 0; o < b.length; o += ZERO.length) {
    const part = b.subarray(o, o + ZERO.length);
    if (!part.equals(ZERO.subarray(0, part.length))) return false;
  }
  return true;
}

/** The first `n` bytes of a volume (readRaw, then the stream is let go). */
export async function readPrefix(b: VolumeBackend, id: string, n: number): Promise<Buffer> {
  const s = await b.readRaw(id);
  const parts: Buffer[] = [];
  let got = 0;
  for await (const chunk of s as AsyncIterable<Buffer>) {
    parts.push(chunk);
    got += chunk.length;
    if (got >= n) break;
  }
  s.destroy();
  return Buffer.concat(parts).subarray(0, n);
}

/** A volume's whole length through readRaw, and whether every byte past `skip` is zero. */
export async function readAll(
  b: VolumeBackend,
  id: string,
  skip = 0,
): Promise<{ length: number; zeroTail: boolean }> {
  let length = 0;
  let zeroTail = true;
  for await (const chunk of (await b.readRaw(id)) as AsyncIterable<Buffer>) {
    const from = Math.max(0, skip - length);
    if (zeroTail && from < chunk.length && !isZero(chunk.subarray(from))) zeroTail = false;
    length += chunk.length;
  }
  return { length, zeroTail };
}

/** Replace a volume's content with `data` as a raw image. */
export const writeRaw = (b: VolumeBackend, id: string, data: Buffer): Promise<void> =>
  b.writeImage(id, Readable.from([data]), "raw");

/** Run the contract against backends made by `make` (a fresh, empty backend per test), volumes created with
 *  `options` (e.g. `file:format`). */
export function runBackendContract(
  name: string,
  make: () => Promise<VolumeBackend>,
  options?: ReadonlyMap<string, string>,
  skip: string | false = false,
): void {
  const spec = (sizeGb = 1, id: string = randomUUID()): VolumeSpec => ({
    id,
    sizeGb,
    ...(options ? { options } : {}),
  });

  describe(`volume backend contract: ${name}`, { skip }, () => {
    test("create is idempotent; locate, list and stats see the volume; delete is idempotent", async () => {
      const b = await make();
      const s = spec(1);
      const loc = await b.create(s);
      assert.deepEqual(await b.create(s), loc);
      assert.deepEqual(await b.locate(s.id), loc);
      assert.ok((await b.list()).includes(s.id));
      const st = await b.stats();
      assert.ok(st.provisionedCapacityGb >= 1, JSON.stringify(st));
      assert.ok(st.totalCapacityGb >= st.freeCapacityGb && st.freeCapacityGb >= 0);
      assert.ok(st.protocols.length > 0);
      await b.delete(s.id);
      await b.delete(s.id);
      assert.equal(await b.locate(s.id), null);
      assert.ok(!(await b.list()).includes(s.id));
      assert.equal(await b.locate(randomUUID()), null);
    });

    test("a new volume reads as sizeGb of zeros; an image written reads back, padded to the volume's size", async () => {
      const b = await make();
      const s = spec(1);
      await b.create(s);
      assert.deepEqual(await readAll(b, s.id), { length: GiB, zeroTail: true });
      const data = randomBytes(3 * 65536 + 512);
      await writeRaw(b, s.id, data);
      await writeRaw(b, s.id, data); // idempotent
      assert.deepEqual(await readPrefix(b, s.id, data.length), data);
      assert.deepEqual(await readAll(b, s.id, data.length), { length: GiB, zeroTail: true });
    });

    test("an image larger than the volume is refused", async () => {
      const b = await make();
      const s = spec(1);
      await b.create(s);
      const big = Readable.from(
        (function* () {
          for (let i = 0; i < 1025; i++) yield Buffer.alloc(1024 * 1024, 1);
        })(),
      );
      await assert.rejects(b.writeImage(s.id, big, "raw"));
    });

    test("extend grows the volume, keeps its data and never shrinks it", async () => {
      const b = await make();
      const s = spec(1);
      await b.create(s);
      const data = randomBytes(4096);
      await writeRaw(b, s.id, data);
      await b.extend(s.id, 2);
      await b.extend(s.id, 2);
      await b.extend(s.id, 1);
      assert.deepEqual(await readAll(b, s.id, 4096), { length: 2 * GiB, zeroTail: true });
      assert.deepEqual(await readPrefix(b, s.id, 4096), data);
    });

    test("snapshot, then clone, create-from-snapshot (larger) and revert see the right content", async () => {
      const b = await make();
      const s = spec(1);
      await b.create(s);
      const a = randomBytes(8192);
      const c = randomBytes(8192);
      await writeRaw(b, s.id, a);
      const sid = randomUUID();
      await b.createSnapshot(s.id, sid);
      await b.createSnapshot(s.id, sid); // idempotent
      await writeRaw(b, s.id, c);
      const fromSnap = spec(2);
      await b.createFromSnapshot(fromSnap, sid);
      assert.deepEqual(await b.createFromSnapshot(fromSnap, sid), await b.locate(fromSnap.id));
      assert.deepEqual(await readPrefix(b, fromSnap.id, 8192), a);
      assert.equal((await readAll(b, fromSnap.id)).length, 2 * GiB);
      const cl = spec(1);
      await b.clone(cl, s.id);
      assert.deepEqual(await readPrefix(b, cl.id, 8192), c);
      // The clone and the new volume are independent of their sources.
      await writeRaw(b, s.id, randomBytes(8192));
      assert.deepEqual(await readPrefix(b, cl.id, 8192), c);
      assert.deepEqual(await readPrefix(b, fromSnap.id, 8192), a);
      if (b.revertToSnapshot) {
        await b.revertToSnapshot(s.id, sid);
        assert.deepEqual(await readPrefix(b, s.id, 8192), a);
      }
      await b.deleteSnapshot(s.id, sid);
      await b.deleteSnapshot(s.id, sid);
      await assert.rejects(b.createFromSnapshot(spec(1), sid));
      // Volumes made from the snapshot outlive it.
      assert.deepEqual(await readPrefix(b, fromSnap.id, 8192), a);
      for (const id of [s.id, fromSnap.id, cl.id]) await b.delete(id);
      assert.deepEqual(
        (await b.list()).filter((x) => [s.id, fromSnap.id, cl.id].includes(x)),
        [],
      );
    });

    test("a volume with snapshots can be deleted (cascade) and leaves nothing", async () => {
      const b = await make();
      const s = spec(1);
      await b.create(s);
      await b.createSnapshot(s.id, randomUUID());
      await b.delete(s.id);
      assert.equal(await b.locate(s.id), null);
    });

    test("ids that are not safe names are refused", async () => {
      const b = await make();
      await assert.rejects(b.create({ id: "../escape", sizeGb: 1 }));
      await assert.rejects(b.createSnapshot("x", "../../etc"));
    });
  });
}
