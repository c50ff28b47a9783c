// The fake (in-memory) virt driver: the reference implementation of the VirtDriver contract, as Nova's
// nova/virt/fake.py is for Nova. One FakeDriver is one simulated host, so a test or a one-process cloud can run
// many hosts side by side. It is deterministic (no randomness, no clocks in its output), can be slowed down or made
// to fail on demand, and keeps its "hypervisor" state in a FakeStateStore that may outlive the driver: a new
// FakeDriver over the same store is the same host after an agent restart.
//
// Multi-host operations (migrations) need no shared registry: the conductor calls the source and the destination
// in turn, and each side changes only its own store.
import {
  InstanceExists,
  InstanceNotFound,
  InsufficientResources,
  InvalidInstanceSpec,
  InvalidInstanceState,
  InvalidPowerState,
  OperationFailed,
  SpawnFailed,
  DriverNotInitialized,
} from "./errors.js";
import {
  PowerState,
  type DiskFormat,
  type DriverCapabilities,
  type HostResources,
  type InstanceInfo,
  type InstanceSpec,
  type MigrationDiskInfo,
  type PowerOffOptions,
  type RebootType,
  type RescueOptions,
  type SnapshotSink,
  type VirtDriver,
  type Vif,
  type VncConsole,
  type VolumeSource,
} from "./types.js";

const { NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED } = PowerState;
const ANY_STATE: readonly PowerState[] = [NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FAKE_VERSION = 1_000_000; // 1.0.0 in Nova's integer encoding
const VNC_BASE_PORT = 5900;
const SNAPSHOT_BYTES = 64 * 1024;
const CONSOLE_MAX_LINES = 5000;

/** One simulated domain. */
export interface FakeInstanceRecord {
  spec: InstanceSpec;
  state: PowerState;
  /** spawn() has reserved the uuid but not finished. */
  building: boolean;
  rescued: boolean;
  /** Which side of a migration this host is, while one is under way. */
  migration?: "source" | "destination" | "live-destination";
  /** A resize to this same host: the source guest, kept until the resize is confirmed or reverted. */
  resizeSource?: FakeInstanceRecord;
  vifs: Vif[];
  /** Attached volumes, in attach order (absent in records written before volumes existed). */
  volumes?: FakeVolume[];
  bootCount: number;
  console: string[];
  vncPort: number;
}

/** One attached volume of a fake domain. */
export interface FakeVolume {
  volumeId: string;
  source: VolumeSource;
  /** The size the guest sees after extendVolume (bytes); absent until then. */
  sizeBytes?: number;
}

/** The fake hypervisor's state for one host; pass the same store to a new FakeDriver to simulate a restart. */
export interface FakeStateStore {
  readonly instances: Map<string, FakeInstanceRecord>;
  nextVncPort: number;
}

export function createFakeStateStore(): FakeStateStore {
  return { instances: new Map(), nextVncPort: VNC_BASE_PORT };
}

/** Operations failOperation can be asked about. */
export type FakeOperation =
  | "destroy"
  | "powerOn"
  | "powerOff"
  | "reboot"
  | "pause"
  | "unpause"
  | "suspend"
  | "resume"
  | "rescue"
  | "unrescue"
  | "snapshot"
  | "triggerCrashDump"
  | "attachInterface"
  | "detachInterface"
  | "attachVolume"
  | "detachVolume"
  | "extendVolume"
  | "migrateDiskAndPowerOff"
  | "finishMigration"
  | "confirmMigration"
  | "finishRevertMigration"
  | "preLiveMigration"
  | "liveMigration"
  | "postLiveMigrationAtDestination";

export interface FakeDriverOptions {
  /** Host capacity; defaults 32 vCPUs, 131072 MB, 2048 GB. */
  vcpus?: number;
  memoryMb?: number;
  diskGb?: number;
  /** Refuse spawns beyond capacity with InsufficientResources (default false: placement does admission). */
  enforceCapacity?: boolean;
  /** Backing state; a fresh store by default. */
  state?: FakeStateStore;
  /** Delay before a spawn completes (ms, default 0). */
  spawnDelayMs?: number;
  /** Delay of every other state-changing operation (ms, default 0). */
  opDelayMs?: number;
  /** Make a spawn fail (after its delay) with SpawnFailed; return a string to choose the reason. */
  failSpawnFor?: (spec: InstanceSpec) => boolean | string;
  /** Make another operation fail with OperationFailed (state unchanged); return a string to choose the reason. */
  failOperation?: (op: FakeOperation, uuid: string) => boolean | string;
}

const sleep = (ms: number) => (ms > 0 ? new Promise<void>((r) => setTimeout(r, ms)) : Promise.resolve());

export class FakeDriver implements VirtDriver {
  readonly capabilities: DriverCapabilities = {
    hasImagecache: false,
    supportsEvacuate: true,
    supportsMigrateToSameHost: true,
    supportsAttachInterface: true,
    supportsDeviceTagging: true,
    supportsMultiattach: true,
    imageFormats: ["raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx", "iso", "ami"] satisfies DiskFormat[],
  };

  readonly store: FakeStateStore;
  private host: string | undefined;
  private readonly total: { vcpus: number; memoryMb: number; diskGb: number };

  constructor(private readonly opts: FakeDriverOptions = {}) {
    this.store = opts.state ?? createFakeStateStore();
    this.total = { vcpus: opts.vcpus ?? 32, memoryMb: opts.memoryMb ?? 131072, diskGb: opts.diskGb ?? 2048 };
    for (const [k, v] of Object.entries(this.total)) {
      if (!Number.isInteger(v) || v < 0)
        throw new RangeError(`FakeDriver: ${k} must be a non-negative integer`);
    }
  }

  /** The hostname given to init(), once initialised. */
  get hostname(): string | undefined {
    return this.host;
  }

  async init(host: string): Promise<void> {
    if (host === "") throw new RangeError("FakeDriver.init: host must not be empty");
    this.host = host;
    // Adoption: domains that survived the restart keep their state. A spawn the previous agent left half-done
    // is what a crashed build leaves on a real host: a domain that never booted, reported NOSTATE.
    for (const rec of this.store.instances.values()) rec.building = false;
  }

  async spawn(spec: InstanceSpec): Promise<void> {
    this.ready("spawn");
    this.validate(spec);
    if (this.store.instances.has(spec.uuid)) throw new InstanceExists(spec.uuid);
    if (this.opts.enforceCapacity) this.checkCapacity(spec);
    const rec: FakeInstanceRecord = {
      spec: structuredClone(spec),
      state: NOSTATE,
      building: true,
      rescued: false,
      vifs: structuredClone(spec.networkInfo ?? []),
      volumes: (spec.volumes ?? []).map((v) => ({ volumeId: v.volumeId, source: structuredClone(v.source) })),
      bootCount: 0,
      console: [],
      vncPort: this.store.nextVncPort++,
    };
    this.store.instances.set(spec.uuid, rec);
    await sleep(this.opts.spawnDelayMs ?? 0);
    if (this.store.instances.get(spec.uuid) !== rec) {
      // destroy() ran while we were building: nothing is left, as after any failed spawn.
      throw new SpawnFailed(spec.uuid, "the instance was destroyed while it was being built");
    }
    const fail = this.opts.failSpawnFor?.(spec);
    if (fail) {
      this.store.instances.delete(spec.uuid);
      throw new SpawnFailed(spec.uuid, typeof fail === "string" ? fail : "injected failure");
    }
    rec.building = false;
    this.boot(rec);
  }

  async destroy(uuid: string): Promise<void> {
    this.ready("destroy");
    await this.op("destroy", uuid);
    this.store.instances.delete(uuid);
  }

  async powerOn(uuid: string): Promise<void> {
    const rec = await this.act("powerOn", uuid, [RUNNING, SHUTDOWN, CRASHED]);
    if (rec.state !== RUNNING) this.boot(rec);
  }

  async powerOff(uuid: string, opts: PowerOffOptions = {}): Promise<void> {
    const rec = await this.act("powerOff", uuid, [RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED]);
    if (rec.state === SHUTDOWN) return;
    const clean = rec.state === RUNNING && (opts.timeoutS ?? 0) > 0;
    this.log(rec, clean ? "reboot: Power down" : "qemu: terminating on signal 15");
    rec.state = SHUTDOWN;
  }

  async reboot(uuid: string, type: RebootType): Promise<void> {
    const rec = await this.act("reboot", uuid, type === "SOFT" ? [RUNNING] : ANY_STATE, { rescue: false });
    if (type === "SOFT") this.log(rec, "reboot: Restarting system");
    this.boot(rec);
  }

  async getInfo(uuid: string): Promise<InstanceInfo> {
    return { state: this.get("getInfo", uuid).state };
  }

  async listInstances(): Promise<string[]> {
    this.ready("listInstances");
    return [...this.store.instances.keys()].sort();
  }

  async getAvailableResources(): Promise<HostResources> {
    const host = this.ready("getAvailableResources");
    const used = this.used();
    return {
      ...this.total,
      vcpusUsed: used.vcpus,
      memoryMbUsed: used.memoryMb,
      diskGbUsed: used.diskGb,
      hypervisorType: "fake",
      hypervisorVersion: FAKE_VERSION,
      hypervisorHostname: host,
      cpuInfo: {
        arch: "x86_64",
        model: "Stratus-Fake",
        vendor: "Stratus",
        topology: { sockets: 1, cores: this.total.vcpus, threads: 1 },
        features: ["fpu", "pae", "sse2", "vmx"],
      },
    };
  }

  // ---- optional capabilities ----

  async pause(uuid: string): Promise<void> {
    (await this.act("pause", uuid, [RUNNING])).state = PAUSED;
  }

  async unpause(uuid: string): Promise<void> {
    (await this.act("unpause", uuid, [PAUSED])).state = RUNNING;
  }

  async suspend(uuid: string): Promise<void> {
    const rec = await this.act("suspend", uuid, [RUNNING, PAUSED], { rescue: false });
    this.log(rec, "PM: suspend entry (deep)");
    rec.state = SUSPENDED;
  }

  async resume(uuid: string): Promise<void> {
    const rec = await this.act("resume", uuid, [SUSPENDED]);
    this.log(rec, "PM: suspend exit");
    rec.state = RUNNING;
  }

  async rescue(uuid: string, opts: RescueOptions = {}): Promise<void> {
    const rec = await this.act("rescue", uuid, [RUNNING, SHUTDOWN, CRASHED], { rescue: false });
    rec.rescued = true;
    this.log(rec, `rescue: booting rescue image ${opts.image?.id ?? rec.spec.image.id}`);
    this.boot(rec);
  }

  async unrescue(uuid: string): Promise<void> {
    const rec = await this.act("unrescue", uuid, ANY_STATE);
    if (!rec.rescued) throw new InvalidInstanceState(uuid, "unrescue", "not rescued");
    rec.rescued = false;
    this.boot(rec);
  }

  async getConsoleOutput(uuid: string): Promise<string> {
    const rec = this.get("getConsoleOutput", uuid);
    return rec.console.length === 0 ? "" : rec.console.join("\n") + "\n";
  }

  async snapshot(uuid: string, sink: SnapshotSink): Promise<void> {
    const rec = await this.act("snapshot", uuid, [RUNNING, PAUSED, SHUTDOWN, SUSPENDED], { rescue: false });
    // A small, deterministic "disk": a header naming the instance, zero-padded.
    const disk = new Uint8Array(SNAPSHOT_BYTES);
    disk.set(new TextEncoder().encode(`STRATUS-FAKE-DISK ${uuid} image=${rec.spec.image.id}\n`));
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (let off = 0; off < disk.length; off += 16 * 1024) yield disk.subarray(off, off + 16 * 1024);
    }
    await sink.write(
      { diskFormat: "raw", containerFormat: "bare", virtualSizeBytes: rec.spec.rootGb * 1024 ** 3 },
      chunks(),
    );
  }

  async triggerCrashDump(uuid: string): Promise<void> {
    const rec = await this.act("triggerCrashDump", uuid, [RUNNING]);
    this.log(rec, "Kernel panic - not syncing: NMI: Not continuing");
    rec.state = CRASHED;
  }

  async getVncConsole(uuid: string): Promise<VncConsole> {
    const rec = this.get("getVncConsole", uuid);
    if (rec.state !== RUNNING && rec.state !== PAUSED) {
      throw new InvalidPowerState(uuid, "getVncConsole", rec.state, [RUNNING, PAUSED]);
    }
    return { host: this.host as string, port: rec.vncPort };
  }

  async attachInterface(uuid: string, vif: Vif): Promise<void> {
    const rec = await this.act("attachInterface", uuid, [RUNNING, PAUSED, SHUTDOWN]);
    if (rec.vifs.some((v) => v.id === vif.id)) {
      throw new InvalidInstanceState(uuid, "attachInterface", `already attached to port ${vif.id}`);
    }
    rec.vifs.push(structuredClone(vif));
  }

  async detachInterface(uuid: string, vifId: string): Promise<void> {
    const rec = await this.act("detachInterface", uuid, [RUNNING, PAUSED, SHUTDOWN]);
    const i = rec.vifs.findIndex((v) => v.id === vifId);
    if (i < 0) throw new InvalidInstanceState(uuid, "detachInterface", `not attached to port ${vifId}`);
    rec.vifs.splice(i, 1);
  }

  /** The NICs an instance has now (fake only; for tests). */
  async attachVolume(uuid: string, volumeId: string, source: VolumeSource): Promise<void> {
    const rec = await this.act("attachVolume", uuid, [RUNNING, PAUSED, SHUTDOWN]);
    const vols = (rec.volumes ??= []);
    if (vols.some((v) => v.volumeId === volumeId))
      throw new InvalidInstanceState(uuid, "attachVolume", `volume ${volumeId} is already attached`);
    vols.push({ volumeId, source: structuredClone(source) });
  }

  async detachVolume(uuid: string, volumeId: string): Promise<void> {
    const rec = await this.act("detachVolume", uuid, [RUNNING, PAUSED, SHUTDOWN]);
    const i = (rec.volumes ?? []).findIndex((v) => v.volumeId === volumeId);
    if (i < 0) throw new InvalidInstanceState(uuid, "detachVolume", `volume ${volumeId} is not attached`);
    rec.volumes!.splice(i, 1);
  }

  async extendVolume(uuid: string, volumeId: string, sizeBytes: number): Promise<void> {
    const rec = await this.act("extendVolume", uuid, [RUNNING, PAUSED, SHUTDOWN]);
    const v = (rec.volumes ?? []).find((x) => x.volumeId === volumeId);
    if (!v) throw new InvalidInstanceState(uuid, "extendVolume", `volume ${volumeId} is not attached`);
    v.sizeBytes = sizeBytes;
  }

  /** The volumes attached to an instance (tests). */
  volumesOf(uuid: string): FakeVolume[] {
    return structuredClone(this.store.instances.get(uuid)?.volumes ?? []);
  }

  interfacesOf(uuid: string): Vif[] {
    return structuredClone(this.get("interfacesOf", uuid).vifs);
  }

  async migrateDiskAndPowerOff(uuid: string, _destHost: string): Promise<MigrationDiskInfo> {
    const rec = await this.act("migrateDiskAndPowerOff", uuid, [RUNNING, PAUSED, SHUTDOWN, CRASHED], {
      rescue: false,
    });
    if (rec.state !== SHUTDOWN) this.log(rec, "reboot: Power down");
    rec.state = SHUTDOWN;
    rec.migration = "source";
    return {
      uuid,
      sourceHost: this.host as string,
      disks: [{ name: "disk", format: rec.spec.image.format ?? "qcow2", sizeGb: rec.spec.rootGb }],
    };
  }

  async finishMigration(
    spec: InstanceSpec,
    disk: MigrationDiskInfo,
    opts: { powerOn: boolean },
  ): Promise<void> {
    this.ready("finishMigration");
    this.validate(spec);
    if (disk.uuid !== spec.uuid) throw new InvalidInstanceSpec(spec.uuid, `disk info is for ${disk.uuid}`);
    await this.op("finishMigration", spec.uuid);
    const here = this.store.instances.get(spec.uuid);
    // A resize to the same host: the source guest stays aside until confirm or revert.
    if (here && here.migration !== "source") throw new InstanceExists(spec.uuid);
    const rec = this.newRecord(spec, SHUTDOWN);
    if (here) rec.resizeSource = here;
    this.store.instances.set(spec.uuid, rec);
    if (opts.powerOn) this.boot(rec);
  }

  async confirmMigration(uuid: string): Promise<void> {
    const resized = this.store.instances.get(uuid);
    if (resized?.resizeSource) {
      await this.op("confirmMigration", uuid);
      delete resized.resizeSource;
      return;
    }
    const rec = await this.act("confirmMigration", uuid, ANY_STATE, { migration: "source" });
    if (this.store.instances.get(uuid) === rec) this.store.instances.delete(uuid);
  }

  /** Bring the source guest back (after a same-host resize: instead of the resized one). Idempotent. */
  async finishRevertMigration(uuid: string, opts: { powerOn: boolean }): Promise<void> {
    this.ready("finishRevertMigration");
    await this.op("finishRevertMigration", uuid);
    let rec = this.get("finishRevertMigration", uuid);
    if (rec.resizeSource) {
      rec = rec.resizeSource;
      this.store.instances.set(uuid, rec);
    }
    rec.migration = undefined;
    if (opts.powerOn && rec.state !== RUNNING) this.boot(rec);
  }

  async preLiveMigration(spec: InstanceSpec, _sourceHost: string): Promise<void> {
    this.ready("preLiveMigration");
    this.validate(spec);
    await this.op("preLiveMigration", spec.uuid);
    if (this.store.instances.has(spec.uuid)) throw new InstanceExists(spec.uuid);
    // An incoming domain: paused until the memory has been copied.
    const rec = this.newRecord(spec, PAUSED);
    rec.migration = "live-destination";
    this.store.instances.set(spec.uuid, rec);
  }

  async liveMigration(uuid: string, _destHost: string): Promise<void> {
    const rec = await this.act("liveMigration", uuid, [RUNNING, PAUSED], {
      rescue: false,
      migration: undefined,
    });
    if (this.store.instances.get(uuid) === rec) this.store.instances.delete(uuid);
  }

  async postLiveMigrationAtDestination(uuid: string): Promise<void> {
    const rec = await this.act("postLiveMigrationAtDestination", uuid, [PAUSED], {
      migration: "live-destination",
    });
    rec.migration = undefined;
    rec.state = RUNNING;
    this.log(rec, "migration: resumed on the destination host");
  }

  async rollbackLiveMigrationAtDestination(uuid: string): Promise<void> {
    this.ready("rollbackLiveMigrationAtDestination");
    const rec = this.store.instances.get(uuid);
    if (rec === undefined) return;
    if (rec.migration !== "live-destination") {
      throw new InvalidInstanceState(uuid, "rollbackLiveMigrationAtDestination", "not an incoming migration");
    }
    this.store.instances.delete(uuid);
  }

  // ---- internals ----

  private ready(method: string): string {
    if (this.host === undefined) throw new DriverNotInitialized(method);
    return this.host;
  }

  private get(method: string, uuid: string): FakeInstanceRecord {
    this.ready(method);
    const rec = this.store.instances.get(uuid);
    if (rec === undefined) throw new InstanceNotFound(uuid);
    return rec;
  }

  /** Simulated latency and injected failure of a non-spawn operation. */
  private async op(op: FakeOperation, uuid: string): Promise<void> {
    await sleep(this.opts.opDelayMs ?? 0);
    const fail = this.opts.failOperation?.(op, uuid);
    if (fail) throw new OperationFailed(uuid, op, typeof fail === "string" ? fail : "injected failure");
  }

  /**
   * The common shape of an instance operation: wait/fail as configured, then (atomically, with no await between
   * the checks and the caller's change) find the instance and check its state.
   */
  private async act(
    op: FakeOperation,
    uuid: string,
    allowed: readonly PowerState[],
    want: { rescue?: false; migration?: FakeInstanceRecord["migration"] } = {},
  ): Promise<FakeInstanceRecord> {
    this.ready(op);
    await this.op(op, uuid);
    const rec = this.get(op, uuid);
    if (rec.building) throw new InvalidInstanceState(uuid, op, "being built");
    if (want.rescue === false && rec.rescued) throw new InvalidInstanceState(uuid, op, "rescued");
    if ("migration" in want ? rec.migration !== want.migration : rec.migration !== undefined) {
      throw new InvalidInstanceState(
        uuid,
        op,
        rec.migration ? `migrating (${rec.migration})` : "not migrating",
      );
    }
    if (!allowed.includes(rec.state)) throw new InvalidPowerState(uuid, op, rec.state, allowed);
    return rec;
  }

  private newRecord(spec: InstanceSpec, state: PowerState): FakeInstanceRecord {
    return {
      spec: structuredClone(spec),
      state,
      building: false,
      rescued: false,
      vifs: structuredClone(spec.networkInfo ?? []),
      volumes: (spec.volumes ?? []).map((v) => ({ volumeId: v.volumeId, source: structuredClone(v.source) })),
      bootCount: 0,
      console: [],
      vncPort: this.store.nextVncPort++,
    };
  }

  private validate(spec: InstanceSpec): void {
    const bad = (reason: string) => new InvalidInstanceSpec(String(spec.uuid), reason);
    if (typeof spec.uuid !== "string" || !UUID_RE.test(spec.uuid)) throw bad("uuid is not a UUID");
    if (!Number.isInteger(spec.vcpus) || spec.vcpus < 1) throw bad("vcpus must be a positive integer");
    if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 1)
      throw bad("memoryMb must be a positive integer");
    if (!Number.isInteger(spec.rootGb) || spec.rootGb < 0) throw bad("rootGb must be a non-negative integer");
    const bootVolume = (spec.volumes ?? []).some((v) => v.bootIndex === 0);
    if (!spec.image?.id && !bootVolume) throw bad("image.id is required (or a boot volume)");
    const format = spec.image.format;
    if (format !== undefined && !this.capabilities.imageFormats.includes(format)) {
      throw bad(`image format ${format} is not supported`);
    }
  }

  private used(): { vcpus: number; memoryMb: number; diskGb: number } {
    const used = { vcpus: 0, memoryMb: 0, diskGb: 0 };
    for (const { spec } of this.store.instances.values()) {
      used.vcpus += spec.vcpus;
      used.memoryMb += spec.memoryMb;
      used.diskGb += spec.rootGb;
    }
    return used;
  }

  private checkCapacity(spec: InstanceSpec): void {
    const used = this.used();
    const want = { vcpus: spec.vcpus, memoryMb: spec.memoryMb, diskGb: spec.rootGb };
    for (const r of ["vcpus", "memoryMb", "diskGb"] as const) {
      const free = this.total[r] - used[r];
      if (want[r] > free) throw new InsufficientResources(spec.uuid, r, want[r], free);
    }
  }

  private log(rec: FakeInstanceRecord, line: string): void {
    // Guest uptime is synthetic (lines since boot) so the log is the same on every run.
    const t = (rec.console.length * 0.0125).toFixed(6).padStart(12);
    rec.console.push(`[${t}] ${line}`);
    if (rec.console.length > CONSOLE_MAX_LINES) rec.console.splice(0, rec.console.length - CONSOLE_MAX_LINES);
  }

  /** (Re)boot the domain: state RUNNING and a plausible boot log. */
  private boot(rec: FakeInstanceRecord): void {
    rec.bootCount++;
    const s = rec.spec;
    const lines = [
      `Linux version 6.1.0-stratus-fake (builder@stratus) #${rec.bootCount} SMP PREEMPT_DYNAMIC`,
      `Command line: BOOT_IMAGE=/vmlinuz root=LABEL=cloudimg-rootfs ro console=ttyS0${rec.rescued ? " rescue" : ""}`,
      `DMI: OpenStack Foundation OpenStack Nova, BIOS 1.16.3 ${s.uuid}`,
      `smpboot: Allowing ${s.vcpus} CPUs, 0 hotplug CPUs`,
      `Memory: ${s.memoryMb * 1024}K available`,
      `virtio_blk virtio1: [vda] ${s.rootGb * 2097152} 512-byte logical blocks`,
      ...rec.vifs.map((v, i) => `virtio_net virtio${i + 2} eth${i}: ${v.address}`),
      "Run /sbin/init as init process",
      "cloud-init: Cloud-init v. 24.1 running 'init' (datasource: ConfigDrive)",
      ...rec.vifs.flatMap((v, i) => (v.fixedIps ?? []).map((ip) => `ci-info: eth${i} ${ip} ${v.address}`)),
      `${s.name} login: `,
    ];
    for (const line of lines) this.log(rec, line);
    rec.state = RUNNING;
  }
}
