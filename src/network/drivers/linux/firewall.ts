// Security groups and anti-spoofing for the VM ports of one host, applied as one full resync: `applyFirewall`
// takes everything the host enforces and replaces only the firewall's own objects — chains named `stratus-*`
// (iptables-restore --noflush: one atomic transaction per table, so established connections and unchanged rules
// never flap; after a first apply, only the chains whose rules changed are rewritten, so the others keep their
// counters), ipsets named `stv4-*`/`stv6-*` (swapped atomically) and the nft table `bridge stratus` — and keeps one
// jump to its top chains first in FORWARD, INPUT and raw PREROUTING. Bridged traffic reaches iptables through
// br_netfilter (net.bridge.bridge-nf-call-iptables/ip6tables = 1, set here; per network namespace on recent kernels).
import type { LinuxHost } from "./host.js";
import { applyBridgeTable, removeBridgeTable } from "./firewall-bridge.js";
import { destroyStaleSets, syncSets } from "./firewall-ipset.js";
import { chainPrefix, topChains } from "./firewall-names.js";
import { buildFamilyRules, type FirewallSpec } from "./firewall-rules.js";
import { ensureJumpFirst, removeJumps, removeOurChains, replaceChains, type ChainRules } from "./iptables.js";
import { sysctl } from "./ip-netns.js";
import { KeyedLock } from "../../../shared/keyed-lock.js";

export type { FirewallSpec } from "./firewall-rules.js";

const locks = new KeyedLock();

/** What this process last applied per namespace, tag, IP version and table: only changed chains are rewritten. */
const applied = new Map<string, ChainRules>();

/** The built-in chains our top chains (of a tag) hang from, per table. */
const jumps = (tag = "") => {
  const top = topChains(tag);
  return [
    { table: "filter", builtin: "FORWARD", chain: top.forward },
    { table: "filter", builtin: "INPUT", chain: top.input },
    { table: "raw", builtin: "PREROUTING", chain: top.prerouting },
  ] as const;
};

/** Apply the whole firewall of a host (see the file comment). Returns rules that could not be expressed. */
export function applyFirewall(host: LinuxHost, spec: FirewallSpec): Promise<{ warnings: string[] }> {
  return locks.run(host.netns ?? "", async () => {
    const ns = host.netns;
    await sysctl(ns, {
      "net.bridge.bridge-nf-call-iptables": "1",
      "net.bridge.bridge-nf-call-ip6tables": "1",
    });
    const tag = host.firewallTag ?? "";
    const prefix = chainPrefix(tag);
    const fams = ([4, 6] as const).map((v) => ({ v, rules: buildFamilyRules({ ...spec, tag }, v) }));
    const sets = new Map<string, { version: 4 | 6; members: readonly string[] }>();
    for (const { v, rules } of fams)
      for (const [name, members] of rules.sets) sets.set(name, { version: v, members });
    await syncSets(host, sets);
    for (const { v, rules } of fams) {
      for (const table of ["raw", "filter"] as const) {
        const key = `${ns ?? ""}|${prefix}|${v}|${table}`;
        await replaceChains(ns, v, table, rules[table], prefix, applied.get(key));
        applied.set(key, rules[table]);
      }
      for (const j of jumps(tag)) await ensureJumpFirst(ns, v, j.table, j.builtin, j.chain);
    }
    await destroyStaleSets(host, new Set(sets.keys()));
    await applyBridgeTable(host, spec.ports);
    return { warnings: fams.flatMap((f) => f.rules.warnings) };
  });
}

/** Remove every firewall object of the host: jumps, our chains, our sets and the bridge table. */
export function removeFirewall(host: LinuxHost): Promise<void> {
  return locks.run(host.netns ?? "", async () => {
    const tag = host.firewallTag ?? "";
    for (const key of applied.keys())
      if (key.startsWith(`${host.netns ?? ""}|${chainPrefix(tag)}|`)) applied.delete(key);
    for (const v of [4, 6] as const) {
      for (const j of jumps(tag)) await removeJumps(host.netns, v, j.table, j.builtin, j.chain);
      for (const table of ["raw", "filter"]) await removeOurChains(host.netns, v, table, chainPrefix(tag));
    }
    await destroyStaleSets(host, new Set());
    await removeBridgeTable(host);
  });
}
