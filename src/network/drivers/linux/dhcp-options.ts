// Validation of extra DHCP options before they reach dnsmasq's options file (OSSA-2021-005: a value with a newline
// or a comma injected whole dnsmasq directives). A name must be an option dnsmasq knows or a number; a value is one
// plain token, or a comma-separated list only when every item is an IP address or CIDR (dns-server, ntp-server,
// static routes). Anything else — newlines, quotes, spaces, backslashes, `#`, stray commas — is refused.
import { isIP } from "node:net";
import { InvalidSpec } from "./errors.js";
import type { ExtraDhcpOpt } from "./model.js";

// `dnsmasq --help dhcp` (2.90), less the options the data plane sets itself or that make no sense per port.
const V4_NAMES = new Set(
  (
    "netmask time-offset router dns-server log-server lpr-server boot-file-size domain-name swap-server root-path " +
    "extension-path ip-forward-enable non-local-source-routing policy-filter max-datagram-reassembly default-ttl mtu " +
    "all-subnets-local router-discovery router-solicitation static-route trailer-encapsulation arp-timeout " +
    "ethernet-encap tcp-ttl tcp-keepalive nis-domain nis-server ntp-server netbios-ns netbios-dd netbios-nodetype " +
    "netbios-scope x-windows-fs x-windows-dm T1 T2 vendor-class nis+-domain nis+-server tftp-server bootfile-name " +
    "mobile-ip-home smtp-server pop3-server nntp-server irc-server user-class rapid-commit client-arch " +
    "client-interface-id client-machine-id posix-timezone tzdb-timezone ipv6-only domain-search sip-server " +
    "classless-static-route vendor-id-encap tftp-server-address server-ip-address"
  ).split(" "),
);
// `dnsmasq --help dhcp6` (2.90).
const V6_NAMES = new Set(
  (
    "sip-server-domain sip-server dns-server domain-search nis-server nis+-server nis-domain nis+-domain " +
    "sntp-server information-refresh-time posix-timezone tzdb-timezone ntp-server bootfile-url bootfile-param"
  ).split(" "),
);

const TOKEN_RE = /^[A-Za-z0-9._:/@+=~%?&-]{1,255}$/;

const isAddressItem = (s: string) => {
  const bare = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  const slash = bare.indexOf("/");
  const addr = slash < 0 ? bare : bare.slice(0, slash);
  const prefixOk = slash < 0 || /^\d{1,3}$/.test(bare.slice(slash + 1));
  return isIP(addr) !== 0 && prefixOk;
};

/** The option's key in dnsmasq syntax (`option:router`, `option6:dns-server`, or the number); InvalidSpec if unknown. */
export function dhcpOptionKey(opt: Pick<ExtraDhcpOpt, "name" | "ipVersion">): string {
  const v6 = opt.ipVersion === 6;
  if (/^\d{1,5}$/.test(opt.name)) {
    const n = Number(opt.name);
    if (n >= 1 && n <= (v6 ? 65535 : 254)) return v6 ? `option6:${n}` : String(n);
  } else if ((v6 ? V6_NAMES : V4_NAMES).has(opt.name)) return `${v6 ? "option6" : "option"}:${opt.name}`;
  throw new InvalidSpec(
    `DHCP option name ${JSON.stringify(opt.name)} is not a known IPv${opt.ipVersion} option`,
  );
}

/** The value, checked to be safe on one dnsmasq options line; InvalidSpec otherwise. */
export function dhcpOptionValue(value: string, name = "option"): string {
  const items = value.split(",");
  const ok = items.every(isAddressItem) || (items.length === 1 && TOKEN_RE.test(value));
  if (!ok || value.length > 1024) {
    throw new InvalidSpec(
      `DHCP ${name} value ${JSON.stringify(value)} is refused: one plain token (letters, digits and ._:/@+=~%?&-), ` +
        "or a comma-separated list of IP addresses",
    );
  }
  return value;
}

/** Check a port's extra DHCP options; throws InvalidSpec at the first bad one. */
export function validateExtraDhcpOpts(opts: readonly ExtraDhcpOpt[]): void {
  for (const o of opts) {
    if (o.ipVersion !== 4 && o.ipVersion !== 6)
      throw new InvalidSpec(`DHCP option ip_version ${o.ipVersion}`);
    dhcpOptionKey(o);
    dhcpOptionValue(o.value, o.name);
  }
}
