// The data path end to end with one real guest (TCG) booted by the qemu driver: a raw volume exported by tgtd
// over iSCSI with CHAP and a qcow2 volume exported by qemu-storage-daemon over NBD are hot-plugged with
// driver.attachVolume; inside the guest each is the /dev/vdX whose serial is the volume id; a timestamp written
// on an ext4 made there survives detach and reattach; an extended volume shows its new size in the guest after
// block_resize on the guest's node; and while the guest writes to both, the transport objects are dropped and new
// ones restore the exports (the agent killed -9 and restarted): the guest's I/O goes on without an error.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { QemuCore } from "../../../src/compute/drivers/qemu/driver-core.js";
import { QemuDriver } from "../../../src/compute/drivers/qemu/driver.js";
import { ensureGuestImage, type GuestImage } from "../../../src/compute/guest-image.js";
import { FileBackend } from "../../../src/volume/drivers/file.js";
import { NbdTransport } from "../../../src/volume/drivers/nbd.js";
import { TgtTransport } from "../../../src/volume/drivers/tgt.js";
import type { ExportRecord } from "../../../src/volume/drivers/transports.js";
import { formatFigures, measureVolumeIo } from "../../../bench/volume-io.js";
import { has, ssh } from "../../compute/guest-image-qemu.js";
import { reapAndAssertNoOrphans, scratchDir, testUuid } from "../../compute/drivers/qemu/helpers.js";
import { sampleOptions, sampleSource } from "../../compute/metadata/fixtures.js";
import { until } from "../../helpers/wait.js";
import { freePort, SKIP_NBD, SKIP_TGT } from "./helpers.js";

const SKIP: string | false =
  process.env.CI === "true"
    ? false
    : !has("qemu-system-x86_64")
      ? "QEMU is not installed"
      : SKIP_TGT || SKIP_NBD;

/** A boot under TCG on a loaded 2-core machine, to SSH. */
const BOOT_MS = 420_000;
const GiB = 1024 ** 3;

let image: GuestImage;
let drv: QemuDriver | undefined;
let dir = "";
let cleanupDir: (() => Promise<void>) | undefined;
let tgt: TgtTransport | undefined;
let nbd: NbdTransport | undefined;
const uuid = testUuid();

before(async () => {
  if (SKIP) return;
  image = await ensureGuestImage({ onProgress: (l) => process.stderr.write(`# guest-image: ${l}\n`) });
  const d = await scratchDir("vol");
  dir = d.dir;
  cleanupDir = d.cleanup;
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "key")]);
  const publicKey = readFileSync(join(dir, "key.pub"), "utf8").trim();
  drv = new QemuDriver({
    stateDir: join(dir, "state"),
    accel: "tcg",
    hostForwardSsh: true,
    metadata: {
      target: { serviceUrl: "http://127.0.0.1:9/", secret: "unused" },
      describe: async (u) => ({
        source: sampleSource({ uuid: u, keyPair: { name: "k", type: "ssh", publicKey }, userData: null }),
        configDrive: true,
        options: sampleOptions(),
      }),
    },
  });
  await drv.init(`vol-host-${uuid.slice(0, 8)}`);
});

after(async () => {
  await drv?.destroy(uuid).catch(() => undefined);
  await tgt?.stop().catch(() => undefined);
  await nbd?.stop().catch(() => undefined);
  await cleanupDir?.();
  if (!SKIP) await reapAndAssertNoOrphans();
});

/** The guest's block device whose serial is the volume id (as the driver sets it), once the guest sees it. */
async function deviceOf(port: number, key: string, volumeId: string): Promise<string> {
  const serial = volumeId.replace(/[^A-Za-z0-9-]/g, "").slice(0, 20);
  const script = `for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = "${serial}" ] && basename $d; done; true`;
  return until(
    `the guest to see volume ${volumeId}`,
    async () => (await ssh(port, key, script)).trim(),
    120_000,
    500,
  );
}

/** The size in bytes the guest sees for a device. */
const guestSize = async (port: number, key: string, dev: string) =>
  Number((await ssh(port, key, `cat /sys/block/${dev}/size`)).trim()) * 512;

test(
  "iSCSI (CHAP) and NBD volumes hot-plugged into a real guest: stamp, detach/reattach, extend, restore under I/O",
  { skip: SKIP, timeout: BOOT_MS + 600_000 },
  async () => {
    const key = join(dir, "key");
    await drv!.spawn({
      uuid,
      name: "vol-guest",
      vcpus: 1,
      memoryMb: 256,
      rootGb: Math.ceil(image.manifest.diskVirtualSize / GiB),
      image: { id: "stratus-guest", path: image.disk, format: "qcow2" },
      metadata: {},
    });
    const fwd = await drv!.sshForward(uuid);
    assert.ok(fwd);
    const port = fwd.port;
    await until(
      "SSH into the guest",
      () =>
        ssh(port, key, "true", 15_000).then(
          () => true,
          () => false,
        ),
      BOOT_MS,
      2_000,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${(await drv!.getConsoleOutput(uuid)).slice(-3000)}`);
    });

    const tport = await freePort();
    const tgtOpts = { runDir: join(dir, "tgt"), port: tport, controlPort: 10_000 + (tport % 20_000) };
    const nbdOpts = { runDir: join(dir, "nbd") };
    tgt = new TgtTransport(tgtOpts);
    nbd = new NbdTransport(nbdOpts);
    const b = new FileBackend({ dir: join(dir, "volumes"), holders: () => [tgt!, nbd!] });
    const A = randomUUID();
    const B = randomUUID();
    const locA = await b.create({ id: A, sizeGb: 1, options: new Map([["file:format", "raw"]]) });
    const locB = await b.create({ id: B, sizeGb: 1 });
    const recA = await tgt.export(A, locA, { readOnly: false });
    const recB = await nbd.export(B, locB, { readOnly: false });

    const attach = async (recIscsi: ExportRecord, recNbd: ExportRecord) => {
      const ia = tgt!.connectionInfo(recIscsi);
      const ib = nbd!.connectionInfo(recNbd);
      assert.ok(ia.driver_volume_type === "iscsi" && ib.driver_volume_type === "nbd");
      await drv!.attachVolume(uuid, A, {
        type: "iscsi",
        portal: ia.data.target_portal,
        target: ia.data.target_iqn,
        lun: ia.data.target_lun,
        chap: { user: ia.data.auth_username, password: ia.data.auth_password },
      });
      await drv!.attachVolume(uuid, B, {
        type: "nbd",
        socketPath: ib.data.socket_path!,
        export: ib.data.export_name,
      });
    };
    // The "attach -> visible in the guest" figure (an upper bound: the guest is polled over SSH every 0.5 s).
    const t0 = performance.now();
    await attach(recA, recB);
    const devA = await deviceOf(port, key, A);
    const devB = await deviceOf(port, key, B);
    process.stderr.write(
      `# attach -> visible in the guest (iSCSI then NBD hot-plugged, both seen): ${Math.round(performance.now() - t0)} ms\n`,
    );
    assert.notEqual(devA, devB);
    assert.equal(await guestSize(port, key, devA), GiB);

    // Tempest's stamp pattern on each: a filesystem made in the guest, a timestamp written, unmounted.
    const stamp = `stamp-${Date.now()}`;
    for (const dev of [devA, devB])
      await ssh(
        port,
        key,
        `set -e; sudo mke2fs -q -t ext4 /dev/${dev}; sudo mkdir -p /mnt/${dev}; sudo mount /dev/${dev} /mnt/${dev}
         echo ${stamp} | sudo tee /mnt/${dev}/stamp >/dev/null; sudo umount /mnt/${dev}; sync`,
        180_000,
      );

    // Detach both (the guest releases them), then attach again: the same stamp is read back.
    await drv!.detachVolume(uuid, A);
    await drv!.detachVolume(uuid, B);
    const left = await ssh(port, key, "ls /sys/block");
    assert.ok(!left.includes(devA) && !left.includes(devB), left);
    await attach(recA, recB);
    for (const vol of [A, B]) {
      const dev = await deviceOf(port, key, vol);
      const got = await ssh(
        port,
        key,
        `set -e; sudo mkdir -p /mnt/r; sudo mount /dev/${dev} /mnt/r; cat /mnt/r/stamp; sudo umount /mnt/r`,
      );
      assert.equal(got.trim(), stamp);
    }
    const devA2 = await deviceOf(port, key, A);
    const devB2 = await deviceOf(port, key, B);

    // Extend while attached: the backend grows the export, the compute side block_resizes the guest's node.
    const core = (drv as unknown as { ready(m: string): QemuCore }).ready("test");
    const qmp = (await core.liveOf(uuid))!.proc.qmp;
    const node = (id: string) => `vol-${id.replace(/[^A-Za-z0-9]/g, "").slice(0, 20)}-fmt`;
    await b.extend(A, 2);
    await qmp.execute("block_resize", { "node-name": node(A), size: 2 * GiB });
    await until(
      "the guest to see the iSCSI volume grown",
      async () => (await guestSize(port, key, devA2)) === 2 * GiB,
      60_000,
      500,
    );
    await b.extend(B, 2);
    await until(
      "the guest's NBD client to reconnect and take the new size",
      async () => {
        // QEMU's NBD client reconnects on its next request (the export was re-added with the new size).
        await ssh(
          port,
          key,
          `sudo dd if=/dev/${devB2} of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null; true`,
        );
        return qmp.execute("block_resize", { "node-name": node(B), size: 2 * GiB }).then(
          () => true,
          () => false,
        );
      },
      60_000,
      500,
    );
    await until(
      "the guest to see the NBD volume grown",
      async () => (await guestSize(port, key, devB2)) === 2 * GiB,
      60_000,
      500,
    );

    // Optional figures (STRATUS_VOLUME_IO_BENCH=1): dd in the guest over each transport and on a host file.
    if (process.env.STRATUS_VOLUME_IO_BENCH === "1") {
      const f = await measureVolumeIo(
        (script) => ssh(port, key, script, 600_000),
        [
          { label: "iSCSI", dev: devA2 },
          { label: "NBD", dev: devB2 },
        ],
        { hostFile: join(dir, "volumes", "bench.raw") },
      );
      process.stderr.write(`# volume I/O:\n${formatFigures(f).replace(/^/gm, "#   ")}\n`);
    }

    // The agent is killed -9 while the guest writes to both: new transport objects restore the same exports.
    const io = (dev: string) =>
      `( i=0; while [ $i -lt 60 ]; do sudo dd if=/dev/urandom of=/dev/${dev} bs=64k count=4 seek=$((i*4)) oflag=direct conv=fsync 2>/dev/null || echo FAIL; i=$((i+1)); done; echo DONE ) > /tmp/io-${dev}.log 2>&1 &`;
    await ssh(port, key, `${io(devA2)}\n${io(devB2)}\nsleep 1`);
    const pids = [tgt.pid(), nbd.pid()];
    const tid = (await tgt.targets())[0]!.tid;
    tgt = new TgtTransport(tgtOpts);
    nbd = new NbdTransport(nbdOpts);
    await tgt.restore([recA]);
    await nbd.restore([recB]);
    assert.deepEqual([tgt.pid(), nbd.pid()], pids);
    assert.equal((await tgt.targets())[0]!.tid, tid);
    assert.equal((await tgt.targets())[0]!.sessions, 1, "the guest's iSCSI session is the same");
    for (const dev of [devA2, devB2]) {
      const log = await until(
        `the guest's writes to ${dev} to finish`,
        async () => {
          const l = await ssh(port, key, `cat /tmp/io-${dev}.log`);
          return l.includes("DONE") ? l : null;
        },
        300_000,
        2_000,
      );
      assert.ok(!log.includes("FAIL"), `guest I/O failed on ${dev}: ${log}`);
    }
    const dmesg = await ssh(port, key, "dmesg | grep -i 'i/o error' || true");
    assert.equal(dmesg.trim(), "", dmesg);

    await drv!.detachVolume(uuid, A);
    await drv!.detachVolume(uuid, B);
    await tgt.unexport(A);
    await nbd.unexport(B);
    assert.deepEqual([await tgt.exported(), await nbd.exported()], [[], []]);
    await b.delete(A);
    await b.delete(B);
    await drv!.destroy(uuid);
  },
);
