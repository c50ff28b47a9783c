// What a network driver does on one host: the data-plane half of a network agent. The agent (agent/agent.ts)
// reads the database and calls these; a driver never reads the database itself. Every call is idempotent: the
// agent repeats them at start (resync) and after a lost message. `noop` is the reference implementation; the
// `linux` driver (bridges, taps, VXLAN, namespaces) implements the same interface plus the optional capabilities
// below (DHCP, routers, the public network, the firewall), which the agent uses when a driver has them.
import type { ExtraDhcpOpt, RouterSpec, SecurityGroupSpec, SubnetSpec } from "./linux/model.js";

export type { ExtraDhcpOpt, RouterSpec, SecurityGroupSpec, SubnetSpec };

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
  /** VXLAN: this host's tunnel address (none: the network stays a host-local bridge). */
  vxlanLocal?: string | null;
  /** VXLAN: the tunnel addresses of the other hosts (from the agents' reports). */
  vxlanPeers?: string[];
  /** router:external: a host's bridge of it is linked to the public network's (linux: the public namespace). */
  external?: boolean;
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
  /** Extra DHCP options (what DHCP hands this port besides its address). */
  extraDhcpOpts?: ExtraDhcpOpt[];
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

/** What DHCP serves on one network: its subnets, its DHCP port and every port of the network. */
export interface DhcpNetworkSpec {
  network: NetworkSpec;
  subnets: SubnetSpec[];
  /** The network's DHCP port (device_owner network:dhcp, an address on each served subnet). */
  port: PortSpec;
  ports: PortSpec[];
  /** The network is router:external: its bridge is the public network's, inside the public namespace. */
  external?: boolean;
}

/** DHCP per network (network nodes). */
export interface DhcpCapability {
  /** Serve a network (idempotent: an unchanged spec changes nothing, a running server is kept). */
  ensureDhcp(spec: DhcpNetworkSpec): Promise<void>;
  /** Stop serving a network (unknown networks are not an error). */
  removeDhcp(networkId: string): Promise<void>;
  /** The networks served now. */
  dhcpNetworks(): Promise<string[]>;
}

/** An external network, where routers' gateways plug in. */
export interface ExternalNetworkSpec {
  network: NetworkSpec;
  /** Its subnets' gateway addresses with prefix (e.g. 172.24.4.1/24): the host side of the external network. */
  gatewayCidrs: string[];
}

/** Routers and the external networks they reach (network nodes). */
export interface RouterCapability {
  /** Make every given external network exist (and only those). */
  ensureExternal(nets: ExternalNetworkSpec[]): Promise<void>;
  /** Make a router match its spec (its external network must have been ensured). */
  ensureRouter(spec: RouterSpec): Promise<void>;
  /** Remove a router (unknown routers are not an error). */
  removeRouter(routerId: string): Promise<void>;
  /** The routers present now. */
  routers(): Promise<string[]>;
}

/** Everything a host's firewall enforces: the ports plugged there and their security groups. */
export interface HostFirewallSpec {
  networks: NetworkSpec[];
  ports: PortSpec[];
  groups: SecurityGroupSpec[];
}

/** Security groups of the ports plugged on this host. */
export interface FirewallCapability {
  /** Replace the host's firewall with this one (unchanged: nothing is touched). */
  applyFirewall(spec: HostFirewallSpec): Promise<void>;
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
  /** Optional: DHCP servers (used on network nodes). */
  readonly dhcp?: DhcpCapability;
  /** Optional: routers, floating IPs and the external network (used on network nodes). */
  readonly routing?: RouterCapability;
  /** Optional: security groups of this host's ports. */
  readonly firewall?: FirewallCapability;
}
