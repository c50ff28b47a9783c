// Names of the firewall's own objects. Everything the firewall creates starts with one of these prefixes, and it
// never touches an object without one: the host's other chains, sets and tables stay as they are.
import { safeId } from "./names.js";

/** Prefix of every iptables chain the firewall owns. */
export const CHAIN_PREFIX = "stratus-";
/** Top chains jumped to from the built-in ones. */
export const TOP_CHAINS = {
  forward: "stratus-FORWARD",
  input: "stratus-INPUT",
  prerouting: "stratus-PREROUTING",
};
/** Dispatch chain of bridged traffic of our ports: jumps into the per-port chains, then accepts. */
export const SG_CHAIN = "stratus-sg";

const short = (portId: string) => safeId(portId, "port id").slice(0, 11);

/** Per-port chains: ingress (to the port), egress (from the port), source anti-spoofing. */
export const portChains = (portId: string) => ({
  ingress: `${CHAIN_PREFIX}i${short(portId)}`,
  egress: `${CHAIN_PREFIX}o${short(portId)}`,
  spoof: `${CHAIN_PREFIX}s${short(portId)}`,
});

/** Prefix pattern of every ipset the firewall owns (live sets `stv4-`/`stv6-`, swap temporaries `stt4-`/`stt6-`). */
export const SET_RE = /^st[vt][46]-/;

/** The ipset of a security group's member addresses of one IP version (ipset names: at most 31 characters). */
export const groupSet = (groupId: string, version: 4 | 6): string =>
  `stv${version}-${safeId(groupId, "group id").slice(0, 26)}`;

/** The temporary set a group's new members are loaded into before the atomic swap. */
export const groupTempSet = (groupId: string, version: 4 | 6): string =>
  `stt${version}-${safeId(groupId, "group id").slice(0, 26)}`;

/** The nft bridge-family table for MAC and ARP anti-spoofing. */
export const BRIDGE_TABLE = "stratus";
