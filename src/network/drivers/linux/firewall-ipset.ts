// The ipsets of remote-group rules: one `hash:net` set per (security group, IP version) holding the group members'
// addresses. A changed set is rebuilt in a temporary set and swapped in (`ipset swap`: atomic, so a rule never sees
// a half-filled set); an unchanged one is left alone. Only sets named with the firewall's prefix are ever touched.
import { parseCidr } from "./addr.js";
import { setRe } from "./firewall-names.js";
import { hostRun, type LinuxHost } from "./host.js";

/** Names of the ipsets of the host that the firewall owns. */
export async function listOurSets(host: LinuxHost): Promise<string[]> {
  const { stdout } = await hostRun(host, ["ipset", "list", "-n"]);
  const re = setRe(host.firewallTag);
  return stdout.split("\n").filter((n) => re.test(n));
}

/** Members of a set as ipset prints them (host prefixes without their /32 or /128). */
async function members(host: LinuxHost, name: string): Promise<Set<string>> {
  const { stdout } = await hostRun(host, ["ipset", "save", name]);
  const out = new Set<string>();
  for (const line of stdout.split("\n")) {
    const m = /^add \S+ (\S+)/.exec(line);
    if (m) out.add(m[1]);
  }
  return out;
}

/** The set entries of members (hash:net cannot hold a /0: it is split into two halves). */
export function setEntries(members: readonly string[]): string[] {
  const out = new Set<string>();
  for (const m of members) {
    const c = parseCidr(m, "group member");
    const max = c.version === 4 ? 32 : 128;
    if (c.prefix === 0) {
      if (c.version === 4) out.add("0.0.0.0/1").add("128.0.0.0/1");
      else out.add("::/1").add("8000::/1");
    } else out.add(c.prefix === max ? c.address : `${c.address}/${c.prefix}`);
  }
  return [...out];
}

/** Make each named set hold exactly its members (created if missing, swapped in atomically if different). */
export async function syncSets(
  host: LinuxHost,
  sets: ReadonlyMap<string, { version: 4 | 6; members: readonly string[] }>,
): Promise<void> {
  const existing = new Set(await listOurSets(host));
  const SET_RE = setRe(host.firewallTag);
  const script: string[] = [];
  for (const [name, { version, members: m }] of sets) {
    if (!SET_RE.test(name)) throw new Error(`refusing to touch ipset ${name}`);
    const entries = setEntries(m);
    if (existing.has(name)) {
      const have = await members(host, name);
      if (have.size === entries.length && entries.every((e) => have.has(e))) continue;
    }
    const tmp = name.replace(/^stv/, "stt");
    const family = version === 4 ? "inet" : "inet6";
    script.push(`create ${tmp} hash:net family ${family} -exist`, `flush ${tmp}`);
    for (const e of entries) script.push(`add ${tmp} ${e}`);
    script.push(`create ${name} hash:net family ${family} -exist`, `swap ${tmp} ${name}`, `destroy ${tmp}`);
  }
  if (script.length) await hostRun(host, ["ipset", "restore"], { input: script.join("\n") + "\n" });
}

/** Destroy our sets that are not in `keep` (call after the rules that used them are gone). */
export async function destroyStaleSets(host: LinuxHost, keep: ReadonlySet<string>): Promise<void> {
  for (const name of await listOurSets(host))
    if (!keep.has(name)) await hostRun(host, ["ipset", "destroy", name]);
}
