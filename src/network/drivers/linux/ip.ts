// Typed wrappers over iproute2 links (`ip -json`, argv only): bridges, veth pairs, taps, MTU, master and up/down.
// Every "ensure" reads the link first and changes only what differs, so calling it again on a running system
// (an agent reconciling after a restart) touches nothing that is already right and never flaps a link.
import { run } from "./exec.js";
import { CommandFailed } from "./errors.js";
import { macText } from "./addr.js";
import { safeIfName, safeMtu, safeNetns } from "./names.js";

/** A link as `ip -json -details link show` reports it (the fields the data plane reads). */
export interface LinkInfo {
  ifindex: number;
  ifname: string;
  mtu: number;
  address?: string;
  flags: string[];
  operstate?: string;
  master?: string;
  link_index?: number;
  linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
}

/** `ip` argv prefix for a namespace (undefined: the current one). */
export const ipIn = (netns?: string): string[] => (netns ? ["ip", "-n", safeNetns(netns)] : ["ip"]);

const notFound = (e: unknown) =>
  e instanceof CommandFailed && /does not exist|Cannot find device|No such device/i.test(e.stderr);

/** Every link of a namespace. */
export async function listLinks(netns?: string): Promise<LinkInfo[]> {
  const { stdout } = await run([...ipIn(netns), "-json", "-details", "link", "show"]);
  return stdout.trim() ? (JSON.parse(stdout) as LinkInfo[]) : [];
}

/** One link, or null when it does not exist. */
export async function getLink(netns: string | undefined, name: string): Promise<LinkInfo | null> {
  try {
    const { stdout } = await run([
      ...ipIn(netns),
      "-json",
      "-details",
      "link",
      "show",
      "dev",
      safeIfName(name),
    ]);
    return (JSON.parse(stdout) as LinkInfo[])[0] ?? null;
  } catch (e) {
    if (notFound(e)) return null;
    throw e;
  }
}

/** What a link should look like; unset fields are left alone. */
export interface LinkState {
  mtu?: number;
  /** Bridge it is plugged into (null: none). */
  master?: string | null;
  mac?: string;
  up?: boolean;
}

/** Bring an existing link to `want`, changing only what differs. Returns whether anything changed. */
export async function setLink(netns: string | undefined, link: LinkInfo, want: LinkState): Promise<boolean> {
  const args: string[] = [];
  if (want.mac !== undefined && link.address?.toLowerCase() !== macText(want.mac))
    args.push("address", macText(want.mac));
  if (want.mtu !== undefined && link.mtu !== want.mtu) args.push("mtu", String(safeMtu(want.mtu)));
  if (want.master !== undefined && (link.master ?? null) !== want.master) {
    args.push(...(want.master === null ? ["nomaster"] : ["master", safeIfName(want.master)]));
  }
  if (want.up === true && !link.flags.includes("UP")) args.push("up");
  if (want.up === false && link.flags.includes("UP")) args.push("down");
  if (args.length === 0) return false;
  await run([...ipIn(netns), "link", "set", "dev", safeIfName(link.ifname), ...args]);
  return true;
}

/** Delete a link if it exists (deleting one end of a veth deletes both). Returns whether it existed. */
export async function deleteLink(netns: string | undefined, name: string): Promise<boolean> {
  try {
    await run([...ipIn(netns), "link", "del", "dev", safeIfName(name)]);
    return true;
  } catch (e) {
    if (notFound(e)) return false;
    throw e;
  }
}

const kindOf = (l: LinkInfo | null) => l?.linkinfo?.info_kind;

/** Ensure a Linux bridge (no STP, no forwarding delay) with this MTU, up. */
export async function ensureBridge(netns: string | undefined, name: string, mtu: number): Promise<void> {
  let link = await getLink(netns, name);
  if (link && kindOf(link) !== "bridge") {
    await deleteLink(netns, name);
    link = null;
  }
  if (!link) {
    const args = [
      "link",
      "add",
      safeIfName(name),
      "mtu",
      String(safeMtu(mtu)),
      "type",
      "bridge",
      "forward_delay",
      "0",
    ];
    await run([...ipIn(netns), ...args, "stp_state", "0"]);
    link = await getLink(netns, name);
    if (!link) throw new Error(`bridge ${name} vanished after creation`);
  }
  await setLink(netns, link, { mtu, up: true });
}

/** Options of a veth pair: the first end stays in `netns`, the peer goes into `peerNetns`. */
export interface VethSpec {
  name: string;
  peerName: string;
  peerNetns?: string;
  mtu: number;
  /** Bridge (in `netns`) the first end is plugged into. */
  master?: string;
  /** MAC of the peer end (the port's MAC). */
  peerMac?: string;
}

/** Ensure a veth pair per `spec`, both ends up; recreated when one end is missing or paired elsewhere. */
export async function ensureVeth(netns: string | undefined, spec: VethSpec): Promise<void> {
  let near = await getLink(netns, spec.name);
  let far = await getLink(spec.peerNetns, spec.peerName);
  const paired =
    near &&
    far &&
    kindOf(near) === "veth" &&
    kindOf(far) === "veth" &&
    near.link_index === far.ifindex &&
    far.link_index === near.ifindex;
  if (!paired) {
    if (near) await deleteLink(netns, spec.name);
    if (far) await deleteLink(spec.peerNetns, spec.peerName);
    const peer = [
      "peer",
      "name",
      safeIfName(spec.peerName),
      ...(spec.peerNetns ? ["netns", spec.peerNetns] : []),
    ];
    await run([
      ...ipIn(netns),
      "link",
      "add",
      safeIfName(spec.name),
      "mtu",
      String(safeMtu(spec.mtu)),
      "type",
      "veth",
      ...peer,
    ]);
    near = await getLink(netns, spec.name);
    far = await getLink(spec.peerNetns, spec.peerName);
    if (!near || !far) throw new Error(`veth ${spec.name} vanished after creation`);
  }
  await setLink(spec.peerNetns, far!, { mtu: spec.mtu, mac: spec.peerMac, up: true });
  await setLink(netns, near!, { mtu: spec.mtu, master: spec.master ?? null, up: true });
}

/** Options of a tap device for QEMU. */
export interface TapSpec {
  name: string;
  mtu: number;
  /** Bridge the tap is plugged into. */
  master: string;
  /** User id allowed to open it (QEMU's user); default root only. */
  owner?: number;
  /** Link up (default); down cuts the guest off, as for a port or network with admin_state_up false. */
  up?: boolean;
}

/** Ensure a persistent, single-queue tap (`ip tuntap add mode tap`) plugged into its bridge, up unless told. */
export async function ensureTap(netns: string | undefined, spec: TapSpec): Promise<void> {
  let link = await getLink(netns, spec.name);
  const data = link?.linkinfo?.info_data;
  if (link && (kindOf(link) !== "tun" || data?.type !== "tap")) {
    await deleteLink(netns, spec.name);
    link = null;
  }
  if (!link) {
    const owner = spec.owner !== undefined ? ["user", String(Math.trunc(spec.owner))] : [];
    await run([...ipIn(netns), "tuntap", "add", "dev", safeIfName(spec.name), "mode", "tap", ...owner]);
    link = await getLink(netns, spec.name);
    if (!link) throw new Error(`tap ${spec.name} vanished after creation`);
  }
  await setLink(netns, link, { mtu: spec.mtu, master: spec.master, up: spec.up ?? true });
}
