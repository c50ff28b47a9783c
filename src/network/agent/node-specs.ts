// What a network node hands its driver, read from the database: each network's DHCP (its served subnets, its DHCP
// port, made here when missing, and every port to hand addresses to), each router (interfaces, gateway, SNAT,
// routes, floating IPs, port forwardings), and the external networks routers reach. Which networks a node carries follows from them.
import type { NetworkCore } from "../core.js";
import type { DhcpNetworkSpec, ExternalNetworkSpec, RouterSpec, SubnetSpec } from "../drivers/types.js";
import { parseCidr } from "../drivers/linux/addr.js";
import { createPortIn, deletePort, updatePort } from "../port-write.js";
import { routerPorts } from "../routers.js";
import { floatingIpsOfRouter, forwardingsOf } from "../store/floatingips.js";
import { getNetwork, type Network } from "../store/networks.js";
import { portsOfNetwork, type Port } from "../store/ports.js";
import { ROUTER_GATEWAY, ROUTER_INTERFACE, type Router } from "../store/routers.js";
import { subnetsOfNetworks, type Subnet } from "../store/subnets.js";
import { netDb } from "../store/tables.js";
import { networkSpec, portSpec } from "./specs.js";

/** The device owner of the DHCP ports network nodes make. */
export const DHCP_OWNER = "network:dhcp";

/** Whether a port is a VM's (or any non-service) port: the ones a host plugs as taps. */
export const isVmPort = (p: Pick<Port, "device_owner">): boolean => !p.device_owner.startsWith("network:");

/** Whether dnsmasq serves a subnet: DHCP on, and for IPv6 only stateful DHCPv6. */
const served = (s: Subnet) =>
  s.enable_dhcp && (s.ip_version === 4 || s.ipv6_address_mode === "dhcpv6-stateful");

const prefixOf = (cidr: string) => parseCidr(cidr).prefix;

/** A subnet as the driver sees it. */
export function subnetSpec(s: Subnet): SubnetSpec {
  return {
    id: s.id,
    networkId: s.network_id,
    cidr: s.cidr,
    ipVersion: s.ip_version,
    gateway: s.gateway_ip,
    dhcp: s.enable_dhcp,
    dns: s.dns_nameservers,
    hostRoutes: s.host_routes,
    allocationPools: s.allocation_pools,
    ipv6AddressMode: (s.ipv6_address_mode ?? undefined) as SubnetSpec["ipv6AddressMode"],
  };
}

/**
 * Ids of the networks with a served subnet. External networks only when asked: their DHCP sits on the public
 * namespace's bridge, so they are not among the networks whose bridge a host carries.
 */
export async function dhcpNetworkIds(core: NetworkCore, withExternal = false): Promise<string[]> {
  let q = netDb(core)
    .selectFrom("network_subnet")
    .innerJoin("network_network", "network_network.id", "network_subnet.network_id")
    .select(["network_subnet.network_id", "network_subnet.ip_version", "network_subnet.ipv6_address_mode"])
    .where("network_subnet.enable_dhcp", "=", 1);
  if (!withExternal) q = q.where("network_network.router_external", "=", 0);
  const rows = await q.execute();
  return [
    ...new Set(
      rows
        .filter((r) => Number(r.ip_version) === 4 || r.ipv6_address_mode === "dhcpv6-stateful")
        .map((r) => r.network_id),
    ),
  ];
}

/** Ids of the networks some router has an interface on. */
export async function routedNetworkIds(core: NetworkCore): Promise<string[]> {
  const rows = await netDb(core)
    .selectFrom("network_port")
    .select("network_id")
    .where("device_owner", "=", ROUTER_INTERFACE)
    .execute();
  return [...new Set(rows.map((r) => r.network_id))];
}

/** Every router id. */
export async function routerIds(core: NetworkCore): Promise<string[]> {
  return (await netDb(core).selectFrom("network_router").select("id").execute()).map((r) => r.id);
}

/**
 * The DHCP of a network, or null when nothing is to be served (then its DHCP ports are deleted). Makes the
 * network's DHCP port (bound to `host`) when missing, and gives it an address on every served subnet. External
 * networks are served too (their guests and ports on `public` get addresses), flagged for the public namespace.
 */
export async function dhcpSpec(
  core: NetworkCore,
  networkId: string,
  host: string,
): Promise<DhcpNetworkSpec | null> {
  const net = await getNetwork(core, networkId);
  const subnets = net ? await subnetsOfNetworks(core, [networkId]) : [];
  const want = subnets.filter(served);
  let ports = net ? await portsOfNetwork(core, networkId) : [];
  const dhcpPorts = ports.filter((p) => p.device_owner === DHCP_OWNER);
  if (!net || !want.length) {
    for (const p of dhcpPorts) await deletePort(core, p);
    return null;
  }
  let port = dhcpPorts[0];
  for (const extra of dhcpPorts.slice(1)) await deletePort(core, extra);
  if (!port) port = await createDhcpPort(core, net, want, host);
  else {
    const missing = want.filter((s) => !port.fixed_ips.some((f) => f.subnet_id === s.id));
    if (missing.length)
      port = await updatePort(core, port, {
        fixed_ips: [
          ...port.fixed_ips.map((f) => ({ subnet_id: f.subnet_id, ip_address: f.ip_address })),
          ...missing.map((s) => ({ subnet_id: s.id })),
        ],
      });
  }
  ports = (await portsOfNetwork(core, networkId)).filter((p) => p.id !== port.id);
  const spec = await networkSpec(core, networkId);
  if (!spec) return null;
  return {
    network: spec,
    subnets: subnets.map(subnetSpec),
    port: portSpec(port),
    ports: ports.map(portSpec),
    ...(net.router_external ? { external: true } : {}),
  };
}

function createDhcpPort(core: NetworkCore, net: Network, subnets: Subnet[], host: string): Promise<Port> {
  return core.transaction((c) =>
    createPortIn(
      c,
      {
        name: "",
        device_owner: DHCP_OWNER,
        device_id: `dhcp-${net.id}`,
        fixed_ips: subnets.map((s) => ({ subnet_id: s.id })),
        security_groups: [],
        port_security_enabled: false,
        binding_host_id: host,
      },
      net.project_id,
      net,
    ),
  );
}

/** Addresses of a port with their subnets' prefix lengths (10.0.0.1/26). */
async function addressesOf(core: NetworkCore, p: Port): Promise<string[]> {
  const subnets = new Map((await subnetsOfNetworks(core, [p.network_id])).map((s) => [s.id, s]));
  return p.fixed_ips.flatMap((f) => {
    const s = subnets.get(f.subnet_id);
    return s ? [`${f.ip_address}/${prefixOf(s.cidr)}`] : [];
  });
}

/** A router as the driver sees it. */
export async function routerSpec(core: NetworkCore, router: Router): Promise<RouterSpec> {
  const ports = await routerPorts(core, router.id);
  const interfaces = [];
  for (const p of ports.filter((x) => x.device_owner === ROUTER_INTERFACE)) {
    const net = await getNetwork(core, p.network_id);
    if (!net) continue;
    interfaces.push({
      portId: p.id,
      networkId: p.network_id,
      mac: p.mac_address,
      addresses: await addressesOf(core, p),
      mtu: net.mtu,
    });
  }
  const gwPort = ports.find((x) => x.device_owner === ROUTER_GATEWAY && x.id === router.gw_port_id);
  let gateway: RouterSpec["gateway"] = null;
  if (gwPort) {
    const net = await getNetwork(core, gwPort.network_id);
    const subnets = await subnetsOfNetworks(core, [gwPort.network_id]);
    const onPort = subnets.filter((s) => gwPort.fixed_ips.some((f) => f.subnet_id === s.id));
    const gw4 = onPort.find((s) => s.ip_version === 4 && s.gateway_ip)?.gateway_ip ?? null;
    if (net)
      gateway = {
        portId: gwPort.id,
        networkId: gwPort.network_id,
        mac: gwPort.mac_address,
        addresses: await addressesOf(core, gwPort),
        gatewayIp: gw4,
        enableSnat: router.enable_snat,
        mtu: net.mtu,
      };
  }
  const fips = gateway ? await floatingIpsOfRouter(core, router.id) : [];
  const forwardings: NonNullable<RouterSpec["portForwardings"]>[number][] = [];
  for (const f of fips)
    for (const pf of await forwardingsOf(core, f.id))
      if (["tcp", "udp", "sctp", "udplite"].includes(pf.protocol))
        forwardings.push({
          id: pf.id,
          floatingIp: f.floating_ip_address,
          protocol: pf.protocol as "tcp" | "udp" | "sctp" | "udplite",
          externalPort: Number(pf.external_port),
          internalIp: pf.internal_ip_address,
          internalPort: Number(pf.internal_port),
        });
  return {
    id: router.id,
    interfaces,
    gateway,
    routes: router.routes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
    floatingIps: fips.flatMap((f) =>
      f.fixed_ip_address && f.fixed_port_id
        ? [
            {
              id: f.id,
              floatingIp: f.floating_ip_address,
              fixedIp: f.fixed_ip_address,
              portId: f.fixed_port_id,
            },
          ]
        : [],
    ),
    portForwardings: forwardings,
  };
}

/** The external networks with a subnet, and their subnets' gateway addresses. */
export async function externalSpecs(core: NetworkCore): Promise<ExternalNetworkSpec[]> {
  const ids = (
    await netDb(core).selectFrom("network_network").select("id").where("router_external", "=", 1).execute()
  ).map((r) => r.id);
  const out: ExternalNetworkSpec[] = [];
  const subnets = await subnetsOfNetworks(core, ids);
  for (const id of ids) {
    const mine = subnets.filter((s) => s.network_id === id);
    const spec = await networkSpec(core, id);
    if (!spec || !mine.length) continue;
    out.push({
      network: spec,
      gatewayCidrs: mine.flatMap((s) => (s.gateway_ip ? [`${s.gateway_ip}/${prefixOf(s.cidr)}`] : [])),
    });
  }
  return out;
}
