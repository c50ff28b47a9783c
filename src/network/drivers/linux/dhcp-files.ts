// The text of dnsmasq's files for one network: the config file (interface, ranges and per subnet its router, DNS,
// MTU and classless routes including the metadata route: the parts that need a restart), the hosts file (MAC ->
// fixed IP and host name, one line per DHCP-served fixed IP) and the options file (ports' extra options). Every
// value is validated or derived from validated data before it is written; no user text is written unchecked.
import { cidrText, ipVersion, macText, netmask4, parseCidr } from "./addr.js";
import { dhcpOptionKey, dhcpOptionValue, validateExtraDhcpOpts } from "./dhcp-options.js";
import { InvalidSpec } from "./errors.js";
import type { NetworkSpec, PortSpec, SubnetSpec } from "./model.js";
import { safeId } from "./names.js";

/** The metadata service's link-local address (reached through the DHCP port: see dhcp.ts). */
export const METADATA_IP = "169.254.169.254";

/** What dnsmasq serves for one network. */
export interface DhcpSpec {
  network: NetworkSpec;
  /** The network's subnets (those with dhcp off, and IPv6 SLAAC ones, are not served). */
  subnets: readonly SubnetSpec[];
  /** The DHCP port itself (its MAC, and one fixed IP on each served subnet). */
  port: PortSpec;
  /** Every port of the network to hand addresses to. */
  ports: readonly PortSpec[];
  /** Route 169.254.169.254/32 via the DHCP port and put the address on it (Neutron's force_metadata). */
  metadata: boolean;
  /** Lease time (default 86400 s, Neutron's dhcp_lease_duration). */
  leaseSeconds?: number;
  /** DNS domain of host names (default openstacklocal). */
  domain?: string;
}

/** Paths of one network's dnsmasq files. */
export interface DhcpPaths {
  dir: string;
  conf: string;
  hosts: string;
  opts: string;
  leases: string;
  pid: string;
  log: string;
}

/** The subnets dnsmasq serves: DHCP on, and for IPv6 only stateful DHCPv6. */
export const servedSubnets = (spec: DhcpSpec): SubnetSpec[] =>
  spec.subnets.filter((s) => s.dhcp && (s.ipVersion === 4 || s.ipv6AddressMode === "dhcpv6-stateful"));

const subnetTag = (s: SubnetSpec) => `subnet-${safeId(s.id, "subnet id")}`;
const portTag = (p: PortSpec) => `port-${safeId(p.id, "port id")}`;
const HOST_RE = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A host name safe for dnsmasq (RFC 1123 labels); InvalidSpec otherwise. */
export function hostName(name: string): string {
  if (!HOST_RE.test(name)) throw new InvalidSpec(`host name ${JSON.stringify(name)} is not valid`);
  return name;
}

/** Neutron's default host name of an address: `host-10-0-0-5`. */
export const defaultHostName = (address: string): string => `host-${address.replace(/[.:]/g, "-")}`;

/** The config file: everything that needs a dnsmasq restart when it changes (interface, ranges, subnet options). */
export function confText(spec: DhcpSpec, iface: string, paths: DhcpPaths): string {
  const lease = `${Math.trunc(spec.leaseSeconds ?? 86400)}s`;
  const lines = [
    "# written by stratus: do not edit",
    `interface=${iface}`,
    "except-interface=lo",
    "bind-interfaces",
    "no-hosts",
    "no-resolv",
    "port=0",
    "dhcp-authoritative",
    `domain=${hostName(spec.domain ?? "openstacklocal")}`,
    `log-facility=${paths.log}`,
    "quiet-dhcp",
    "quiet-dhcp6",
    `dhcp-lease-max=${Math.max(16, spec.ports.length * 4)}`,
  ];
  for (const s of servedSubnets(spec)) {
    const c = parseCidr(s.cidr, "subnet CIDR");
    if (c.version !== s.ipVersion)
      throw new InvalidSpec(`subnet ${s.id}: CIDR ${s.cidr} is not IPv${s.ipVersion}`);
    const mask = c.version === 4 ? netmask4(c.prefix) : String(c.prefix);
    lines.push(`dhcp-range=set:${subnetTag(s)},${c.address},static,${mask},${lease}`);
    lines.push(...subnetOptions(spec, s));
  }
  return lines.join("\n") + "\n";
}

/** Whether a hosts file tags entries. dnsmasq 2.90 aborts (munmap_chunk: invalid pointer) when SIGHUP re-reads
 *  a hosts file after it served a tagged entry, so while tagged entries are loaded a change restarts it instead. */
export const hostsHaveTags = (hosts: string): boolean => hosts.includes(",set:");

/** The hosts file: `MAC,host.domain,IP[,set:port-<id>]` for each fixed IP of each port on a served subnet. */
export function hostsText(spec: DhcpSpec): string {
  const served = new Map(servedSubnets(spec).map((s) => [s.id, s]));
  const domain = hostName(spec.domain ?? "openstacklocal");
  const lines: string[] = [];
  for (const p of spec.ports) {
    const mac = macText(p.mac);
    for (const ip of p.fixedIps) {
      if (!served.has(ip.subnetId)) continue;
      const v = ipVersion(ip.address, "fixed IP");
      const host = `${hostName(p.hostname ?? defaultHostName(ip.address))}.${domain}`;
      const addr = v === 6 ? `[${ip.address}]` : ip.address;
      // Only ports with extra options get a tag: dnsmasq 2.90 aborts on SIGHUP after serving a tagged entry.
      lines.push(`${mac},${host},${addr}${p.extraDhcpOpts.length ? `,set:${portTag(p)}` : ""}`);
    }
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}

/** The DHCP port's address on a subnet (the next hop of the metadata route). */
export function dhcpAddressOn(spec: DhcpSpec, subnetId: string): string | undefined {
  return spec.port.fixedIps.find((f) => f.subnetId === subnetId)?.address;
}

/** A subnet's options as config lines. The MTU and the classless routes are forced: clients that do not ask for
 *  them (busybox udhcpc as the guest image runs it) must still learn a VXLAN network's MTU and the metadata route. */
function subnetOptions(spec: DhcpSpec, s: SubnetSpec): string[] {
  const tag = `tag:${subnetTag(s)}`;
  const out: string[] = [];
  const opt = (line: string) => out.push(`dhcp-option=${tag},${line}`);
  const force = (line: string) => out.push(`dhcp-option-force=${tag},${line}`);
  if (s.ipVersion === 6) {
    if (s.dns.length) opt(`option6:dns-server,${s.dns.map((d) => `[${checkIp(d, 6)}]`).join(",")}`);
    return out;
  }
  if (s.dns.length) opt(`option:dns-server,${s.dns.map((d) => checkIp(d, 4)).join(",")}`);
  force(`option:mtu,${Math.trunc(spec.network.mtu)}`);
  // Classless routes (121, and 249 for old Windows) replace option 3 at the client: they carry the default route too.
  const routes: string[] = [];
  const dhcpIp = dhcpAddressOn(spec, s.id);
  if (spec.metadata && dhcpIp) routes.push(`${METADATA_IP}/32,${checkIp(dhcpIp, 4)}`);
  for (const r of s.hostRoutes)
    routes.push(`${cidrText(r.destination, "host route")},${checkIp(r.nexthop, 4)}`);
  if (s.gateway) {
    checkIp(s.gateway, 4);
    if (routes.length) routes.push(`0.0.0.0/0,${s.gateway}`);
    opt(`option:router,${s.gateway}`);
  } else opt("option:router"); // no gateway: send none (dnsmasq would offer itself)
  if (routes.length) {
    force(`option:classless-static-route,${routes.join(",")}`);
    force(`249,${routes.join(",")}`);
  }
  return out;
}

function checkIp(address: string, version: 4 | 6): string {
  if (ipVersion(address) !== version) throw new InvalidSpec(`${address} is not an IPv${version} address`);
  return address;
}

/** The options file: each port's extra options under its tag (subnet options are in the config file). */
export function optsText(spec: DhcpSpec): string {
  const lines: string[] = [];
  for (const p of spec.ports) {
    validateExtraDhcpOpts(p.extraDhcpOpts);
    for (const o of p.extraDhcpOpts) {
      lines.push(`tag:${portTag(p)},${dhcpOptionKey(o)},${dhcpOptionValue(o.value, o.name)}`);
    }
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}
