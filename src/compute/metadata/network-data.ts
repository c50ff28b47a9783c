// network_data.json (OpenStack metadata 2015-10-15 on): links, networks and services from the instance's
// network info, in the shape Nova's netutils.get_network_metadata gives them.
import type { NetworkSubnet, NetworkVif } from "./types.js";

/** VIF types Nova shows as themselves; any other is "phy". */
const EXPOSED_VIF_TYPES = new Set(["bridge", "dvs", "hw_veb", "hyperv", "ovs", "tap", "vhostuser", "vif"]);

/** The netmask of a prefix length, dotted (IPv4) or compressed (IPv6). */
export function netmask(prefix: number, version: 4 | 6): string {
  if (version === 4) {
    const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join(".");
  }
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) {
    const n = Math.max(0, Math.min(16, prefix - i * 16));
    groups.push(n === 0 ? 0 : (0xffff << (16 - n)) & 0xffff);
  }
  return compressIpv6(groups);
}

/** RFC 5952 text of eight 16-bit groups. */
function compressIpv6(g: number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The network address of a CIDR (IPv4 only; IPv6 routes keep their prefix text). */
function splitCidr(cidr: string): { net: string; prefix: number; version: 4 | 6 } {
  const [addr, len] = cidr.split("/");
  const version = addr!.includes(":") ? 6 : 4;
  const prefix = len === undefined ? (version === 4 ? 32 : 128) : Number(len);
  return { net: addr!, prefix, version };
}

const firstSubnet = (vif: NetworkVif, v: 4 | 6) => vif.network.subnets.find((s) => s.version === v);

const dnsServices = (s: NetworkSubnet) => (s.dns ?? []).map((address) => ({ type: "dns", address }));

function netEntry(vif: NetworkVif, s: NetworkSubnet, v: 4 | 6, n: number, link: string) {
  const id = `network${n}`;
  let suffix = "";
  if (s.ipv6AddressMode) suffix = `_${s.ipv6AddressMode}`;
  else if (s.enableDhcp) return { id, type: `ipv${v}_dhcp`, link, network_id: vif.network.id };
  const { prefix } = splitCidr(s.cidr);
  const routes = s.gateway
    ? [{ network: v === 4 ? "0.0.0.0" : "::", netmask: v === 4 ? "0.0.0.0" : "::", gateway: s.gateway }]
    : [];
  for (const r of s.routes ?? []) {
    const c = splitCidr(r.cidr);
    routes.push({ network: c.net, netmask: netmask(c.prefix, c.version), gateway: r.gateway });
  }
  return {
    id,
    type: `ipv${v}${suffix}`,
    link,
    ip_address: s.ips[0]!.address,
    netmask: netmask(prefix, v),
    routes,
    network_id: vif.network.id,
    services: dnsServices(s),
  };
}

/** network_data.json's content; `{}` when there is no network info (as Nova). */
export function networkData(vifs: NetworkVif[] | undefined): Record<string, unknown> {
  if (!vifs || vifs.length === 0) return {};
  const links: Record<string, unknown>[] = [];
  const networks: Record<string, unknown>[] = [];
  const services: Array<{ type: string; address: string }> = [];
  const addServices = (s: NetworkSubnet) => {
    for (const d of dnsServices(s)) if (!services.some((x) => x.address === d.address)) services.push(d);
  };
  let ifc = -1;
  let net = -1;
  for (const vif of vifs) {
    if (vif.network.subnets.length === 0) continue;
    const v4 = firstSubnet(vif, 4);
    const v6 = firstSubnet(vif, 6);
    ifc++;
    if (!v4 && !v6) continue;
    const linkId = vif.devName || `interface${ifc}`;
    links.push({
      id: linkId,
      vif_id: vif.id,
      type: vif.type && EXPOSED_VIF_TYPES.has(vif.type) ? vif.type : "phy",
      mtu: vif.network.mtu ?? null,
      ethernet_mac_address: vif.address,
    });
    for (const [s, v] of [
      [v4, 4],
      [v6, 6],
    ] as const) {
      if (!s || s.ips.length === 0) continue;
      networks.push(netEntry(vif, s, v, ++net, linkId));
      addServices(s);
    }
  }
  return { links, networks, services };
}

/** The instance's fixed IPv4 addresses and floating IPs (EC2 local-ipv4 / public-ipv4). */
export function ec2IpInfo(vifs: NetworkVif[] | undefined): { fixed: string[]; floating: string[] } {
  const fixed: string[] = [];
  const floating: string[] = [];
  for (const vif of vifs ?? [])
    for (const s of vif.network.subnets)
      for (const ip of s.ips) {
        if ((ip.type ?? "fixed") === "fixed" && s.version === 4) fixed.push(ip.address);
        if (ip.type === "floating") floating.push(ip.address);
        floating.push(...(ip.floatingIps ?? []));
      }
  return { fixed, floating };
}
