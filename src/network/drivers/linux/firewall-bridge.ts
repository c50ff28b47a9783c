// Layer-2 anti-spoofing in an nft bridge-family table of our own (`table bridge stratus`): frames a guest sends must
// carry one of its port's MACs, its ARP packets its MAC and one of its addresses (0.0.0.0 allowed for probes), and
// be IPv4, IPv6 or ARP: anything else (VLAN-tagged frames, which br_netfilter would not show to iptables, other
// ethertypes) is dropped. The nft bridge family has no conntrack on these kernels, so it does only these stateless
// checks; the stateful security groups are iptables (firewall-rules.ts). The table is replaced in one nft
// transaction (add, delete, re-create), so packets see the old rules or the new ones, never none.
import { macText, parseCidr } from "./addr.js";
import { bridgeTable } from "./firewall-names.js";
import { hostRun, type LinuxHost } from "./host.js";
import type { PortSpec } from "./model.js";
import { safeId, tapName } from "./names.js";

/** The nft script that replaces the bridge table with the checks of `ports` (ports without port security skipped). */
export function bridgeTableText(ports: readonly PortSpec[], tag = ""): string {
  const BRIDGE_TABLE = bridgeTable(tag);
  const secured = ports.filter((p) => p.portSecurity);
  const lines = [`table bridge ${BRIDGE_TABLE}`, `delete table bridge ${BRIDGE_TABLE}`];
  if (secured.length === 0) return lines.join("\n") + "\n";
  lines.push(
    `table bridge ${BRIDGE_TABLE} {`,
    "  chain prerouting {",
    "    type filter hook prerouting priority -200; policy accept;",
  );
  for (const p of secured) lines.push(`    iifname "${tapName(p.id)}" jump ${portChain(p.id)}`);
  lines.push("  }");
  for (const p of secured) {
    const macs = new Set([
      macText(p.mac),
      ...p.allowedAddressPairs.map((a) => macText(a.macAddress ?? p.mac)),
    ]);
    const ips = new Set(["0.0.0.0"]);
    for (const f of p.fixedIps) if (parseCidr(f.address).version === 4) ips.add(f.address);
    for (const a of p.allowedAddressPairs) {
      const c = parseCidr(a.ipAddress, "allowed address pair");
      if (c.version === 4) ips.add(c.prefix === 32 ? c.address : `${c.address}/${c.prefix}`);
    }
    lines.push(
      `  chain ${portChain(p.id)} {`,
      `    ether saddr != { ${[...macs].join(", ")} } drop`,
      `    ether type arp arp saddr ether != { ${[...macs].join(", ")} } drop`,
      `    ether type arp arp saddr ip != { ${[...ips].join(", ")} } drop`,
      "    ether type { ip, ip6, arp } accept",
      "    drop",
      "  }",
    );
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

const portChain = (portId: string) => `port-${safeId(portId, "port id").slice(0, 11)}`;

/** Replace the bridge table with the checks of `ports`. */
export async function applyBridgeTable(host: LinuxHost, ports: readonly PortSpec[]): Promise<void> {
  await hostRun(host, ["nft", "-f", "-"], { input: bridgeTableText(ports, host.firewallTag) });
}

/** Remove the bridge table (if present). */
export async function removeBridgeTable(host: LinuxHost): Promise<void> {
  await hostRun(host, ["nft", "-f", "-"], { input: bridgeTableText([], host.firewallTag) });
}

/** Whether the bridge table exists. */
export async function bridgeTableExists(host: LinuxHost): Promise<boolean> {
  const { stdout } = await hostRun(host, ["nft", "list", "tables", "bridge"]);
  return stdout.split("\n").some((l) => l.trim() === `table bridge ${bridgeTable(host.firewallTag)}`);
}
