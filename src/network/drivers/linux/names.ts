// Names of the kernel objects the data plane makes, derived from resource ids as Neutron derives them, so an agent
// finds its own objects again after a restart. Interface names fit IFNAMSIZ (15 characters); ids are checked to be
// plain identifiers first, so no derived name can carry anything unexpected into a command's argv.
import { InvalidSpec } from "./errors.js";

/** Longest interface name the kernel accepts (IFNAMSIZ - 1). */
export const IFNAME_MAX = 15;

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** The id unchanged when it is a plain identifier (letters, digits, `-`, `_`; what UUIDs are), else InvalidSpec. */
export function safeId(id: string, what = "id"): string {
  if (!ID_RE.test(id)) throw new InvalidSpec(`${what} ${JSON.stringify(id)} is not a plain identifier`);
  return id;
}

/** The name unchanged when the kernel accepts it as an interface name, else InvalidSpec. */
export function safeIfName(name: string): string {
  if (!IFNAME_RE.test(name) || name === "." || name === "..") {
    throw new InvalidSpec(`${JSON.stringify(name)} is not a valid interface name`);
  }
  return name;
}

const NETNS_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$/;

/** The name unchanged when it is a plain namespace name (it is an argv element of `ip -n`/`ip netns exec`). */
export function safeNetns(name: string): string {
  if (!NETNS_RE.test(name)) throw new InvalidSpec(`${JSON.stringify(name)} is not a namespace name`);
  return name;
}

/** The MTU unchanged when it is one a Linux interface can have (68..65535). */
export function safeMtu(mtu: number): number {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new InvalidSpec(`MTU ${mtu} is out of range`);
  return mtu;
}

const short = (id: string, what: string) => safeId(id, what).slice(0, 11);

/** The Linux bridge of a network: `brq` + the first 11 characters of its id. */
export const bridgeName = (networkId: string): string => `brq${short(networkId, "network id")}`;

/** The host-side device of a port (a QEMU tap, or the bridge end of a veth): `tap` + 11 characters. */
export const tapName = (portId: string): string => `tap${short(portId, "port id")}`;

/** The namespace end of a DHCP port's veth: `ns-` + 11 characters. */
export const dhcpPortName = (portId: string): string => `ns-${short(portId, "port id")}`;

/** A router's interface on a tenant network, inside the router namespace: `qr-` + 11 characters. */
export const routerPortName = (portId: string): string => `qr-${short(portId, "port id")}`;

/** A router's gateway port on the external network, inside the router namespace: `qg-` + 11 characters. */
export const gatewayPortName = (portId: string): string => `qg-${short(portId, "port id")}`;

/** The VXLAN device of a segment: `vxlan-<vni>`. */
export function vxlanName(vni: number): string {
  if (!Number.isInteger(vni) || vni < 1 || vni > 0xffffff)
    throw new InvalidSpec(`VXLAN id ${vni} out of range`);
  return `vxlan-${vni}`;
}

/** The VLAN sub-interface of a physical interface: `<phys>.<vid>`, the physical name shortened to fit. */
export function vlanName(physical: string, vid: number): string {
  if (!Number.isInteger(vid) || vid < 1 || vid > 4094) throw new InvalidSpec(`VLAN id ${vid} out of range`);
  const suffix = `.${vid}`;
  return `${safeIfName(physical).slice(0, IFNAME_MAX - suffix.length)}${suffix}`;
}

/** The DHCP namespace of a network: `qdhcp-<network id>` (after the host's namespace prefix). */
export const dhcpNamespace = (nsPrefix: string, networkId: string): string =>
  `${nsPrefix}qdhcp-${safeId(networkId, "network id")}`;

/** The namespace of a router: `qrouter-<router id>` (after the host's namespace prefix). */
export const routerNamespace = (nsPrefix: string, routerId: string): string =>
  `${nsPrefix}qrouter-${safeId(routerId, "router id")}`;
