// The guest image under unclean stops and rescue, with real QEMU (TCG). Its root must be consistent once its journal
// replays and boot again to SSH with a clean root after a kill mid-boot (as its first boot grows the root), a reset
// mid-write and a kill mid-write. A rescue-style boot (a fresh rescue disk first, the server's disk second, both
// with the same filesystem) must mount the rescue disk's root and never write the server's disk, also when it is
// quit mid-boot; the server's disk then boots by itself.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureGuestImage, type GuestImage } from "../../src/compute/guest-image.js";
import { until } from "../helpers/wait.js";
import {
  BOOT_TIMEOUT_MS,
  checkRootFilesystem,
  configDrive,
  Guest,
  type GuestDisk,
  killAllGuests,
  overlay,
  skipGuestTests,
} from "./guest-image-qemu.js";

const work = mkdtempSync(join(tmpdir(), "stratus-guest-crash-"));
after(async () => {
  await killAllGuests();
  rmSync(work, { recursive: true, force: true });
});

/** Nova's command line for a direct kernel boot: the whole first disk as root. */
const NOVA_APPEND = "root=/dev/vda console=tty0 console=ttyS0";

/** Starts a loop in the guest that creates, overwrites and deletes files under ~/<dir>, counting in ~/<dir>/count. */
const WRITER = (dir: string) => `mkdir -p ${dir} && cat >${dir}/w.sh <<'EOF'
cd ~/${dir}
i=0
while :; do
  d=d$((i % 16)); mkdir -p $d
  dd if=/dev/urandom of=$d/f$i bs=4k count=$((i % 8 + 1)) 2>/dev/null
  echo "$i $(date)" >>$d/log
  rm -f d$(((i + 5) % 16))/f$((i - 5))
  i=$((i + 1)); echo $i >count.tmp; mv count.tmp count
done
EOF
setsid sh ${dir}/w.sh >/dev/null 2>&1 </dev/null &`;

/** The root's device and mount options, and the kernel's complaints about ext4 since boot. */
const ROOT_STATE = `awk '$2 == "/" { print "root=" $1 " " $4 }' /proc/mounts | tail -n 1
sudo dmesg | grep -iE 'EXT4-fs (error|warning)|corrupt|unchecked' | sed 's/^/complaint: /'
df -k / | awk 'NR == 2 { print "rootkb=" $2 }'`;

describe("guest image: unclean stops and rescue", { skip: skipGuestTests }, () => {
  let image: GuestImage;
  let cd: GuestDisk;
  const key = join(work, "id_ed25519");

  before(async () => {
    image = await ensureGuestImage({ onProgress: (l) => process.stderr.write(`# guest-image: ${l}\n`) });
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    const pub = readFileSync(`${key}.pub`, "utf8").trim();
    const meta = { uuid: "5e1f0c8e-3c55-4b7a-9d1e-0a4c2b7f9e11", name: "crash", public_keys: { k: pub } };
    cd = {
      path: configDrive(work, { ...meta, hostname: "crash.novalocal" }, ""),
      format: "raw",
      readOnly: true,
    };
  });

  /** Checks the root as seen over SSH: mounted read-write from `dev`, no ext4 complaints; returns the output. */
  async function assertCleanRoot(g: Guest, dev: string): Promise<string> {
    const out = await g.ssh(key, ROOT_STATE);
    assert.match(out, new RegExp(`^root=${dev} rw[,\\n]`, "m"), out);
    assert.doesNotMatch(out, /^complaint: /m, out);
    return out;
  }

  /** Asserts that the root filesystem on a stopped guest's disk is consistent once its journal replays. */
  function assertConsistent(disk: string, when: string): void {
    const r = checkRootFilesystem(disk);
    assert.equal(r.code, 0, `root filesystem ${when}: e2fsck exit ${r.code}\n${r.output}`);
  }

  /** Starts the writer in `dir` and waits until it has written `n` files. */
  async function write(g: Guest, dir: string, n: number): Promise<void> {
    await g.ssh(key, WRITER(dir));
    await until(
      `${n} files written`,
      async () => Number((await g.ssh(key, `cat ${dir}/count 2>/dev/null || echo 0`)).trim()) >= n,
      BOOT_TIMEOUT_MS,
    );
  }

  it("survives a kill mid-boot (mid-resize), a power cut mid-write and a kill mid-write", async (t) => {
    const dir = join(work, "crash");
    mkdirSync(dir);
    const disk = overlay(image.disk, join(dir, "disk.qcow2"));
    const direct = { kernel: image.kernel, initrd: image.ramdisk, append: NOVA_APPEND };

    // First boot (direct kernel boot), killed as growroot grows the root: the root is mounted read-write then.
    let g = await Guest.start({ dir: join(dir, "boot1"), disks: [{ path: disk }, cd], kernel: direct });
    await g.waitConsole(/growroot: \/dev\/vda partition 1 grown/);
    await g.kill();
    assertConsistent(disk, "after a kill mid-boot");

    // From its own boot loader: SSH, the root grown after all; then a power cut while a loop writes.
    g = await Guest.start({ dir: join(dir, "boot2"), disks: [{ path: disk, bootIndex: 0 }, cd] });
    t.diagnostic(`boot after a kill mid-boot: SSH after ${(await g.sshReady(key)).toFixed(1)} s`);
    const grown = await assertCleanRoot(g, "/dev/vda1");
    assert.ok(Number(/^rootkb=(\d+)$/m.exec(grown)?.[1]) > 900_000, `root not grown: ${grown}`);
    await write(g, "w1", 30);
    // A power cut mid-write (QEMU killed), then a new QEMU on the same disk, as the driver's hard reboot does.
    // (QMP system_reset in the same QEMU is not used: under TCG a reset guest sometimes stalls for minutes
    // before its firmware runs again, a QEMU/TCG problem noted in the issue, not one of the guest image.)
    await g.kill();
    g = await Guest.start({ dir: join(dir, "boot3"), disks: [{ path: disk, bootIndex: 0 }, cd] });
    t.diagnostic(`boot after a power cut mid-write: SSH after ${(await g.sshReady(key)).toFixed(1)} s`);
    const replay = g.console();
    assert.match(replay, /was not cleanly unmounted/, "the initramfs checked the root after the power cut");
    await assertCleanRoot(g, "/dev/vda1");
    assert.match(await g.ssh(key, "cat w1/d*/* >/dev/null && echo readable"), /^readable$/m);

    // A kill while the loop writes: consistent on disk as the next boot finds it.
    await write(g, "w2", 30);
    await g.kill();
    assertConsistent(disk, "after a kill mid-write");
  });

  it("rescue boots the rescue disk's root, never writes the server's disk second, which then boots by itself", async () => {
    const dir = join(work, "rescue");
    mkdirSync(dir);
    const server = overlay(image.disk, join(dir, "server.qcow2"));
    const rescueDisk = (name: string) => overlay(image.disk, join(dir, `${name}.qcow2`));
    const marker = "test -e /etc/stratus-server-marker && echo marker=yes || echo marker=no";

    // The server's first boot: a marker file, synced, then a hard stop (its journal left to replay).
    let g = await Guest.start({ dir: join(dir, "server1"), disks: [{ path: server, bootIndex: 0 }, cd] });
    await g.sshReady(key);
    await g.ssh(key, "sudo sh -c 'echo server >/etc/stratus-server-marker && sync'");
    await g.kill();
    const before = join(dir, "server-before.qcow2");
    copyFileSync(server, before);
    const unchanged = () => {
      const r = spawnSync("qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", before, server], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0, `the rescue guest changed the server's disk: ${r.stdout}${r.stderr}`);
    };

    // Rescue from the rescue disk's boot loader (boot index 0; the server's disk is vdb): the rescue root.
    g = await Guest.start({
      dir: join(dir, "rescue1"),
      disks: [{ path: rescueDisk("rescue1"), bootIndex: 0 }, { path: server, bootIndex: 1 }, cd],
    });
    await g.sshReady(key);
    const out = await assertCleanRoot(g, "/dev/vda1");
    assert.match(await g.ssh(key, marker), /^marker=no$/m, out);
    await g.stop(); // unrescue: QEMU quits
    unchanged();

    // Rescue by direct kernel boot with the image's command line (root=LABEL=...), quit mid-boot once the root
    // is mounted read-write.
    g = await Guest.start({
      dir: join(dir, "rescue2"),
      disks: [{ path: rescueDisk("rescue2") }, { path: server }, cd],
      kernel: {
        kernel: image.kernel,
        initrd: image.ramdisk,
        append: image.manifest.cmdline.replace(/\bquiet\b/, "").trim(),
      },
    });
    const [, remounted] = await g.waitConsole(/EXT4-fs \((\w+)\): re-mounted/);
    await g.stop();
    assert.equal(remounted, "vda1", "the rescue guest mounted the wrong root");
    unchanged();

    // The server's disk boots by itself: its own root (the marker), clean.
    g = await Guest.start({ dir: join(dir, "server2"), disks: [{ path: server, bootIndex: 0 }, cd] });
    await g.sshReady(key);
    await assertCleanRoot(g, "/dev/vda1");
    assert.match(await g.ssh(key, marker), /^marker=yes$/m);
    await g.stop();
    assertConsistent(server, "after the unrescue");
  });
});
