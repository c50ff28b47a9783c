// Security group rules checked as Neutron's securitygroups_db checks them: protocols by name or number 0-255, port
// ranges only for port protocols (and 1-65535, min <= max), ICMP type and code in 0-255 (a code needs a type), an
// IPv6-only protocol needs ethertype IPv6, a remote prefix of the rule's ethertype (a bare address is a host
// prefix; host bits cleared), a remote prefix or a remote group but not both. Each rule gets a key saying what it
// means, so "tcp" and "6" or 0.0.0.0/0 and no prefix are the same rule when duplicates are looked for.
import { nerr } from "./errors.js";
import { formatCidr, formatIp, parseCidr, parseIp, type Ip } from "./ipam/addr.js";

/** The protocol names Neutron accepts, with their IP protocol numbers. */
export const PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ["ah", 51],
  ["dccp", 33],
  ["egp", 8],
  ["esp", 50],
  ["gre", 47],
  ["hopopt", 0],
  ["icmp", 1],
  ["igmp", 2],
  ["ipip", 4],
  ["ipv6-encap", 41],
  ["ipv6-frag", 44],
  ["ipv6-icmp", 58],
  ["icmpv6", 58],
  ["ipv6-nonxt", 59],
  ["ipv6-opts", 60],
  ["ipv6-route", 43],
  ["ospf", 89],
  ["pgm", 113],
  ["rsvp", 46],
  ["sctp", 132],
  ["tcp", 6],
  ["udp", 17],
  ["udplite", 136],
  ["vrrp", 112],
]);

/** Protocols with port ranges (tcp, udp, dccp, sctp, udplite). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
/** Protocols that exist only over IPv6. */
const IPV6_ONLY = new Set([
  "ipv6-encap",
  "ipv6-frag",
  "ipv6-icmp",
  "icmpv6",
  "ipv6-nonxt",
  "ipv6-opts",
  "ipv6-route",
]);

/** A rule as given (after attribute parsing). */
export interface RuleInput {
  direction: "ingress" | "egress";
  ethertype: "IPv4" | "IPv6";
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
}

const bad = (type: string, msg: string) => nerr(400, type, msg);

/** The protocol as stored: null for any, a known name in lower case, or a number 0-255 as text. */
export function parseProtocol(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const text = typeof v === "number" ? String(v) : typeof v === "string" ? v.toLowerCase() : null;
  if (text === "any" || text === "") return null;
  if (text !== null && PROTOCOLS.has(text)) return text;
  if (text !== null && /^\d{1,3}$/.test(text) && Number(text) <= 255) return String(Number(text));
  throw bad(
    "SecurityGroupRuleInvalidProtocol",
    `Security group rule protocol ${typeof v === "string" ? v : JSON.stringify(v)} not supported. Only protocol values [None, ${[...PROTOCOLS.keys()].map((k) => `'${k}'`).join(", ")}] and integer representations [0 to 255] are supported.`,
  );
}

/** The IP protocol number of a stored protocol (null for any). */
export const protocolNumber = (p: string | null): number | null =>
  p === null ? null : (PROTOCOLS.get(p) ?? Number(p));

/** A remote prefix normalized: a bare address is a host prefix; host bits are cleared. 400 when not a prefix. */
export function parseRemotePrefix(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" && !v.includes("/")) {
    const ip = parseIp(v);
    if (ip)
      return formatCidr({ version: ip.version, network: ip.value, prefix: ip.version === 4 ? 32 : 128 });
  }
  const p = parseCidr(v);
  if (!p)
    throw nerr(
      400,
      "HTTPBadRequest",
      `Invalid input for remote_ip_prefix. Reason: '${typeof v === "string" ? v : JSON.stringify(v)}' is not a valid IP subnet.`,
    );
  // Kept as given (host bits and all, the address in canonical form), as Neutron keeps it; normalizedCidr clears them.
  const slash = (v as string).indexOf("/");
  const ip = parseIp((v as string).slice(0, slash));
  return `${formatIp(ip as Ip)}/${p.cidr.prefix}`;
}

/** A remote prefix with its host bits cleared (the rule's normalized_cidr; what the data plane matches). */
export function normalizedCidr(prefix: string | null): string | null {
  if (prefix === null) return null;
  const p = parseCidr(prefix);
  return p ? formatCidr(p.cidr) : prefix;
}

/** Check a rule's attributes against each other; 400 with Neutron's exception types. */
export function checkRule(r: RuleInput): void {
  if (r.remote_ip_prefix !== null && r.remote_group_id !== null)
    throw bad(
      "SecurityGroupRemoteGroupAndRemoteIpPrefix",
      "Only remote_ip_prefix or remote_group_id may be provided.",
    );
  if (r.protocol !== null && IPV6_ONLY.has(r.protocol) && r.ethertype !== "IPv6")
    throw bad(
      "SecurityGroupEthertypeConflictWithProtocol",
      `Invalid ethertype ${r.ethertype} for protocol ${r.protocol}.`,
    );
  if (r.remote_ip_prefix !== null) {
    const v = r.remote_ip_prefix.includes(":") ? "IPv6" : "IPv4";
    if (v !== r.ethertype)
      throw bad(
        "SecurityGroupRuleParameterConflict",
        `Conflicting value ethertype ${r.ethertype} for CIDR ${r.remote_ip_prefix}`,
      );
  }
  const min = r.port_range_min;
  const max = r.port_range_max;
  if (min === null && max === null) return;
  const proto = protocolNumber(r.protocol);
  if (proto === null)
    throw bad("SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.");
  if (PORT_PROTOCOLS.has(proto)) {
    if (min === 0 || max === 0) throw bad("SecurityGroupInvalidPortValue", "Invalid value for port 0.");
    if (min !== null && max !== null && min <= max) return;
    throw bad(
      "SecurityGroupInvalidPortRange",
      "For TCP/UDP protocols, port_range_min must be <= port_range_max",
    );
  }
  if (proto === 1 || proto === 58) {
    for (const [attr, field, value] of [
      ["port_range_min", "type", min],
      ["port_range_max", "code", max],
    ] as const)
      if (value !== null && (value < 0 || value > 255))
        throw bad(
          "SecurityGroupInvalidIcmpValue",
          `Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`,
        );
    if (min === null && max !== null)
      throw bad(
        "SecurityGroupMissingIcmpType",
        `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
      );
    return;
  }
  throw bad(
    "SecurityGroupInvalidProtocolForPort",
    `Invalid protocol ${proto} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP protocols.`,
  );
}

/** What a rule means, as one string: equal keys in one group are duplicates. */
export function ruleKey(r: RuleInput): string {
  const cidr = normalizedCidr(r.remote_ip_prefix);
  const prefix = cidr === null || cidr.endsWith("/0") ? "" : cidr;
  const proto = protocolNumber(r.protocol);
  return [
    r.direction,
    r.ethertype,
    proto ?? "",
    r.port_range_min ?? "",
    r.port_range_max ?? "",
    prefix,
    r.remote_group_id ?? "",
  ].join("|");
}
