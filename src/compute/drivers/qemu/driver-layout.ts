// Where the qemu driver keeps each instance, and the record that describes it. Everything an instance owns lives
// in `<stateDir>/instances/<uuid>/` (disks, config drive, serial log, suspend state, instance.json); its unix
// sockets live in a short per-host directory under the temporary directory, because socket paths must stay under
// 108 bytes. instance.json is the driver's memory across agent restarts: with the pidfile and the QMP socket it is
// all that adoption needs.
import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Vif, VolumeSource } from "../types.js";
import type { QemuKernelBoot } from "./cmdline.js";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One disk file of an instance, as the command line needs it. */
export interface RecordDisk {
  path: string;
  format: "qcow2" | "raw";
}

/** One attached volume: where its blocks are, and its boot order when the server boots from it. */
export interface RecordVolume {
  volumeId: string;
  source: VolumeSource;
  bootIndex?: number;
}

/** What the driver remembers about one instance (instance.json). */
export interface InstanceRecord {
  uuid: string;
  name: string;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  projectId: string;
  imageId: string;
  /** The image's local file when the spawn named one (ImageRef.path) instead of the image service. */
  imagePath?: { path: string; format?: "raw" | "qcow2" };
  root: RecordDisk;
  /** Booted from a volume (bootIndex 0 in `volumes`): `root` names no file and is not on the command line. */
  volumeRoot?: boolean;
  ephemeral?: RecordDisk;
  swap?: RecordDisk;
  configDrive?: RecordDisk;
  /** Direct kernel boot (the image's kernel_id/ramdisk_id), from the image cache. */
  kernel?: QemuKernelBoot;
  vifs: Vif[];
  /** Attached volumes in attach order: each is a virtio disk (serial = volume id) at every boot until detached. */
  volumes?: RecordVolume[];
  /** The PCI slot of each volume and NIC device of the running QEMU (a live migration's destination copies them). */
  pciSlots?: Record<string, number>;
  /** Loopback port forwarded to the guest's SSH port (compute.qemu.hostForwardSsh; tests only). */
  sshPort?: number;
  vncPort: number;
  websocketPort: number;
  /** The guest's memory was saved to suspend.state and QEMU stopped (suspend). */
  suspended?: boolean;
  /** Booted from a rescue disk with the root disk second. */
  rescue?: { disk: RecordDisk; kernel?: QemuKernelBoot };
  /** Cold migration: this is the source, powered off, waiting for confirm or revert. */
  migratingTo?: string;
  /** A same-host resize: the previous root disk and sizes, kept until confirm or revert. */
  resizeBackup?: { root: RecordDisk; vcpus: number; memoryMb: number; rootGb: number };
  /** A live migration's destination, prepared and waiting for the incoming stream (and the base image in this
   *  host's cache the root disk is to name once it is handed over). */
  incoming?: { port: number; backingFile?: RecordDisk };
  /** After a live migration: this host's copy of the root disk's base image, which the disk's header is to name
   *  instead of the source host's; written at its next boot here (no QEMU may have the disk open then). */
  rebaseRoot?: RecordDisk;
}

/** The paths of one instance. */
export interface InstancePaths {
  dir: string;
  record: string;
  root: string;
  ephemeral: string;
  swap: string;
  configDrive: string;
  rescue: string;
  serialLog: string;
  suspendState: string;
  sockDir: string;
  pidfile: string;
  qmpSocket: string;
  serialSocket: string;
  metadataSocket: string;
}

/** The per-host layout under `stateDir`. */
export class DriverLayout {
  readonly instancesDir: string;
  readonly cacheDir: string;
  readonly runDir: string;

  constructor(readonly stateDir: string) {
    this.instancesDir = join(stateDir, "instances");
    this.cacheDir = join(stateDir, "image-cache");
    const tag = createHash("sha256").update(stateDir).digest("hex").slice(0, 10);
    this.runDir = join(tmpdir(), `stratus-q-${tag}`);
  }

  async ensure(): Promise<void> {
    for (const d of [this.instancesDir, this.cacheDir, this.runDir])
      await mkdir(d, { recursive: true, mode: 0o700 });
  }

  paths(uuid: string): InstancePaths {
    if (!UUID_RE.test(uuid)) throw new RangeError(`not a uuid: ${JSON.stringify(uuid)}`);
    const dir = join(this.instancesDir, uuid);
    const sockDir = join(this.runDir, uuid);
    return {
      dir,
      record: join(dir, "instance.json"),
      root: join(dir, "disk"),
      ephemeral: join(dir, "disk.eph0"),
      swap: join(dir, "disk.swap"),
      configDrive: join(dir, "disk.config"),
      rescue: join(dir, "disk.rescue"),
      serialLog: join(dir, "console.log"),
      suspendState: join(dir, "suspend.state"),
      sockDir,
      pidfile: join(sockDir, "qemu.pid"),
      qmpSocket: join(sockDir, "qmp.sock"),
      serialSocket: join(sockDir, "serial.sock"),
      metadataSocket: join(sockDir, "md.sock"),
    };
  }

  /** Uuids with a record on disk, sorted. */
  async listRecorded(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.instancesDir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const n of names) {
      if (!UUID_RE.test(n)) continue;
      if ((await this.load(n)) !== null) out.push(n);
    }
    return out.sort();
  }

  async load(uuid: string): Promise<InstanceRecord | null> {
    try {
      return JSON.parse(await readFile(this.paths(uuid).record, "utf8")) as InstanceRecord;
    } catch {
      return null;
    }
  }

  /** Write the record atomically (rename over the previous one). */
  async save(rec: InstanceRecord): Promise<void> {
    const p = this.paths(rec.uuid);
    const tmp = `${p.record}.tmp`;
    await writeFile(tmp, JSON.stringify(rec, null, 2) + "\n", { mode: 0o600 });
    await rename(tmp, p.record);
  }
}

/** Machine-wide directory where each qemu host names its state directory (migrations between agents here). */
const HOSTS_DIR = join(tmpdir(), "stratus-q-hosts");

/** Record that `host` keeps its instances under `stateDir` (so a peer agent on this machine finds its disks). */
export async function registerHost(host: string, stateDir: string): Promise<void> {
  await mkdir(HOSTS_DIR, { recursive: true, mode: 0o700 });
  const file = join(HOSTS_DIR, encodeURIComponent(host));
  await writeFile(`${file}.tmp`, stateDir);
  await rename(`${file}.tmp`, file);
}

/** The layout of another qemu host on this machine, or null when it never registered. */
export function peerLayout(host: string): DriverLayout | null {
  try {
    return new DriverLayout(readFileSync(join(HOSTS_DIR, encodeURIComponent(host)), "utf8"));
  } catch {
    return null;
  }
}

/** The layout of the peer host that has `uuid`: `host`'s when it does, else any registered host's but `self`. */
export async function peerWith(host: string, uuid: string, self: string): Promise<DriverLayout | null> {
  const named = peerLayout(host);
  if (named && named.stateDir !== self && (await named.load(uuid))) return named;
  let names: string[] = [];
  try {
    names = await readdir(HOSTS_DIR);
  } catch {
    return null;
  }
  for (const n of names) {
    if (n.endsWith(".tmp")) continue;
    const l = peerLayout(decodeURIComponent(n));
    if (l && l.stateDir !== self && (await l.load(uuid))) return l;
  }
  return null;
}
