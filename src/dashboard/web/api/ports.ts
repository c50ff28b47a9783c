// Typed calls for a network's Neutron ports: list, create (optionally with a fixed IP on a subnet), delete.
import type { Api } from "./client.js";

/** A port as the network's Ports dialog shows it. */
export interface NetworkPort {
  id: string;
  name: string;
  status: string;
  mac_address: string;
  device_owner: string;
  device_id: string;
  fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
}

/** What creating a port sends: a name, and optionally a subnet and an address on it. */
export interface PortRequest {
  network_id: string;
  name: string;
  subnet_id?: string;
  ip_address?: string;
}

const q = (s: string) => encodeURIComponent(s);

/** The port calls, bound to one Api. */
export function portCalls(api: Api) {
  return {
    ports: async (networkId: string): Promise<NetworkPort[]> =>
      (await api.get("network", `/v2.0/ports?network_id=${q(networkId)}`)).ports,
    createPort: async (p: PortRequest): Promise<NetworkPort> => {
      const port: Record<string, unknown> = { network_id: p.network_id, name: p.name, admin_state_up: true };
      if (p.subnet_id || p.ip_address) {
        const ip: Record<string, string> = {};
        if (p.subnet_id) ip.subnet_id = p.subnet_id;
        if (p.ip_address) ip.ip_address = p.ip_address;
        port.fixed_ips = [ip];
      }
      return (await api.post("network", "/v2.0/ports", { port })).port;
    },
    deletePort: (id: string) => api.del("network", `/v2.0/ports/${q(id)}`),
  };
}
