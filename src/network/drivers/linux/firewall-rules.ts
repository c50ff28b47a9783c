// The iptables rules of the ports' security groups, as iptables-restore lines (pure: nothing runs here). Bridged
// traffic passes the host's FORWARD chain through br_netfilter; for each port with port security:
//   stratus-FORWARD:  physdev-out/physdev-in <tap>  -> stratus-sg; then our bridges' other bridged traffic ACCEPT
//   stratus-sg:       physdev-out <tap> -> stratus-i<port>, physdev-in <tap> -> stratus-o<port>; then ACCEPT
//   stratus-INPUT:    physdev-in <tap> -> stratus-o<port>        (a guest talking to the host itself)
//   stratus-i<port>:  ESTABLISHED,RELATED return; INVALID drop; DHCP replies (and ICMPv6 ND/RA) return;
//                     each ingress rule returns; everything else drops (default deny ingress)
//   stratus-o<port>:  DHCP discover (and IPv6 DAD) return; -> stratus-s<port>; DHCP client return; DHCP server
//                     replies and router advertisements from the guest drop; ESTABLISHED,RELATED return; INVALID
//                     drop; each egress rule returns; everything else drops
//   stratus-s<port>:  source IP + source MAC of the port (and its allowed address pairs) return; else drop
// A packet between two ports on this host passes the sender's egress and the receiver's ingress chain in one pass.
// Raw table: stratus-PREROUTING puts each network's bridged traffic in the network's conntrack zone.
import { isIP } from "node:net";
import { macText, parseCidr } from "./addr.js";
import { InvalidSpec } from "./errors.js";
import { groupSet, portChains, sgChain, topChains } from "./firewall-names.js";
import { isIcmp, portMatch, protocolNumber } from "./firewall-protocols.js";
import type { NetworkSpec, PortSpec, SecurityGroupRuleSpec, SecurityGroupSpec } from "./model.js";
import { bridgeName, tapName } from "./names.js";

/** Everything the firewall enforces on one host (a full description: a resync replaces what was there). */
export interface FirewallSpec {
  /** Every network with a bridge on this host (their conntrack zones; their infrastructure traffic is accepted). */
  networks: readonly NetworkSpec[];
  /** The VM ports plugged on this host (devices `tap<port>`). */
  ports: readonly PortSpec[];
  /** The security groups of those ports, and of their remote-group rules, with their members. */
  groups: readonly SecurityGroupSpec[];
  /** Tag of every chain and set name (a cloud's, when several share the namespace; default none). */
  tag?: string;
}

/** The rules of one IP version. */
export interface FamilyRules {
  /** Chains and rules of the filter table, in iptables-restore syntax (no table header, no COMMIT). */
  filter: { chains: string[]; rules: string[] };
  /** Same for the raw table. */
  raw: { chains: string[]; rules: string[] };
  /** ipsets the rules use: name -> member addresses/CIDRs of this IP version. */
  sets: Map<string, string[]>;
  /** Rules that could not be expressed and were left out (denying, never widening). */
  warnings: string[];
}

const physOut = (dev: string) => `-m physdev --physdev-out ${dev} --physdev-is-bridged`;
const physIn = (dev: string) => `-m physdev --physdev-in ${dev} --physdev-is-bridged`;
const ethertypeOf = (v: 4 | 6) => (v === 4 ? "IPv4" : "IPv6");
const versionOf = (addr: string) => parseCidr(addr).version;

/** The EUI-64 link-local address of a MAC (fe80::...), which IPv6 guests use for neighbour discovery. */
export function linkLocalOf(mac: string): string {
  const b = macText(mac)
    .split(":")
    .map((h) => parseInt(h, 16));
  b[0] ^= 2;
  const words = [(b[0] << 8) | b[1], (b[2] << 8) | 0xff, (0xfe << 8) | b[3], (b[4] << 8) | b[5]];
  return `fe80::${words.map((w) => w.toString(16)).join(":")}`;
}

/** The (source CIDR, MAC) pairs a port may send from, for one IP version. */
export function allowedSources(port: PortSpec, v: 4 | 6): { cidr: string; mac: string }[] {
  const mac = macText(port.mac);
  const out: { cidr: string; mac: string }[] = [];
  for (const f of port.fixedIps) if (versionOf(f.address) === v) out.push({ cidr: hostCidr(f.address), mac });
  for (const p of port.allowedAddressPairs) {
    const c = parseCidr(p.ipAddress, "allowed address pair");
    if (c.version === v) out.push({ cidr: `${c.address}/${c.prefix}`, mac: macText(p.macAddress ?? mac) });
  }
  if (v === 6) {
    const macs = new Set([mac, ...port.allowedAddressPairs.map((p) => macText(p.macAddress ?? mac))]);
    for (const m of macs) out.push({ cidr: `${linkLocalOf(m)}/128`, mac: m });
  }
  return out;
}

const hostCidr = (a: string) => `${a}/${isIP(a) === 6 ? 128 : 32}`;

/** The iptables match of one security group rule, or a reason it cannot be expressed. */
export function ruleMatch(
  rule: SecurityGroupRuleSpec,
  v: 4 | 6,
  tag = "",
): { match: string } | { skip: string } {
  const proto = protocolNumber(rule.protocol, ethertypeOf(v));
  if (proto === undefined)
    return { skip: `rule ${rule.id}: unknown protocol ${JSON.stringify(rule.protocol)}` };
  const parts: string[] = [];
  if (rule.remoteIpPrefix) {
    const c = parseCidr(rule.remoteIpPrefix, "remote IP prefix");
    if (c.version !== v)
      return { skip: `rule ${rule.id}: remote prefix ${rule.remoteIpPrefix} is not IPv${v}` };
    parts.push(`${rule.direction === "ingress" ? "-s" : "-d"} ${c.address}/${c.prefix}`);
  }
  if (proto !== null) {
    parts.push(`-p ${proto}`);
    const min = rule.portRangeMin;
    const max = rule.portRangeMax;
    const pm = portMatch(proto);
    if (isIcmp(proto, ethertypeOf(v))) {
      if (min !== null) {
        const type = `${intIn(min, 0, 255, rule)}${max !== null ? `/${intIn(max, 0, 255, rule)}` : ""}`;
        parts.push(v === 4 ? `-m icmp --icmp-type ${type}` : `-m icmp6 --icmpv6-type ${type}`);
      }
    } else if (min !== null || max !== null) {
      if (!pm) return { skip: `rule ${rule.id}: protocol ${rule.protocol} has no ports to match` };
      const lo = intIn(min ?? 1, 1, 65535, rule);
      const hi = intIn(max ?? lo, lo, 65535, rule);
      parts.push(`-m ${pm} --dport ${lo === hi ? lo : `${lo}:${hi}`}`);
    }
  }
  if (rule.remoteGroupId) {
    parts.push(
      `-m set --match-set ${groupSet(rule.remoteGroupId, v, tag)} ${rule.direction === "ingress" ? "src" : "dst"}`,
    );
  }
  return { match: parts.join(" ") };
}

function intIn(n: number, lo: number, hi: number, rule: SecurityGroupRuleSpec): number {
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw new InvalidSpec(`rule ${rule.id}: ${n} is out of range`);
  return n;
}

/** Build the filter and raw rules of one IP version for a whole host. */
export function buildFamilyRules(spec: FirewallSpec, v: 4 | 6): FamilyRules {
  const out: FamilyRules = {
    filter: { chains: [], rules: [] },
    raw: { chains: [], rules: [] },
    sets: new Map(),
    warnings: [],
  };
  const f = out.filter;
  const groups = new Map(spec.groups.map((g) => [g.id, g]));
  const tag = spec.tag ?? "";
  const TOP_CHAINS = topChains(tag);
  const SG_CHAIN = sgChain(tag);
  f.chains.push(TOP_CHAINS.forward, TOP_CHAINS.input, SG_CHAIN);
  out.raw.chains.push(TOP_CHAINS.prerouting);
  for (const net of spec.networks) {
    if (net.ctZone === undefined) continue;
    if (!Number.isInteger(net.ctZone) || net.ctZone < 1 || net.ctZone > 65535)
      throw new InvalidSpec(`conntrack zone ${net.ctZone}`);
    out.raw.rules.push(`-A ${TOP_CHAINS.prerouting} -i ${bridgeName(net.id)} -j CT --zone ${net.ctZone}`);
  }
  for (const port of spec.ports) {
    if (!port.portSecurity) continue;
    const dev = tapName(port.id);
    const c = portChains(port.id, tag);
    f.chains.push(c.ingress, c.egress, c.spoof);
    f.rules.push(
      `-A ${TOP_CHAINS.forward} ${physOut(dev)} -j ${SG_CHAIN}`,
      `-A ${TOP_CHAINS.forward} ${physIn(dev)} -j ${SG_CHAIN}`,
    );
    f.rules.push(
      `-A ${SG_CHAIN} ${physOut(dev)} -j ${c.ingress}`,
      `-A ${SG_CHAIN} ${physIn(dev)} -j ${c.egress}`,
    );
    f.rules.push(`-A ${TOP_CHAINS.input} ${physIn(dev)} -j ${c.egress}`);
    f.rules.push(...ingressChain(port, c.ingress, v));
    f.rules.push(...egressChain(c.egress, c.spoof, v));
    for (const s of allowedSources(port, v))
      f.rules.push(`-A ${c.spoof} -s ${s.cidr} -m mac --mac-source ${s.mac} -j RETURN`);
    f.rules.push(`-A ${c.spoof} -j DROP`);
    const rules = port.securityGroups.flatMap((id) => {
      const g = groups.get(id);
      if (!g) out.warnings.push(`port ${port.id}: security group ${id} not given; its rules are not applied`);
      return g?.rules ?? [];
    });
    for (const r of rules) {
      if (r.ethertype !== ethertypeOf(v)) continue;
      const m = ruleMatch(r, v, tag);
      if ("skip" in m) {
        out.warnings.push(m.skip);
        continue;
      }
      if (r.remoteGroupId && !out.sets.has(groupSet(r.remoteGroupId, v, tag))) {
        const members = (groups.get(r.remoteGroupId)?.members ?? []).filter((a) => versionOf(a) === v);
        out.sets.set(groupSet(r.remoteGroupId, v, tag), members);
      }
      const chain = r.direction === "ingress" ? c.ingress : c.egress;
      f.rules.push(`-A ${chain}${m.match ? " " + m.match : ""} -j RETURN`);
    }
    f.rules.push(`-A ${c.ingress} -j DROP`, `-A ${c.egress} -j DROP`);
  }
  f.rules.push(`-A ${SG_CHAIN} -j ACCEPT`);
  // Bridged traffic of our networks that involves no VM port (DHCP and router ports, VXLAN) is the cloud's own: it
  // must pass whatever the host's FORWARD policy is (Docker sets DROP).
  for (const net of spec.networks) {
    const br = bridgeName(net.id);
    f.rules.push(`-A ${TOP_CHAINS.forward} -i ${br} -o ${br} -m physdev --physdev-is-bridged -j ACCEPT`);
  }
  // Per-port rules were pushed grouped by port; iptables only needs each chain's own rules in order, which holds.
  return out;
}

const STATEFUL = (chain: string) => [
  `-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
  `-A ${chain} -m conntrack --ctstate INVALID -j DROP`,
];

function ingressChain(_port: PortSpec, chain: string, v: 4 | 6): string[] {
  const out = STATEFUL(chain);
  if (v === 4) out.push(`-A ${chain} -p 17 -m udp --sport 67 --dport 68 -j RETURN`);
  else {
    for (const t of [130, 131, 132, 134, 135, 136, 143])
      out.push(`-A ${chain} -p 58 -m icmp6 --icmpv6-type ${t} -j RETURN`);
    out.push(`-A ${chain} -p 17 -m udp --sport 547 --dport 546 -j RETURN`);
  }
  return out;
}

function egressChain(chain: string, spoof: string, v: 4 | 6): string[] {
  const out: string[] = [];
  if (v === 4) {
    out.push(`-A ${chain} -s 0.0.0.0/32 -d 255.255.255.255/32 -p 17 -m udp --sport 68 --dport 67 -j RETURN`);
    out.push(`-A ${chain} -j ${spoof}`);
    out.push(`-A ${chain} -p 17 -m udp --sport 68 --dport 67 -j RETURN`);
    out.push(`-A ${chain} -p 17 -m udp --sport 67 --dport 68 -j DROP`);
  } else {
    for (const t of [131, 135, 143])
      out.push(`-A ${chain} -s ::/128 -d ff02::/16 -p 58 -m icmp6 --icmpv6-type ${t} -j RETURN`);
    out.push(`-A ${chain} -j ${spoof}`);
    out.push(`-A ${chain} -p 58 -m icmp6 --icmpv6-type 134 -j DROP`);
    for (const t of [130, 131, 132, 133, 135, 136, 143])
      out.push(`-A ${chain} -p 58 -m icmp6 --icmpv6-type ${t} -j RETURN`);
    out.push(`-A ${chain} -p 17 -m udp --sport 546 --dport 547 -j RETURN`);
    out.push(`-A ${chain} -p 17 -m udp --sport 547 --dport 546 -j DROP`);
  }
  out.push(...STATEFUL(chain));
  return out;
}
