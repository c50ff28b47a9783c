// Unicast VXLAN (no multicast): a `vxlan-<vni>` device with learning off, plus one all-zeros forwarding entry per
// peer host (`bridge fdb append 00:00:00:00:00:00 dst PEER`), so broadcast and unknown unicast are replicated to
// every peer (head-end replication). Peers come from the database's host list, not from the wire.
import { ipVersion } from "./addr.js";
import { run } from "./exec.js";
import { deleteLink, getLink, ipIn, setLink } from "./ip.js";
import { safeIfName, safeMtu, safeNetns, vxlanName } from "./names.js";

/** The IANA VXLAN port. */
export const VXLAN_PORT = 4789;

/** One VXLAN segment on this host. */
export interface VxlanSpec {
  vni: number;
  /** This host's tunnel address. */
  local: string;
  /** Underlay device (optional: the route to the peers decides otherwise). */
  device?: string;
  /** Overlay MTU (underlay MTU minus 50 for IPv4). */
  mtu: number;
  /** Bridge of the network. */
  master: string;
}

/** Ensure the VXLAN device of a segment, plugged into its bridge and up; recreated if its id or local differ. */
export async function ensureVxlan(netns: string | undefined, spec: VxlanSpec): Promise<string> {
  const name = vxlanName(spec.vni);
  ipVersion(spec.local, "VXLAN local address");
  let link = await getLink(netns, name);
  const d = link?.linkinfo?.info_data;
  const same =
    link?.linkinfo?.info_kind === "vxlan" &&
    d?.id === spec.vni &&
    (d?.local ?? d?.local6) === spec.local &&
    d?.port === VXLAN_PORT &&
    d?.learning === false;
  if (link && !same) {
    await deleteLink(netns, name);
    link = null;
  }
  if (!link) {
    const dev = spec.device ? ["dev", safeIfName(spec.device)] : [];
    await run([
      ...ipIn(netns),
      "link",
      "add",
      name,
      "mtu",
      String(safeMtu(spec.mtu)),
      "type",
      "vxlan",
      "id",
      String(spec.vni),
      "dstport",
      String(VXLAN_PORT),
      "local",
      spec.local,
      ...dev,
      "nolearning",
    ]);
    link = await getLink(netns, name);
    if (!link) throw new Error(`vxlan ${name} vanished after creation`);
  }
  await setLink(netns, link, { mtu: spec.mtu, master: spec.master, up: true });
  return name;
}

const ZERO_MAC = "00:00:00:00:00:00";

/** The peers a VXLAN device floods to (its all-zeros fdb entries). */
export async function listFloodPeers(netns: string | undefined, dev: string): Promise<string[]> {
  const bridge = netns ? ["bridge", "-n", safeNetns(netns)] : ["bridge"];
  const { stdout } = await run([...bridge, "-json", "fdb", "show", "dev", safeIfName(dev)]);
  const entries = stdout.trim() ? (JSON.parse(stdout) as { mac: string; dst?: string }[]) : [];
  return entries.filter((e) => e.mac === ZERO_MAC && e.dst).map((e) => e.dst!);
}

/** Make a VXLAN device flood to exactly `peers`: append the missing entries, delete the stale ones. */
export async function ensureFloodPeers(
  netns: string | undefined,
  dev: string,
  peers: readonly string[],
): Promise<void> {
  const want = new Set(peers);
  for (const p of want) ipVersion(p, "VXLAN peer");
  const have = new Set(await listFloodPeers(netns, dev));
  const bridge = netns ? ["bridge", "-n", safeNetns(netns)] : ["bridge"];
  for (const p of have)
    if (!want.has(p)) await run([...bridge, "fdb", "del", ZERO_MAC, "dev", dev, "dst", p]);
  for (const p of want)
    if (!have.has(p)) await run([...bridge, "fdb", "append", ZERO_MAC, "dev", dev, "dst", p]);
}
