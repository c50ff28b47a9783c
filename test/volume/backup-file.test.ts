// Backups of real volumes: the `file` volume backend (qcow2) with the posix and the swift backup drivers (1 MiB
// chunks). A known pattern is written into a 1 GiB volume, backed up, changed and backed up incrementally, restored
// into a new volume and compared byte for byte; deleting the backups removes every object they stored.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { qemuImgAvailable } from "../../src/shared/qemu-img.js";
import type { VolumeBackend } from "../../src/volume/drivers/types.js";
import { until } from "../helpers/wait.js";
import { bootVolume, type VolumeCloud } from "./helpers.js";

const MIB = 1024 * 1024;
/** A 1 GiB volume's bytes pass through sha256 and qemu-img several times: minutes on a loaded CI machine. */
const LONG = 300_000;
const SKIP: string | false =
  qemuImgAvailable() || process.env.CI === "true"
    ? false
    : "qemu-img is not installed (apt-get install qemu-utils)";

/** sha256 of a volume's raw bytes, and its first `n` bytes. */
async function digest(
  b: VolumeBackend,
  id: string,
  n: number,
): Promise<{ sha: string; head: Buffer; size: number }> {
  const h = createHash("sha256");
  const parts: Buffer[] = [];
  let have = 0;
  let size = 0;
  for await (const c of await b.readRaw(id)) {
    const buf = c as Buffer;
    h.update(buf);
    size += buf.length;
    if (have < n) {
      parts.push(buf.subarray(0, n - have));
      have += Math.min(buf.length, n - have);
    }
  }
  return { sha: h.digest("hex"), head: Buffer.concat(parts), size };
}

for (const driver of ["posix", "swift"] as const) {
  describe(`backups of file volumes with the ${driver} backup driver`, { skip: SKIP }, () => {
    let c: VolumeCloud;
    before(async () => {
      c = await bootVolume({
        volume: {
          backend: "file",
          backup: { driver, chunkSize: MIB, container: "volumebackups", posixPath: "" },
        },
      });
    });
    after(() => c?.close());

    const backend = () => c.t.cloud.volume.localAgent!.backend;
    const waitBackup = (id: string, status: string) =>
      until(
        `backup ${id} ${status}`,
        async () => {
          const r = await c.req("GET", `/backups/${id}`, { token: c.demo });
          if (r.body.backup.status === "error") throw new Error(`backup error: ${r.body.backup.fail_reason}`);
          return r.body.backup.status === status ? r.body.backup : null;
        },
        LONG,
      );
    const waitVolume = (id: string, status: string) =>
      until(
        `volume ${id} ${status}`,
        async () => (await c.req("GET", `/volumes/${id}`, { token: c.demo })).body.volume.status === status,
        LONG,
      );
    const backup = async (body: Record<string, unknown>) => {
      const r = await c.req("POST", "/backups", { token: c.demo, body: { backup: body } });
      assert.equal(r.status, 202, r.text);
      return waitBackup(r.body.backup.id, "available");
    };

    it("backs up, backs up incrementally, restores the bytes, and deletes every object", async () => {
      const vol = await c.create(c.demo, { size: 1 });
      await c.waitStatus(c.demo, vol, "available");
      const first = randomBytes(6 * MIB);
      await backend().writeImage(vol, Readable.from([first]), "raw");
      const full = await backup({ volume_id: vol, name: "full" });
      assert.equal(full.object_count, 7, "six data chunks and the metadata (the zeros are not stored)");
      const second = Buffer.from(first);
      second.fill(0x5a, 2 * MIB, 3 * MIB);
      await backend().writeImage(vol, Readable.from([second]), "raw");
      const incr = await backup({ volume_id: vol, incremental: true });
      assert.equal(incr.is_incremental, true);
      assert.equal(incr.object_count, 2, "the one changed chunk and the metadata");
      const src = await digest(backend(), vol, 6 * MIB);
      assert.ok(src.head.equals(second));

      const r = await c.req("POST", `/backups/${incr.id}/restore`, { token: c.demo, body: { restore: {} } });
      assert.equal(r.status, 202, r.text);
      const restored = r.body.restore.volume_id as string;
      await waitVolume(restored, "available");
      const got = await digest(backend(), restored, 6 * MIB);
      assert.equal(got.size, 1024 * MIB);
      assert.ok(got.head.equals(second), "the changed pattern is restored");
      assert.equal(got.sha, src.sha, "the whole volume is restored byte for byte");

      // The full backup into an existing, larger volume: the first pattern.
      const target = await c.create(c.demo, { size: 2 });
      await c.waitStatus(c.demo, target, "available");
      const r2 = await c.req("POST", `/backups/${full.id}/restore`, {
        token: c.demo,
        body: { restore: { volume_id: target } },
      });
      assert.equal(r2.status, 202, r2.text);
      await waitVolume(target, "available");
      const old = await digest(backend(), target, 6 * MIB);
      assert.ok(old.head.equals(first), "the full backup has the first pattern");
      assert.equal(old.size, 2048 * MIB, "the volume keeps its size");

      for (const id of [incr.id, full.id]) {
        await waitBackup(id, "available");
        assert.equal((await c.req("DELETE", `/backups/${id}`, { token: c.demo })).status, 202);
        await until(
          `backup ${id} gone`,
          async () => (await c.req("GET", `/backups/${id}`, { token: c.demo })).status === 404,
        );
      }
      if (driver === "posix") {
        const dir = join(c.t.cloud.cfg.dataDir, "backups", c.demoProject, "volumebackups", `volume_${vol}`);
        assert.deepEqual(await readdir(dir, { recursive: true }).catch(() => []), [] as string[]);
      } else {
        const list = await c.t.cloud.volume.core.swift!("GET", `/AUTH_${c.demoProject}/volumebackups`);
        assert.ok(list.status === 200 || list.status === 204, `listing: ${list.status}`);
        assert.equal(list.body.toString("utf8").trim(), "", "no object left in the container");
      }
    });
  });
}
