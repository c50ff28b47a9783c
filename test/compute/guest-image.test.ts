// The built-in guest image: build it (cached), check its manifest, then boot it twice under TCG, from its own boot
// loader and by direct kernel boot, each with a config drive, and check over SSH what Tempest relies on.
import { strict as assert } from "node:assert";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureGuestImage, type GuestImage } from "../../src/compute/guest-image.js";
import { freePort, ssh } from "../../bench/guest-ssh.js";

const CI = !!process.env.CI;
const has = (cmd: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
// Outside CI the test needs what `npm test` installs and root (the build loop-mounts); under CI it must run.
const skip = CI
  ? false
  : !has("qemu-system-x86_64")
    ? "qemu-system-x86_64 is not installed (npm test installs qemu-system-x86)"
    : process.getuid?.() !== 0
      ? "building the guest image needs root (it loop-mounts the root filesystem)"
      : false;

const BOOT_TIMEOUT_MS = 180_000; // a loaded 2-core machine under TCG; a healthy boot takes 5-25 s
const work = mkdtempSync(join(tmpdir(), "stratus-guest-image-"));
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM"); // timeout(1) passes it on to QEMU
  rmSync(work, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a value other than undefined, or fails after timeoutMs. */
async function waitFor<T>(what: string, timeoutMs: number, fn: () => T | undefined | Promise<T | undefined>) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The config drive for a boot: ISO 9660 when an ISO tool is installed, else ext4; label config-2 either way. */
function configDrive(dir: string, meta: object, userData: string): string {
  const tree = join(dir, "cd");
  mkdirSync(join(tree, "openstack", "latest"), { recursive: true });
  writeFileSync(join(tree, "openstack", "latest", "meta_data.json"), JSON.stringify(meta));
  writeFileSync(join(tree, "openstack", "latest", "user_data"), userData);
  const img = join(dir, "config.img");
  const iso = ["xorriso", "genisoimage"].find(has);
  const isoArgs = ["-quiet", "-R", "-J", "-V", "config-2", "-o", img, tree];
  if (iso === "xorriso") execFileSync("xorriso", ["-as", "mkisofs", ...isoArgs], { stdio: "ignore" });
  else if (iso) execFileSync(iso, isoArgs, { stdio: "ignore" });
  else execFileSync("mkfs.ext4", ["-q", "-L", "config-2", "-d", tree, img, "4M"], { stdio: "ignore" });
  return img;
}

interface Boot {
  console: string;
  port: number;
  startedAt: number;
  uuid: string;
  name: string;
}

/** Starts QEMU (TCG, restricted user networking with one forwarded SSH port) on an overlay of the image. */
async function boot(image: GuestImage, keys: string[], name: string, direct: boolean): Promise<Boot> {
  const dir = join(work, name);
  mkdirSync(dir);
  const uuid = randomUUID();
  const overlay = join(dir, "disk.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", image.disk, overlay, "1G"]);
  const publicKeys = Object.fromEntries(
    keys.map((k, i) => [`k${i}`, readFileSync(`${k}.pub`, "utf8").trim()]),
  );
  const meta = {
    uuid,
    name,
    hostname: `${name}.novalocal`,
    availability_zone: "nova",
    public_keys: publicKeys,
  };
  const cd = configDrive(dir, meta, `#!/bin/sh\necho "USERDATA-OUTPUT $(hostname)"\n`);
  const port = await freePort();
  const consoleLog = join(dir, "console.log");
  const args = ["-accel", "tcg", "-nodefaults", "-nographic", "-m", "256", "-smp", "2", "-monitor", "none"];
  args.push("-serial", `file:${consoleLog}`, "-device", "virtio-rng-pci");
  args.push("-drive", `file=${overlay},format=qcow2,if=virtio`);
  args.push("-drive", `file=${cd},format=raw,if=virtio,readonly=on`);
  args.push("-netdev", `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`);
  args.push("-device", "virtio-net-pci,netdev=n0");
  // Direct kernel boot the way Nova does it for aki/ari images: the whole disk as root=/dev/vda.
  if (direct)
    args.push(
      "-kernel",
      image.kernel,
      "-initrd",
      image.ramdisk,
      "-append",
      "root=/dev/vda console=tty0 console=ttyS0",
    );
  const startedAt = Date.now();
  // Under timeout(1): if the runner kills this test file before after() runs, the guest still ends by itself.
  const life = String(Math.ceil((2 * BOOT_TIMEOUT_MS) / 1000));
  const p = spawn("timeout", ["-k", "5", life, "qemu-system-x86_64", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  procs.push(p);
  let stderr = "";
  p.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  p.on("exit", (code) => {
    if (code) stderr += `\n(qemu exited ${code})`;
  });
  await sleep(200);
  assert.equal(p.exitCode, null, `qemu did not start: ${stderr}`);
  return { console: consoleLog, port, startedAt, uuid, name };
}

/** Waits until the guest accepts SSH with key; returns seconds from QEMU start. */
async function sshReady(b: Boot, key: string): Promise<number> {
  await waitFor(`SSH to ${b.name}`, BOOT_TIMEOUT_MS, () =>
    ssh(b.port, key, "true", 15_000).then(
      () => true,
      () => undefined,
    ),
  );
  return (Date.now() - b.startedAt) / 1000;
}

const consoleText = (b: Boot) => (existsSync(b.console) ? readFileSync(b.console, "latin1") : "");

describe("guest image", { skip }, () => {
  let image: GuestImage;
  const key = (type: string) => join(work, `id_${type}`);

  before(async () => {
    image = await ensureGuestImage({ onProgress: (l) => process.stderr.write(`# guest-image: ${l}\n`) });
    for (const type of ["ecdsa", "rsa", "ed25519"])
      execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `test-${type}`, "-f", key(type)]);
  });

  it("is built once, under 40 MB, and its manifest matches its files", async () => {
    const progress: string[] = [];
    const again = await ensureGuestImage({ onProgress: (l) => progress.push(l) });
    assert.equal(again.dir, image.dir);
    assert.ok(
      progress.some((l) => l.startsWith("cached:")),
      `second run rebuilt: ${progress.join("; ")}`,
    );
    const m = image.manifest;
    assert.match(m.version, /^\d+\.\d+-[0-9a-f]{10}$/);
    assert.equal(m.user, "cirros");
    for (const [name, f] of Object.entries(m.files)) {
      const path = join(image.dir, name);
      assert.equal(statSync(path).size, f.size, name);
      assert.equal(createHash("sha256").update(readFileSync(path)).digest("hex"), f.sha256, name);
    }
    assert.ok(
      m.files["disk.qcow2"].size <= 40 * 1024 * 1024,
      `disk.qcow2 is ${m.files["disk.qcow2"].size} bytes`,
    );
    const info = JSON.parse(
      execFileSync("qemu-img", ["info", "-f", "qcow2", "--output=json", image.disk], { encoding: "utf8" }),
    );
    assert.equal(info["virtual-size"], m.diskVirtualSize);
  });

  it("boots from its own boot loader: metadata applied, login prompt, SSH (ecdsa), Tempest's tools", async (t) => {
    const b = await boot(image, [key("ecdsa"), key("rsa"), key("ed25519")], "test-vm1", false);
    const secs = await sshReady(b, key("ecdsa"));
    t.diagnostic(`disk boot to SSH: ${secs.toFixed(1)} s under TCG`);
    const out = await ssh(
      b.port,
      key("ecdsa"),
      [
        "set -eu -o pipefail",
        'echo "hostname=$(hostname)"',
        'echo "nproc=$(nproc)"',
        'echo "vda=$(lsblk -bdno SIZE /dev/vda)"',
        "df -k / | awk 'NR == 2 { print \"rootkb=\" $2 }'",
        "lsblk",
        "blkid | grep -q cirros-rootfs && echo blkid-user=ok",
        "sudo blkid",
        "curl --version | head -n 1",
        'echo "sudo=$(sudo id -u)"',
        'echo "umask=$(umask)"',
        "ls /var/run/udhcpc.eth0.pid",
        'echo "version=$(cat /etc/stratus/version)"',
        "for c in ip ping nc awk cut mount mke2fs mkfs.ext4 hostname sync; do command -v $c; done",
        "truncate -s 8M /tmp/fs && mkfs.ext4 -q -t ext4 -F /tmp/fs && echo mkfs=ok",
      ].join("\n"),
    );
    const value = (k: string) => new RegExp(`^${k}=(.*)$`, "m").exec(out)?.[1];
    assert.equal(value("hostname"), "test-vm1");
    assert.equal(value("nproc"), "2");
    assert.equal(value("vda"), String(1024 ** 3));
    assert.ok(Number(value("rootkb")) > 900_000, `root not grown to the disk: ${value("rootkb")} KiB`);
    assert.match(out, /LABEL="config-2"/);
    assert.match(out, /LABEL="cirros-rootfs"/);
    assert.match(out, /^curl \d/m);
    assert.equal(value("sudo"), "0");
    // Sessions get dropbear's umask: files users make (also with sudo) stay readable, not stratus-cloud-init's 077.
    assert.equal(value("umask"), "0022");
    assert.equal(value("version"), image.manifest.version);
    assert.equal(value("mkfs"), "ok");
    assert.equal(value("blkid-user"), "ok");
    assert.match(out, /^\/usr\/bin\/mkfs\.ext4$/m);
    const log = await waitFor("the login prompt", 60_000, () => {
      const text = consoleText(b);
      return /test-vm1 login:/.test(text) ? text : undefined;
    });
    assert.match(log, /=== stratus guest /);
    assert.match(log, /datasource: config drive/);
    assert.match(log, new RegExp(`instance-id: ${b.uuid}`));
    assert.match(log, /hostname: test-vm1\r?\n/);
    assert.match(log, /public keys installed for cirros: 3/);
    assert.match(log, /USERDATA-OUTPUT test-vm1/);
  });

  it("boots directly from its kernel and initramfs (root=/dev/vda) into the same userspace, RSA and ed25519 keys", async (t) => {
    const b = await boot(image, [key("ecdsa"), key("rsa"), key("ed25519")], "test-vm2", true);
    const secs = await sshReady(b, key("ed25519"));
    t.diagnostic(`direct kernel boot to SSH: ${secs.toFixed(1)} s under TCG`);
    const out = await ssh(
      b.port,
      key("rsa"),
      'echo "hostname=$(hostname)"; cat /proc/cmdline; cat /etc/stratus/version',
    );
    assert.match(out, /^hostname=test-vm2$/m);
    assert.match(out, /root=\/dev\/vda console=tty0/);
    assert.match(out, new RegExp(`^${image.manifest.version.replace(".", "\\.")}$`, "m"));
    await waitFor("the login prompt", 60_000, () =>
      /test-vm2 login:/.test(consoleText(b)) ? true : undefined,
    );
  });
});
