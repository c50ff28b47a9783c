// The qemu driver's volumes against a real QEMU and a real NBD server: a qemu-storage-daemon (started here) exports
// a raw file on a unix socket; the driver hot-plugs it into a running instance (a boot sector as the guest, so no
// OS has to boot), keeps it across stop/start (it is on the new QEMU's command line with serial = volume id),
// and forgets it on detach. A volume root boots, and boots again after a cold resize (confirmed, and reverted);
// a multiattach volume is plugged shareable into two guests. QEMU missing fails under CI.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { after, describe, it } from "node:test";
import { QemuDriver } from "../../../../src/compute/drivers/qemu/driver.js";

import { PowerState } from "../../../../src/compute/drivers/types.js";
import { until } from "../../../helpers/wait.js";
import { bootSector, SKIP_QEMU, scratchDir } from "./helpers.js";

const UUID = "b0c0a000-0000-4000-8000-00000000f001";
const VOL = "5e1f0c2a-7d4b-4c11-9f00-3a2b1c0d9e8f";
const MiB = 1024 * 1024;

/** The command line of the instance's live QEMU. */
function qemuCmdline(): string | undefined {
  for (const n of readdirSync("/proc")) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const cmd = readFileSync(`/proc/${n}/cmdline`, "utf8");
      const st = readFileSync(`/proc/${n}/stat`, "utf8").split(") ")[1]?.charAt(0);
      if (cmd.includes("qemu-system") && cmd.includes(UUID) && st !== "Z") return cmd.replace(/\0/g, " ");
    } catch {
      // gone
    }
  }
  return undefined;
}

describe("qemu driver volumes over NBD", { skip: SKIP_QEMU }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  let daemon: ChildProcess | undefined;
  after(async () => {
    daemon?.kill("SIGKILL");
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it("attach, keep across stop/start, detach", async () => {
    const d = await scratchDir("vol");
    cleanups.push(d.cleanup);
    const image = `${d.dir}/boot.raw`;
    const disk = Buffer.alloc(MiB);
    bootSector().copy(disk);
    await writeFile(image, disk);
    // The "block storage": a raw file exported over NBD by qemu-storage-daemon.
    const volFile = `${d.dir}/vol.raw`;
    await writeFile(volFile, Buffer.alloc(4 * MiB));
    const nbdSock = `${d.dir}/nbd.sock`;
    daemon = spawn(
      "qemu-storage-daemon",
      [
        "--blockdev",
        `driver=file,node-name=file0,filename=${volFile}`,
        "--blockdev",
        "driver=raw,node-name=vol0,file=file0",
        "--nbd-server",
        `addr.type=unix,addr.path=${nbdSock}`,
        "--export",
        `type=nbd,id=exp0,node-name=vol0,name=${VOL},writable=on`,
      ],
      { stdio: "ignore" },
    );
    await until("the NBD socket", () => (existsSync(nbdSock) ? true : undefined));

    const drv = new QemuDriver({ stateDir: d.dir, accel: "tcg", softRebootTimeoutS: 1, hotplugTimeoutS: 2 });
    await drv.init("qemu-volumes");
    cleanups.push(() => drv.destroy(UUID));
    await drv.spawn({
      uuid: UUID,
      name: "vol",
      vcpus: 1,
      memoryMb: 64,
      rootGb: 1,
      image: { id: "b0075ec7-0000-4000-8000-00000000f001", path: image, format: "raw" },
      metadata: {},
    });
    const qmp = async (cmd: string, args?: Record<string, unknown>) => {
      const l = await drv.core.liveOf(UUID);
      assert.ok(l, "the instance runs");
      return l.proc.qmp.execute(cmd as never, args as never) as Promise<any>;
    };
    const volBlock = async () =>
      ((await qmp("query-block")) as any[]).find((b) => String(b.qdev ?? "").includes("vol-"));

    await drv.attachVolume(UUID, VOL, { type: "nbd", socketPath: nbdSock, export: VOL });
    const blk = await volBlock();
    assert.ok(blk, "the volume's disk is plugged");
    assert.equal(blk.inserted.image["virtual-size"], 4 * MiB);
    assert.match(
      JSON.stringify(await qmp("qom-get", { path: blk.qdev, property: "serial" })),
      /5e1f0c2a-7d4b-4c11-9/,
    );
    await assert.rejects(drv.attachVolume(UUID, VOL, { type: "nbd", socketPath: nbdSock, export: VOL }));

    // Stop/start: the new QEMU has it on its command line.
    await drv.powerOff(UUID);
    assert.equal((await drv.getInfo(UUID)).state, PowerState.SHUTDOWN);
    await drv.powerOn(UUID);
    const cmd = qemuCmdline() ?? "";
    assert.match(cmd, /"driver":"nbd"/);
    assert.match(cmd, /"serial":"5e1f0c2a-7d4b-4c11-9"/);
    assert.ok(await volBlock(), "plugged again at boot");

    // (volume-extended over NBD is not exercised here: qemu-storage-daemon 7.2 cannot grow a node its export
    // holds, and a re-export breaks the guest's connection; see the report of the compute volumes work.)

    // Detach while stopped: gone from the record, so the next boot has no such disk.
    await drv.powerOff(UUID);
    await drv.detachVolume(UUID, VOL);
    await drv.powerOn(UUID);
    assert.doesNotMatch(qemuCmdline() ?? "", /"driver":"nbd"/);
    assert.equal(await volBlock(), undefined);
    await drv.destroy(UUID);
  });
  it("boots from a volume: the NBD export is the first disk (bootindex 0, SeaBIOS), no local root disk", async () => {
    const d = await scratchDir("bfv");
    cleanups.push(d.cleanup);
    const volFile = `${d.dir}/boot-vol.raw`;
    const disk = Buffer.alloc(MiB);
    bootSector("booted from the volume\r\n").copy(disk);
    await writeFile(volFile, disk);
    const sock = `${d.dir}/nbd.sock`;
    const qsd = spawn(
      "qemu-storage-daemon",
      [
        ...["--blockdev", `driver=file,node-name=f0,filename=${volFile}`],
        ...["--blockdev", "driver=raw,node-name=v0,file=f0"],
        ...["--nbd-server", `addr.type=unix,addr.path=${sock}`],
        ...["--export", `type=nbd,id=e0,node-name=v0,name=${VOL},writable=on`],
      ],
      { stdio: "ignore" },
    );
    cleanups.push(async () => void qsd.kill("SIGKILL"));
    await until("the NBD socket", () => (existsSync(sock) ? true : undefined));
    const uuid = "b0c0a000-0000-4000-8000-00000000f002";
    const drv = new QemuDriver({ stateDir: d.dir, accel: "tcg", softRebootTimeoutS: 1, hotplugTimeoutS: 2 });
    await drv.init("qemu-bfv");
    cleanups.push(() => drv.destroy(uuid));
    await drv.spawn({
      uuid,
      name: "bfv",
      vcpus: 1,
      memoryMb: 64,
      rootGb: 0,
      image: { id: "" },
      metadata: {},
      volumes: [{ volumeId: VOL, source: { type: "nbd", socketPath: sock, export: VOL }, bootIndex: 0 }],
    });
    await until("the guest printed from the volume's boot sector", async () =>
      /booted from the volume/.test(await drv.getConsoleOutput(uuid)) ? true : undefined,
    );
    const rec = JSON.parse(readFileSync(`${d.dir}/instances/${uuid}/instance.json`, "utf8"));
    assert.equal(rec.volumeRoot, true);
    assert.equal(existsSync(`${d.dir}/instances/${uuid}/disk`), false, "no local root disk");

    // A cold resize on this host (confirmed, then another one reverted): no local disk to carry, the volume is
    // the root disk again at the new size's boot.
    const volumes = [
      { volumeId: VOL, source: { type: "nbd" as const, socketPath: sock, export: VOL }, bootIndex: 0 },
    ];
    const boots = async () => (await drv.getConsoleOutput(uuid)).split("booted from the volume").length - 1;
    const bootedAgain = async (after: number, what: string) =>
      until(`the guest booted from the volume after the ${what}`, async () =>
        (await boots()) > after ? true : undefined,
      );
    for (const [end, memoryMb] of [
      ["confirm", 96],
      ["revert", 128],
    ] as const) {
      const before = await boots();
      const info = await drv.migrateDiskAndPowerOff(uuid, "qemu-bfv");
      assert.deepEqual(info.disks, [], "a volume-backed server has no local disk to move");
      const spec = {
        uuid,
        name: "bfv",
        vcpus: 1,
        memoryMb,
        rootGb: 0,
        image: { id: "" },
        metadata: {},
        volumes,
      };
      await drv.finishMigration(spec, info, { powerOn: true });
      await bootedAgain(before, "resize");
      if (end === "confirm") await drv.confirmMigration(uuid);
      else {
        const resized = await boots();
        await drv.finishRevertMigration(uuid, { powerOn: true });
        await bootedAgain(resized, "revert");
      }
      const rec = JSON.parse(readFileSync(`${d.dir}/instances/${uuid}/instance.json`, "utf8"));
      assert.equal(rec.volumeRoot, true);
      assert.equal(rec.memoryMb, 96, "the confirmed size stays; the reverted one is undone");
      assert.equal(rec.resizeBackup, undefined);
      assert.deepEqual(
        rec.volumes.map((v: { volumeId: string }) => v.volumeId),
        [VOL],
      );
    }
    await drv.destroy(uuid);
  });

  it("multiattach: two guests plug one volume shareable (share-rw), which an unshared writer cannot", async () => {
    const d = await scratchDir("multi");
    cleanups.push(d.cleanup);
    const image = `${d.dir}/boot.raw`;
    const disk = Buffer.alloc(MiB);
    bootSector().copy(disk);
    await writeFile(image, disk);
    // A raw file both QEMUs open themselves: image locking would refuse a second writer without share-rw.
    const volFile = `${d.dir}/shared.raw`;
    await writeFile(volFile, Buffer.alloc(4 * MiB));
    const drv = new QemuDriver({ stateDir: d.dir, accel: "tcg", softRebootTimeoutS: 1, hotplugTimeoutS: 2 });
    await drv.init("qemu-multi");
    const uuids = ["b0c0a000-0000-4000-8000-00000000f003", "b0c0a000-0000-4000-8000-00000000f004"];
    for (const uuid of uuids) {
      cleanups.push(() => drv.destroy(uuid));
      await drv.spawn({
        uuid,
        name: "multi",
        vcpus: 1,
        memoryMb: 64,
        rootGb: 1,
        image: { id: "b0075ec7-0000-4000-8000-00000000f001", path: image, format: "raw" },
        metadata: {},
      });
    }
    const shared = { type: "file" as const, path: volFile, format: "raw" as const, shared: true };
    const shareRw = async (uuid: string) => {
      const l = await drv.core.liveOf(uuid);
      assert.ok(l, "the instance runs");
      const blk = ((await l.proc.qmp.execute("query-block" as never)) as any[]).find((b) =>
        String(b.qdev ?? "").includes("vol-"),
      );
      assert.ok(blk, "the volume's disk is plugged");
      return l.proc.qmp.execute("qom-get" as never, { path: blk.qdev, property: "share-rw" } as never);
    };
    await drv.attachVolume(uuids[0], VOL, shared);
    assert.equal(await shareRw(uuids[0]), true);
    await assert.rejects(
      drv.attachVolume(uuids[1], VOL, { ...shared, shared: false }),
      /lock/,
      "an unshared writer conflicts with the shared one",
    );
    await drv.attachVolume(uuids[1], VOL, shared);
    assert.equal(await shareRw(uuids[1]), true);
    // At boot too: the command line's device shares the node.
    await drv.powerOff(uuids[1]);
    await drv.powerOn(uuids[1]);
    assert.equal(await shareRw(uuids[1]), true);
    for (const uuid of uuids) await drv.destroy(uuid);
  });
});
