// Regression tests of the qemu driver's moves between two hosts of this machine, with images from an image
// service (in memory here) and a direct-kernel-boot image whose "kernel" is a tiny multiboot program that prints a
// line on COM1 (the disk is a boot sector that prints another, so the console tells which one booted):
// - live migration hands over every disk (root, ephemeral, swap) and leaves the guest depending on nothing of the
//   source host's: kernel, initrd and the root disk's base image come from the destination's own cache (the disk's
//   header names it from the next boot on), so the guest boots again there after the source host's files are gone;
// - a destination that fails to load the guest fails the migration, and the guest runs on at the source (QEMU's
//   return path; without it the source took "all sent" for success and stopped the only copy);
// - live migration of a volume-backed server with a data volume hot-plugged after its NIC (NBD): the destination
//   opens the volumes with its own connections (no block migration) at the source's PCI slots, nothing local is
//   handed over, and it reads and writes the volume;
// - cold migration to another host keeps the direct kernel boot.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { OperationFailed } from "../../../../src/compute/drivers/errors.js";
import { QemuDriver } from "../../../../src/compute/drivers/qemu/driver.js";
import type { ImageSource } from "../../../../src/compute/drivers/qemu/driver-images.js";
import { ImageUnusable } from "../../../../src/compute/drivers/qemu/errors.js";
import { PowerState, type InstanceSpec } from "../../../../src/compute/drivers/types.js";
import { bootSector, reapAndAssertNoOrphans, scratchDir, SKIP_QEMU, testUuid, waitFor } from "./helpers.js";

const KERNEL_LINE = "stratus multiboot kernel";
const DISK_LINE = "stratus boot sector";
const VOL_LINE = "stratus volume boot sector";
const ROOT_VOL = "5e1f0c2a-7d4b-4c11-9f00-3a2b1c0d9e01";
const DATA_VOL = "6a2e1d3b-8c5f-4d22-8e11-4b3c2d1e0f02";
const MiB = 1024 * 1024;

/** A multiboot (a.out kludge) program loaded at 1 MiB that prints KERNEL_LINE on COM1 and halts. */
function multibootKernel(): Buffer {
  const k = Buffer.alloc(4096);
  const magic = 0x1badb002;
  const flags = 0x00010000; // the address fields below are valid
  [magic, flags, -(magic + flags) >>> 0, 0x100000, 0x100000, 0, 0, 0x100020].forEach((v, i) =>
    k.writeUInt32LE(v, i * 4),
  );
  // mov esi, msg; mov dx, 0x3f8; next: lodsb; test al, al; jz done; out dx, al; jmp next; done: hlt; jmp done
  Buffer.from("be40001000" + "66baf803" + "ac" + "84c0" + "7403" + "ee" + "ebf8" + "f4" + "ebfd", "hex").copy(
    k,
    0x20,
  );
  k.write(`${KERNEL_LINE}\r\n\0`, 0x40, "latin1");
  return k;
}

/** An image service in memory: id → bytes, disk format and properties. */
function memoryImages(
  images: Map<string, { data: Buffer; diskFormat: string; properties?: Record<string, unknown> }>,
): ImageSource {
  const get = (id: string) => {
    const i = images.get(id);
    if (!i) throw new ImageUnusable(id, "the image service answered 404");
    return i;
  };
  return {
    async describe(id) {
      const i = get(id);
      return {
        id,
        status: "active",
        diskFormat: i.diskFormat as "raw",
        osHashAlgo: "sha512",
        osHashValue: createHash("sha512").update(i.data).digest("hex"),
        sizeBytes: i.data.length,
        properties: i.properties ?? {},
      };
    },
    fetch: async (id) => Readable.from([get(id).data]),
  };
}

/** The backing file name a qcow2 image's header records (read directly: QEMU holds the image's lock). */
async function backingFileOf(path: string): Promise<string> {
  const fh = await open(path, "r");
  try {
    const head = Buffer.alloc(20);
    await fh.read(head, 0, 20, 0);
    const offset = Number(head.readBigUInt64BE(8));
    const size = head.readUInt32BE(16);
    const name = Buffer.alloc(size);
    await fh.read(name, 0, size, offset);
    return name.toString("utf8");
  } finally {
    await fh.close();
  }
}

describe("qemu driver: moves between two hosts", { skip: SKIP_QEMU }, () => {
  const disk = Buffer.alloc(1024 * 1024);
  bootSector(`${DISK_LINE}\r\n`).copy(disk);
  const images = memoryImages(
    new Map([
      ["k-1", { data: multibootKernel(), diskFormat: "aki" }],
      ["r-1", { data: Buffer.alloc(4096, 1), diskFormat: "ari" }],
      ["direct-1", { data: disk, diskFormat: "raw", properties: { kernel_id: "k-1", ramdisk_id: "r-1" } }],
    ]),
  );
  const dirs: Array<{ dir: string; cleanup: () => Promise<void> }> = [];
  const hosts: string[] = [];
  const tag = Math.random().toString(16).slice(2, 8);

  /** A new host with its own state directory; not yet init'd. */
  const newHost = async (name: string) => {
    const d = await scratchDir("mv");
    dirs.push(d);
    const host = `qmv-${tag}-${name}`;
    hosts.push(host);
    const driver = new QemuDriver({ stateDir: d.dir, accel: "tcg", images, softRebootTimeoutS: 1 });
    await driver.init(host);
    return { driver, dir: d.dir, host };
  };
  const spec = (over: Partial<InstanceSpec> = {}): InstanceSpec => ({
    uuid: testUuid(),
    name: "mv",
    vcpus: 1,
    memoryMb: 64,
    rootGb: 1,
    image: { id: "direct-1" },
    metadata: {},
    ...over,
  });
  const consoleShows = (d: QemuDriver, uuid: string, line: string) =>
    waitFor(`"${line}" on the console`, async () => (await d.getConsoleOutput(uuid)).includes(line), 60_000);

  after(async () => {
    try {
      await reapAndAssertNoOrphans();
    } finally {
      for (const d of dirs) await d.cleanup();
      for (const h of hosts) await rm(join(tmpdir(), "stratus-q-hosts", h), { force: true });
    }
  });

  it("live migration hands every disk over; the guest then needs nothing of the source host's", async () => {
    const a = await newHost("a");
    const b = await newHost("b");
    const s = spec({ ephemeralGb: 1, swapMb: 16 });
    await a.driver.spawn(s);
    await consoleShows(a.driver, s.uuid, KERNEL_LINE);
    await b.driver.preLiveMigration(s, a.host);
    await a.driver.liveMigration(s.uuid, b.host);
    await b.driver.postLiveMigrationAtDestination(s.uuid);
    assert.deepEqual(await a.driver.listInstances(), []);
    assert.equal((await b.driver.getInfo(s.uuid)).state, PowerState.RUNNING);
    const rec = (await b.driver.core.layout.load(s.uuid))!;
    const own = [rec.root, rec.ephemeral, rec.swap, rec.rebaseRoot].map((d) => d?.path);
    for (const p of [...own, rec.kernel?.kernel, rec.kernel?.initrd])
      assert.ok(p?.startsWith(`${b.dir}/`), `${p} is not under ${b.dir}`);
    assert.ok(!(await b.driver.getConsoleOutput(s.uuid)).includes(KERNEL_LINE), "moved, not booted again");
    // Host A is gone, files and all: the guest boots again on B from B's files.
    await a.driver.close();
    await rm(a.dir, { recursive: true, force: true });
    await b.driver.reboot(s.uuid, "HARD");
    assert.equal((await b.driver.getInfo(s.uuid)).state, PowerState.RUNNING);
    await consoleShows(b.driver, s.uuid, KERNEL_LINE);
    const header = await backingFileOf(rec.root.path);
    assert.ok(header.startsWith(`${b.dir}/`), `the root disk names B's base image, not ${header}`);
    await b.driver.destroy(s.uuid);
  });

  it("a destination that cannot load the guest fails the migration; the guest runs on at the source", async () => {
    const a = await newHost("c");
    const b = await newHost("d");
    const s = spec();
    await a.driver.spawn(s);
    await b.driver.preLiveMigration(s, a.host);
    // A disk hot-plugged after the destination was prepared: the destination has no such device.
    const vol = join(a.dir, "vol.raw");
    await writeFile(vol, Buffer.alloc(1024 * 1024));
    await a.driver.attachVolume(s.uuid, "late-volume", { type: "file", path: vol, format: "raw" });
    const pid = await a.driver.pidOf(s.uuid);
    await assert.rejects(a.driver.liveMigration(s.uuid, b.host), OperationFailed);
    assert.equal((await a.driver.getInfo(s.uuid)).state, PowerState.RUNNING);
    assert.equal(await a.driver.pidOf(s.uuid), pid, "the same QEMU runs on");
    await b.driver.rollbackLiveMigrationAtDestination(s.uuid);
    assert.deepEqual(await b.driver.listInstances(), []);
    await a.driver.destroy(s.uuid);
  });

  it("live migration of a volume-backed server with a data volume: each host opens its own connection", async () => {
    const a = await newHost("g");
    const b = await newHost("h");
    // The "block storage": a boot volume and a data volume exported over NBD by one qemu-storage-daemon; the data
    // volume has a second export name, the connection block storage gives the destination host.
    const root = join(a.dir, "root.raw");
    const data = join(a.dir, "data.raw");
    const bootDisk = Buffer.alloc(MiB);
    bootSector(`${VOL_LINE}\r\n`).copy(bootDisk);
    await writeFile(root, bootDisk);
    await writeFile(data, Buffer.alloc(4 * MiB));
    const sock = join(a.dir, "nbd.sock");
    const s = spec({ rootGb: 0, image: { id: "" } });
    const qsd = spawn(
      "qemu-storage-daemon",
      [
        ...["--blockdev", `driver=file,node-name=rf,filename=${root}`],
        ...["--blockdev", "driver=raw,node-name=r0,file=rf"],
        ...["--blockdev", `driver=file,node-name=df,filename=${data}`],
        ...["--blockdev", "driver=raw,node-name=d0,file=df"],
        ...["--nbd-server", `addr.type=unix,addr.path=${sock}`],
        ...["--export", `type=nbd,id=er,node-name=r0,name=${ROOT_VOL},writable=on`],
        ...["--export", `type=nbd,id=ea,node-name=d0,name=data-a,writable=on`],
        ...["--export", `type=nbd,id=eb,node-name=d0,name=data-b,writable=on`],
      ],
      { stdio: "ignore" },
    );
    try {
      await waitFor("the NBD socket", () => existsSync(sock));
      const nbd = (name: string) => ({ type: "nbd" as const, socketPath: sock, export: name });
      const at = (dataExport: string) => ({
        ...s,
        volumes: [
          { volumeId: ROOT_VOL, source: nbd(ROOT_VOL), bootIndex: 0 },
          { volumeId: DATA_VOL, source: nbd(dataExport) },
        ],
      });
      // Booted from the root volume; the data volume is hot-plugged into the running guest (a volume attach).
      await a.driver.spawn({ ...s, volumes: at("data-a").volumes.slice(0, 1) });
      await consoleShows(a.driver, s.uuid, VOL_LINE);
      await a.driver.attachVolume(s.uuid, DATA_VOL, nbd("data-a"));
      const dev = `vol-${DATA_VOL.replace(/-/g, "").slice(0, 20)}`;
      const io = async (d: QemuDriver, cmd: string) => {
        const l = await d.core.liveOf(s.uuid);
        assert.ok(l, "the guest runs");
        const out = await l.proc.qmp.execute("human-monitor-command", {
          "command-line": `qemu-io -d /machine/peripheral/${dev}/virtio-backend "${cmd}"`,
        });
        assert.doesNotMatch(out, /fail|error|verification/i, `${cmd}: ${out}`);
        return out;
      };
      await io(a.driver, "write -P 0xa5 1M 4k");
      await b.driver.preLiveMigration(at("data-b"), a.host);
      await a.driver.liveMigration(s.uuid, b.host);
      await b.driver.postLiveMigrationAtDestination(s.uuid);
      assert.deepEqual(await a.driver.listInstances(), []);
      assert.equal((await b.driver.getInfo(s.uuid)).state, PowerState.RUNNING);
      const rec = (await b.driver.core.layout.load(s.uuid))!;
      assert.equal(rec.volumeRoot, true);
      assert.deepEqual(
        rec.volumes?.map((v) => [v.volumeId, v.source.type === "nbd" ? v.source.export : ""]),
        [
          [ROOT_VOL, ROOT_VOL],
          [DATA_VOL, "data-b"],
        ],
      );
      assert.equal(existsSync(rec.root.path), false, "no local root disk was made or handed over");
      assert.ok(rec.root.path.startsWith(`${b.dir}/`), `${rec.root.path} names nothing of A's`);
      // The destination's QEMU uses its own connection (no block migration), sees what the source wrote, writes.
      const l = (await b.driver.core.liveOf(s.uuid))!;
      const blocks = (await l.proc.qmp.execute("query-block")) as Array<{
        qdev?: string;
        inserted?: { file?: string };
      }>;
      assert.match(String(blocks.find((x) => x.qdev?.includes(dev))?.inserted?.file), /data-b/);
      await io(b.driver, "read -P 0xa5 1M 4k");
      await io(b.driver, "write -P 0x5a 2M 4k");
      await io(b.driver, "flush");
      const fh = await open(data, "r");
      try {
        const buf = Buffer.alloc(4096);
        await fh.read(buf, 0, 4096, 2 * MiB);
        assert.ok(
          buf.every((x) => x === 0x5a),
          "the destination's write reached the volume",
        );
      } finally {
        await fh.close();
      }
      assert.ok(
        !(await b.driver.getConsoleOutput(s.uuid)).includes(VOL_LINE),
        "the guest moved, it was not booted again",
      );
      await b.driver.destroy(s.uuid);
    } finally {
      for (const d of [a.driver, b.driver]) await d.destroy(s.uuid).catch(() => undefined);
      qsd.kill("SIGKILL");
    }
  });

  it("cold migration to another host keeps the direct kernel boot", async () => {
    const a = await newHost("e");
    const b = await newHost("f");
    const s = spec();
    await a.driver.spawn(s);
    await consoleShows(a.driver, s.uuid, KERNEL_LINE);
    const info = await a.driver.migrateDiskAndPowerOff(s.uuid, b.host);
    await b.driver.finishMigration(s, info, { powerOn: true });
    const rec = (await b.driver.core.layout.load(s.uuid))!;
    assert.ok(rec.kernel?.kernel.startsWith(`${b.dir}/`), `kernel ${rec.kernel?.kernel}`);
    await consoleShows(b.driver, s.uuid, KERNEL_LINE);
    assert.ok(
      !(await b.driver.getConsoleOutput(s.uuid)).includes(DISK_LINE),
      "booted the kernel, not the disk",
    );
    await a.driver.confirmMigration(s.uuid);
    assert.deepEqual(await a.driver.listInstances(), []);
    await b.driver.destroy(s.uuid);
  });
});
