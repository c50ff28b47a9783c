// The qemu driver's shared machinery: its options, the per-host state (layout, image cache, accelerator, the live
// QEMUs with their serial logs and metadata listeners), and the few primitives every concern builds on: start an
// instance's QEMU from its record, stop it, read its power state, adopt one a previous agent started.
import { createServer, type Server } from "node:net";
import { appendFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { runQemuImg } from "../../../shared/qemu-img.js";
import { listenForInstance, type InstanceListener, type ProxyTarget } from "../../metadata/proxy.js";
import { METADATA_ADDRESS, SLIRP_NET } from "../../metadata/proxy.js";
import type { InstanceMetadataSource, MetadataOptions } from "../../metadata/types.js";
import { InstanceNotFound, InvalidPowerState, OperationFailed } from "../errors.js";
import { PowerState, type Vif } from "../types.js";
import type { AccelDecision, AccelSetting } from "./accel.js";
import type { QemuDisk, QemuNic, QemuSpec } from "./cmdline.js";
import { DriverLayout, type InstanceRecord } from "./driver-layout.js";
import { blockdevFor, chapSecretId } from "./driver-hotplug.js";
import type { ImageSource } from "./driver-images.js";
import { ImageCache } from "./image-cache.js";
import { metadataForwardCommand } from "./metadata-forward.js";
import { adoptQemu, isOurQemu, pidAlive, readPidfile, startQemu, type QemuProcess } from "./process.js";
import { SerialLog } from "./serial-log.js";

const { RUNNING, SHUTDOWN, SUSPENDED, NOSTATE } = PowerState;

/** What the metadata of an instance is, looked up when it is built (config drive) and served (metadata service). */
export interface QemuMetadataProvider {
  /** The metadata service guests reach through their per-instance listener. */
  target: ProxyTarget;
  /** The instance's metadata source, whether it gets a config drive, and deployment options; undefined: unknown. */
  describe(
    uuid: string,
  ): Promise<{ source: InstanceMetadataSource; configDrive: boolean; options: MetadataOptions } | undefined>;
}

/** How the qemu driver is set up (compute.qemu in the configuration, plus what the cloud hands it). */
export interface QemuDriverOptions {
  /** Where instances, the image cache and the accelerator probe's cache live. */
  stateDir: string;
  /** The image service; without it only images already in the cache can boot. */
  images?: ImageSource;
  /** Metadata service and config drive content; without it guests get neither. */
  metadata?: QemuMetadataProvider;
  /** "auto" (probe KVM once per host), "kvm" or "tcg". Default auto. */
  accel?: AccelSetting;
  /** Forward a free loopback port to each guest's port 22 (tests; guests have no other route in). */
  hostForwardSsh?: boolean;
  /** Seconds a soft reboot waits for the guest to power off before resetting it (default 60). */
  softRebootTimeoutS?: number;
  /** Seconds device removal waits for the guest to release the device (DEVICE_DELETED; default 10). */
  hotplugTimeoutS?: number;
  /** Host capacity reported to placement (defaults: the machine's CPUs, memory and 100 GiB). */
  vcpus?: number;
  memoryMb?: number;
  diskGb?: number;
  /** The emulator binary (default qemu-system-x86_64). */
  binary?: string;
  /** TCG translation cache per guest, MiB (default 64: QEMU's own default reserves 1 GiB per guest). */
  tcgTbSizeMb?: number;
  log?: Logger;
}

/** One instance's live attachments (absent while its QEMU is not running). */
export interface LiveInstance {
  proc: QemuProcess;
  serial?: SerialLog;
}

/**
 * `count` distinct free loopback ports, each at least `min` (a VNC port must be 5900 or more: its display number
 * is port - 5900). Every probe stays open until all are picked, so no two picks are the same port: ports taken
 * one after another could be (the kernel may hand a just-closed port out again).
 */
export async function freePorts(count: number, min = 1): Promise<number[]> {
  const open: Server[] = [];
  const ports: number[] = [];
  try {
    // Bounded: ports below `min` are rare among ephemeral ones.
    for (let tries = 0; ports.length < count && tries < count + 100; tries++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => resolve());
      });
      open.push(s);
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      if (port >= min) ports.push(port);
    }
  } finally {
    await Promise.all(open.map((s) => new Promise((r) => s.close(r))));
  }
  if (ports.length < count) throw new Error(`no ${count} free loopback ports of at least ${min}`);
  return ports;
}

/** Which core of this process holds each QEMU's QMP monitor (it takes one client): a new driver takes over. */
const holders = new Map<string, QemuCore>();

/** The per-host state every concern of the driver shares. */
export class QemuCore {
  readonly layout: DriverLayout;
  readonly cache: ImageCache;
  readonly live = new Map<string, LiveInstance>();
  readonly listeners = new Map<string, InstanceListener>();
  accel: AccelDecision | undefined;
  host: string | undefined;

  constructor(readonly opts: QemuDriverOptions) {
    this.layout = new DriverLayout(opts.stateDir);
    this.cache = new ImageCache({
      dir: this.layout.cacheDir,
      fetch: (id, signal) => {
        if (!opts.images) throw new OperationFailed(id, "fetch image", "no image service configured");
        return opts.images.fetch(id, signal);
      },
    });
  }

  get log(): Logger | undefined {
    return this.opts.log;
  }

  /** The record of `uuid`, or InstanceNotFound. */
  async record(uuid: string, action = "use"): Promise<InstanceRecord> {
    let rec: InstanceRecord | null = null;
    try {
      rec = await this.layout.load(uuid);
    } catch {
      rec = null;
    }
    if (!rec) throw new InstanceNotFound(uuid);
    void action;
    return rec;
  }

  /** The live QEMU of `uuid` when its process still runs; drops attachments of a dead one. */
  async liveOf(uuid: string): Promise<LiveInstance | undefined> {
    const l = this.live.get(uuid);
    if (l && l.proc.isAlive() && l.proc.qmp.isOpen) return l;
    if (l) await this.forget(uuid);
    // A QEMU that runs but is not attached (adoption failed at init, or a monitor that was busy): try again.
    if (await this.qemuRunning(uuid)) {
      const rec = await this.layout.load(uuid);
      if (rec) return this.adopt(rec);
    }
    return undefined;
  }

  /** Whether the instance's pidfile names its live QEMU. */
  async qemuRunning(uuid: string): Promise<boolean> {
    const pid = await readPidfile(this.layout.paths(uuid).pidfile);
    return pid !== null && isOurQemu(pid, uuid);
  }

  /** Close a QEMU's attachments in this process (the QEMU itself is not touched). */
  async forget(uuid: string): Promise<void> {
    const l = this.live.get(uuid);
    this.live.delete(uuid);
    if (!l) return;
    if (holders.get(l.proc.location.qmpSocket) === this) holders.delete(l.proc.location.qmpSocket);
    l.proc.qmp.close();
    await l.serial?.close().catch(() => {});
  }

  /** The power state: QEMU's run state when it runs, else SUSPENDED (state saved) or SHUTDOWN. */
  async powerState(rec: InstanceRecord): Promise<PowerState> {
    const l = await this.liveOf(rec.uuid);
    if (!l) {
      // Running but unreachable over QMP: not known to be off (the power sync must not stop it).
      if (rec.incoming || (await this.qemuRunning(rec.uuid))) return NOSTATE;
      return rec.suspended ? SUSPENDED : SHUTDOWN;
    }
    try {
      return await l.proc.powerState();
    } catch {
      return (await this.liveOf(rec.uuid)) ? NOSTATE : SHUTDOWN;
    }
  }

  /** Throw InvalidPowerState unless the instance is in one of `allowed`; returns its state. */
  async expect(rec: InstanceRecord, action: string, allowed: readonly PowerState[]): Promise<PowerState> {
    const st = await this.powerState(rec);
    if (!allowed.includes(st)) throw new InvalidPowerState(rec.uuid, action, st, allowed);
    return st;
  }

  /** The metadata listener of an instance (started once; its socket is what the guestfwd pipe connects to). */
  async ensureMetadataListener(rec: InstanceRecord): Promise<boolean> {
    const md = this.opts.metadata;
    if (!md) return false;
    if (this.listeners.has(rec.uuid)) return true;
    const p = this.layout.paths(rec.uuid);
    await mkdir(p.sockDir, { recursive: true, mode: 0o700 });
    const l = await listenForInstance(
      md.target,
      { instanceId: rec.uuid, projectId: rec.projectId },
      { path: p.metadataSocket },
      this.log,
    );
    this.listeners.set(rec.uuid, l);
    return true;
  }

  async closeMetadataListener(uuid: string): Promise<void> {
    const l = this.listeners.get(uuid);
    this.listeners.delete(uuid);
    await l?.close().catch(() => {});
  }

  /** The QEMU command line of an instance as its record says (rescue disk first when rescued). */
  qemuSpec(rec: InstanceRecord, withMetadata: boolean, incoming = false): QemuSpec {
    const p = this.layout.paths(rec.uuid);
    const disks: QemuDisk[] = [];
    const kernel = rec.rescue ? rec.rescue.kernel : rec.kernel;
    // Boot order for SeaBIOS; with -kernel, QEMU's linuxboot ROM takes boot index 0 itself.
    const idx = (i: number) => (kernel ? {} : { bootIndex: i });
    if (rec.rescue) disks.push({ id: "rescue", ...rec.rescue.disk, ...idx(0) });
    if (!rec.volumeRoot) disks.push({ id: "root", ...rec.root, ...idx(rec.rescue ? 1 : 0) });
    if (rec.ephemeral) disks.push({ id: "eph0", ...rec.ephemeral });
    if (rec.swap) disks.push({ id: "swap", ...rec.swap });
    if (rec.configDrive) disks.push({ id: "config", ...rec.configDrive, media: "cdrom", readOnly: true });
    // One NIC per vif: the port's tap when the network agent made one (the network's MTU), else restricted user
    // networking (no route off the host). A user-mode first NIC carries the metadata service and SSH.
    const vifs = rec.vifs.length > 0 ? rec.vifs : [{ id: "default", address: macFor(rec.uuid) }];
    // An incoming guest's hot-plugged devices are where the source's QEMU put them (or its state would not load).
    const slots = new Map(incoming ? Object.entries(rec.pciSlots ?? {}) : []);
    const slotOf = (id: string) => (slots.has(id) ? { slot: slots.get(id)! } : {});
    const firstUser = !(vifs[0] as Vif).tapName;
    const nics: QemuNic[] = vifs.map((v: Vif, i) => ({
      id: rec.vifs.length > 0 ? nicDeviceId(v.id) : "nic0",
      mac: v.address,
      ...(v.mtu ? { mtu: v.mtu } : {}),
      backend: v.tapName
        ? { type: "tap", ifname: v.tapName }
        : {
            type: "user",
            net: SLIRP_NET,
            hostForwards:
              i === 0 && firstUser && rec.sshPort ? [{ hostPort: rec.sshPort, guestPort: 22 }] : [],
            guestForwards:
              i === 0 && firstUser && withMetadata
                ? [
                    {
                      guestAddr: METADATA_ADDRESS,
                      guestPort: 80,
                      command: metadataForwardCommand(p.metadataSocket),
                    },
                  ]
                : [],
          },
    }));
    return {
      uuid: rec.uuid,
      // i440fx: its PCI bus takes hot-plugged NICs and disks (q35's root complex needs root ports for that).
      machine: "pc",
      accel: this.accel?.accel ?? "tcg",
      ...(this.accel?.accel !== "kvm" ? { tcgTbSizeMb: this.opts.tcgTbSizeMb ?? 64 } : {}),
      vcpus: rec.vcpus,
      memoryMb: rec.memoryMb,
      qmpSocket: p.qmpSocket,
      pidfile: p.pidfile,
      serialSocket: p.serialSocket,
      vnc: { display: rec.vncPort - 5900, websocketPort: rec.websocketPort },
      disks,
      volumes: (rec.volumes ?? [])
        .map((v) => ({
          id: volumeDeviceId(v.volumeId),
          blockdev: blockdevFor(`${volumeDeviceId(v.volumeId)}-fmt`, v.source),
          ...(v.source.type === "iscsi" && v.source.chap
            ? { secretFile: join(p.sockDir, chapSecretId(volumeDeviceId(v.volumeId))) }
            : {}),
          serial: volumeSerial(v.volumeId),
          ...(v.source.shared ? { shareRw: true } : {}),
          ...(v.bootIndex !== undefined && !kernel ? { bootIndex: v.bootIndex } : {}),
        }))
        .map((v) => ({ ...v, ...slotOf(v.id) })),
      nics: nics.map((n) => ({ ...n, ...slotOf(n.id) })),
      ...(kernel ? { kernel } : {}),
      ...(incoming ? { incoming: "defer" as const } : {}),
    };
  }

  /**
   * Start the instance's QEMU, paused; attach the serial log before its vCPUs run; then `cont` (unless `paused`
   * or incoming). The metadata listener is started first (the guest may ask at once).
   */
  async boot(rec: InstanceRecord, o: { paused?: boolean; incoming?: boolean } = {}): Promise<LiveInstance> {
    const p = this.layout.paths(rec.uuid);
    await this.rebaseRoot(rec);
    await mkdir(p.sockDir, { recursive: true, mode: 0o700 });
    // CHAP passwords of iSCSI volumes reach QEMU as secret files (never on its command line).
    for (const v of rec.volumes ?? [])
      if (v.source.type === "iscsi" && v.source.chap)
        await writeFile(join(p.sockDir, chapSecretId(volumeDeviceId(v.volumeId))), v.source.chap.password, {
          mode: 0o600,
        });
    const withMd = await this.ensureMetadataListener(rec);
    await appendFile(p.serialLog, `[stratus] starting QEMU (${this.accel?.accel ?? "tcg"})\r\n`, {
      mode: 0o600,
    });
    let serial: SerialLog | undefined;
    const proc = await startQemu(this.qemuSpec(rec, withMd, o.incoming), {
      binary: this.opts.binary,
      paused: o.paused,
      beforeCont: async (pr) => {
        serial = await SerialLog.attach(p.serialSocket, p.serialLog);
        void pr;
      },
    });
    const l: LiveInstance = { proc, serial };
    this.live.set(rec.uuid, l);
    holders.set(p.qmpSocket, this);
    await this.notePciSlots(rec, l);
    return l;
  }

  /** Remember where the running QEMU has each volume and NIC on PCI bus 0 (after a boot or a hot-plug). */
  async notePciSlots(rec: InstanceRecord, l: LiveInstance): Promise<void> {
    const buses = await l.proc.qmp.execute("query-pci").catch((err: Error) => {
      this.log?.warn({ uuid: rec.uuid, err: err.message }, "PCI slots not known: a live migration may fail");
      return null;
    });
    if (!buses) return;
    const slots: Record<string, number> = {};
    for (const d of buses.find((b) => b.bus === 0)?.devices ?? [])
      if (/^(vol-|nic)/.test(d.qdev_id)) slots[d.qdev_id] = d.slot;
    rec.pciSlots = slots;
    await this.layout.save(rec);
  }

  /**
   * Name this host's copy of the root disk's base image in its header (InstanceRecord.rebaseRoot), just before a
   * QEMU of this host opens the disk: no other QEMU has it then (at a stop it could: a live migration's destination).
   */
  async rebaseRoot(rec: InstanceRecord): Promise<void> {
    const to = rec.rebaseRoot;
    if (!to) return;
    await runQemuImg(["rebase", "-q", "-u", "-f", "qcow2", "-F", to.format, "-b", to.path, rec.root.path], {
      timeoutMs: 60_000,
    });
    delete rec.rebaseRoot;
    await this.layout.save(rec);
  }

  /** Re-attach to a QEMU a previous agent started (pidfile + QMP socket); undefined when none runs. */
  async adopt(rec: InstanceRecord): Promise<LiveInstance | undefined> {
    const p = this.layout.paths(rec.uuid);
    const pid = await readPidfile(p.pidfile);
    if (pid === null || !pidAlive(pid)) {
      await this.cleanSockets(rec.uuid);
      return undefined;
    }
    const previous = holders.get(p.qmpSocket);
    if (previous && previous !== this) {
      await previous.forget(rec.uuid);
      await previous.closeMetadataListener(rec.uuid);
    }
    try {
      const proc = await adoptQemu(
        {
          uuid: rec.uuid,
          pidfile: p.pidfile,
          qmpSocket: p.qmpSocket,
          extraSockets: [p.serialSocket],
        },
        { timeoutMs: 3_000 },
      );
      const serial = await SerialLog.attach(p.serialSocket, p.serialLog).catch(() => undefined);
      const l = { proc, serial };
      this.live.set(rec.uuid, l);
      holders.set(p.qmpSocket, this);
      await this.ensureMetadataListener(rec);
      return l;
    } catch (err) {
      this.log?.warn({ uuid: rec.uuid, err: (err as Error).message }, "could not adopt a QEMU");
      return undefined;
    }
  }

  /**
   * Stop the instance's QEMU: ACPI power-down and wait up to `timeoutS` when asked, then quit (SIGKILL if it
   * lingers). Leaves no process, pidfile or socket behind.
   */
  async stop(uuid: string, timeoutS = 0): Promise<void> {
    const l = await this.liveOf(uuid);
    if (l) {
      if (timeoutS > 0) {
        await l.proc.qmp.execute("system_powerdown").catch(() => {});
        const deadline = performance.now() + timeoutS * 1000;
        while (l.proc.isAlive() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      }
      if (l.proc.isAlive()) await l.proc.quit(10_000);
      else l.proc.qmp.close();
    }
    await this.forget(uuid);
    await this.cleanSockets(uuid);
  }

  /** Remove a dead QEMU's sockets and pidfile (QEMU leaves them when killed). */
  async cleanSockets(uuid: string): Promise<void> {
    const p = this.layout.paths(uuid);
    const pid = await readPidfile(p.pidfile);
    if (pid !== null && pidAlive(pid)) return;
    for (const f of [p.pidfile, p.qmpSocket, p.serialSocket]) await rm(f, { force: true });
  }

  /** Require a running QEMU (for QMP commands). */
  async requireLive(
    rec: InstanceRecord,
    action: string,
    allowed: readonly PowerState[],
  ): Promise<LiveInstance> {
    await this.expect(rec, action, allowed);
    const l = await this.liveOf(rec.uuid);
    if (!l) throw new InvalidPowerState(rec.uuid, action, SHUTDOWN, allowed);
    return l;
  }
}

/** The QEMU device id of a volume's disk (the hot-plug code uses the same); its node names stay under 32 bytes. */
export const volumeDeviceId = (volumeId: string): string =>
  `vol-${volumeId.replace(/[^A-Za-z0-9]/g, "").slice(0, 20)}`;

/** The serial a volume's disk shows the guest: the volume id, cut to virtio-blk's 20 characters (as Nova's). */
export const volumeSerial = (volumeId: string): string => volumeId.replace(/[^A-Za-z0-9-]/g, "").slice(0, 20);

/** The QEMU device id of a port's NIC (the hot-plug code uses the same). */
export const nicDeviceId = (portId: string): string =>
  `nic-${portId.replace(/[^A-Za-z0-9]/g, "").slice(0, 24)}`;

/** A stable locally administered MAC for an instance with no vif (Nova's fa:16:3e prefix). */
export function macFor(uuid: string): string {
  const h = uuid.replace(/-/g, "");
  return `fa:16:3e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

export { RUNNING };
