// A router's UDP-Lite port forwardings, in an nft table of the router namespace (`table ip stratus-udplite`):
// iptables matches UDP-Lite ports (multiport) but refuses a DNAT with a port for it, while the kernel's NAT handles
// UDP-Lite like UDP. The chains hook just before the iptables nat chains (priority -101, dstnat - 1), so a
// forwarding wins; replies are un-NATed by conntrack and hairpin traffic is SNATed by the iptables POSTROUTING
// rules (router-nat.ts).
// The table is replaced in one nft transaction (add, delete, re-create), or just deleted when there is none
// (router.ts runs the script with the rest of the router's NAT).
import { ipVersion } from "./addr.js";
import { InvalidSpec } from "./errors.js";
import type { RouterSpec } from "./model.js";

/** The router namespace's nft table of UDP-Lite forwardings. */
export const UDPLITE_TABLE = "stratus-udplite";

/** The router's UDP-Lite forwardings (none without a gateway), validated. */
function udpliteForwardings(router: RouterSpec) {
  const out = router.gateway ? (router.portForwardings ?? []).filter((pf) => pf.protocol === "udplite") : [];
  for (const pf of out) {
    if (ipVersion(pf.floatingIp, "floating IP") !== 4 || ipVersion(pf.internalIp, "internal IP") !== 4)
      throw new InvalidSpec(`port forwarding ${pf.id}: only IPv4 is forwarded`);
    for (const n of [pf.externalPort, pf.internalPort])
      if (!Number.isInteger(n) || n < 1 || n > 65535)
        throw new InvalidSpec(`port forwarding ${pf.id}: port ${n} is out of range`);
  }
  return out;
}

/** The nft script that makes the table hold exactly the router's UDP-Lite forwardings (deleted when none). */
export function udpliteTableText(router: RouterSpec): string {
  const pfs = udpliteForwardings(router);
  const lines = [`table ip ${UDPLITE_TABLE}`, `delete table ip ${UDPLITE_TABLE}`];
  if (pfs.length === 0) return lines.join("\n") + "\n";
  const rules = pfs.map(
    (pf) =>
      `    ip daddr ${pf.floatingIp} udplite dport ${pf.externalPort} dnat to ${pf.internalIp}:${pf.internalPort}`,
  );
  lines.push(`table ip ${UDPLITE_TABLE} {`);
  // Packets from outside (prerouting) and from the router itself (output), as the iptables DNAT rules.
  for (const [chain, hook] of [
    ["prerouting", "prerouting"],
    ["output", "output"],
  ])
    lines.push(
      `  chain ${chain} {`,
      `    type nat hook ${hook} priority -101; policy accept;`,
      ...rules,
      "  }",
    );
  lines.push("}");
  return lines.join("\n") + "\n";
}
