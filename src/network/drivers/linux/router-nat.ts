// A router's NAT rules (pure: iptables-restore lines for the nat table of its namespace), as Neutron's L3 agent
// writes them:
//   stratus-PREROUTING / stratus-OUTPUT:  -d <floating> -j DNAT --to-destination <fixed>
//                                         -d <floating> -p <proto> --dport <ext> -j DNAT --to-destination <ip>:<port>
//                                         (port forwardings; replies are un-NATed by conntrack; UDP-Lite ones
//                                         are an nft table's, router-udplite.ts)
//   stratus-POSTROUTING:  traffic that neither leaves by the gateway nor was DNATed is not NATed (east-west);
//                         -s <fixed> -j SNAT --to-source <floating>   (floating IPs, also for hairpin)
//                         -o qg-  -j SNAT --to-source <external>      (the router's SNAT, when enabled)
//                         -s <internal subnet> DNATed -j SNAT --to-source <external>
//                                 (hairpin: a guest reaching a floating IP on its own router must get the reply back
//                                 through the router; traffic from outside keeps its source address)
import { ipVersion, parseCidr } from "./addr.js";
import { InvalidSpec } from "./errors.js";
import type { RouterSpec } from "./model.js";
import { gatewayPortName } from "./names.js";

/** The nat chains a router namespace owns. */
export const NAT_CHAINS = {
  prerouting: "stratus-PREROUTING",
  output: "stratus-OUTPUT",
  postrouting: "stratus-POSTROUTING",
} as const;

/** The router's external IPv4 address (its gateway port's first IPv4 address), if any. */
export function externalIpv4(router: RouterSpec): string | undefined {
  for (const a of router.gateway?.addresses ?? []) {
    const c = parseCidr(a, "gateway address");
    if (c.version === 4) return c.address;
  }
  return undefined;
}

/** The router's internal IPv4 subnets (its interfaces' addresses as network CIDRs). */
export function internalCidrs(router: RouterSpec): string[] {
  const out = new Set<string>();
  for (const i of router.interfaces) {
    for (const a of i.addresses) {
      const c = parseCidr(a, "router interface address");
      if (c.version === 4) out.add(`${networkOf(c.address, c.prefix)}/${c.prefix}`);
    }
  }
  return [...out];
}

function networkOf(address: string, prefix: number): string {
  const n = address.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (n & mask) >>> 0;
  return [24, 16, 8, 0].map((sh) => (net >>> sh) & 255).join(".");
}

/** The nat table rules of a router (IPv4: IPv6 is routed, never NATed). */
export function natRules(router: RouterSpec): { chains: string[]; rules: string[] } {
  const chains = Object.values(NAT_CHAINS);
  const rules: string[] = [];
  const gw = router.gateway;
  if (!gw) return { chains, rules };
  const qg = gatewayPortName(gw.portId);
  for (const f of router.floatingIps) {
    if (ipVersion(f.floatingIp, "floating IP") !== 4 || ipVersion(f.fixedIp, "fixed IP") !== 4) {
      throw new InvalidSpec(`floating IP ${f.id}: only IPv4 floating IPs exist`);
    }
    rules.push(`-A ${NAT_CHAINS.prerouting} -d ${f.floatingIp}/32 -j DNAT --to-destination ${f.fixedIp}`);
    rules.push(`-A ${NAT_CHAINS.output} -d ${f.floatingIp}/32 -j DNAT --to-destination ${f.fixedIp}`);
  }
  for (const pf of router.portForwardings ?? []) {
    if (ipVersion(pf.floatingIp, "floating IP") !== 4 || ipVersion(pf.internalIp, "internal IP") !== 4)
      throw new InvalidSpec(`port forwarding ${pf.id}: only IPv4 is forwarded`);
    if (pf.protocol === "udplite") continue; // an nft table's (router-udplite.ts): iptables cannot DNAT its ports
    if (!["tcp", "udp", "sctp"].includes(pf.protocol))
      throw new InvalidSpec(`port forwarding ${pf.id}: protocol ${JSON.stringify(pf.protocol)}`);
    for (const n of [pf.externalPort, pf.internalPort])
      if (!Number.isInteger(n) || n < 1 || n > 65535)
        throw new InvalidSpec(`port forwarding ${pf.id}: port ${n} is out of range`);
    const match = `-d ${pf.floatingIp}/32 -p ${pf.protocol} -m ${pf.protocol} --dport ${pf.externalPort}`;
    const to = `-j DNAT --to-destination ${pf.internalIp}:${pf.internalPort}`;
    rules.push(`-A ${NAT_CHAINS.prerouting} ${match} ${to}`, `-A ${NAT_CHAINS.output} ${match} ${to}`);
  }
  rules.push(`-A ${NAT_CHAINS.postrouting} ! -o ${qg} -m conntrack ! --ctstate DNAT -j ACCEPT`);
  for (const f of router.floatingIps) {
    rules.push(`-A ${NAT_CHAINS.postrouting} -s ${f.fixedIp}/32 -j SNAT --to-source ${f.floatingIp}`);
  }
  const ext = externalIpv4(router);
  if (gw.enableSnat && ext) {
    rules.push(`-A ${NAT_CHAINS.postrouting} -o ${qg} -j SNAT --to-source ${ext}`);
    for (const cidr of internalCidrs(router)) {
      rules.push(
        `-A ${NAT_CHAINS.postrouting} -s ${cidr} -m conntrack --ctstate DNAT -j SNAT --to-source ${ext}`,
      );
    }
  }
  return { chains, rules };
}

/** floating -> fixed as the nat table of a namespace currently maps them (from `iptables-save -t nat`). */
export function currentFloatingMap(natSave: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = new RegExp(`^-A ${NAT_CHAINS.prerouting} -d (\\S+)/32 -j DNAT --to-destination (\\S+)$`);
  for (const line of natSave.split("\n")) {
    const m = re.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}
