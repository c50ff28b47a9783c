// A port's fixed IPs as Neutron's IPAM decides them: requested entries checked against the network's subnets,
// automatic ones (one IPv4 subnet, one stateful IPv6 subnet, every SLAAC subnet), explicit addresses refused when
// held, and picks retried when a racing request took the same address first (network_ip_allocation's key).
import type { NetworkCore } from "./core.js";
import { conflict, invalidInput, nerr } from "./errors.js";
import { cidrContains, cidrOf, parseIp } from "./ipam/addr.js";
import { pickFree, slaacAddress } from "./ipam/allocate.js";
import { rangesOf } from "./ipam/pools.js";
import { allocatedIn, holderOf, tryAllocate, type FixedIp } from "./store/ports.js";
import { isAutoAddress, type Subnet } from "./store/subnets.js";

/** A fixed_ips entry as a client sent it (validated for form). */
export interface IpRequest {
  subnet_id?: string;
  ip_address?: string;
}

/** One address to allocate: its subnet and, when chosen by the client or SLAAC, the address. */
export interface Planned {
  subnet: Subnet;
  ip: string | null;
}

const PICK_TRIES = 50;
/**
 * Random picks tried before reading a subnet's allocations: in a sparse subnet (the usual case) the first one is
 * free, and reading every allocation of a large subnet on each port create would make creates slower as it fills.
 * A dense subnet, where they collide, falls through to the scan of its allocations.
 */
const BLIND_TRIES = 3;

/** Device owners whose ports take the gateway address or skip SLAAC addresses (routers' interfaces). */
export const isRouterPort = (owner: string): boolean =>
  owner === "network:router_interface" ||
  owner === "network:router_interface_distributed" ||
  owner === "network:ha_router_replicated_interface" ||
  owner === "network:router_gateway";

/** Check requested entries against the network's subnets; each becomes a planned (subnet, address?) pair. */
export function planRequested(
  core: NetworkCore,
  networkId: string,
  requests: IpRequest[],
  subnets: Subnet[],
  deviceOwner: string,
): Planned[] {
  if (requests.length > core.cfg.network.maxFixedIpsPerPort)
    throw invalidInput("Exceeded maximum amount of fixed ips per port.");
  const byId = new Map(subnets.map((s) => [s.id, s]));
  const out: Planned[] = [];
  for (const r of requests) {
    let subnet: Subnet | undefined;
    if (r.subnet_id !== undefined) {
      subnet = byId.get(r.subnet_id);
      if (!subnet)
        throw invalidInput(
          `Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${r.subnet_id}`,
        );
      if (r.ip_address !== undefined && !cidrContains(cidrOf(subnet.cidr), parseIp(r.ip_address)!))
        throw nerr(
          400,
          "InvalidIpForSubnet",
          `IP address ${r.ip_address} is not a valid IP for the specified subnet.`,
        );
    } else if (r.ip_address !== undefined) {
      const ip = parseIp(r.ip_address)!;
      subnet = subnets.find((s) => cidrContains(cidrOf(s.cidr), ip));
      if (!subnet)
        throw nerr(
          400,
          "InvalidIpForNetwork",
          `IP address ${r.ip_address} is not a valid IP for any of the subnets on the specified network.`,
        );
    } else throw invalidInput("Each fixed_ips entry needs a subnet_id or an ip_address");
    if (r.ip_address !== undefined && isAutoAddress(subnet) && !isRouterPort(deviceOwner))
      throw invalidInput(
        `IPv6 address ${r.ip_address} cannot be directly assigned to a port on subnet ${subnet.id} since the subnet is configured for automatic addresses`,
      );
    out.push({ subnet, ip: r.ip_address ?? null });
  }
  return out;
}

/** Neutron's automatic plan: SLAAC subnets always; one IPv4 and one stateful IPv6 subnet (tried in order). */
export function planAutomatic(subnets: Subnet[]): { auto: Planned[]; v4: Subnet[]; v6: Subnet[] } {
  return {
    auto: subnets.filter(isAutoAddress).map((subnet) => ({ subnet, ip: null })),
    v4: subnets.filter((s) => s.ip_version === 4),
    v6: subnets.filter((s) => s.ip_version === 6 && !isAutoAddress(s)),
  };
}

/** Allocate one address of a subnet to a port: the given one (409 when held), SLAAC's, or a free pick. */
async function allocateOne(
  core: NetworkCore,
  portId: string,
  mac: string,
  p: Planned,
  seq: number,
): Promise<FixedIp | null> {
  const { subnet } = p;
  const row = (ip: string) => ({
    network_id: subnet.network_id,
    subnet_id: subnet.id,
    ip_address: ip,
    port_id: portId,
    seq,
  });
  const explicit = p.ip ?? (isAutoAddress(subnet) ? slaacAddress(subnet.cidr, mac) : null);
  if (explicit !== null) {
    // Checked first for the usual case; the insert's unique key settles a race with another request.
    if (
      (await holderOf(core, subnet.network_id, explicit)) !== null ||
      !(await tryAllocate(core, row(explicit)))
    )
      throw conflict(
        "IpAddressAlreadyAllocated",
        `IP address ${explicit} already allocated in subnet ${subnet.id}`,
      );
    return { subnet_id: subnet.id, ip_address: explicit };
  }
  const ranges = rangesOf(subnet.ip_version, subnet.allocation_pools);
  const reserved = new Set(subnet.gateway_ip ? [subnet.gateway_ip] : []);
  for (let attempt = 0; attempt < BLIND_TRIES; attempt++) {
    const ip = pickFree(ranges, reserved, core.random);
    if (ip === null) return null;
    if (await tryAllocate(core, row(ip))) return { subnet_id: subnet.id, ip_address: ip };
  }
  for (let attempt = 0; attempt < PICK_TRIES; attempt++) {
    const taken = await allocatedIn(core, subnet.id);
    if (subnet.gateway_ip) taken.add(subnet.gateway_ip);
    const ip = pickFree(ranges, taken, core.random);
    if (ip === null) return null;
    if (await tryAllocate(core, row(ip))) return { subnet_id: subnet.id, ip_address: ip };
    core.log.debug(
      { subnet: subnet.id, ip },
      "network: a racing request took the address first; trying another",
    );
  }
  return null;
}

const exhausted = (networkId: string) =>
  conflict("IpAddressGenerationFailure", `No more IP addresses available on network ${networkId}.`);

/**
 * Allocate a port's addresses inside its create (or update) transaction: the requested plan, or (requests
 * undefined) the automatic one; with a plan, SLAAC subnets it leaves out are added unless `slaacToo` is false.
 * Router ports may take a gateway address. Returns the fixed IPs in order.
 */
export async function allocateAddresses(
  core: NetworkCore,
  port: { id: string; mac_address: string; network_id: string; device_owner: string },
  subnets: Subnet[],
  requested: Planned[] | undefined,
  firstSeq = 0,
  slaacToo = true,
): Promise<FixedIp[]> {
  const out: FixedIp[] = [];
  let seq = firstSeq;
  const take = async (p: Planned): Promise<boolean> => {
    if (p.ip !== null && p.ip === p.subnet.gateway_ip && !isRouterPort(port.device_owner))
      throw conflict(
        "IpAddressAlreadyAllocated",
        `IP address ${p.ip} already allocated in subnet ${p.subnet.id}`,
      );
    const got = await allocateOne(core, port.id, port.mac_address, p, seq);
    if (!got) return false;
    out.push(got);
    seq++;
    return true;
  };
  if (requested) {
    for (const p of requested) if (!(await take(p))) throw exhausted(port.network_id);
    // SLAAC subnets not asked for still give the port their address (not to router ports).
    if (slaacToo && !isRouterPort(port.device_owner))
      for (const s of subnets.filter(isAutoAddress))
        if (!requested.some((p) => p.subnet.id === s.id)) await take({ subnet: s, ip: null });
    return out;
  }
  const plan = planAutomatic(subnets);
  for (const family of [plan.v4, plan.v6]) {
    if (!family.length) continue;
    let ok = false;
    for (const subnet of family) if ((ok = await take({ subnet, ip: null }))) break;
    if (!ok) throw exhausted(port.network_id);
  }
  if (!isRouterPort(port.device_owner)) for (const p of plan.auto) await take(p);
  return out;
}
