// The project's network topology as a graph: networks, and the routers and instances linked to them through their
// ports (a router's gateway too), built from the Neutron and Nova lists the caller can see.
import type { Api } from "./client.js";
import type { Router } from "./routers.js";
import type { Network, Server, Subnet } from "./resources.js";

/** A network of the graph, with its subnets' CIDRs. */
export interface TopoNetwork {
  id: string;
  name: string;
  cidrs: string[];
  external: boolean;
}

/** A link from a router or an instance to a network, with its address there. */
export interface TopoLink {
  network: string;
  ips: string[];
  gateway?: boolean;
}

/** A router or an instance of the graph. */
export interface TopoNode {
  id: string;
  kind: "router" | "instance";
  name: string;
  status: string;
  links: TopoLink[];
}

/** The whole graph. */
export interface Topology {
  networks: TopoNetwork[];
  nodes: TopoNode[];
}

/** A port as the graph reads it. */
export interface TopoPort {
  id: string;
  network_id: string;
  device_id: string;
  device_owner: string;
  fixed_ips: Array<{ ip_address: string; subnet_id: string }>;
}

/** Add an address on `network` to a node's links (one link per network). */
function link(links: TopoLink[], network: string, ips: string[], gateway = false): void {
  const l = links.find((x) => x.network === network);
  if (l) l.ips.push(...ips);
  else links.push({ network, ips: [...ips], ...(gateway ? { gateway } : {}) });
}

/** Build the graph from the lists (pure: the page and the tests share it). */
export function buildTopology(
  networks: Network[],
  subnets: Subnet[],
  routers: Router[],
  ports: TopoPort[],
  servers: Server[],
): Topology {
  const nets: TopoNetwork[] = networks.map((n) => ({
    id: n.id,
    name: n.name || n.id,
    cidrs: subnets.filter((s) => s.network_id === n.id).map((s) => s.cidr),
    external: !!n["router:external"],
  }));
  const byName = new Map(nets.map((n) => [n.name, n.id]));
  const nodes: TopoNode[] = [];
  for (const r of routers) {
    const links: TopoLink[] = [];
    const gw = r.external_gateway_info;
    if (gw)
      link(
        links,
        gw.network_id,
        (gw.external_fixed_ips ?? []).map((f) => f.ip_address),
        true,
      );
    for (const p of ports)
      if (p.device_id === r.id && p.device_owner === "network:router_interface")
        link(
          links,
          p.network_id,
          p.fixed_ips.map((f) => f.ip_address),
        );
    nodes.push({ id: r.id, kind: "router", name: r.name || r.id, status: r.status, links });
  }
  for (const s of servers) {
    const links: TopoLink[] = [];
    for (const p of ports)
      if (p.device_id === s.id && p.device_owner.startsWith("compute:"))
        link(
          links,
          p.network_id,
          p.fixed_ips.map((f) => f.ip_address),
        );
    // Without visible ports, the server's addresses (keyed by network name) still place it.
    if (links.length === 0)
      for (const [name, addrs] of Object.entries(s.addresses ?? {})) {
        const id = byName.get(name);
        if (id)
          link(
            links,
            id,
            addrs.filter((a) => a["OS-EXT-IPS:type"] !== "floating").map((a) => a.addr),
          );
      }
    nodes.push({ id: s.id, kind: "instance", name: s.name || s.id, status: s.status, links });
  }
  // A linked network the caller cannot list (another project's external network) still gets its lane.
  for (const n of nodes)
    for (const l of n.links)
      if (!nets.some((x) => x.id === l.network))
        nets.push({ id: l.network, name: l.network, cidrs: [], external: !!l.gateway });
  // External networks first (on top), then by name.
  nets.sort((a, b) => Number(b.external) - Number(a.external) || a.name.localeCompare(b.name));
  return { networks: nets, nodes };
}

/** Fetch the lists and build the project's graph. */
export async function loadTopology(api: Api): Promise<Topology> {
  const [networks, subnets, routers, ports, servers] = await Promise.all([
    api.get("network", "/v2.0/networks").then((b) => b.networks as Network[]),
    api.get("network", "/v2.0/subnets").then((b) => b.subnets as Subnet[]),
    api.get("network", "/v2.0/routers").then((b) => b.routers as Router[]),
    api.get("network", "/v2.0/ports").then((b) => b.ports as TopoPort[]),
    api.get("compute", "/servers/detail").then((b) => b.servers as Server[]),
  ]);
  return buildTopology(networks, subnets, routers, ports, servers);
}
