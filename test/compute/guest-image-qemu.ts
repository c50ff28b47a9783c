// Helpers of the guest image tests: when to skip, SSH into a guest, a config drive, overlays, and Guest: one QEMU
// (TCG, restricted user networking with a forwarded SSH port) on given disks, its serial console in a file, QMP.
import { strict as assert } from "node:assert";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { QmpClient } from "../../src/compute/drivers/qemu/qmp.js";
import { until } from "../helpers/wait.js";
import { freePort, ssh } from "../../bench/guest-ssh.js";
export { freePort, ssh };

/** Whether a command is on PATH. */
export const has = (cmd: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** Why the guest image tests skip here, or false. Outside CI they need QEMU and root (the build loop-mounts). */
export const skipGuestTests: string | false = process.env.CI
  ? false
  : !has("qemu-system-x86_64")
    ? "qemu-system-x86_64 is not installed (npm test installs qemu-system-x86)"
    : process.getuid?.() !== 0
      ? "building the guest image needs root (it loop-mounts the boot filesystem)"
      : false;

/** Bound on one boot to SSH: a loaded 2-core machine under TCG (a healthy boot takes 5-25 s). */
export const BOOT_TIMEOUT_MS = 180_000;

/** A config drive (label config-2): ISO 9660 when an ISO tool is installed, else ext4. Returns its path. */
export function configDrive(dir: string, meta: object, userData: string): string {
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

/** Creates a qcow2 overlay of `base` at `path`, `sizeGb` GiB (the guest grows its root to it). */
export function overlay(base: string, path: string, sizeGb = 1): string {
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, path, `${sizeGb}G`]);
  return path;
}

/** One disk of a guest: virtio-blk, in the order given (the first is vda); bootIndex for SeaBIOS. */
export interface GuestDisk {
  path: string;
  format?: "qcow2" | "raw";
  readOnly?: boolean;
  bootIndex?: number;
}

/** How to start a Guest. */
export interface GuestOptions {
  /** Directory for the console log, QMP socket and pidfile (created). */
  dir: string;
  disks: GuestDisk[];
  /** Direct kernel boot instead of SeaBIOS. */
  kernel?: { kernel: string; initrd: string; append: string };
  /** Guest memory in MiB (default 256). */
  memoryMb?: number;
  /** Run QEMU inside this network namespace (its taps live there; SSH's forwarded port is then unreachable). */
  netns?: string;
  /** NICs on taps (in `netns`), after the user-networking NIC unless `userNet` is false. */
  taps?: Array<{ ifname: string; mac: string }>;
  /** The user-networking NIC with SSH forwarded (default true). */
  userNet?: boolean;
}

const running = new Set<Guest>();

/** Kills every guest still running (call from after()). */
export async function killAllGuests(): Promise<void> {
  await Promise.all([...running].map((g) => g.kill()));
}

/** One QEMU guest; started by Guest.start, ended by kill() (SIGKILL) or stop() (SIGTERM: QEMU quits). */
export class Guest {
  private exited = false;
  private stderr = "";

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly startedAt: number,
    private readonly proc: ChildProcess,
  ) {
    proc.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    proc.on("exit", () => {
      this.exited = true;
      running.delete(this);
    });
  }

  /** Starts QEMU; resolves once its pidfile and QMP socket exist. */
  static async start(o: GuestOptions): Promise<Guest> {
    mkdirSync(o.dir, { recursive: true });
    const port = await freePort();
    const args = ["-accel", "tcg", "-nodefaults", "-display", "none", "-m", String(o.memoryMb ?? 256)];
    args.push("-smp", "2", "-monitor", "none", "-device", "virtio-rng-pci");
    args.push("-serial", `file:${join(o.dir, "console.log")}`, "-pidfile", join(o.dir, "qemu.pid"));
    args.push("-qmp", `unix:${join(o.dir, "qmp.sock")},server=on,wait=off`);
    o.disks.forEach((d, i) => {
      const fmt = d.format ?? "qcow2";
      const ro = d.readOnly ?? false;
      const file = { driver: "file", filename: d.path, "read-only": ro };
      args.push("-blockdev", JSON.stringify({ driver: fmt, "node-name": `d${i}`, "read-only": ro, file }));
      const dev = { driver: "virtio-blk-pci", drive: `d${i}`, id: `disk${i}` };
      args.push(
        "-device",
        JSON.stringify(d.bootIndex === undefined ? dev : { ...dev, bootindex: d.bootIndex }),
      );
    });
    if (o.userNet ?? true) {
      args.push("-netdev", `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`);
      args.push("-device", "virtio-net-pci,netdev=n0");
    }
    (o.taps ?? []).forEach((t, i) => {
      args.push("-netdev", `tap,id=t${i},ifname=${t.ifname},script=no,downscript=no`);
      args.push(
        "-device",
        JSON.stringify({ driver: "virtio-net-pci", netdev: `t${i}`, mac: t.mac, romfile: "" }),
      );
    });
    if (o.kernel)
      args.push("-kernel", o.kernel.kernel, "-initrd", o.kernel.initrd, "-append", o.kernel.append);
    rmSync(join(o.dir, "qemu.pid"), { force: true });
    const startedAt = Date.now();
    // Under timeout(1): if the runner kills this test file before after() runs, the guest still ends by itself.
    const life = String(Math.ceil((3 * BOOT_TIMEOUT_MS) / 1000));
    const cmd = ["timeout", "-k", "5", life, "qemu-system-x86_64", ...args];
    if (o.netns !== undefined) cmd.unshift("ip", "netns", "exec", o.netns);
    const p = spawn(cmd[0], cmd.slice(1), {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const g = new Guest(o.dir, port, startedAt, p);
    running.add(g);
    await until(
      "QEMU to start",
      () => {
        assert.ok(!g.exited, `qemu exited: ${g.stderr}`);
        return existsSync(join(o.dir, "qemu.pid")) && existsSync(join(o.dir, "qmp.sock"));
      },
      30_000,
    );
    return g;
  }

  /** The serial console so far. */
  console(): string {
    const f = join(this.dir, "console.log");
    return existsSync(f) ? readFileSync(f, "latin1") : "";
  }

  /** Waits until the console (from byte `from` on) matches `re`; returns the match. */
  waitConsole(re: RegExp, timeoutMs = BOOT_TIMEOUT_MS, from = 0): Promise<RegExpMatchArray> {
    return until(
      `console to match ${re}`,
      () => {
        assert.ok(!this.exited, `qemu exited: ${this.stderr}\n${this.console().slice(-2000)}`);
        return this.console().slice(from).match(re);
      },
      timeoutMs,
    ).catch((e: Error) => {
      // What the guest printed says where it stopped (a hang in boot, a user-data script that never ran).
      throw new Error(`${e.message}; console:\n${this.console().slice(-3000)}`);
    });
  }

  /** Runs a script over SSH with `key`. */
  ssh(key: string, script: string, timeoutMs?: number): Promise<string> {
    return ssh(this.port, key, script, timeoutMs);
  }

  /** Waits until SSH with `key` works; returns seconds since QEMU started. */
  async sshReady(key: string, timeoutMs = BOOT_TIMEOUT_MS): Promise<number> {
    await until(
      "SSH to the guest",
      () => {
        assert.ok(!this.exited, `qemu exited: ${this.stderr}\n${this.console().slice(-3000)}`);
        return this.ssh(key, "true", 15_000).then(
          () => true,
          () => false,
        );
      },
      timeoutMs,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; console:\n${this.console().slice(-3000)}`);
    });
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Runs one QMP command; resolves with its return value. */
  async qmp(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const qmp = await QmpClient.connect(join(this.dir, "qmp.sock"));
    try {
      return await qmp.execute(command, args);
    } finally {
      qmp.close();
    }
  }

  private pid(): number {
    return Number(readFileSync(join(this.dir, "qemu.pid"), "utf8").trim());
  }

  /** SIGKILL to QEMU itself (not to timeout(1)); resolves when it is gone. */
  async kill(): Promise<void> {
    if (this.exited) return;
    try {
      process.kill(this.pid(), "SIGKILL");
    } catch {
      this.proc.kill("SIGKILL");
    }
    await until("QEMU to exit", () => this.exited, 30_000);
  }

  /** SIGTERM: QEMU quits (the guest gets no shutdown); resolves when it is gone. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.proc.kill("SIGTERM"); // timeout(1) passes it on
    await until("QEMU to exit", () => this.exited, 30_000);
  }
}

/** The byte offset of the partition holding the ext filesystem labelled `label` in a raw MBR disk image. */
function partitionOffset(raw: string, label: string): number {
  const fd = openSync(raw, "r");
  try {
    const mbr = Buffer.alloc(512);
    readSync(fd, mbr, 0, 512, 0);
    for (let i = 0; i < 4; i++) {
      const start = mbr.readUInt32LE(446 + 16 * i + 8) * 512;
      if (start === 0) continue;
      const sb = Buffer.alloc(1024);
      readSync(fd, sb, 0, 1024, start + 1024);
      const name = sb.subarray(120, 136).toString("latin1").replace(/\0+$/, "");
      if (sb.readUInt16LE(56) === 0xef53 && name === label) return start;
    }
  } finally {
    closeSync(fd);
  }
  throw new Error(`no partition labelled ${label} in ${raw}`);
}

/**
 * Whether the root filesystem on a stopped guest's disk is consistent as its next boot will find it: on a raw copy,
 * e2fsck replays the journal (if any), then checks everything without changing anything (-f -n). Returns e2fsck's
 * exit code (0: consistent) and output.
 */
export function checkRootFilesystem(disk: string, label = "cirros-rootfs"): { code: number; output: string } {
  const raw = `${disk}.check.raw`;
  try {
    execFileSync("qemu-img", ["convert", "-q", "-O", "raw", disk, raw]);
    const dev = `${raw}?offset=${partitionOffset(raw, label)}`;
    const replay = spawnSync("e2fsck", ["-E", "journal_only", "-p", dev], { encoding: "utf8" });
    const check = spawnSync("e2fsck", ["-f", "-n", dev], { encoding: "utf8" });
    return {
      code: check.status ?? -1,
      output: `${replay.stdout}${replay.stderr}${check.stdout}${check.stderr}`,
    };
  } finally {
    rmSync(raw, { force: true });
  }
}
