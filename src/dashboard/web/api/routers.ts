// Typed calls for Neutron routers: list, create with an external gateway, add/remove a subnet interface, delete.
import type { Api } from "./client.js";

/** A router as the Routers page shows it. */
export interface Router {
  id: string;
  name: string;
  status: string;
  admin_state_up: boolean;
  external_gateway_info: {
    network_id: string;
    external_fixed_ips?: Array<{ subnet_id: string; ip_address: string }>;
  } | null;
}

/** A router's interface: its port, and the subnet and address on it. */
export interface RouterInterface {
  router: string;
  port: string;
  subnet: string;
  ip: string;
}

const q = (s: string) => encodeURIComponent(s);
const NET = "network";

/** The router calls, bound to one Api. */
export function routerCalls(api: Api) {
  return {
    routers: async (): Promise<Router[]> => (await api.get(NET, "/v2.0/routers")).routers,
    /** Every router interface the project sees (ports owned by a router's interface). */
    interfaces: async (): Promise<RouterInterface[]> =>
      (
        (await api.get(NET, "/v2.0/ports?device_owner=network%3Arouter_interface")).ports as Array<{
          id: string;
          device_id: string;
          fixed_ips: Array<{ subnet_id: string; ip_address: string }>;
        }>
      ).flatMap((p) =>
        p.fixed_ips.map((ip) => ({
          router: p.device_id,
          port: p.id,
          subnet: ip.subnet_id,
          ip: ip.ip_address,
        })),
      ),
    createRouter: async (name: string, externalNetwork: string | null): Promise<Router> => {
      const router: Record<string, unknown> = { name, admin_state_up: true };
      if (externalNetwork) router.external_gateway_info = { network_id: externalNetwork };
      return (await api.post(NET, "/v2.0/routers", { router })).router;
    },
    addInterface: (router: string, subnet: string): Promise<unknown> =>
      api.put(NET, `/v2.0/routers/${q(router)}/add_router_interface`, { subnet_id: subnet }),
    removeInterface: (router: string, subnet: string): Promise<unknown> =>
      api.put(NET, `/v2.0/routers/${q(router)}/remove_router_interface`, { subnet_id: subnet }),
    deleteRouter: (id: string) => api.del(NET, `/v2.0/routers/${q(id)}`),
  };
}

/** The router calls' type. */
export type RouterCalls = ReturnType<typeof routerCalls>;
