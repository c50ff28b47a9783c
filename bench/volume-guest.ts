// Guest rows of the volume benchmark: one TCG guest booted by the qemu driver (as test/volume/drivers/guest-attach
// does: no cloud around it), a raw volume exported by tgtd over iSCSI (CHAP) and a qcow2 volume exported by
// qemu-storage-daemon over NBD, hot-plugged one after the other. "attach -> visible" is timed from the hot-plug
// call to the moment a watcher already running in the guest (over SSH, polling /sys/block every 20 ms) sees the
// device whose serial is the volume id. Then bench/volume-io.ts runs its dd script on each device and on a host
// file in the same volume directory. Everything (guest, exports, daemons, files) is removed at the end.
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QemuDriver } from "../src/compute/drivers/qemu/driver.js";
import { qemuAvailable } from "../src/compute/drivers/qemu/process.js";
import { ensureGuestImage } from "../src/compute/guest-image.js";
import { FileBackend } from "../src/volume/drivers/file.js";
import { NbdTransport } from "../src/volume/drivers/nbd.js";
import { TgtTransport } from "../src/volume/drivers/tgt.js";
import { measureVolumeIo, type VolumeIoFigures, type VolumeIoOptions } from "./volume-io.js";
import { freePort, ssh, sshArgs } from "./guest-ssh.js";

/** A boot under TCG on a loaded 2-core machine, to SSH. */
const BOOT_MS = 600_000;
const GiB = 1024 ** 3;

/** Whether a command is on PATH. */
const has = (cmd: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** Why the guest rows cannot run here, or null. */
export function guestSkipReason(): string | null {
  if (process.getuid?.() !== 0) return "not root (tgtd and the guest image build need root)";
  if (!qemuAvailable()) return "qemu-system-x86_64 is not installed";
  for (const c of ["tgtd", "tgtadm", "qemu-storage-daemon", "qemu-img", "ssh", "ssh-keygen"])
    if (!has(c)) return `${c} is not installed`;
  if (!existsSync("/usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so"))
    return "QEMU's iSCSI initiator is not installed (qemu-block-extra)";
  return null;
}

/** What the guest run measured. */
export interface GuestVolumeFigures {
  /** Hot-plug call -> device seen in the guest, ms, per transport. */
  attachMs: { iscsi: number; nbd: number };
  /** iSCSI, NBD (in the guest), then the host file. */
  io: VolumeIoFigures[];
}

/** Poll `fn` every `everyMs` until it is truthy; fail naming `what` after `ms`. */
async function until<T>(what: string, fn: () => Promise<T>, ms: number, everyMs: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The serial the driver gives a volume's virtio disk. */
const serialOf = (volumeId: string) => volumeId.replace(/[^A-Za-z0-9-]/g, "").slice(0, 20);

/** Run `attach` while a guest-side watcher waits for the volume's device: ms from the call to the sighting, and the device. */
async function timedAttach(
  port: number,
  key: string,
  volumeId: string,
  attach: () => Promise<void>,
): Promise<{ ms: number; dev: string }> {
  const script = `echo ready
while :; do for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = "${serialOf(volumeId)}" ] && { basename $d; exit 0; }; done; usleep 20000 2>/dev/null || sleep 0.02; done`;
  const p = spawn("ssh", sshArgs(port, key));
  let out = "";
  let seenAt = 0;
  p.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (!seenAt && out.split("\n").length > 2) seenAt = performance.now();
  });
  p.stdin.on("error", () => undefined);
  p.stdin.end(script);
  try {
    await until("the guest's device watcher to start", async () => out.startsWith("ready\n"), 60_000, 5);
    const t0 = performance.now();
    await attach();
    await until(`the guest to see volume ${volumeId}`, async () => seenAt > 0, 120_000, 5);
    return { ms: seenAt - t0, dev: out.split("\n")[1]!.trim() };
  } finally {
    p.kill("SIGKILL");
  }
}

/** Boot a guest, attach an iSCSI and an NBD volume, time attach -> visible and the I/O; clean everything up. */
export async function measureGuestVolumes(
  o: VolumeIoOptions = {},
  log: (line: string) => void = () => undefined,
): Promise<GuestVolumeFigures> {
  const image = await ensureGuestImage({ onProgress: (l) => log(`guest image: ${l}`) });
  const dir = mkdtempSync(join(tmpdir(), "stb-vol-"));
  const uuid = randomUUID();
  let drv: QemuDriver | undefined;
  let tgt: TgtTransport | undefined;
  let nbd: NbdTransport | undefined;
  try {
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "key")]);
    const key = join(dir, "key");
    const publicKey = readFileSync(`${key}.pub`, "utf8").trim();
    drv = new QemuDriver({
      stateDir: join(dir, "state"),
      accel: "tcg",
      hostForwardSsh: true,
      metadata: {
        target: { serviceUrl: "http://127.0.0.1:9/", secret: "unused" },
        describe: async (u) => ({
          source: {
            uuid: u,
            internalId: 1,
            name: "volume-bench",
            hostname: "volume-bench",
            projectId: "bench",
            availabilityZone: "nova",
            launchIndex: 0,
            reservationId: "r-bench",
            keyPair: { name: "bench", type: "ssh", publicKey },
            userData: null,
            meta: {},
            flavorName: "bench",
            flavor: { ephemeralGb: 0, swapMb: 0 },
            imageId: "stratus-guest",
            securityGroups: [],
            password: null,
          },
          configDrive: true,
          options: { dhcpDomain: "novalocal", vendorData: {} },
        }),
      },
    });
    await drv.init(`vol-bench-${uuid.slice(0, 8)}`);
    log("booting the guest (TCG)");
    await drv.spawn({
      uuid,
      name: "volume-bench",
      vcpus: 1,
      memoryMb: 256,
      rootGb: Math.ceil(image.manifest.diskVirtualSize / GiB),
      image: { id: "stratus-guest", path: image.disk, format: "qcow2" },
      metadata: {},
    });
    const fwd = await drv.sshForward(uuid);
    if (!fwd) throw new Error("the qemu driver forwarded no SSH port");
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
    );
    log("guest up; exporting the volumes");
    const tport = await freePort();
    tgt = new TgtTransport({ runDir: join(dir, "tgt"), port: tport, controlPort: 10_000 + (tport % 20_000) });
    nbd = new NbdTransport({ runDir: join(dir, "nbd") });
    const b = new FileBackend({ dir: join(dir, "volumes"), holders: () => [tgt!, nbd!] });
    const A = randomUUID();
    const B = randomUUID();
    const recA = await tgt.export(
      A,
      await b.create({ id: A, sizeGb: 1, options: new Map([["file:format", "raw"]]) }),
      {
        readOnly: false,
      },
    );
    const recB = await nbd.export(B, await b.create({ id: B, sizeGb: 1 }), { readOnly: false });
    const ia = tgt.connectionInfo(recA);
    const ib = nbd.connectionInfo(recB);
    if (ia.driver_volume_type !== "iscsi" || ib.driver_volume_type !== "nbd")
      throw new Error("unexpected connection info");
    const a = await timedAttach(port, key, A, () =>
      drv!.attachVolume(uuid, A, {
        type: "iscsi",
        portal: ia.data.target_portal,
        target: ia.data.target_iqn,
        lun: ia.data.target_lun,
        chap: { user: ia.data.auth_username, password: ia.data.auth_password },
      }),
    );
    const n = await timedAttach(port, key, B, () =>
      drv!.attachVolume(uuid, B, {
        type: "nbd",
        socketPath: ib.data.socket_path!,
        export: ib.data.export_name,
      }),
    );
    log(`attached (iSCSI ${Math.round(a.ms)} ms, NBD ${Math.round(n.ms)} ms); running dd`);
    const io = await measureVolumeIo(
      (script) => ssh(port, key, script, 900_000),
      [
        { label: "iSCSI", dev: a.dev },
        { label: "NBD", dev: n.dev },
      ],
      { ...o, hostFile: join(dir, "volumes", "bench.raw") },
    );
    await drv.detachVolume(uuid, A);
    await drv.detachVolume(uuid, B);
    await tgt.unexport(A);
    await nbd.unexport(B);
    await b.delete(A);
    await b.delete(B);
    return { attachMs: { iscsi: a.ms, nbd: n.ms }, io };
  } finally {
    await drv?.destroy(uuid).catch(() => undefined);
    await drv?.close().catch(() => undefined);
    await tgt?.stop().catch(() => undefined);
    await nbd?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Table rows: raw figures of each target, then each guest target over the host file (the ratio). */
export function guestRows(f: GuestVolumeFigures): string[][] {
  const cells = (x: VolumeIoFigures) => [x.seqWriteMiBs, x.seqReadMiBs, x.randWriteIops, x.randReadIops];
  const host = f.io.find((x) => x.label === "host file");
  const rows = f.io.map((x) => [
    x.label === "host file" ? "host file" : `${x.label} in the guest`,
    ...cells(x).map(String),
  ]);
  if (host)
    for (const x of f.io.filter((y) => y !== host))
      rows.push([`${x.label} guest / host`, ...cells(x).map((v, i) => (v / cells(host)[i]!).toFixed(3))]);
  return rows;
}
