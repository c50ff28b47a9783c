// The compute service's client of the Networking API (Nova's neutronv2 API module, the calls it makes): list and
// show networks, create, show, update and delete ports. Calls go through the network service's public API, as the
// nova service user unless a user's token is given (validation on the user's behalf).
import { ServiceCallError, type ServiceClient } from "../shared/client/service-client.js";

/** A network as compute reads it. */
export interface NetNetwork {
  id: string;
  name: string;
  project_id: string;
  shared: boolean;
  mtu: number;
  "router:external"?: boolean;
  subnets: string[];
}

/** A port as compute reads it. */
export interface NetPort {
  id: string;
  network_id: string;
  project_id: string;
  mac_address: string;
  device_id: string;
  device_owner: string;
  status: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
  security_groups: string[];
  "binding:host_id"?: string;
  "binding:vif_type"?: string;
  "binding:vif_details"?: Record<string, unknown>;
}

/** A subnet as compute reads it (what network_data.json says of it). */
export interface NetSubnet {
  id: string;
  cidr: string;
  ip_version: 4 | 6;
  gateway_ip: string | null;
  enable_dhcp: boolean;
  dns_nameservers: string[];
  host_routes: Array<{ destination: string; nexthop: string }>;
  ipv6_address_mode?: string | null;
}

/** A floating IP as compute reads it. */
/** A security group as compute uses it. */
export interface NetSecurityGroup {
  id: string;
  name: string;
  project_id: string;
}

export interface NetFloatingIp {
  id: string;
  floating_ip_address: string;
  fixed_ip_address: string | null;
  port_id: string | null;
}

/** A refusal by the network service that compute passes on (a 4xx: not found, in use, no address left). */
export class NetworkRefused extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Who a call is made as: the service user (default) or a user's token. */
export interface AsUser {
  token?: string;
}

/** Networking as the compute service uses it. */
export class NetworkClient {
  constructor(private readonly http: ServiceClient) {}

  private async call(method: string, path: string, body?: unknown, as: AsUser = {}) {
    const res = await this.http.request(method, `/v2.0${path}`, { body, token: as.token });
    if (res.status >= 200 && res.status < 300) return res.body;
    const err = res.body?.NeutronError;
    if (res.status >= 400 && res.status < 500 && err)
      throw new NetworkRefused(res.status, String(err.type ?? ""), String(err.message ?? ""));
    throw new ServiceCallError("network", method, path, res);
  }

  /** Networks matching a query string (e.g. `shared=true`). */
  async listNetworks(query: string, as?: AsUser): Promise<NetNetwork[]> {
    return (await this.call("GET", `/networks?${query}`, undefined, as)).networks;
  }

  /** One network (NetworkRefused 404 when the caller may not see it). */
  async showNetwork(id: string, as?: AsUser): Promise<NetNetwork> {
    return (await this.call("GET", `/networks/${encodeURIComponent(id)}`, undefined, as)).network;
  }

  /** Ports matching a query string (e.g. `device_id=...`). */
  async listPorts(query: string, as?: AsUser): Promise<NetPort[]> {
    return (await this.call("GET", `/ports?${query}`, undefined, as)).ports;
  }

  /** One port (NetworkRefused 404 when the caller may not see it). */
  async showPort(id: string, as?: AsUser): Promise<NetPort> {
    return (await this.call("GET", `/ports/${encodeURIComponent(id)}`, undefined, as)).port;
  }

  /** Subnets matching a query string (e.g. `id=A&id=B`). */
  async listSubnets(query: string): Promise<NetSubnet[]> {
    return (await this.call("GET", `/subnets?${query}`)).subnets;
  }

  /** Floating IPs matching a query string (e.g. `port_id=...`). */
  async listFloatingIps(query: string): Promise<NetFloatingIp[]> {
    return (await this.call("GET", `/floatingips?${query}`)).floatingips;
  }

  /** Security groups matching a query string (e.g. `name=web&project_id=...`). */
  async listSecurityGroups(query: string, as?: AsUser): Promise<NetSecurityGroup[]> {
    return (
      await this.call(
        "GET",
        `/security-groups?${query}&fields=id&fields=name&fields=project_id`,
        undefined,
        as,
      )
    ).security_groups;
  }

  /** One security group (NetworkRefused 404 when the caller may not see it). */
  async showSecurityGroup(id: string, as?: AsUser): Promise<NetSecurityGroup> {
    return (await this.call("GET", `/security-groups/${encodeURIComponent(id)}`, undefined, as))
      .security_group;
  }

  /** Create a port. */
  async createPort(port: Record<string, unknown>): Promise<NetPort> {
    return (await this.call("POST", "/ports", { port })).port;
  }

  /** Update a port's attributes. */
  async updatePort(id: string, port: Record<string, unknown>): Promise<NetPort> {
    return (await this.call("PUT", `/ports/${encodeURIComponent(id)}`, { port })).port;
  }

  /** Delete a port; one already gone is fine. */
  async deletePort(id: string): Promise<void> {
    try {
      await this.call("DELETE", `/ports/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!(e instanceof NetworkRefused && e.status === 404)) throw e;
    }
  }
}
