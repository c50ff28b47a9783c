// Typed calls for the project pages: compute, image and network resources (the subset the dashboard shows).
import type { Api } from "./client.js";

/** A server as the Instances page shows it. */
export interface Server {
  id: string;
  name: string;
  status: string;
  created: string;
  flavor: { original_name?: string; vcpus?: number; ram?: number };
  image: { id: string } | "";
  key_name: string | null;
  /** Locked against changes (2.9). */
  locked?: boolean;
  addresses: Record<string, Array<{ addr: string; "OS-EXT-IPS:type"?: string; version?: number }>>;
  "OS-EXT-STS:task_state"?: string | null;
  "OS-EXT-STS:power_state"?: number;
  security_groups?: Array<{ name: string }>;
  fault?: { message: string };
}

/** A flavor. */
export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

/** An image. */
export interface Image {
  id: string;
  name: string | null;
  status: string;
  size: number | null;
  visibility: string;
  disk_format: string | null;
  container_format: string | null;
  owner: string;
  created_at: string;
  /** "snapshot" on an instance snapshot. */
  image_type?: string;
}

/** A key pair. */
export interface Keypair {
  name: string;
  fingerprint: string;
  public_key: string;
  type?: string;
  private_key?: string;
}

/** A network. */
export interface Network {
  id: string;
  name: string;
  status: string;
  shared: boolean;
  subnets: string[];
  project_id: string;
  "router:external"?: boolean;
}

/** A subnet. */
export interface Subnet {
  id: string;
  name: string;
  network_id: string;
  cidr: string;
  ip_version: number;
  gateway_ip: string | null;
}

/** A security group rule. */
export interface SecurityGroupRule {
  id: string;
  direction: "ingress" | "egress";
  ethertype: string;
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

/** A security group. */
export interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  security_group_rules: SecurityGroupRule[];
}

/** A floating IP. */
export interface FloatingIp {
  id: string;
  floating_ip_address: string;
  fixed_ip_address: string | null;
  port_id: string | null;
  status: string;
  floating_network_id: string;
}

/** A port (to associate a floating IP with an instance's address). */
export interface Port {
  id: string;
  device_id: string;
  network_id: string;
  fixed_ips: Array<{ ip_address: string; subnet_id: string }>;
}

/** One block device mapping (v2) of a launch: what the instance boots from when not an image's local disk. */
export interface BlockDevice {
  boot_index: number;
  uuid: string;
  source_type: "image" | "volume" | "snapshot";
  destination_type: "volume";
  volume_size?: number;
  delete_on_termination: boolean;
}

/** What the Launch dialog sends: an image to boot from, or a volume in `block_device_mapping_v2`. */
export interface LaunchRequest {
  name: string;
  imageRef?: string;
  block_device_mapping_v2?: BlockDevice[];
  /** Base64, as Nova takes it. */
  user_data?: string;
  flavorRef: string;
  networks: string[];
  key_name?: string;
  security_groups: string[];
  count: number;
}

const q = (s: string) => encodeURIComponent(s);

/** The resource calls, bound to one Api. */
export function resources(api: Api) {
  return {
    servers: async (): Promise<Server[]> => (await api.get("compute", "/servers/detail")).servers,
    server: async (id: string): Promise<Server> => (await api.get("compute", `/servers/${q(id)}`)).server,
    consoleLog: async (id: string, length = 200): Promise<string> =>
      (await api.post("compute", `/servers/${q(id)}/action`, { "os-getConsoleOutput": { length } })).output,
    launch: async (r: LaunchRequest): Promise<void> => {
      const server: Record<string, unknown> = {
        name: r.name,
        flavorRef: r.flavorRef,
        networks: r.networks.length ? r.networks.map((uuid) => ({ uuid })) : "auto",
        min_count: r.count,
        max_count: r.count,
      };
      if (r.imageRef) server.imageRef = r.imageRef;
      if (r.block_device_mapping_v2) server.block_device_mapping_v2 = r.block_device_mapping_v2;
      if (r.user_data) server.user_data = r.user_data;
      if (r.key_name) server.key_name = r.key_name;
      if (r.security_groups.length) server.security_groups = r.security_groups.map((name) => ({ name }));
      await api.post("compute", "/servers", { server });
    },
    serverAction: (id: string, action: "start" | "stop" | "reboot"): Promise<void> => {
      const body =
        action === "start"
          ? { "os-start": null }
          : action === "stop"
            ? { "os-stop": null }
            : { reboot: { type: "SOFT" } };
      return api.call("compute", `/servers/${q(id)}/action`, { method: "POST", body, raw: true });
    },
    deleteServer: (id: string) => api.del("compute", `/servers/${q(id)}`),
    flavors: async (): Promise<Flavor[]> => (await api.get("compute", "/flavors/detail")).flavors,
    limits: async (): Promise<Record<string, number>> =>
      (await api.get("compute", "/limits")).limits.absolute,
    keypairs: async (): Promise<Keypair[]> =>
      ((await api.get("compute", "/os-keypairs")).keypairs as Array<{ keypair: Keypair }>).map(
        (k) => k.keypair,
      ),
    createKeypair: async (name: string, publicKey?: string): Promise<Keypair> => {
      const keypair: Record<string, string> = { name, type: "ssh" };
      if (publicKey) keypair.public_key = publicKey;
      // 2.92 dropped key generation; 2.79 still generates a key when no public key is given.
      return (await api.post("compute", "/os-keypairs", { keypair })).keypair;
    },
    deleteKeypair: (name: string) => api.del("compute", `/os-keypairs/${q(name)}`),
    images: async (): Promise<Image[]> => (await api.get("image", "/v2/images?limit=1000")).images,
    createImage: (name: string, diskFormat: string, visibility = "private"): Promise<Image> =>
      api.post("image", "/v2/images", {
        name,
        disk_format: diskFormat,
        container_format: "bare",
        visibility,
      }),
    deleteImage: (id: string) => api.del("image", `/v2/images/${q(id)}`),
    networks: async (): Promise<Network[]> => (await api.get("network", "/v2.0/networks")).networks,
    subnets: async (): Promise<Subnet[]> => (await api.get("network", "/v2.0/subnets")).subnets,
    createNetwork: async (name: string, subnet?: { cidr: string; gateway?: string }): Promise<Network> => {
      const net = (await api.post("network", "/v2.0/networks", { network: { name, admin_state_up: true } }))
        .network as Network;
      if (subnet) {
        const s: Record<string, unknown> = {
          network_id: net.id,
          name: `${name}-subnet`,
          cidr: subnet.cidr,
          ip_version: subnet.cidr.includes(":") ? 6 : 4,
        };
        if (subnet.gateway) s.gateway_ip = subnet.gateway;
        await api.post("network", "/v2.0/subnets", { subnet: s });
      }
      return net;
    },
    deleteNetwork: (id: string) => api.del("network", `/v2.0/networks/${q(id)}`),
    networkQuota: async (projectId: string): Promise<Record<string, { used: number; limit: number }>> =>
      (await api.get("network", `/v2.0/quotas/${q(projectId)}/details`)).quota,
    securityGroups: async (): Promise<SecurityGroup[]> =>
      (await api.get("network", "/v2.0/security-groups")).security_groups,
    createSecurityGroup: async (name: string, description: string): Promise<SecurityGroup> =>
      (await api.post("network", "/v2.0/security-groups", { security_group: { name, description } }))
        .security_group,
    deleteSecurityGroup: (id: string) => api.del("network", `/v2.0/security-groups/${q(id)}`),
    addRule: async (groupId: string, rule: Partial<SecurityGroupRule>): Promise<SecurityGroupRule> =>
      (
        await api.post("network", "/v2.0/security-group-rules", {
          security_group_rule: { security_group_id: groupId, ...rule },
        })
      ).security_group_rule,
    deleteRule: (id: string) => api.del("network", `/v2.0/security-group-rules/${q(id)}`),
    floatingIps: async (): Promise<FloatingIp[]> =>
      (await api.get("network", "/v2.0/floatingips")).floatingips,
    allocateFloatingIp: async (networkId: string): Promise<FloatingIp> =>
      (await api.post("network", "/v2.0/floatingips", { floatingip: { floating_network_id: networkId } }))
        .floatingip,
    associateFloatingIp: async (id: string, portId: string | null): Promise<FloatingIp> =>
      (await api.put("network", `/v2.0/floatingips/${q(id)}`, { floatingip: { port_id: portId } }))
        .floatingip,
    releaseFloatingIp: (id: string) => api.del("network", `/v2.0/floatingips/${q(id)}`),
    ports: async (deviceId?: string): Promise<Port[]> =>
      (await api.get("network", `/v2.0/ports${deviceId ? `?device_id=${q(deviceId)}` : ""}`)).ports,
  };
}

/** The resource calls' type. */
export type Resources = ReturnType<typeof resources>;
