// The qemu virt driver: one supervised qemu-system-x86_64 per instance, controlled over QMP, no libvirt (as Incus
// does it). This class is the VirtDriver face; each concern lives in its own module (driver-lifecycle, -power,
// -moves, -hotplug) over the shared QemuCore. Guests outlive the agent: init() re-adopts every running QEMU from
// its pidfile and QMP socket, and an instance whose QEMU died is simply SHUTDOWN.
import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";
import { statfs } from "node:fs/promises";
import { DriverNotInitialized, InstanceNotFound, InvalidInstanceState } from "../errors.js";
import {
  PowerState,
  type DriverCapabilities,
  type HostResources,
  type InstanceInfo,
  type InstanceSpec,
  type MigrationDiskInfo,
  type PowerOffOptions,
  type RebootType,
  type RescueOptions,
  type SerialConsole,
  type SnapshotSink,
  type VirtDriver,
  type Vif,
  type VncConsole,
} from "../types.js";
import { resolveAccel, type AccelDecision } from "./accel.js";
import { QemuCore, type QemuDriverOptions } from "./driver-core.js";
import * as hotplug from "./driver-hotplug.js";
import type { VolumeHotplug, VolumeSource } from "./driver-hotplug.js";
import { registerHost } from "./driver-layout.js";
import { removeInstance, spawnInstance } from "./driver-lifecycle.js";
import * as moves from "./driver-moves.js";
import * as power from "./driver-power.js";

export type { QemuDriverOptions } from "./driver-core.js";

const { RUNNING, PAUSED } = PowerState;
const GiB = 1024 ** 3;

/** QEMU's version in Nova's integer encoding (major * 1e6 + minor * 1e3 + micro), 0 when unknown. */
function qemuVersion(binary: string): number {
  try {
    const out = execFileSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
    const m = /version (\d+)\.(\d+)\.(\d+)/.exec(out);
    return m ? Number(m[1]) * 1_000_000 + Number(m[2]) * 1_000 + Number(m[3]) : 0;
  } catch {
    return 0;
  }
}

/** The qemu virt driver (see the file comment). */
export class QemuDriver implements VirtDriver, VolumeHotplug {
  readonly capabilities: DriverCapabilities = {
    hasImagecache: true,
    supportsEvacuate: false,
    supportsMigrateToSameHost: true,
    supportsAttachInterface: true,
    supportsDeviceTagging: false,
    supportsMultiattach: true,
    imageFormats: ["raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx", "ami"],
  };

  readonly core: QemuCore;
  private readonly building = new Set<string>();
  private version = 0;

  constructor(opts: QemuDriverOptions) {
    this.core = new QemuCore(opts);
  }

  /** The accelerator decision (after init), for the start-up banner and the hypervisors API. */
  get accel(): AccelDecision | undefined {
    return this.core.accel;
  }

  private ready(method: string): QemuCore {
    if (this.core.host === undefined) throw new DriverNotInitialized(method);
    return this.core;
  }

  async init(host: string): Promise<void> {
    if (host === "") throw new RangeError("QemuDriver.init: host must not be empty");
    const core = this.core;
    await core.layout.ensure();
    core.accel ??= await resolveAccel(core.opts.accel ?? "auto", {
      dataDir: core.opts.stateDir,
      binary: core.opts.binary,
    });
    this.version = qemuVersion(core.opts.binary ?? "qemu-system-x86_64");
    core.host = host;
    await registerHost(host, core.opts.stateDir);
    for (const uuid of await core.layout.listRecorded()) {
      const rec = await core.layout.load(uuid);
      if (!rec || core.live.has(uuid)) continue;
      const l = await core.adopt(rec);
      core.log?.info(
        { uuid, pid: l?.proc.pid ?? null },
        l ? "adopted a running QEMU" : "instance is not running",
      );
    }
  }

  /** Detach from every QEMU (they keep running: an agent stop is not a host shutdown). */
  async close(): Promise<void> {
    for (const uuid of [...this.core.live.keys()]) await this.core.forget(uuid);
    for (const uuid of [...this.core.listeners.keys()]) await this.core.closeMetadataListener(uuid);
  }

  async spawn(spec: InstanceSpec): Promise<void> {
    await spawnInstance(this.ready("spawn"), spec, this.building);
  }

  async destroy(uuid: string): Promise<void> {
    await removeInstance(this.ready("destroy"), uuid);
  }

  async powerOn(uuid: string): Promise<void> {
    await power.powerOn(this.ready("powerOn"), uuid);
  }

  async powerOff(uuid: string, opts: PowerOffOptions = {}): Promise<void> {
    await power.powerOff(this.ready("powerOff"), uuid, opts.timeoutS ?? 0);
  }

  async reboot(uuid: string, type: RebootType): Promise<void> {
    await power.reboot(this.ready("reboot"), uuid, type);
  }

  async getInfo(uuid: string): Promise<InstanceInfo> {
    const core = this.ready("getInfo");
    const rec = await core.layout.load(uuid).catch(() => null);
    if (!rec) throw new InstanceNotFound(uuid);
    return { state: await core.powerState(rec) };
  }

  async listInstances(): Promise<string[]> {
    return this.ready("listInstances").layout.listRecorded();
  }

  async getAvailableResources(): Promise<HostResources> {
    const core = this.ready("getAvailableResources");
    let vcpusUsed = 0;
    let memoryMbUsed = 0;
    let diskGbUsed = 0;
    for (const uuid of await core.layout.listRecorded()) {
      const rec = await core.layout.load(uuid);
      if (!rec) continue;
      vcpusUsed += rec.vcpus;
      memoryMbUsed += rec.memoryMb;
      diskGbUsed += rec.rootGb;
    }
    let diskGb = core.opts.diskGb;
    if (diskGb === undefined) {
      const fs = await statfs(core.opts.stateDir).catch(() => null);
      diskGb = fs ? Math.max(1, Math.floor((fs.blocks * fs.bsize) / GiB)) : 100;
    }
    const accel = core.accel?.accel ?? "tcg";
    const n = core.opts.vcpus ?? Math.max(1, cpus().length);
    return {
      vcpus: n,
      memoryMb: core.opts.memoryMb ?? Math.floor(totalmem() / 1024 ** 2),
      diskGb,
      vcpusUsed,
      memoryMbUsed,
      diskGbUsed,
      hypervisorType: "QEMU",
      hypervisorVersion: this.version || 1_000_000,
      hypervisorHostname: core.host!,
      cpuInfo: {
        arch: "x86_64",
        model: accel === "kvm" ? "host" : "max",
        vendor: "QEMU",
        topology: { sockets: 1, cores: n, threads: 1 },
        features: [`accel-${accel}`],
      },
    };
  }

  // ---- optional capabilities ----

  async pause(uuid: string): Promise<void> {
    await power.pause(this.ready("pause"), uuid);
  }

  async unpause(uuid: string): Promise<void> {
    await power.unpause(this.ready("unpause"), uuid);
  }

  async suspend(uuid: string): Promise<void> {
    await power.suspend(this.ready("suspend"), uuid);
  }

  async resume(uuid: string): Promise<void> {
    await power.resume(this.ready("resume"), uuid);
  }

  async triggerCrashDump(uuid: string): Promise<void> {
    await power.injectNmi(this.ready("triggerCrashDump"), uuid);
  }

  async rescue(uuid: string, opts?: RescueOptions): Promise<void> {
    await moves.rescue(this.ready("rescue"), uuid, opts);
  }

  async unrescue(uuid: string): Promise<void> {
    await moves.unrescue(this.ready("unrescue"), uuid);
  }

  async getConsoleOutput(uuid: string): Promise<string> {
    return power.consoleOutput(this.ready("getConsoleOutput"), uuid);
  }

  async snapshot(uuid: string, sink: SnapshotSink): Promise<void> {
    await moves.snapshot(this.ready("snapshot"), uuid, sink);
  }

  async getVncConsole(uuid: string): Promise<VncConsole> {
    const core = this.ready("getVncConsole");
    const rec = await core.record(uuid);
    await core.requireLive(rec, "get the VNC console of", [RUNNING, PAUSED]);
    return { host: "127.0.0.1", port: rec.vncPort, websocketPort: rec.websocketPort };
  }

  async getSerialConsole(uuid: string): Promise<SerialConsole> {
    return power.serialConsole(this.ready("getSerialConsole"), uuid);
  }

  async attachInterface(uuid: string, vif: Vif): Promise<void> {
    await hotplug.attachInterface(this.ready("attachInterface"), uuid, vif);
  }

  async detachInterface(uuid: string, vifId: string): Promise<void> {
    await hotplug.detachInterface(this.ready("detachInterface"), uuid, vifId);
  }

  async attachVolume(uuid: string, volumeId: string, source: VolumeSource): Promise<void> {
    await hotplug.attachVolume(this.ready("attachVolume"), uuid, volumeId, source);
  }

  async detachVolume(uuid: string, volumeId: string): Promise<void> {
    await hotplug.detachVolume(this.ready("detachVolume"), uuid, volumeId);
  }

  async extendVolume(uuid: string, volumeId: string, sizeBytes: number): Promise<void> {
    await hotplug.extendVolume(this.ready("extendVolume"), uuid, volumeId, sizeBytes);
  }

  async migrateDiskAndPowerOff(uuid: string, destHost: string): Promise<MigrationDiskInfo> {
    return moves.migrateDiskAndPowerOff(this.ready("migrateDiskAndPowerOff"), uuid, destHost);
  }

  async finishMigration(
    spec: InstanceSpec,
    disk: MigrationDiskInfo,
    opts: { powerOn: boolean },
  ): Promise<void> {
    await moves.finishMigration(this.ready("finishMigration"), spec, disk, opts.powerOn);
  }

  async confirmMigration(uuid: string): Promise<void> {
    const core = this.ready("confirmMigration");
    await moves.confirmMigration(core, uuid, (u) => removeInstance(core, u));
  }

  async finishRevertMigration(uuid: string, opts: { powerOn: boolean }): Promise<void> {
    await moves.finishRevertMigration(this.ready("finishRevertMigration"), uuid, opts.powerOn);
  }

  async preLiveMigration(spec: InstanceSpec, sourceHost: string): Promise<void> {
    await moves.preLiveMigration(this.ready("preLiveMigration"), spec, sourceHost);
  }

  async liveMigration(uuid: string, destHost: string): Promise<void> {
    const core = this.ready("liveMigration");
    await moves.liveMigrate(core, uuid, destHost, (u) => removeInstance(core, u));
  }

  async postLiveMigrationAtDestination(uuid: string): Promise<void> {
    await moves.postLiveMigrationAtDestination(this.ready("postLiveMigrationAtDestination"), uuid);
  }

  async rollbackLiveMigrationAtDestination(uuid: string): Promise<void> {
    const core = this.ready("rollbackLiveMigrationAtDestination");
    const rec = await core.layout.load(uuid);
    if (!rec) return;
    if (!rec.incoming)
      throw new InvalidInstanceState(uuid, "roll back a live migration of", "it is not incoming");
    await removeInstance(core, uuid);
  }

  /** The loopback port forwarded to the guest's SSH (compute.qemu.hostForwardSsh), if any. */
  async sshForward(uuid: string): Promise<{ host: string; port: number } | undefined> {
    const rec = await this.ready("sshForward").record(uuid);
    return rec.sshPort ? { host: "127.0.0.1", port: rec.sshPort } : undefined;
  }

  /** The pid of an instance's QEMU, when it runs (tests and diagnostics). */
  async pidOf(uuid: string): Promise<number | undefined> {
    return (await this.ready("pidOf").liveOf(uuid))?.proc.pid;
  }
}
