// The metadata documents of one instance, in Nova's shapes and per version: the OpenStack tree
// (meta_data.json, user_data, password, vendor_data.json, network_data.json, vendor_data2.json) and the EC2
// tree (meta-data/..., user-data). Paths are resolved as nova/api/metadata/base.py's lookup does.
import { randomBytes } from "node:crypto";
import { ec2IpInfo, networkData } from "./network-data.js";
import type { InstanceMetadataSource, MetadataOptions } from "./types.js";
import {
  EC2_VERSIONS,
  OS,
  ec2AtLeast,
  ec2Version,
  listedOpenstackVersions,
  openstackVersion,
  osAtLeast,
} from "./versions.js";

/** A node of the EC2 tree: a value, a list (printed one per line) or a directory. */
export type Ec2Node = string | number | null | Buffer | string[] | Ec2Dir;
/** A directory of the EC2 tree; `_name` replaces the entry's listing line (public-keys' "0=keyname"). */
export interface Ec2Dir {
  [key: string]: Ec2Node | undefined;
}

/** The hostname the guest is told: hostname plus the DHCP domain. */
export const guestHostname = (src: InstanceMetadataSource, o: MetadataOptions): string =>
  o.dhcpDomain ? `${src.hostname}.${o.dhcpDomain}` : src.hostname;

/** Nova's EC2 id of an integer id: `<prefix>-` and 8 hex digits. */
export const ec2Id = (prefix: string, n: number): string => `${prefix}-${n.toString(16).padStart(8, "0")}`;

/** A stable EC2-style id for a Glance image id (Nova keeps a mapping table; the uuid's first 32 bits serve here). */
export function imageEc2Id(prefix: "ami" | "aki" | "ari", glanceId: string): string {
  const hex = glanceId.replace(/-/g, "").slice(0, 8);
  return /^[0-9a-f]{8}$/i.test(hex) ? `${prefix}-${hex.toLowerCase()}` : ec2Id(prefix, 0);
}

/** The EC2 block-device-mapping of a libvirt-style guest (root vda, then ephemeral, then swap). */
export function blockDeviceMapping(src: InstanceMetadataSource): Record<string, string> {
  const m: Record<string, string> = { ami: "vda", root: "/dev/vda" };
  let next = "b".charCodeAt(0);
  if (src.flavor.ephemeralGb > 0) m.ephemeral0 = `/dev/vd${String.fromCharCode(next++)}`;
  if (src.flavor.swapMb > 0) m.swap = `/dev/vd${String.fromCharCode(next++)}`;
  return m;
}

/** meta_data.json of an OpenStack version (resolved, not "latest"). */
export function metaDataJson(
  src: InstanceMetadataSource,
  version: string,
  o: MetadataOptions,
): Record<string, unknown> {
  const md: Record<string, unknown> = { uuid: src.uuid };
  if (Object.keys(src.meta).length) md.meta = { ...src.meta };
  if (o.adminPass !== undefined) md.admin_pass = o.adminPass;
  if (src.keyPair) {
    md.public_keys = { [src.keyPair.name]: src.keyPair.publicKey };
    md.keys = [{ name: src.keyPair.name, type: src.keyPair.type, data: src.keyPair.publicKey }];
  }
  md.hostname = guestHostname(src, o);
  md.name = src.name;
  md.launch_index = src.launchIndex;
  md.availability_zone = src.availabilityZone;
  if (osAtLeast(version, OS.GRIZZLY))
    md.random_seed = (o.randomSeed ?? (() => randomBytes(512)))().toString("base64");
  if (osAtLeast(version, OS.LIBERTY)) md.project_id = src.projectId;
  if (osAtLeast(version, OS.NEWTON_ONE)) md.devices = devices(src, version);
  if (osAtLeast(version, OS.VICTORIA))
    md.dedicated_cpus = [...(src.dedicatedCpus ?? [])].sort((a, b) => a - b);
  return md;
}

function devices(src: InstanceMetadataSource, version: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const d of src.devices ?? []) {
    const e: Record<string, unknown> = {};
    if (d.type === "nic") {
      if (osAtLeast(version, OS.OCATA) && d.vlan !== undefined) e.vlan = d.vlan;
      if (osAtLeast(version, OS.ROCKY)) e.vf_trusted = d.vfTrusted ?? false;
      e.type = "nic";
      e.mac = d.mac;
      if (!d.tags && !("vlan" in e) && !("vf_trusted" in e)) continue;
    } else {
      e.type = "disk";
      if (d.serial !== undefined) e.serial = d.serial;
      if (d.path !== undefined) e.path = d.path;
    }
    e.bus = d.bus;
    e.address = d.address;
    if (d.tags) e.tags = d.tags;
    out.push(e);
  }
  return out;
}

/** The files an OpenStack version directory lists (GET /openstack/<version>). */
export function openstackListing(src: InstanceMetadataSource, version: string): string[] {
  const out = ["meta_data.json"];
  if (src.userData !== null) out.push("user_data");
  if (osAtLeast(version, OS.GRIZZLY)) out.push("password");
  if (osAtLeast(version, OS.HAVANA)) out.push("vendor_data.json");
  if (osAtLeast(version, OS.LIBERTY)) out.push("network_data.json");
  if (osAtLeast(version, OS.NEWTON_TWO)) out.push("vendor_data2.json");
  return out;
}

/** vendor_data2.json: each provider's data under its name (the static one under "static"). */
export const vendorData2 = (o: MetadataOptions): Record<string, unknown> => ({ static: o.vendorData });

/** The decoded user data, or null. */
export const userDataBytes = (src: InstanceMetadataSource): Buffer | null =>
  src.userData === null ? null : Buffer.from(src.userData, "base64");

/** The EC2 tree of an EC2 version (resolved): {"meta-data": {...}, "user-data"?}. */
export function ec2Tree(src: InstanceMetadataSource, version: string, o: MetadataOptions): Ec2Dir {
  const hostname = guestHostname(src, o);
  const ips = ec2IpInfo(src.networkInfo);
  const md: Ec2Dir = {
    "ami-id": imageEc2Id("ami", src.imageId),
    "ami-launch-index": src.launchIndex,
    "ami-manifest-path": "FIXME",
    "instance-id": ec2Id("i", src.internalId),
    hostname,
    "local-ipv4": ips.fixed[0] ?? o.address ?? null,
    "reservation-id": src.reservationId,
    "security-groups": [...src.securityGroups],
  };
  if (src.keyPair)
    md["public-keys"] = { "0": { _name: `0=${src.keyPair.name}`, "openssh-key": src.keyPair.publicKey } };
  if (ec2AtLeast(version, "2007-01-19")) {
    md["local-hostname"] = hostname;
    md["public-hostname"] = hostname;
    md["public-ipv4"] = ips.floating[0] ?? "";
  }
  if (ec2AtLeast(version, "2007-08-29")) md["instance-type"] = src.flavorName;
  if (ec2AtLeast(version, "2007-12-15")) {
    md["block-device-mapping"] = blockDeviceMapping(src);
    if (src.kernelId) md["kernel-id"] = imageEc2Id("aki", src.kernelId);
    if (src.ramdiskId) md["ramdisk-id"] = imageEc2Id("ari", src.ramdiskId);
  }
  if (ec2AtLeast(version, "2008-02-01")) md.placement = { "availability-zone": src.availabilityZone };
  if (ec2AtLeast(version, "2008-09-01")) md["instance-action"] = "none";
  const out: Ec2Dir = { "meta-data": md };
  const ud = userDataBytes(src);
  if (ud) out["user-data"] = ud;
  return out;
}

const isDir = (n: Ec2Node | undefined): n is Ec2Dir =>
  typeof n === "object" && n !== null && !Array.isArray(n) && !Buffer.isBuffer(n);

/** Nova's ec2_md_print: a directory lists its keys (sub-directories with "/"), a list one item per line. */
export function ec2Print(n: Ec2Node): string | Buffer {
  if (isDir(n)) {
    const lines: string[] = [];
    for (const k of Object.keys(n).sort()) {
      if (k === "_name") continue;
      const v = n[k];
      if (isDir(v)) lines.push(typeof v._name === "string" ? v._name : `${k}/`);
      else lines.push(k);
    }
    return lines.join("\n");
  }
  if (Array.isArray(n)) return n.join("\n");
  if (Buffer.isBuffer(n)) return n;
  return n === null ? "None" : String(n);
}

/** The node at `tokens` below `tree`, or undefined. */
export function findInTree(tree: Ec2Node, tokens: string[]): Ec2Node | undefined {
  let n: Ec2Node | undefined = tree;
  for (const t of tokens) {
    if (isDir(n)) n = Object.hasOwn(n, t) ? n[t] : undefined;
    else if (Array.isArray(n) && /^\d+$/.test(t)) n = n[Number(t)];
    else return undefined;
    if (n === undefined) return undefined;
  }
  return n;
}

/** What a metadata path resolves to. */
export type Lookup =
  | { kind: "data"; body: string | Buffer; contentType: "text/plain" | "application/json" }
  | { kind: "password"; version: string }
  | { kind: "not-found" };

const text = (body: string | Buffer): Lookup => ({ kind: "data", body, contentType: "text/plain" });
const json = (v: unknown, type: "text/plain" | "application/json" = "application/json"): Lookup => ({
  kind: "data",
  body: JSON.stringify(v),
  contentType: type,
});
const NOT_FOUND: Lookup = { kind: "not-found" };

/** Normalise a request path as posixpath.normpath does, into its tokens ("/" → []). */
export function pathTokens(path: string): string[] {
  const out: string[] = [];
  for (const t of path.split("/")) {
    if (t === "" || t === ".") continue;
    if (t === "..") out.pop();
    else out.push(t);
  }
  return out;
}

/** Resolve a metadata service path (EC2 when it does not start with /openstack or /ec2). */
export function lookup(src: InstanceMetadataSource, path: string, o: MetadataOptions): Lookup {
  let tokens = pathTokens(path);
  if (tokens[0] !== "ec2" && tokens[0] !== "openstack") tokens = ["ec2", ...tokens];
  const [tree, version, ...rest] = tokens;
  if (version === undefined)
    return text((tree === "openstack" ? listedOpenstackVersions() : [...EC2_VERSIONS, "latest"]).join("\n"));
  if (tree === "ec2") {
    const v = ec2Version(version);
    if (!v) return NOT_FOUND;
    const n = findInTree(ec2Tree(src, v, o), rest);
    return n === undefined ? NOT_FOUND : text(ec2Print(n));
  }
  const v = openstackVersion(version);
  if (!v) return NOT_FOUND;
  const file = rest.join("/");
  switch (file) {
    case "":
      return text(openstackListing(src, v).join("\n"));
    case "meta_data.json":
      return json(metaDataJson(src, v, o));
    case "user_data": {
      const ud = userDataBytes(src);
      return ud ? text(ud) : NOT_FOUND;
    }
    case "password":
      return osAtLeast(v, OS.GRIZZLY) ? { kind: "password", version: v } : NOT_FOUND;
    case "vendor_data.json":
      return osAtLeast(v, OS.HAVANA) ? json(o.vendorData) : NOT_FOUND;
    case "network_data.json":
      // Nova serves it at every version (listed from 2015-10-15 on) and leaves it text/plain.
      return json(networkData(src.networkInfo), "text/plain");
    case "vendor_data2.json":
      return osAtLeast(v, OS.NEWTON_TWO) ? json(vendorData2(o)) : NOT_FOUND;
    default:
      return NOT_FOUND;
  }
}
