// A subnet's attributes checked as Neutron checks them: prefix and IP version, the IPv6 address modes, the
// gateway (default: the first address), allocation pools (default: the rest of the prefix), DNS servers and host
// routes within their limits, no overlap with the network's other subnets, and prefixes taken from a subnet pool.
import type { NetworkCore } from "./core.js";
import { invalidInput, nerr } from "./errors.js";
import {
  bits,
  cidrContains,
  cidrOf,
  cidrRange,
  cidrsOverlap,
  formatCidr,
  formatIp,
  parseIp,
  type Cidr,
  type Ip,
} from "./ipam/addr.js";
import { blockFree, firstFreeBlock } from "./ipam/prefixes.js";
import { checkGatewayOutsidePools, checkPools, defaultPools, poolText, type PoolText } from "./ipam/pools.js";
import type { SubnetPool } from "./store/subnetpools.js";
import { subnetsOfNetworks, subnetsOfPool, type HostRoute } from "./store/subnets.js";

/** IPv6 address and router advertisement modes. */
export const IPV6_MODES = ["slaac", "dhcpv6-stateful", "dhcpv6-stateless"] as const;

/** 400 when an address or prefix is not of the subnet's version (Neutron's wording). */
export function checkVersion(name: string, text: string, version: number): void {
  const v = text.includes(":") ? 6 : 4;
  if (v !== version) throw invalidInput(`${name} '${text}' does not match the ip_version '${version}'`);
}

/** Check the IPv6 modes against the version, DHCP and prefix length. */
export function checkIpv6Modes(
  version: number,
  ra: string | null,
  addr: string | null,
  enableDhcp: boolean,
  cidr: Cidr,
): void {
  if (ra === null && addr === null) return;
  if (version === 4)
    throw invalidInput("ipv6_ra_mode and ipv6_address_mode cannot be set when ip_version is 4");
  if (!enableDhcp)
    throw invalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False");
  if (ra !== null && addr !== null && ra !== addr)
    throw invalidInput(
      `ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${addr}' is not valid. If both attributes are set, they must be the same value`,
    );
  const auto = (m: string | null) => m === "slaac" || m === "dhcpv6-stateless";
  if ((auto(addr) || auto(ra)) && cidr.prefix !== 64)
    throw invalidInput(
      `Invalid CIDR ${formatCidr(cidr)} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`,
    );
}

/** The default gateway: the first host address, none for prefixes too small to have one. */
export function defaultGateway(cidr: Cidr): string | null {
  if (cidr.prefix >= bits(cidr.version) - (cidr.version === 4 ? 1 : 0)) return null;
  return formatIp({ version: cidr.version, value: cidr.network + 1n });
}

/** Check a gateway: its version, and (IPv4) not the network or broadcast address of the prefix. */
export function checkGateway(gateway: string | null, cidr: Cidr): Ip | null {
  if (gateway === null) return null;
  checkVersion("gateway_ip", gateway, cidr.version);
  const ip = parseIp(gateway) as Ip;
  const { first, last } = cidrRange(cidr);
  if (cidr.version === 4 && cidr.prefix < 31 && (ip.value === first || ip.value === last))
    throw invalidInput("Gateway is not valid on subnet");
  return ip;
}

/** Pools for a subnet: the client's (checked) or the defaults, with the gateway outside them; as stored. */
export function poolsFor(given: PoolText[] | undefined, cidr: Cidr, gateway: Ip | null): PoolText[] {
  const inside = gateway && cidrContains(cidr, gateway) ? gateway : null;
  const ranges = given ? checkPools(given, cidr) : defaultPools(cidr, inside);
  if (given) checkGatewayOutsidePools(inside, ranges);
  return ranges.map(poolText);
}

/** Check DNS servers and host routes against the subnet's version and the configured limits. */
export function checkDnsAndRoutes(
  core: NetworkCore,
  id: string,
  version: number,
  dns: string[],
  routes: HostRoute[],
): void {
  const cfg = core.cfg.network;
  if (dns.length > cfg.maxDnsNameservers)
    throw nerr(
      400,
      "DNSNameServersExhausted",
      `Unable to complete operation for ${id}. The number of DNS nameservers exceeds the limit ${cfg.maxDnsNameservers}.`,
    );
  if (routes.length > cfg.maxSubnetHostRoutes)
    throw nerr(
      400,
      "HostRoutesExhausted",
      `Unable to complete operation for ${id}. The number of host routes exceeds the limit ${cfg.maxSubnetHostRoutes}.`,
    );
  for (const d of dns) checkVersion("dns_nameserver", d, version);
  for (const r of routes) {
    checkVersion("destination", r.destination, version);
    checkVersion("nexthop", r.nexthop, version);
  }
}

/** 400 when the prefix overlaps another subnet of the network. */
export async function checkNoOverlap(
  c: NetworkCore,
  networkId: string,
  cidr: Cidr,
  except?: string,
): Promise<void> {
  for (const s of await subnetsOfNetworks(c, [networkId]))
    if (s.id !== except && cidrsOverlap(cidrOf(s.cidr), cidr))
      throw invalidInput(
        `Requested subnet with cidr: ${formatCidr(cidr)} for network: ${networkId} overlaps with another subnet`,
      );
}

/** A prefix from a subnet pool: the requested one if free there, else the first free block of the length. */
export async function prefixFromPool(
  c: NetworkCore,
  pool: SubnetPool,
  cidr: Cidr | null,
  prefixlen: number | undefined,
): Promise<Cidr> {
  const len = cidr?.prefix ?? prefixlen ?? pool.default_prefixlen;
  if (len > pool.max_prefixlen)
    throw nerr(
      400,
      "MaxPrefixSubnetAllocationError",
      `Unable to allocate subnet with prefix length ${len}, maximum allowed prefix is ${pool.max_prefixlen}`,
    );
  if (len < pool.min_prefixlen)
    throw nerr(
      400,
      "MinPrefixSubnetAllocationError",
      `Unable to allocate subnet with prefix length ${len}, minimum allowed prefix is ${pool.min_prefixlen}`,
    );
  const prefixes = pool.prefixes.map(cidrOf);
  const used = (await subnetsOfPool(c, pool.id)).map((s) => cidrOf(s.cidr));
  const got = cidr ? (blockFree(prefixes, used, cidr) ? cidr : null) : firstFreeBlock(prefixes, used, len);
  if (!got)
    throw nerr(
      400,
      "SubnetAllocationError",
      "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes.",
    );
  return got;
}
