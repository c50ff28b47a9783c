// Extra DHCP options of a port, validated so they cannot rewrite the DHCP server's configuration
// (OSSA-2021-005): names come from dnsmasq's known option names (or are option numbers), values are printable
// text without line breaks or other control characters, and an (option, IP version) pair appears once. The data
// plane writes them into dnsmasq's options file, never onto its command line.
import { invalidAttr } from "./errors.js";
import type { DhcpOpt } from "./store/ports.js";

/** dnsmasq's DHCPv4 option names (dnsmasq --help dhcp), and the names Neutron maps to dnsmasq settings. */
const V4_NAMES = new Set([
  "netmask",
  "time-offset",
  "router",
  "dns-server",
  "log-server",
  "lpr-server",
  "hostname",
  "boot-file-size",
  "domain-name",
  "swap-server",
  "root-path",
  "extension-path",
  "ip-forward-enable",
  "non-local-source-routing",
  "policy-filter",
  "max-datagram-reassembly",
  "default-ttl",
  "mtu",
  "all-subnets-local",
  "broadcast",
  "router-discovery",
  "router-solicitation",
  "static-route",
  "trailer-encapsulation",
  "arp-timeout",
  "ethernet-encap",
  "tcp-ttl",
  "tcp-keepalive",
  "nis-domain",
  "nis-server",
  "ntp-server",
  "vendor-encap",
  "netbios-ns",
  "netbios-dd",
  "netbios-nodetype",
  "netbios-scope",
  "x-windows-fs",
  "x-windows-dm",
  "requested-address",
  "lease-time",
  "option-overload",
  "message-type",
  "server-identifier",
  "parameter-request",
  "message",
  "max-message-size",
  "T1",
  "T2",
  "vendor-class",
  "client-id",
  "nis+-domain",
  "nis+-server",
  "tftp-server",
  "bootfile-name",
  "mobile-ip-home",
  "smtp-server",
  "pop3-server",
  "nntp-server",
  "irc-server",
  "user-class",
  "rapid-commit",
  "client-arch",
  "client-interface-id",
  "client-machine-id",
  "posix-timezone",
  "tzdb-timezone",
  "subnet-select",
  "domain-search",
  "sip-server",
  "classless-static-route",
  "vendor-id-encap",
  "tftp-server-address",
  "server-ip-address",
  "tftp-server-name",
]);

/** dnsmasq's DHCPv6 option names. */
const V6_NAMES = new Set([
  "client-id",
  "server-id",
  "ia-na",
  "ia-ta",
  "iaaddr",
  "oro",
  "preference",
  "unicast",
  "status",
  "rapid-commit",
  "user-class",
  "vendor-class",
  "vendor-opts",
  "sip-server-domain",
  "sip-server",
  "dns-server",
  "domain-search",
  "nis-server",
  "nis+-server",
  "nis-domain",
  "nis+-domain",
  "sntp-server",
  "information-refresh-time",
  "FQDN",
  "ntp-server",
  "bootfile-url",
  "bootfile-param",
  "tftp-server",
  "bootfile-name",
  "server-ip-address",
]);

const ATTR = "extra_dhcp_opts";
const NUMBERED = /^(option6?:)?\d{1,3}$/;
// Printable ASCII and any non-ASCII text; no control characters (line breaks would start a new dnsmasq line).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Whether an option name is allowed for an IP version. */
export function knownOptionName(name: string, version: 4 | 6): boolean {
  if (NUMBERED.test(name)) {
    const n = Number(name.replace(/^option6?:/, ""));
    return n >= 1 && n <= 254;
  }
  return (version === 4 ? V4_NAMES : V6_NAMES).has(name);
}

/** One option as the client sent it, checked; a null value means "remove this option" (on update). */
export function parseDhcpOpt(v: unknown): { opt_name: string; opt_value: string | null; ip_version: 4 | 6 } {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalidAttr(ATTR, `'${JSON.stringify(v)}' is not a dictionary`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== "opt_name" && k !== "opt_value" && k !== "ip_version")
      throw invalidAttr(ATTR, `Unrecognized attribute(s) '${k}'`);
  const version = o.ip_version === undefined || o.ip_version === null ? 4 : Number(o.ip_version);
  if (version !== 4 && version !== 6)
    throw invalidAttr(ATTR, `'${String(o.ip_version)}' is not a valid IP version`);
  const name = o.opt_name;
  if (typeof name !== "string" || !knownOptionName(name, version))
    throw invalidAttr(ATTR, `'${String(name)}' is not a known DHCPv${version} option name`);
  const value = o.opt_value;
  if (value === null || value === undefined) return { opt_name: name, opt_value: null, ip_version: version };
  if (typeof value !== "string" || value.length === 0 || value.length > 255)
    throw invalidAttr(ATTR, `opt_value of ${name} must be a string of 1 to 255 characters`);
  if (CONTROL.test(value))
    throw invalidAttr(ATTR, `opt_value of ${name} contains control characters (such as a line break)`);
  return { opt_name: name, opt_value: value, ip_version: version };
}

/** Merge requested options into a port's: same (name, version) replaced, null values removed; no duplicates. */
export function mergeDhcpOpts(
  current: DhcpOpt[],
  requested: Array<ReturnType<typeof parseDhcpOpt>>,
): DhcpOpt[] {
  const key = (o: { opt_name: string; ip_version: number }) => `${o.ip_version}:${o.opt_name}`;
  const seen = new Set<string>();
  for (const r of requested) {
    if (seen.has(key(r))) throw invalidAttr(ATTR, `Duplicate option ${r.opt_name} for IPv${r.ip_version}`);
    seen.add(key(r));
  }
  const out = new Map(current.map((o) => [key(o), o]));
  for (const r of requested) {
    if (r.opt_value === null) out.delete(key(r));
    else out.set(key(r), { opt_name: r.opt_name, opt_value: r.opt_value, ip_version: r.ip_version });
  }
  return [...out.values()];
}
