// Security group rule protocols: Neutron's names and numbers, mapped to the number iptables gets, and the ports or
// ICMP type/code match each needs.

// Neutron's protocol names (neutron_lib.constants.IP_PROTOCOL_MAP) and their IANA numbers.
const BY_NAME = new Map<string, number>([
  ["ah", 51],
  ["dccp", 33],
  ["egp", 8],
  ["esp", 50],
  ["gre", 47],
  ["icmp", 1],
  ["icmpv6", 58],
  ["igmp", 2],
  ["ipip", 4],
  ["ipv6-encap", 41],
  ["ipv6-frag", 44],
  ["ipv6-icmp", 58],
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

// Protocols iptables can match ports of, and the match module for each.
const PORT_MATCH = new Map<number, string>([
  [6, "tcp"],
  [17, "udp"],
  [132, "sctp"],
  [33, "dccp"],
]);

/** A rule's protocol as a number (null: any); "icmp" on an IPv6 rule is ICMPv6, as in Neutron. Null if unknown. */
export function protocolNumber(
  protocol: string | null,
  ethertype: "IPv4" | "IPv6",
): number | null | undefined {
  if (protocol === null || protocol === "" || protocol === "any") return null;
  let n: number | undefined;
  if (/^\d{1,3}$/.test(protocol)) n = Number(protocol);
  else n = BY_NAME.get(protocol.toLowerCase());
  if (n === undefined || n > 255) return undefined;
  if (n === 0) return null; // iptables' "-p 0" means every protocol
  if (ethertype === "IPv6" && n === 1) return 58;
  return n;
}

/** The iptables match module of a protocol's ports (tcp, udp, sctp, dccp), or undefined when it has none. */
export const portMatch = (proto: number): string | undefined => PORT_MATCH.get(proto);

/** Whether a protocol number is ICMP of the family (type/code matches instead of ports). */
export const isIcmp = (proto: number, ethertype: "IPv4" | "IPv6"): boolean =>
  ethertype === "IPv4" ? proto === 1 : proto === 58;
