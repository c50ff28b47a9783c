// The compute service's RPC contracts: the API casts workflows to the conductor; the conductor (and the API for
// one-host actions) talks to the agent of one host on the "compute" topic; agents report to the conductor.
import { call, cast, defineContract } from "../shared/bus/index.js";
import type { HostResources, Vif } from "./drivers/types.js";
import type { ConnectionInfo, VolumeConnector } from "./volume-client.js";
import type { RequestContext } from "./instances/actions.js";
import type { Allocations } from "./placement-client.js";

/** A host the scheduler chose, with the allocation it claimed there for the server. */
export interface HostChoice {
  host: string;
  node: string;
  /** Placement allocations claimed (for the first choice) or to claim (for alternates). */
  allocations: Allocations;
}

/** The conductor: owns multi-step workflows (build, delete, resize/migrate, evacuate, live-migrate, unshelve). */
export const conductorContract = defineContract("conductor", "1.2", {
  /** Schedule and build servers the API created (BUILDING/scheduling). */
  build_instances: cast<{ ctx: RequestContext; uuids: string[] }>(),
  /** An agent failed to spawn; try the next alternate host or put the server in ERROR. */
  reschedule: cast<{
    ctx: RequestContext;
    uuid: string;
    failedHost: string;
    alternates: HostChoice[];
    reason: string;
    /** Fail the build without trying the alternates (Nova's BuildAbortException: VIFs not plugged in time). */
    abort?: boolean;
  }>(),
  /** Delete a server wherever it is (its host may be down: then delete it locally). */
  delete_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  /** Resize (flavorid set) or cold-migrate (host optional) a server. */
  migrate_server: cast<{ ctx: RequestContext; uuid: string; flavorid?: string; host?: string }>(),
  confirm_resize: cast<{ ctx: RequestContext; uuid: string }>(),
  revert_resize: cast<{ ctx: RequestContext; uuid: string }>(),
  /** Rebuild a server whose host is down on another host. */
  evacuate: cast<{ ctx: RequestContext; uuid: string; host?: string }>(),
  live_migrate: cast<{ ctx: RequestContext; uuid: string; host?: string }>(),
  /** Schedule a shelved-offloaded server again and boot it from its snapshot. */
  unshelve: cast<{ ctx: RequestContext; uuid: string; availabilityZone?: string | null; host?: string }>(),
  /** A server left its host without a new one (shelve-offload): drop its placement allocation. */
  release_allocations: cast<{ uuid: string }>({ since: "1.1" }),
  /** An agent's compute node: create/update its record and its placement inventory. */
  report_resources: call<{ host: string; resources: HostResources }, { nodeUuid: string }>(),
  /** The network service's status of a server's ports, by port id (an agent checks which are plugged already). */
  port_statuses: call<{ uuid: string; portIds: string[] }, Record<string, string>>({ since: "1.2" }),
});

/** The compute agent of one host (server name = host). */
export const agentContract = defineContract("compute", "1.3", {
  build_and_run_instance: cast<{ ctx: RequestContext; uuid: string; alternates: HostChoice[] }>(),
  /** Destroy the guest; the conductor then drops allocations and marks the row deleted. */
  terminate_instance: call<{ ctx: RequestContext; uuid: string }, void>(),
  stop_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  start_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  reboot_instance: cast<{ ctx: RequestContext; uuid: string; type: "SOFT" | "HARD" }>(),
  pause_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  unpause_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  suspend_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  resume_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  rescue_instance: cast<{ ctx: RequestContext; uuid: string; rescueImageRef?: string }>(),
  unrescue_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  trigger_crash_dump: cast<{ ctx: RequestContext; uuid: string }>(),
  /** Snapshot the root disk into the (queued) image `imageId`, uploading with the caller's token. */
  snapshot_instance: cast<{ ctx: RequestContext; uuid: string; imageId: string; imageUrl: string }>(),
  /** Re-create the guest from `imageRef` on this host (rebuild), or from scratch here (evacuate). */
  rebuild_instance: cast<{
    ctx: RequestContext;
    uuid: string;
    imageRef: string;
    evacuate: boolean;
    migrationUuid?: string;
  }>(),
  shelve_instance: cast<{
    ctx: RequestContext;
    uuid: string;
    imageId?: string;
    imageUrl?: string;
    offload: boolean;
  }>(),
  shelve_offload_instance: cast<{ ctx: RequestContext; uuid: string }>(),
  get_console_output: call<{ uuid: string; length?: number }, string>(),
  get_vnc_console: call<{ uuid: string }, { host: string; port: number }>(),
  get_serial_console: call<{ uuid: string }, { host: string; port: number }>(),
  /** Hot-plug a NIC for a port compute bound to the server (os-interface). */
  attach_interface: call<{ uuid: string; vif: Vif }, void>({ since: "1.1" }),
  /** Hot-unplug the NIC of a port. */
  detach_interface: call<{ uuid: string; portId: string }, void>({ since: "1.1" }),
  /** This host's connector (what the block storage service needs to export a volume to it). */
  volume_connector: call<Record<string, never>, VolumeConnector>({ since: "1.3" }),
  /** Attach a volume with the connection info its attachment gave (hot-plug, or record it for a stopped server). */
  attach_volume: call<{ uuid: string; volumeId: string; connectionInfo: ConnectionInfo }, void>({
    since: "1.3",
  }),
  /** Detach a volume (hot-unplug, or forget it for a stopped server); a volume the guest lacks is no error. */
  detach_volume: call<{ uuid: string; volumeId: string }, void>({ since: "1.3" }),
  /** A volume grew in the block storage service: show the guest its new size (volume-extended). */
  extend_volume: call<{ uuid: string; volumeId: string; sizeBytes: number }, void>({ since: "1.3" }),
  // Cold migration / resize steps, called by the conductor in order.
  migrate_disk_and_power_off: call<{ uuid: string; destHost: string }, unknown>(),
  finish_migration: call<{ ctx: RequestContext; uuid: string; disk: unknown; powerOn: boolean }, void>(),
  confirm_migration: call<{ uuid: string }, void>(),
  finish_revert_migration: call<{ uuid: string; powerOn: boolean }, void>(),
  /** Destroy the guest on this host without touching the instance row (migration clean-up). */
  destroy_guest: call<{ uuid: string }, void>(),
  // Live migration steps.
  pre_live_migration: call<{ uuid: string; sourceHost: string }, void>(),
  live_migration: call<{ uuid: string; destHost: string }, void>(),
  post_live_migration_at_destination: call<{ uuid: string }, void>(),
  rollback_live_migration_at_destination: call<{ uuid: string }, void>(),
  /** The guest's power state on this host, or null when it has none (where an interrupted move left it). */
  guest_state: call<{ uuid: string }, number | null>({ since: "1.3" }),
  /** Report resources and sync power states now (tests, and after a host was re-enabled). */
  refresh: call<Record<string, never>, void>(),
  /** Events the network service sent about a server (network-vif-plugged wakes a waiting spawn or move). */
  external_instance_event: cast<{
    uuid: string;
    events: Array<{ name: string; tag?: string; status: string }>;
  }>({
    since: "1.2",
  }),
});
