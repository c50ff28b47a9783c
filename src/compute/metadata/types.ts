// What the metadata documents are made from: one instance as the metadata service and the config drive see it.
// Loaded from compute's tables by source.ts; the virt driver may also build one itself for a config drive.

/** One IP address on a subnet (Nova's network model FixedIP, with its floating IPs). */
export interface NetworkIp {
  address: string;
  /** "fixed" (default) or "floating". */
  type?: "fixed" | "floating";
  floatingIps?: string[];
}

/** A subnet a VIF has addresses on (Nova's network model Subnet, the fields network_data.json uses). */
export interface NetworkSubnet {
  cidr: string;
  version: 4 | 6;
  gateway?: string | null;
  ips: NetworkIp[];
  dns?: string[];
  routes?: Array<{ cidr: string; gateway: string }>;
  /** DHCP enabled on the subnet: network_data.json then says ipv4_dhcp/ipv6_dhcp. */
  enableDhcp?: boolean;
  /** IPv6 address mode (slaac, dhcpv6-stateful, dhcpv6-stateless). */
  ipv6AddressMode?: string;
}

/** One VIF of the instance as the network service bound it (Nova's network_info entry). */
export interface NetworkVif {
  /** Port id. */
  id: string;
  /** MAC address. */
  address: string;
  /** VIF type (ovs, bridge, tap, ...); other types are shown as "phy". */
  type?: string;
  /** Host-side device name, used as the link id when set. */
  devName?: string;
  network: { id: string; mtu?: number | null; subnets: NetworkSubnet[] };
}

/** A tagged device exposed in meta_data.json's `devices` (2016-06-30 on). */
export interface DeviceMetadata {
  type: "nic" | "disk";
  bus: "pci" | "usb" | "scsi" | "ide" | "xen" | "none";
  address: string;
  mac?: string;
  serial?: string;
  path?: string;
  vlan?: number;
  vfTrusted?: boolean;
  tags?: string[];
}

/** Everything the metadata documents say about one instance. */
export interface InstanceMetadataSource {
  uuid: string;
  /** The instance's internal integer id: the EC2 instance-id is `i-` and its 8 hex digits. */
  internalId: number;
  /** Display name. */
  name: string;
  /** Guest hostname (without the DHCP domain). */
  hostname: string;
  projectId: string;
  availabilityZone: string | null;
  launchIndex: number;
  reservationId: string;
  /** The key pair the server was booted with (embedded in the instance, as Nova does). */
  keyPair: { name: string; type: string; publicKey: string } | null;
  /** Base64 user data as the API received it. */
  userData: string | null;
  /** Server metadata (`meta`). */
  meta: Record<string, string>;
  flavorName: string;
  flavor: { ephemeralGb: number; swapMb: number };
  imageId: string;
  kernelId?: string;
  ramdiskId?: string;
  securityGroups: string[];
  /** Network info; absent or empty until networking exists (network_data.json is then `{}`, as Nova). */
  networkInfo?: NetworkVif[];
  /** The encrypted password the guest posted (os-server-password), if any. */
  password: string | null;
  devices?: DeviceMetadata[];
  dedicatedCpus?: number[];
  launchedAt?: string | null;
}

/** Options that are deployment settings rather than instance data. */
export interface MetadataOptions {
  /** Nova's [api]dhcp_domain, appended to the hostname ("novalocal" by default; "" for none). */
  dhcpDomain: string;
  /** Static vendor data (Nova's StaticJSON provider; `{}` without a file). */
  vendorData: Record<string, unknown>;
  /** The caller's address (X-Forwarded-For), used as EC2 local-ipv4 when the instance has no fixed IP. */
  address?: string | null;
  /** Config drive only: the admin password, when the API generated or received one (Nova's extra_md). */
  adminPass?: string;
  /** Random bytes for `random_seed` (tests fix it). */
  randomSeed?: () => Buffer;
}

/** Nova's default DHCP domain. */
export const DEFAULT_DHCP_DOMAIN = "novalocal";
