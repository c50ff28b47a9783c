// The virt driver seam: what the compute agent asks of a hypervisor, and nothing more. Modelled on Nova's
// nova/virt/driver.py ComputeDriver, but small and typed: every driver implements the required methods; an
// optional capability is an optional method (as Kysely's Driver does for savepoints), so "can this driver pause?"
// is `driver.pause !== undefined`, checked by the compiler at every call site. Feature flags that are not a method
// of their own (image formats, device tagging, ...) live in `capabilities`, like Nova's `capabilities` dict.
//
// Instances are always named by their uuid; any hypervisor-internal id stays inside the driver.

/** Nova's numeric power_state values (nova/compute/power_state.py), so they can be stored and reported as-is. */
export const PowerState = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
} as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

const POWER_STATE_NAMES: Record<PowerState, string> = {
  0: "NOSTATE",
  1: "RUNNING",
  3: "PAUSED",
  4: "SHUTDOWN",
  6: "CRASHED",
  7: "SUSPENDED",
};

/** "RUNNING" for 1, ...; for logs and error messages. */
export function powerStateName(state: PowerState): string {
  return POWER_STATE_NAMES[state] ?? `UNKNOWN(${String(state)})`;
}

/** Glance disk formats a driver may be asked to boot. */
export type DiskFormat =
  "raw" | "qcow2" | "vmdk" | "vdi" | "vhd" | "vhdx" | "iso" | "ploop" | "ami" | "ari" | "aki";

/** The image to boot: its Glance id, and where the agent has cached its bytes (if it has). */
export interface ImageRef {
  id: string;
  /** Local path of the cached image; absent for drivers that fetch images themselves (and for the fake). */
  path?: string;
  format?: DiskFormat;
}

/** One virtual NIC, as the network service bound it. */
export interface Vif {
  /** Port id. */
  id: string;
  /** MAC address. */
  address: string;
  networkId?: string;
  fixedIps?: string[];
  mtu?: number;
  /** Host-side device (bridge, tap) the driver plugs into, when the network driver chose one. */
  devName?: string;
  /**
   * The tap the network agent made for this port (binding:vif_details.tap_name of a "tap" VIF): the guest's NIC
   * opens it. Absent (a network driver without a data plane): the driver's own restricted networking.
   */
  tapName?: string;
}

/**
 * Where a volume's blocks come from, as the agent translates the block storage service's connection info: a local
 * file (tests), an NBD export (unix socket or TCP), or an iSCSI target reached by the hypervisor's own initiator.
 */
export type VolumeSource = (
  | { type: "file"; path: string; format: "qcow2" | "raw"; readOnly?: boolean }
  | { type: "nbd"; socketPath: string; export?: string; readOnly?: boolean }
  | { type: "nbd"; host: string; port: number; export?: string; readOnly?: boolean }
  | {
      type: "iscsi";
      portal: string;
      target: string;
      lun?: number;
      /** CHAP credentials of the target, when it has them (the password goes to QEMU as a secret object). */
      chap?: { user: string; password: string };
      /** The initiator name QEMU logs in with. */
      initiatorName?: string;
      readOnly?: boolean;
    }
) & {
  /** A multiattach volume other guests may write too: the disk takes no exclusive write permission (share-rw). */
  shared?: boolean;
};

/** Everything a driver needs to build one instance. Flavor sizes are already resolved. */
export interface InstanceSpec {
  uuid: string;
  /** Display name; drivers may use it in domain names but must key everything by uuid. */
  name: string;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  /** Flavor ephemeral disk (GiB) and swap (MiB); absent or 0 for none. */
  ephemeralGb?: number;
  swapMb?: number;
  /** Owning project (the metadata service's caller identity). */
  projectId?: string;
  image: ImageRef;
  networkInfo?: Vif[];
  /**
   * Volumes attached from the first boot (boot from volume, extra volumes of a create request, or the volumes a
   * moved server takes along): bootIndex 0 is the root disk, booted instead of a local disk from `image`.
   */
  volumes?: Array<{ volumeId: string; source: VolumeSource; bootIndex?: number }>;
  /** Base64 user data for the config drive / metadata service, as Nova receives it. */
  userData?: string;
  metadata: Record<string, string>;
}

export interface InstanceInfo {
  state: PowerState;
}

export type RebootType = "SOFT" | "HARD";

export interface PowerOffOptions {
  /** Seconds to wait for a clean (ACPI) shutdown before forcing it; 0 or absent forces at once. */
  timeoutS?: number;
}

export interface CpuInfo {
  arch: string;
  model: string;
  vendor: string;
  topology: { sockets: number; cores: number; threads: number };
  features: string[];
}

/** What the host offers, as reported to placement (totals) and the hypervisors API (totals, usage, versions). */
export interface HostResources {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  /** Usage by the instances this driver knows, whatever their power state (they keep their allocations). */
  vcpusUsed: number;
  memoryMbUsed: number;
  diskGbUsed: number;
  hypervisorType: string;
  /** Nova's integer encoding: major * 1_000_000 + minor * 1_000 + patch. */
  hypervisorVersion: number;
  hypervisorHostname: string;
  cpuInfo: CpuInfo;
}

/** Feature flags that are not a method of their own (compare Nova's ComputeDriver.capabilities). */
export interface DriverCapabilities {
  /** The driver keeps a local image cache (the agent may then ask it to prune). */
  hasImagecache: boolean;
  /** Instances can be rebuilt on another host after theirs died. */
  supportsEvacuate: boolean;
  /** A resize may land on the source host. */
  supportsMigrateToSameHost: boolean;
  /** attachInterface/detachInterface work on a live instance (implies both methods exist). */
  supportsAttachInterface: boolean;
  /** Device tags reach the guest's metadata. */
  supportsDeviceTagging: boolean;
  /** A volume may be attached to several instances. */
  supportsMultiattach: boolean;
  /** Image formats spawn accepts (Nova's supports_image_type_* flags). */
  imageFormats: readonly DiskFormat[];
}

/** Where a snapshot's bytes go; the agent implements it by uploading to the image service. */
export interface SnapshotSink {
  write(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void>;
}

export interface SnapshotMeta {
  diskFormat: DiskFormat;
  containerFormat: "bare";
  /** Virtual size of the disk in bytes. */
  virtualSizeBytes: number;
}

export interface RescueOptions {
  /** Image to boot as the rescue disk; absent means the instance's own image. */
  image?: ImageRef;
}

/** What the source of a cold migration hands to the destination (through the conductor). */
export interface MigrationDiskInfo {
  uuid: string;
  sourceHost: string;
  disks: { name: string; format: DiskFormat; sizeGb: number }[];
}

/**
 * A console endpoint the console proxy connects to over TCP: `host` must be an address the proxy (an API process on
 * the cloud's network) can reach, e.g. "127.0.0.1" for a QEMU on the same machine, not merely a host name.
 */
export interface VncConsole {
  host: string;
  /** The raw RFB port. */
  port: number;
  /** Where the hypervisor serves VNC over websockets itself (QEMU's websocket option), when it does. */
  websocketPort?: number;
}

/** A live attachment to an instance's serial port (the serial websocket console): output in, keystrokes out. */
export interface SerialConsole {
  /** Receive the guest's output as it arrives; returns the unsubscribe function. */
  onData(listener: (data: Buffer) => void): () => void;
  /** Send keystrokes to the guest. */
  write(data: Uint8Array | string): void;
}

/**
 * A hypervisor on one host. All methods may be called concurrently for different instances; the agent serialises
 * operations on one instance (as Nova's compute manager does with its per-instance lock).
 */
export interface VirtDriver {
  readonly capabilities: DriverCapabilities;

  /**
   * Connect to the hypervisor on `host` (the hostname reported as hypervisorHostname). Must be called once before
   * anything else. Instances that already exist on the host (an agent restart) are adopted as they are: their power
   * state is not changed, and they appear in listInstances().
   */
  init(host: string): Promise<void>;

  /**
   * Create and boot an instance; resolves once it is RUNNING. On failure nothing is left behind (the instance is
   * not listed). Throws InstanceExists if the uuid is already on this host.
   */
  spawn(spec: InstanceSpec): Promise<void>;

  /** Power off and delete an instance and its local disks. Idempotent: an unknown uuid is not an error. */
  destroy(uuid: string): Promise<void>;

  /** Boot a SHUTDOWN or CRASHED instance; a RUNNING one is left alone. PAUSED/SUSPENDED: InvalidPowerState. */
  powerOn(uuid: string): Promise<void>;

  /** Shut an instance down (cleanly within timeoutS, then forcibly); a SHUTDOWN one is left alone. */
  powerOff(uuid: string, opts?: PowerOffOptions): Promise<void>;

  /** SOFT needs a RUNNING guest; HARD recovers an instance from any power state. Both end RUNNING. */
  reboot(uuid: string, type: RebootType): Promise<void>;

  /** Current power state; InstanceNotFound if the hypervisor does not know the uuid. */
  getInfo(uuid: string): Promise<InstanceInfo>;

  /** Uuids of every instance on this host, sorted; used to reconcile with the database after a restart. */
  listInstances(): Promise<string[]>;

  getAvailableResources(): Promise<HostResources>;

  // ---- Optional capabilities: present only when the driver can do them. ----

  /** RUNNING → PAUSED (vCPUs stopped, memory kept). */
  pause?(uuid: string): Promise<void>;
  /** PAUSED → RUNNING. */
  unpause?(uuid: string): Promise<void>;
  /** RUNNING or PAUSED → SUSPENDED (memory saved to disk). */
  suspend?(uuid: string): Promise<void>;
  /** SUSPENDED → RUNNING. */
  resume?(uuid: string): Promise<void>;
  /** Boot the instance from a rescue image with its own disk attached; ends RUNNING and rescued. */
  rescue?(uuid: string, opts?: RescueOptions): Promise<void>;
  /** Leave rescue: boot the instance's own disk again. */
  unrescue?(uuid: string): Promise<void>;
  /** The serial console log so far. */
  getConsoleOutput?(uuid: string): Promise<string>;
  /** Copy the root disk into `sink`; the instance's power state is unchanged. */
  snapshot?(uuid: string, sink: SnapshotSink): Promise<void>;
  /** Inject an NMI (the guest kernel usually panics and dumps): RUNNING → CRASHED. */
  triggerCrashDump?(uuid: string): Promise<void>;
  /** Where a VNC client (the console proxy) can reach the instance's display. */
  getVncConsole?(uuid: string): Promise<VncConsole>;
  /** The instance's serial port, live (the log keeps being written too); InvalidPowerState unless it runs. */
  getSerialConsole?(uuid: string): Promise<SerialConsole>;
  /** Hot-plug a NIC (only when capabilities.supportsAttachInterface). */
  attachInterface?(uuid: string, vif: Vif): Promise<void>;
  /** Hot-unplug a NIC by port id. */
  detachInterface?(uuid: string, vifId: string): Promise<void>;
  /**
   * Attach a volume as a virtio disk whose serial is the volume id: hot-plugged into a RUNNING or PAUSED guest,
   * only recorded for a SHUTDOWN one; either way it is part of every later boot until detached.
   */
  attachVolume?(uuid: string, volumeId: string, source: VolumeSource): Promise<void>;
  /** Detach a volume (hot-unplug from a live guest, forget it for a stopped one); unknown volumes are an error. */
  detachVolume?(uuid: string, volumeId: string): Promise<void>;
  /** The volume grew to `sizeBytes` in the block storage service: let a live guest see it (block_resize). */
  extendVolume?(uuid: string, volumeId: string, sizeBytes: number): Promise<void>;

  // Cold migration / resize, in the order the conductor calls them. A driver has all four or none.
  /** On the source: power off and make the disks available to `destHost`. The instance stays listed here. */
  migrateDiskAndPowerOff?(uuid: string, destHost: string): Promise<MigrationDiskInfo>;
  /** On the destination: build the instance from the migrated disks (with the new flavor sizes in `spec`). */
  finishMigration?(spec: InstanceSpec, disk: MigrationDiskInfo, opts: { powerOn: boolean }): Promise<void>;
  /** On the source, after the user confirmed: delete what is left of the instance. */
  confirmMigration?(uuid: string): Promise<void>;
  /** On the source, after the destination was cleaned up (destroy): restore the instance. */
  finishRevertMigration?(uuid: string, opts: { powerOn: boolean }): Promise<void>;

  // Live migration, in order. A driver has all four or none.
  /** On the destination: prepare to receive `spec` (networking, disks, an incoming paused domain). */
  preLiveMigration?(spec: InstanceSpec, sourceHost: string): Promise<void>;
  /** On the source: move the running instance to `destHost`; afterwards it is no longer listed here. */
  liveMigration?(uuid: string, destHost: string): Promise<void>;
  /** On the destination, after success: the instance runs here. */
  postLiveMigrationAtDestination?(uuid: string): Promise<void>;
  /** On the destination, after a failure: remove what preLiveMigration prepared. Idempotent. */
  rollbackLiveMigrationAtDestination?(uuid: string): Promise<void>;
}

/** The optional methods, by name. */
export type OptionalDriverMethod = {
  [K in keyof VirtDriver]-?: undefined extends VirtDriver[K] ? K : never;
}[keyof VirtDriver];

/** A driver known to have the optional method `M`. */
export type DriverWith<M extends OptionalDriverMethod> = VirtDriver & Required<Pick<VirtDriver, M>>;

/** Narrowing test for an optional capability: `if (hasCapability(d, "pause")) await d.pause(uuid)`. */
export function hasCapability<D extends VirtDriver, M extends OptionalDriverMethod>(
  driver: D,
  method: M,
): driver is D & DriverWith<M> {
  return typeof driver[method] === "function";
}

export const COLD_MIGRATION_METHODS = [
  "migrateDiskAndPowerOff",
  "finishMigration",
  "confirmMigration",
  "finishRevertMigration",
] as const satisfies readonly OptionalDriverMethod[];

export const LIVE_MIGRATION_METHODS = [
  "preLiveMigration",
  "liveMigration",
  "postLiveMigrationAtDestination",
  "rollbackLiveMigrationAtDestination",
] as const satisfies readonly OptionalDriverMethod[];
