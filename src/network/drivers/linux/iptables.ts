// iptables plumbing shared by the firewall and the routers: list the `stratus-*` chains of a table, replace them in
// one iptables-restore --noflush transaction (declared chains are flushed and refilled; stale ones deleted), and
// keep a single jump to a top chain first in a built-in chain. Nothing without the prefix is ever written.
import { run } from "./exec.js";
import { CHAIN_PREFIX } from "./firewall-names.js";

/** iptables (4) or ip6tables (6). */
export const iptablesTool = (v: 4 | 6): string => (v === 4 ? "iptables" : "ip6tables");

/** Our chains currently in a table of a namespace. */
export async function ourChains(
  netns: string | undefined,
  v: 4 | 6,
  table: string,
  prefix = CHAIN_PREFIX,
): Promise<string[]> {
  const { stdout } = await run([`${iptablesTool(v)}-save`, "-t", table], { netns });
  return stdout
    .split("\n")
    .filter((l) => l.startsWith(`:${prefix}`))
    .map((l) => l.slice(1).split(" ")[0]);
}

/** The iptables-restore input (`--noflush`) replacing our chains with `rules` and deleting our `stale` chains. */
export function restoreText(
  table: string,
  rules: { chains: string[]; rules: string[] },
  stale: readonly string[],
  prefix = CHAIN_PREFIX,
): string {
  const lines = [`*${table}`];
  for (const ch of [...rules.chains, ...stale]) {
    if (!ch.startsWith(prefix)) throw new Error(`refusing to touch chain ${ch}`);
    lines.push(`:${ch} - [0:0]`);
  }
  lines.push(...rules.rules);
  for (const ch of stale) lines.push(`-X ${ch}`);
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/** Chains and rules of one table, as iptables-restore lines (`-A <chain> ...`). */
export interface ChainRules {
  chains: string[];
  rules: string[];
}

/** The rules of each chain, in order. */
function rulesByChain(r: ChainRules): Map<string, string[]> {
  const out = new Map<string, string[]>(r.chains.map((c) => [c, []]));
  for (const line of r.rules) {
    const chain = line.split(" ")[1];
    const list = out.get(chain);
    if (list) list.push(line);
    else out.set(chain, [line]);
  }
  return out;
}

/** Only the chains of `rules` that are new or whose rules differ from `previous`, with their rules. */
export function changedChains(rules: ChainRules, previous: ChainRules): ChainRules {
  const now = rulesByChain(rules);
  const before = rulesByChain(previous);
  const chains = rules.chains.filter(
    (c) => !before.has(c) || JSON.stringify(now.get(c)) !== JSON.stringify(before.get(c)),
  );
  const set = new Set(chains);
  return { chains, rules: rules.rules.filter((l) => set.has(l.split(" ")[1])) };
}

/**
 * Replace our chains of one table with `rules` (one transaction), deleting our chains not among them. Given what
 * was applied before (`previous`), only the chains that changed are rewritten: the others keep their counters.
 */
export async function replaceChains(
  netns: string | undefined,
  v: 4 | 6,
  table: string,
  rules: ChainRules,
  prefix = CHAIN_PREFIX,
  previous?: ChainRules,
): Promise<void> {
  const have = await ourChains(netns, v, table, prefix);
  const stale = have.filter((c) => !rules.chains.includes(c));
  // Chains missing from the kernel are rewritten whatever `previous` says.
  const write = previous
    ? changedChains(rules, { chains: previous.chains.filter((c) => have.includes(c)), rules: previous.rules })
    : rules;
  if (!write.chains.length && !stale.length) return;
  const input = restoreText(table, write, stale, prefix);
  await run([`${iptablesTool(v)}-restore`, "-w", "10", "--noflush"], { netns, input });
}

/** Make `-j chain` the first rule of a built-in chain, exactly once, leaving every other rule where it is. */
export async function ensureJumpFirst(
  netns: string | undefined,
  v: 4 | 6,
  table: string,
  builtin: string,
  chain: string,
): Promise<void> {
  const ipt = [iptablesTool(v), "-w", "10", "-t", table];
  const { stdout } = await run([...ipt, "-S", builtin], { netns });
  const rules = stdout.split("\n").filter((l) => l.startsWith(`-A ${builtin} `));
  const ours = `-A ${builtin} -j ${chain}`;
  if (rules[0] === ours && rules.filter((r) => r === ours).length === 1) return;
  for (const r of rules) if (r === ours) await run([...ipt, "-D", builtin, "-j", chain], { netns });
  await run([...ipt, "-I", builtin, "1", "-j", chain], { netns });
}

/** Remove every jump to `chain` from a built-in chain. */
export async function removeJumps(
  netns: string | undefined,
  v: 4 | 6,
  table: string,
  builtin: string,
  chain: string,
): Promise<void> {
  const ipt = [iptablesTool(v), "-w", "10", "-t", table];
  const { stdout } = await run([...ipt, "-S", builtin], { netns });
  const n = stdout.split("\n").filter((l) => l === `-A ${builtin} -j ${chain}`).length;
  for (let i = 0; i < n; i++) await run([...ipt, "-D", builtin, "-j", chain], { netns });
}

/** Delete all our chains of a table (after their jumps are gone). */
export async function removeOurChains(
  netns: string | undefined,
  v: 4 | 6,
  table: string,
  prefix = CHAIN_PREFIX,
): Promise<void> {
  const stale = await ourChains(netns, v, table, prefix);
  if (stale.length === 0) return;
  const input = restoreText(table, { chains: [], rules: [] }, stale, prefix);
  await run([`${iptablesTool(v)}-restore`, "-w", "10", "--noflush"], { netns, input });
}
