// Provider attributes and segment allocation, as ML2's type drivers (flat, vlan, vxlan, local): an admin's
// explicit provider:* values are checked and taken; a project network gets the first tenant network type with a
// free id. Ids are picked at random among the free ones (fewer collisions between racing processes), and a
// collision on the unique allocation key is retried with another.
import type { NetworkCore } from "./core.js";
import { conflict, invalidInput, nerr } from "./errors.js";
import { tryInsertSegment, usedSegmentationIds, type Segment } from "./store/segments.js";

/** The network types this service supports. */
export const NETWORK_TYPES = ["flat", "vlan", "vxlan", "local"] as const;
export type NetworkType = (typeof NETWORK_TYPES)[number];

/** What a create asked for (undefined: not given). */
export interface ProviderRequest {
  networkType?: string | null;
  physicalNetwork?: string | null;
  segmentationId?: number | null;
}

const MAX_VLAN = 4094;
const MAX_VNI = 16777215;
const TRIES = 20;

/** VXLAN's encapsulation overhead over IPv4 (Neutron's VXLAN_ENCAP_OVERHEAD + IPv4 header). */
const VXLAN_OVERHEAD = 50;

/** The largest MTU a network of this type may have. */
export function maxMtu(core: NetworkCore, type: string): number {
  const mtu = core.cfg.network.globalPhysnetMtu;
  return type === "vxlan" ? mtu - VXLAN_OVERHEAD : mtu;
}

/** Whether the request names any provider attribute. */
export const hasProvider = (r: ProviderRequest): boolean =>
  r.networkType != null || r.physicalNetwork != null || r.segmentationId != null;

function prohibited(attr: string, type: string): never {
  throw invalidInput(`${attr} prohibited for ${type} provider network`);
}

/** Check an explicit provider request (400 InvalidInput as ML2's type drivers answer). */
function validate(
  core: NetworkCore,
  r: ProviderRequest,
): { type: NetworkType; physnet: string | null; segid: number | null } {
  const cfg = core.cfg.network;
  const type = r.networkType;
  if (type == null) throw invalidInput("network_type required");
  if (!(NETWORK_TYPES as readonly string[]).includes(type))
    throw invalidInput(`network_type value '${type}' not supported`);
  const physnet = r.physicalNetwork ?? null;
  const segid = r.segmentationId ?? null;
  switch (type as NetworkType) {
    case "local":
      if (physnet !== null) prohibited("physical_network", "local");
      if (segid !== null) prohibited("segmentation_id", "local");
      break;
    case "flat":
      if (segid !== null) prohibited("segmentation_id", "flat");
      if (physnet === null) throw invalidInput("physical_network required for flat provider network");
      if (!cfg.flatNetworks.includes("*") && !cfg.flatNetworks.includes(physnet))
        throw invalidInput(`physical_network '${physnet}' unknown for flat provider network`);
      break;
    case "vlan":
      if (physnet !== null && !Object.hasOwn(cfg.vlanRanges, physnet))
        throw invalidInput(`physical_network '${physnet}' unknown for VLAN provider network`);
      if (segid !== null && physnet === null)
        throw invalidInput("segmentation_id requires physical_network for VLAN provider network");
      if (segid !== null && (segid < 1 || segid > MAX_VLAN))
        throw invalidInput(`segmentation_id out of range (1 through ${MAX_VLAN})`);
      break;
    case "vxlan":
      if (physnet !== null) prohibited("physical_network", "vxlan");
      if (segid !== null && (segid < 1 || segid > MAX_VNI))
        throw invalidInput(`segmentation_id out of range (1 through ${MAX_VNI})`);
      break;
  }
  return { type: type as NetworkType, physnet, segid };
}

/** A random free id of the ranges, or null when every one is used. */
function pickFree(core: NetworkCore, ranges: Array<[number, number]>, used: Set<number>): number | null {
  const size = ranges.reduce((n, [a, b]) => n + Math.max(0, b - a + 1), 0);
  if (size === 0) return null;
  const start = core.random(4).readUInt32BE(0) % size;
  for (let k = 0; k < size; k++) {
    let i = (start + k) % size;
    for (const [a, b] of ranges) {
      const n = b - a + 1;
      if (i < n) {
        if (!used.has(a + i)) return a + i;
        break;
      }
      i -= n;
    }
  }
  return null;
}

/** Take a free id of a type (and physical network) from its ranges; null when none is left. */
async function allocateFrom(
  core: NetworkCore,
  networkId: string,
  type: "vlan" | "vxlan",
  physnet: string | null,
  ranges: Array<[number, number]>,
): Promise<Segment | null> {
  for (let attempt = 0; attempt < TRIES; attempt++) {
    const used = await usedSegmentationIds(core, type, physnet);
    const segid = pickFree(core, ranges, used);
    if (segid === null) return null;
    const s = await tryInsertSegment(core, {
      network_id: networkId,
      network_type: type,
      physical_network: physnet,
      segmentation_id: segid,
    });
    if (s) return s;
  }
  return null;
}

/** A segment for a project network: the first tenant network type with a free id (503 when none has one). */
async function tenantSegment(core: NetworkCore, networkId: string): Promise<Segment> {
  const cfg = core.cfg.network;
  for (const type of cfg.tenantNetworkTypes) {
    if (type === "local") {
      const s = await tryInsertSegment(core, {
        network_id: networkId,
        network_type: "local",
        physical_network: null,
        segmentation_id: null,
      });
      if (s) return s;
    } else if (type === "vxlan") {
      const s = await allocateFrom(
        core,
        networkId,
        "vxlan",
        null,
        cfg.vxlanRanges as Array<[number, number]>,
      );
      if (s) return s;
    } else {
      for (const [physnet, ranges] of Object.entries(cfg.vlanRanges)) {
        const s = await allocateFrom(core, networkId, "vlan", physnet, ranges as Array<[number, number]>);
        if (s) return s;
      }
    }
  }
  throw nerr(
    503,
    "NoNetworkAvailable",
    "Unable to create the network. No tenant network is available for allocation.",
  );
}

/** Allocate the segment of a new network (inside its create transaction). */
export async function allocateSegment(
  core: NetworkCore,
  networkId: string,
  r: ProviderRequest,
): Promise<Segment> {
  if (!hasProvider(r)) return tenantSegment(core, networkId);
  const { type, physnet, segid } = validate(core, r);
  if (type === "vlan" && segid === null) {
    const nets = physnet === null ? Object.keys(core.cfg.network.vlanRanges) : [physnet];
    for (const p of nets) {
      const s = await allocateFrom(
        core,
        networkId,
        "vlan",
        p,
        core.cfg.network.vlanRanges[p] as Array<[number, number]>,
      );
      if (s) return s;
    }
    throw nerr(
      503,
      "NoNetworkAvailable",
      "Unable to create the network. No tenant network is available for allocation.",
    );
  }
  if (type === "vxlan" && segid === null) {
    const s = await allocateFrom(
      core,
      networkId,
      "vxlan",
      null,
      core.cfg.network.vxlanRanges as Array<[number, number]>,
    );
    if (s) return s;
    throw nerr(
      503,
      "NoNetworkAvailable",
      "Unable to create the network. No tenant network is available for allocation.",
    );
  }
  const s = await tryInsertSegment(core, {
    network_id: networkId,
    network_type: type,
    physical_network: physnet,
    segmentation_id: segid,
  });
  if (s) return s;
  if (type === "flat")
    throw conflict(
      "FlatNetworkInUse",
      `Unable to create the flat network. Physical network ${physnet} is in use.`,
    );
  if (type === "vlan")
    throw conflict(
      "VlanIdInUse",
      `Unable to create the network. The VLAN ${segid} on physical network ${physnet} is in use.`,
    );
  throw conflict("TunnelIdInUse", `Unable to create the network. The tunnel ID ${segid} is in use.`);
}
