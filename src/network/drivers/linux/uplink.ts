// The operator's opt-in way out of the public namespace (config `network.publicUplink`, off by default): a veth
// pair between the host (`upl<tag>`) and the public namespace (`uplink0`) on a link-local /30 derived from the
// cloud's tag, forwarding on in the public namespace with a default route to the host, and masquerade at both
// steps (the public namespace's sources behind its uplink address, that address behind the host's interface), so
// the host needs no route to the public subnets. On the host only the two interfaces forward (their per-device
// `forwarding`; the interface's previous value is restored on removal) and the rules carry a comment naming
// the cloud. What was made is written to `uplink.json` in the state directory, so removal (driver close, wipe)
// needs no configuration.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidSpec } from "./errors.js";
import { run } from "./exec.js";
import type { LinuxHost } from "./host.js";
import { deleteLink, ensureVeth, getLink } from "./ip.js";
import { ensureAddresses, ensureRoute } from "./ip-addr.js";
import { namespaceExists, sysctl } from "./ip-netns.js";
import { safeIfName, safeNetns } from "./names.js";
import { safeTag } from "./firewall-names.js";

/** The public namespace's end of the uplink veth. */
export const UPLINK_PEER = "uplink0";

/** What the uplink made (uplink.json). */
interface UplinkState {
  interface: string;
  publicNetns: string;
  hostEnd: string;
  transit: string;
  /** The interface's `net.ipv4.conf.<if>.forwarding` before. */
  forwarding: string;
}

/** The host end's name, the transit /30's network address and the comment of its rules, for a cloud's tag. */
export function uplinkNames(tag: string): { hostEnd: string; transit: string; comment: string } {
  const t = safeTag(tag);
  const n = t ? parseInt(t, 16) : 0;
  // 169.254.<1..168>.<0..252>/30: link-local, never routed off the link, away from 169.254.169.254.
  const transit = `169.254.${1 + (n % 168)}.${4 * ((n >> 8) % 64)}`;
  return { hostEnd: `upl${t || "0"}`, transit, comment: `stratus-${t || "0"}-uplink` };
}

const addr = (transit: string, last: number) => {
  const p = transit.split(".").map(Number);
  return `${p[0]}.${p[1]}.${p[2]}.${p[3] + last}`;
};

const statePath = (host: LinuxHost) => join(host.stateDir, "uplink.json");

/** The host's iptables rules of the uplink (table, chain, rule). */
function hostRules(s: UplinkState, comment: string): Array<[string, string, string[]]> {
  const c = ["-m", "comment", "--comment", comment];
  return [
    ["nat", "POSTROUTING", ["-s", `${s.transit}/30`, "-o", s.interface, ...c, "-j", "MASQUERADE"]],
    ["filter", "FORWARD", ["-i", s.hostEnd, "-o", s.interface, ...c, "-j", "ACCEPT"]],
    [
      "filter",
      "FORWARD",
      [
        "-i",
        s.interface,
        "-o",
        s.hostEnd,
        "-m",
        "conntrack",
        "--ctstate",
        "RELATED,ESTABLISHED",
        ...c,
        "-j",
        "ACCEPT",
      ],
    ],
  ];
}

/** Insert a rule first in its chain unless it is there. */
async function ensureRule(netns: string | undefined, table: string, chain: string, rule: string[]) {
  const has = await run(["iptables", "-w", "-t", table, "-C", chain, ...rule], { netns, okCodes: [0, 1, 2] });
  if (has.code !== 0) await run(["iptables", "-w", "-t", table, "-I", chain, "1", ...rule], { netns });
}

/** Delete every copy of a rule. */
async function deleteRule(netns: string | undefined, table: string, chain: string, rule: string[]) {
  for (let i = 0; i < 16; i++) {
    const r = await run(["iptables", "-w", "-t", table, "-D", chain, ...rule], { netns, okCodes: [0, 1, 2] });
    if (r.code !== 0) return;
  }
}

/** Ensure the uplink from `publicNetns` out through the host's `iface` (which must exist). */
export async function ensureUplink(
  host: LinuxHost,
  publicNetns: string,
  iface: string,
  tag: string,
): Promise<void> {
  const { hostEnd, transit, comment } = uplinkNames(tag);
  const dev = safeIfName(iface);
  if (!(await getLink(host.netns, dev))) throw new InvalidSpec(`uplink interface ${dev} does not exist`);
  const old = readState(host);
  if (old && old.interface !== dev) await removeUplink(host, tag);
  const key = `net/ipv4/conf/${dev}/forwarding`;
  const previous = old?.interface === dev ? old.forwarding : await readSysctl(host.netns, key);
  const state: UplinkState = { interface: dev, publicNetns, hostEnd, transit, forwarding: previous };
  writeFileSync(statePath(host), JSON.stringify(state));
  await ensureVeth(host.netns, { name: hostEnd, peerName: UPLINK_PEER, peerNetns: publicNetns, mtu: 1500 });
  await ensureAddresses(host.netns, hostEnd, [`${addr(transit, 1)}/30`]);
  await ensureAddresses(publicNetns, UPLINK_PEER, [`${addr(transit, 2)}/30`]);
  await sysctl(host.netns, { [`net/ipv4/conf/${hostEnd}/forwarding`]: "1", [key]: "1" });
  await sysctl(publicNetns, { "net.ipv4.ip_forward": "1" });
  await ensureRoute(publicNetns, { destination: "0.0.0.0/0", via: addr(transit, 1) });
  await ensureRule(publicNetns, "nat", "POSTROUTING", ["-o", UPLINK_PEER, "-j", "MASQUERADE"]);
  for (const [table, chain, rule] of hostRules(state, comment))
    await ensureRule(host.netns, table, chain, rule);
}

/** Remove the uplink this state directory records (nothing recorded: nothing to do). Returns whether there was one. */
export async function removeUplink(host: LinuxHost, tag: string): Promise<boolean> {
  const s = readState(host);
  if (!s) return false;
  const { comment } = uplinkNames(tag);
  for (const [table, chain, rule] of hostRules(s, comment)) await deleteRule(host.netns, table, chain, rule);
  if (await getLink(host.netns, s.interface))
    await sysctl(host.netns, { [`net/ipv4/conf/${s.interface}/forwarding`]: s.forwarding });
  // Deleting the host end removes the public end, its address and route.
  await deleteLink(host.netns, s.hostEnd);
  if (await namespaceExists(s.publicNetns)) await sysctl(s.publicNetns, { "net.ipv4.ip_forward": "0" });
  rmSync(statePath(host), { force: true });
  return true;
}

function readState(host: LinuxHost): UplinkState | null {
  if (!existsSync(statePath(host))) return null;
  const s = JSON.parse(readFileSync(statePath(host), "utf8")) as UplinkState;
  return {
    interface: safeIfName(s.interface),
    publicNetns: safeNetns(s.publicNetns),
    hostEnd: safeIfName(s.hostEnd),
    transit: /^169\.254\.\d{1,3}\.\d{1,3}$/.test(s.transit) ? s.transit : "169.254.1.0",
    forwarding: /^[01]$/.test(s.forwarding) ? s.forwarding : "0",
  };
}

async function readSysctl(netns: string | undefined, key: string): Promise<string> {
  const { stdout } = await run(["sysctl", "-n", key], { netns });
  return stdout.trim();
}
