// The block device mappings an image carries (Nova's `block_device_mapping` image property with `bdm_v2`): written
// when a volume-backed server is snapshotted (one snapshot-source mapping per volume), read when a server boots
// from such an image (the mappings join the request's, which win on a shared device name).
import { badRequest } from "../../errors.js";
import type { Bdm } from "../../volumes/bdm-store.js";
import { isUuidLike } from "../admin/util.js";
import type { RequestedBdm } from "./create-input.js";

/** At most this many mappings are read from an image. */
const MAX_IMAGE_MAPPINGS = 32;

/** A mapping as Nova stores it in an image (its BDM fields without ids, connection info and times). */
export interface ImageMapping {
  source_type: "snapshot";
  destination_type: "volume";
  snapshot_id: string;
  volume_id: null;
  image_id: null;
  attachment_id: null;
  boot_index: number | null;
  device_name: string | null;
  delete_on_termination: boolean;
  volume_size: number | null;
  disk_bus: "virtio";
  device_type: "disk";
  guest_format: null;
  no_device: null;
  tag: string | null;
  volume_type: null;
}

/** The image mapping of a server's volume snapshotted as `snapshotId` (Nova's snapshot_from_bdm). */
export function snapshotMapping(b: Bdm, snapshotId: string, size: number): ImageMapping {
  return {
    source_type: "snapshot",
    destination_type: "volume",
    snapshot_id: snapshotId,
    volume_id: null,
    image_id: null,
    attachment_id: null,
    boot_index: b.bootIndex,
    device_name: b.deviceName,
    delete_on_termination: b.deleteOnTermination,
    volume_size: b.volumeSize ?? size,
    disk_bus: "virtio",
    device_type: "disk",
    guest_format: null,
    no_device: null,
    tag: b.tag,
    volume_type: null,
  };
}

const IMAGE_SOURCES = {
  snapshot: "snapshot_id",
  volume: "volume_id",
  image: "image_id",
  blank: null,
} as const;

/** Nova's InvalidBDM for an image's mappings. */
const invalidMappings = (why: string) => badRequest(`Block Device Mapping is Invalid: ${why}`);

/** The volume mappings of an image's properties (none unless `bdm_v2` is true). */
export function imageMappings(props: Record<string, string>): RequestedBdm[] {
  if (!/^(true|1|yes|on)$/i.test(props.bdm_v2 ?? "") || props.block_device_mapping === undefined) return [];
  let list: unknown;
  try {
    list = JSON.parse(props.block_device_mapping);
  } catch {
    throw invalidMappings("the image's block_device_mapping is not JSON.");
  }
  if (!Array.isArray(list)) throw invalidMappings("the image's block_device_mapping is not a list.");
  const out: RequestedBdm[] = [];
  for (const m of list.slice(0, MAX_IMAGE_MAPPINGS) as unknown[]) {
    if (!m || typeof m !== "object" || Array.isArray(m)) continue;
    const o = m as Record<string, unknown>;
    const src = o.source_type;
    if (o.destination_type !== "volume" || typeof src !== "string" || !Object.hasOwn(IMAGE_SOURCES, src))
      continue;
    const key = IMAGE_SOURCES[src as keyof typeof IMAGE_SOURCES];
    const uuid = key ? o[key] : undefined;
    if (key && (typeof uuid !== "string" || !isUuidLike(uuid)))
      throw invalidMappings(`the image's mapping has no valid ${key}.`);
    const boot = o.boot_index;
    const size = o.volume_size;
    out.push({
      sourceType: src as RequestedBdm["sourceType"],
      ...(typeof uuid === "string" ? { uuid } : {}),
      bootIndex: typeof boot === "number" && Number.isInteger(boot) && boot >= 0 ? boot : null,
      ...(typeof size === "number" && Number.isInteger(size) && size > 0 ? { volumeSize: size } : {}),
      deleteOnTermination: o.delete_on_termination === true,
      ...(typeof o.device_name === "string" && o.device_name.length <= 255
        ? { deviceName: o.device_name }
        : {}),
      ...(typeof o.tag === "string" && o.tag.length <= 60 ? { tag: o.tag } : {}),
    });
  }
  return out;
}

/** The image's mappings merged with the request's: a request mapping replaces the image's on the same device. */
export function mergeMappings(fromImage: RequestedBdm[], requested: RequestedBdm[]): RequestedBdm[] {
  const devices = new Set(requested.map((b) => b.deviceName).filter((d) => d !== undefined));
  return [...fromImage.filter((b) => b.deviceName === undefined || !devices.has(b.deviceName)), ...requested];
}
