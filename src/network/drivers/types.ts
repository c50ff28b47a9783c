// What a network driver does on one host: the data-plane half of a network agent. The agent (agent/agent.ts)
// reads the database and calls these; a driver never reads the database itself. Every call is idempotent: the
// agent repeats them at start (resync) and after a lost message. `noop` is the reference implementation; the
// `linux` driver (bridges, taps, VXLAN, namespaces) implements the same interface.

/** The L2 segment of a network (its provider attributes). */
export interface SegmentSpec {
  networkType: "flat" | "vlan" | "vxlan" | "local";
  physicalNetwork: string | null;
  segmentationId: number | null;
}

/** What a driver needs of a network. */
export interface NetworkSpec {
  id: string;
  mtu: number;
  adminStateUp: boolean;
  segment: SegmentSpec;
}

/** What a driver needs of a port bound to its host. */
export interface PortSpec {
  id: string;
  networkId: string;
  macAddress: string;
  fixedIps: Array<{ subnetId: string; ipAddress: string }>;
  adminStateUp: boolean;
  portSecurityEnabled: boolean;
  allowedAddressPairs: Array<{ ipAddress: string; macAddress: string }>;
  securityGroupIds: string[];
  deviceOwner: string;
  deviceId: string;
}

/** How a compute driver attaches a guest to a bound port (the port's binding:vif_type and binding:vif_details). */
export interface VifBinding {
  vifType: string;
  vifDetails: Record<string, unknown>;
}

/** What a driver has on its host now: the agent compares it with the database at resync. */
export interface DataPlaneState {
  networks: string[];
  ports: string[];
}

/** A network driver: the data plane of one host. */
export interface NetworkDriver {
  /** Registry name ("noop", "linux"). */
  readonly name: string;
  /** Whether the driver changes the host (the agent says so at start when it does not). */
  readonly realDataPlane: boolean;
  /** Prepare the host (check privileges, load state); throws with a plain reason when the driver cannot run. */
  init(host: string): Promise<void>;
  /** The binding a port bound to this host gets (the API writes it into binding:vif_*). */
  binding(port: PortSpec): VifBinding;
  /** Make the network's segment exist on this host. */
  ensureNetwork(net: NetworkSpec): Promise<void>;
  /** Remove the network's segment from this host (nothing of it may remain). */
  deleteNetwork(networkId: string): Promise<void>;
  /** Plug (or update) a port of a network this host carries. */
  plugPort(port: PortSpec, net: NetworkSpec): Promise<void>;
  /** Unplug a port; unknown ports are not an error. */
  unplugPort(portId: string, networkId: string): Promise<void>;
  /** What exists on the host now. */
  state(): Promise<DataPlaneState>;
  /** Release what the driver holds in this process (the data plane itself stays). */
  close(): Promise<void>;
}
