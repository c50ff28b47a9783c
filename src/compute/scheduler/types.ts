// The scheduler's inputs and outputs. The scheduler only picks hosts: it asks placement for candidates, filters
// and weighs the hosts behind them, and claims the winner's allocation; it never touches instances.
import type { InstanceFlavor, RequestSpec } from "../instances/store.js";
import type { HostChoice } from "../rpc.js";

/** One compute host as the filters and weighers see it. */
export interface HostState {
  host: string;
  /** Hypervisor hostname (compute node); equal to host for every Stratus driver. */
  node: string;
  /** Compute node uuid = its placement resource provider uuid. */
  nodeUuid: string;
  /** The nova-compute service is enabled (not disabled by an operator). */
  enabled: boolean;
  /** The service heartbeats in time and is not forced down. */
  up: boolean;
  /** The host's availability zone (from aggregate metadata, else the default zone). */
  availabilityZone: string;
  aggregates: Array<{ uuid: string; name: string; metadata: Record<string, string> }>;
  /** Free/total capacity as placement reports it (capacity already includes allocation ratios). */
  vcpusTotal: number;
  vcpusUsed: number;
  memoryMbTotal: number;
  memoryMbUsed: number;
  diskGbTotal: number;
  diskGbUsed: number;
  hypervisorType: string;
  hypervisorVersion: number;
  cpuInfo: { arch: string; model: string; vendor: string; features: string[] };
  /** Uuids of the live instances on this host that the request names (group members, hinted servers). */
  instances: Set<string>;
  /** How many live instances the host runs. */
  numInstances?: number;
}

/** One scheduling request (one server). */
export interface ScheduleRequest {
  /** Instance being placed. */
  instanceUuid: string;
  /** Placement consumer to claim for: the instance (build, evacuate, unshelve) or a migration (resize/migrate). */
  consumer: string;
  projectId: string;
  userId: string;
  flavor: InstanceFlavor;
  spec: RequestSpec;
  /** Hosts never to pick (a migration's source host, hosts a build already failed on). */
  ignoreHosts?: string[];
  /** Only this host (an admin's target for migrate/evacuate/live-migrate, or a forced host at create). */
  requestedHost?: string;
  /** How many alternates to hand back for rescheduling (max_attempts - 1 for builds, 0 for moves). */
  alternates: number;
  /** Server group the instance is in, with the hosts of its other members. */
  group?: {
    uuid: string;
    policy: string;
    rules: Record<string, unknown>;
    hosts: string[];
    /** Instance uuids of the other members (the scheduler loads them when absent). */
    members?: string[];
  };
}

/** The outcome: the first choice (claimed in placement) and unclaimed alternates. */
export interface Selection {
  choice: HostChoice;
  alternates: HostChoice[];
}

/** A host filter: true passes; a string fails and says why in plain words ("was disabled"). */
export interface HostFilter {
  name: string;
  check(host: HostState, req: ScheduleRequest): true | string;
}

/** A weigher: a raw score per host (normalised to 0..1 across hosts, then multiplied). */
export interface HostWeigher {
  name: string;
  multiplier(): number;
  weigh(host: HostState, req: ScheduleRequest): number;
}
