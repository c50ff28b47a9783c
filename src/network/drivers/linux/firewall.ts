// Security groups and anti-spoofing for the VM ports of one host, applied as one full resync: `applyFirewall`
// takes everything the host enforces and replaces only the firewall's own objects — chains named `stratus-*`
// (iptables-restore --noflush: one atomic transaction per table, so established connections and unchanged rules
// never flap), ipsets named `stv4-*`/`stv6-*` (swapped atomically) and the nft table `bridge stratus` — and keeps one
// jump to its top chains first in FORWARD, INPUT and raw PREROUTING. Bridged traffic reaches iptables through
// br_netfilter (net.bridge.bridge-nf-call-iptables/ip6tables = 1, set here; per network namespace on recent kernels).
import { hostRun, type LinuxHost } from "./host.js";
import { applyBridgeTable, removeBridgeTable } from "./firewall-bridge.js";
import { destroyStaleSets, syncSets } from "./firewall-ipset.js";
import { CHAIN_PREFIX, TOP_CHAINS } from "./firewall-names.js";
import { buildFamilyRules, restoreText, type FirewallSpec } from "./firewall-rules.js";
import { sysctl } from "./ip-netns.js";
import { KeyedLock } from "../../../shared/keyed-lock.js";

export type { FirewallSpec } from "./firewall-rules.js";

const locks = new KeyedLock();
const tools = (v: 4 | 6) => (v === 4 ? "iptables" : "ip6tables");

/** The built-in chains our top chains hang from, per table. */
const JUMPS: readonly { table: string; builtin: string; chain: string }[] = [
  { table: "filter", builtin: "FORWARD", chain: TOP_CHAINS.forward },
  { table: "filter", builtin: "INPUT", chain: TOP_CHAINS.input },
  { table: "raw", builtin: "PREROUTING", chain: TOP_CHAINS.prerouting },
];

/** Our chains currently in a table. */
async function ourChains(host: LinuxHost, v: 4 | 6, table: string): Promise<string[]> {
  const { stdout } = await hostRun(host, [`${tools(v)}-save`, "-t", table]);
  return stdout
    .split("\n")
    .filter((l) => l.startsWith(`:${CHAIN_PREFIX}`))
    .map((l) => l.slice(1).split(" ")[0]);
}

/** Make `-j chain` the first rule of a built-in chain (exactly once), leaving every other rule where it is. */
async function ensureJumpFirst(host: LinuxHost, v: 4 | 6, j: (typeof JUMPS)[number]): Promise<void> {
  const ipt = [tools(v), "-w", "10", "-t", j.table];
  const { stdout } = await hostRun(host, [...ipt, "-S", j.builtin]);
  const rules = stdout.split("\n").filter((l) => l.startsWith(`-A ${j.builtin} `));
  const ours = `-A ${j.builtin} -j ${j.chain}`;
  if (rules[0] === ours && rules.filter((r) => r === ours).length === 1) return;
  for (const r of rules) if (r === ours) await hostRun(host, [...ipt, "-D", j.builtin, "-j", j.chain]);
  await hostRun(host, [...ipt, "-I", j.builtin, "1", "-j", j.chain]);
}

/** Apply the whole firewall of a host (see the file comment). Returns rules that could not be expressed. */
export function applyFirewall(host: LinuxHost, spec: FirewallSpec): Promise<{ warnings: string[] }> {
  return locks.run(host.netns ?? "", async () => {
    await sysctl(host.netns, {
      "net.bridge.bridge-nf-call-iptables": "1",
      "net.bridge.bridge-nf-call-ip6tables": "1",
    });
    const fams = ([4, 6] as const).map((v) => ({ v, rules: buildFamilyRules(spec, v) }));
    const sets = new Map<string, { version: 4 | 6; members: readonly string[] }>();
    for (const { v, rules } of fams)
      for (const [name, members] of rules.sets) sets.set(name, { version: v, members });
    await syncSets(host, sets);
    for (const { v, rules } of fams) {
      for (const table of ["raw", "filter"] as const) {
        const want = rules[table];
        const stale = (await ourChains(host, v, table)).filter((c) => !want.chains.includes(c));
        await hostRun(host, [`${tools(v)}-restore`, "-w", "10", "--noflush"], {
          input: restoreText(table, want, stale),
        });
      }
      for (const j of JUMPS) await ensureJumpFirst(host, v, j);
    }
    await destroyStaleSets(host, new Set(sets.keys()));
    await applyBridgeTable(host, spec.ports);
    return { warnings: fams.flatMap((f) => f.rules.warnings) };
  });
}

/** Remove every firewall object of the host: jumps, our chains, our sets and the bridge table. */
export function removeFirewall(host: LinuxHost): Promise<void> {
  return locks.run(host.netns ?? "", async () => {
    for (const v of [4, 6] as const) {
      for (const j of JUMPS) {
        const ipt = [tools(v), "-w", "10", "-t", j.table];
        while (
          (await hostRun(host, [...ipt, "-C", j.builtin, "-j", j.chain], { okCodes: [0, 1, 2] })).code === 0
        ) {
          await hostRun(host, [...ipt, "-D", j.builtin, "-j", j.chain]);
        }
      }
      for (const table of ["raw", "filter"]) {
        const stale = await ourChains(host, v, table);
        if (stale.length) {
          const text = restoreText(table, { chains: [], rules: [] }, stale);
          await hostRun(host, [`${tools(v)}-restore`, "-w", "10", "--noflush"], { input: text });
        }
      }
    }
    await destroyStaleSets(host, new Set());
    await removeBridgeTable(host);
  });
}
