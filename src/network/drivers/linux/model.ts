// The data plane's inputs: plain typed specs of networks, subnets, ports, security groups, routers and floating IPs.
// The agent maps database rows onto them; nothing here knows about the API or the database. Every "ensure" call
// takes the whole desired state of its object, so reconciling after a restart is calling it again.

/** How a network's traffic leaves the host. */
export type SegmentationType = "flat" | "vlan" | "vxlan" | "local";

/** One network's layer 2 on this host. */
export interface NetworkSpec {
  id: string;
  /** MTU of the network (taps, veths and the bridge get it; VXLAN needs 50 bytes less than the underlay). */
  mtu: number;
  segmentation: SegmentationType;
  /** VLAN id (vlan) or VNI (vxlan); unused for flat and local. */
  segmentationId?: number;
  /** Host interface of the physical network (flat: plugged into the bridge as is; vlan: parent of `<if>.<vid>`). */
  physicalInterface?: string;
  /** VXLAN: this host's tunnel address and, optionally, the underlay device. */
  vxlanLocal?: string;
  vxlanDevice?: string;
  /** VXLAN: tunnel addresses of the other hosts that have ports on the network (head-end replication). */
  vxlanPeers?: readonly string[];
  /** Conntrack zone of the network's bridged traffic (1..65535), so overlapping tenant addresses never mix. */
  ctZone?: number;
}

/** One IP allocation range of a subnet. */
export interface AllocationPool {
  start: string;
  end: string;
}

/** A host route a subnet hands out by DHCP. */
export interface HostRoute {
  destination: string;
  nexthop: string;
}

/** A subnet of a network. */
export interface SubnetSpec {
  id: string;
  networkId: string;
  /** Network address with prefix length, e.g. 10.0.0.0/24 or fd00::/64. */
  cidr: string;
  ipVersion: 4 | 6;
  /** Gateway address, or null for none. */
  gateway: string | null;
  dhcp: boolean;
  /** DNS servers handed out (none: no DNS option). */
  dns: readonly string[];
  hostRoutes: readonly HostRoute[];
  allocationPools: readonly AllocationPool[];
  /** IPv6 address mode (Neutron's ipv6_address_mode); DHCP serves stateful addresses only for dhcpv6-stateful. */
  ipv6AddressMode?: "slaac" | "dhcpv6-stateful" | "dhcpv6-stateless";
}

/** A fixed IP of a port. */
export interface FixedIp {
  subnetId: string;
  address: string;
}

/** An allowed address pair (extra source addresses, possibly with another MAC). */
export interface AddressPair {
  /** An address or a CIDR. */
  ipAddress: string;
  /** Defaults to the port's MAC. */
  macAddress?: string;
}

/** An extra DHCP option of a port (Neutron's extra_dhcp_opts). */
export interface ExtraDhcpOpt {
  /** A dnsmasq option name (`bootfile-name`, `tftp-server`) or an option number. */
  name: string;
  value: string;
  ipVersion: 4 | 6;
}

/** A port: a VM NIC, a DHCP port or a router interface. */
export interface PortSpec {
  id: string;
  networkId: string;
  mac: string;
  fixedIps: readonly FixedIp[];
  /** Neutron's device_owner (`compute:nova`, `network:dhcp`, `network:router_interface`, ...). */
  deviceOwner: string;
  securityGroups: readonly string[];
  allowedAddressPairs: readonly AddressPair[];
  portSecurity: boolean;
  extraDhcpOpts: readonly ExtraDhcpOpt[];
  /** Host name DHCP hands out (default `host-<address with dashes>`, as Neutron). */
  hostname?: string;
}

/** Direction of a security group rule, as seen from the port. */
export type RuleDirection = "ingress" | "egress";

/** A security group rule. */
export interface SecurityGroupRuleSpec {
  id: string;
  direction: RuleDirection;
  ethertype: "IPv4" | "IPv6";
  /** A protocol name (`tcp`, `udp`, `icmp`, `icmpv6`, ...), a number as a string, or null for any. */
  protocol: string | null;
  /** tcp/udp/sctp/...: the port range; icmp: the type (min) and code (max). */
  portRangeMin: number | null;
  portRangeMax: number | null;
  remoteIpPrefix: string | null;
  remoteGroupId: string | null;
}

/** A security group: its rules and the addresses of its member ports (fixed IPs and address pairs, every host). */
export interface SecurityGroupSpec {
  id: string;
  rules: readonly SecurityGroupRuleSpec[];
  /** Addresses or CIDRs of every port in the group (for remote-group rules of other groups and of this one). */
  members: readonly string[];
}

/** An interface of a router on a tenant subnet. */
export interface RouterInterfaceSpec {
  /** The router port (device_owner network:router_interface): its MAC and its address(es) with the subnet prefix. */
  portId: string;
  networkId: string;
  mac: string;
  /** Addresses with prefix length, e.g. 10.0.0.1/24. */
  addresses: readonly string[];
  mtu: number;
}

/** A router's gateway on the external network. */
export interface RouterGatewaySpec {
  portId: string;
  networkId: string;
  mac: string;
  /** The router's external addresses with prefix length, e.g. 172.24.4.10/24. */
  addresses: readonly string[];
  /** The external subnet's gateway: the router's default route. */
  gatewayIp: string | null;
  /** SNAT the router's subnets to its external address. */
  enableSnat: boolean;
  mtu: number;
}

/** A static route of a router (Neutron's `routes`). */
export interface StaticRoute {
  destination: string;
  nexthop: string;
}

/** A floating IP on a router: traffic to `floatingIp` goes to `fixedIp`, and `fixedIp` leaves as `floatingIp`. */
export interface FloatingIpSpec {
  id: string;
  floatingIp: string;
  fixedIp: string;
  portId: string;
}

/** A port forwarding of a floating IP: `protocol` traffic to `floatingIp`:`externalPort` goes to `internalIp`:`internalPort`. */
export interface PortForwardingSpec {
  id: string;
  floatingIp: string;
  protocol: "tcp" | "udp" | "sctp" | "udplite";
  externalPort: number;
  internalIp: string;
  internalPort: number;
}

/** A router. */
export interface RouterSpec {
  id: string;
  interfaces: readonly RouterInterfaceSpec[];
  gateway: RouterGatewaySpec | null;
  routes: readonly StaticRoute[];
  floatingIps: readonly FloatingIpSpec[];
  /** Port forwardings of floating IPs served through this router (their floating IPs have no port). */
  portForwardings?: readonly PortForwardingSpec[];
}
