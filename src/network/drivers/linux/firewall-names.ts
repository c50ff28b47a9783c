// Names of the firewall's own objects. Everything the firewall creates starts with one of these prefixes, and it
// never touches an object without one: the host's other chains, sets and tables stay as they are. A tag (a few
// letters or digits: the cloud's, see identity.ts) goes into every name, so several clouds can share one host
// namespace without touching each other's objects; the untagged names are for namespaces a single user owns (the
// lab tests' hosts), and their patterns would also match tagged objects.
import { InvalidSpec } from "./errors.js";
import { safeId } from "./names.js";

/** Prefix of every iptables chain the firewall owns (untagged). */
export const CHAIN_PREFIX = "stratus-";

/** The tag unchanged when it is plain and short enough for the names below. */
export function safeTag(tag: string): string {
  if (!/^[a-z0-9]{0,6}$/.test(tag)) throw new InvalidSpec(`firewall tag ${JSON.stringify(tag)} is not plain`);
  return tag;
}

/** Prefix of the chains of a tag (`stratus-` or `stratus-<tag>-`). */
export const chainPrefix = (tag = ""): string => (safeTag(tag) ? `${CHAIN_PREFIX}${tag}-` : CHAIN_PREFIX);

/** Top chains jumped to from the built-in ones. */
export const topChains = (tag = "") => ({
  forward: `${chainPrefix(tag)}FORWARD`,
  input: `${chainPrefix(tag)}INPUT`,
  prerouting: `${chainPrefix(tag)}PREROUTING`,
});
/** Top chains of the untagged firewall. */
export const TOP_CHAINS = topChains();

/** Dispatch chain of bridged traffic of our ports: jumps into the per-port chains, then accepts. */
export const sgChain = (tag = ""): string => `${chainPrefix(tag)}sg`;
/** The untagged dispatch chain. */
export const SG_CHAIN = sgChain();

const short = (portId: string) => safeId(portId, "port id").slice(0, 11);

/** Per-port chains: ingress (to the port), egress (from the port), source anti-spoofing. */
export const portChains = (portId: string, tag = "") => ({
  ingress: `${chainPrefix(tag)}i${short(portId)}`,
  egress: `${chainPrefix(tag)}o${short(portId)}`,
  spoof: `${chainPrefix(tag)}s${short(portId)}`,
});

/** Prefix pattern of every ipset of a tag (live sets `stv4-`/`stv6-`, swap temporaries `stt4-`/`stt6-`). */
export const setRe = (tag = ""): RegExp => new RegExp(`^st[vt][46]-${safeTag(tag)}`);
/** The untagged set pattern. */
export const SET_RE = setRe();

/** The ipset of a security group's member addresses of one IP version (ipset names: at most 31 characters). */
export const groupSet = (groupId: string, version: 4 | 6, tag = ""): string =>
  `stv${version}-${safeTag(tag)}${safeId(groupId, "group id").slice(0, 26 - tag.length)}`;

/** The temporary set a group's new members are loaded into before the atomic swap. */
export const groupTempSet = (groupId: string, version: 4 | 6, tag = ""): string =>
  groupSet(groupId, version, tag).replace(/^stv/, "stt");

/** The nft bridge-family table for MAC and ARP anti-spoofing (`stratus`, or `stratus<tag>`). */
export const bridgeTable = (tag = ""): string => `stratus${safeTag(tag)}`;
/** The untagged bridge table. */
export const BRIDGE_TABLE = bridgeTable();
