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

/** Replace our chains of one table with `rules` (one transaction), deleting our chains not among them. */
export async function replaceChains(
  netns: string | undefined,
  v: 4 | 6,
  table: string,
  rules: { chains: string[]; rules: string[] },
  prefix = CHAIN_PREFIX,
): Promise<void> {
  const stale = (await ourChains(netns, v, table, prefix)).filter((c) => !rules.chains.includes(c));
  const input = restoreText(table, rules, stale, prefix);
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
