// Validation of a server create body (Nova's schemas/servers.py, closed to unknown fields), per microversion.
import { badRequest } from "../../errors.js";
import { invalid, type Ctx } from "../common.js";
import { accessIPv4, accessIPv6 } from "./ip.js";

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A validated create request. */
export interface CreateInput {
  name: string;
  /** The image of an image-backed server; "" when the root disk is a volume. */
  imageRef: string;
  /** Volume mappings (boot from volume, extra volumes); empty for a plain image-backed server. */
  volumes: RequestedBdm[];
  flavorRef: string;
  networks: "auto" | "none" | Array<Record<string, string>>;
  keyName?: string;
  securityGroups: string[];
  userData?: string;
  configDrive: boolean;
  metadata: Record<string, string>;
  availabilityZone?: string;
  minCount: number;
  maxCount: number;
  returnReservationId: boolean;
  accessIPv4?: string;
  accessIPv6?: string;
  adminPass?: string;
  description?: string | null;
  tags: string[];
  host?: string;
  hypervisorHostname?: string;
  hostname?: string;
  diskConfig?: string;
  hints: Record<string, unknown>;
  /** Injected files (personality, before 2.57): Stratus checks them and counts them against the quota. */
  personality: Array<{ path: string; contents: string }>;
}

const str = (field: string, v: unknown, min = 0, max = 255): string => {
  if (typeof v !== "string") throw invalid(field, v, `${JSON.stringify(v)} is not of type 'string'`);
  if (v.length < min) throw invalid(field, v, `${JSON.stringify(v)} is too short`);
  if (v.length > max) throw invalid(field, v, `${JSON.stringify(v)} is too long`);
  return v;
};

const count = (field: string, v: unknown): number => {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
    throw invalid(field, v, `${JSON.stringify(v)} is not a valid integer of at least 1`);
  return n;
};

const bool = (field: string, v: unknown): boolean => {
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && /^(true|false|1|0|yes|no|on|off|t|f|y|n)$/i.test(v))
    return /^(true|1|yes|on|t|y)$/i.test(v);
  throw invalid(field, v, `${JSON.stringify(v)} is not of type 'boolean'`);
};

/** Strip a URL down to its last path segment (imageRef/flavorRef may be links). */
export const refId = (ref: string): string => ref.replace(/\/+$/, "").split("/").pop() ?? ref;

function allowedKeys(ctx: Ctx): Set<string> {
  const mv = ctx.microversion;
  const keys = [
    "name",
    "imageRef",
    "flavorRef",
    "networks",
    "key_name",
    "security_groups",
    "user_data",
    "config_drive",
    "metadata",
    "availability_zone",
    "min_count",
    "max_count",
    "return_reservation_id",
    "block_device_mapping_v2",
    "block_device_mapping",
    "accessIPv4",
    "accessIPv6",
    "adminPass",
    "OS-DCF:diskConfig",
  ];
  if (mv.lt("2.57")) keys.push("personality");
  if (mv.gte("2.19")) keys.push("description");
  if (mv.gte("2.52")) keys.push("tags");
  if (mv.gte("2.63")) keys.push("trusted_image_certificates");
  if (mv.gte("2.74")) keys.push("host", "hypervisor_hostname");
  if (mv.gte("2.90")) keys.push("hostname");
  return new Set(keys);
}

function parseNetworks(ctx: Ctx, v: unknown): CreateInput["networks"] {
  if (v === undefined) {
    if (ctx.microversion.gte("2.37"))
      throw invalid("networks", v, "'networks' is a required property from microversion 2.37");
    return "auto";
  }
  if (v === "auto" || v === "none") {
    if (ctx.microversion.lt("2.37"))
      throw invalid("networks", v, `${JSON.stringify(v)} is not of type 'array'`);
    return v;
  }
  if (!Array.isArray(v))
    throw invalid("networks", v, `${JSON.stringify(v)} is not valid under any of the given schemas`);
  return v.map((n) => {
    if (!n || typeof n !== "object" || Array.isArray(n))
      throw invalid("networks", v, "each network must be an object");
    for (const k of Object.keys(n))
      if (!["uuid", "port", "fixed_ip", "tag"].includes(k))
        throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
    return n as Record<string, string>;
  });
}

/** One volume mapping of a create request (block_device_mapping_v2 with destination volume). */
export interface RequestedBdm {
  sourceType: "image" | "volume" | "blank" | "snapshot";
  /** The image (source image), the volume (source volume) or the volume snapshot (source snapshot). */
  uuid?: string;
  bootIndex: number | null;
  volumeSize?: number;
  deleteOnTermination: boolean;
  deviceName?: string;
  tag?: string;
}

const BDM_KEYS = [
  "source_type",
  "destination_type",
  "uuid",
  "boot_index",
  "volume_size",
  "delete_on_termination",
  "device_name",
  "device_type",
  "disk_bus",
  "guest_format",
  "no_device",
  "volume_id",
  "snapshot_id",
  "image_id",
  "tag",
  "volume_type",
];

/** An integer of a mapping, given as a number or a numeric string (as the CLI sends boot_index "0"). */
function bdmInt(field: string, v: unknown, min: number): number {
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min)
    throw invalid(`block_device_mapping_v2.${field}`, v, `${JSON.stringify(v)} is not a valid integer`);
  return n;
}

/**
 * block_device_mapping_v2: the image of an image-backed local root disk, and the volume mappings (an image, a
 * volume snapshot or a blank made into a volume, or an existing volume). Local swap/ephemeral mappings are skipped.
 */
function parseBdms(ctx: Ctx, v: unknown): { image?: string; volumes: RequestedBdm[] } {
  const out: { image?: string; volumes: RequestedBdm[] } = { volumes: [] };
  if (v === undefined) return out;
  if (!Array.isArray(v)) throw invalid("block_device_mapping_v2", v, "is not of type 'array'");
  const mv = ctx.microversion;
  const tagOk = (mv.gte("2.32") && !mv.gte("2.33")) || mv.gte("2.42");
  for (const b of v as Array<Record<string, unknown>>) {
    if (!b || typeof b !== "object" || Array.isArray(b))
      throw invalid("block_device_mapping_v2", v, "each mapping must be an object");
    for (const k of Object.keys(b))
      if (!BDM_KEYS.includes(k) || (k === "tag" && !tagOk) || (k === "volume_type" && !mv.gte("2.67")))
        throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
    const src = b.source_type ?? "blank";
    const dst = b.destination_type ?? "volume";
    if (!["image", "volume", "blank", "snapshot"].includes(String(src)))
      throw invalid(
        "block_device_mapping_v2.source_type",
        src,
        "is not one of ['volume', 'image', 'snapshot', 'blank']",
      );
    if (!["local", "volume"].includes(String(dst)))
      throw invalid("block_device_mapping_v2.destination_type", dst, "is not one of ['local', 'volume']");
    const boot =
      b.boot_index === undefined || b.boot_index === null ? null : bdmInt("boot_index", b.boot_index, -1);
    const uuid = b.uuid;
    if (src !== "blank" && (typeof uuid !== "string" || !UUID.test(uuid)))
      throw invalid("block_device_mapping_v2.uuid", uuid, "is not a valid uuid");
    if (src === "snapshot" && dst !== "volume")
      throw badRequest("Block device mappings from volume snapshots need destination_type 'volume'.");
    if (dst === "local") {
      if (src === "image" && boot === 0) {
        out.image = uuid as string;
        continue;
      }
      // Local swap/ephemeral mappings: the flavor's swap and ephemeral disks are what the host makes (as before).
      continue;
    }
    const size =
      b.volume_size === undefined || b.volume_size === null
        ? undefined
        : bdmInt("volume_size", b.volume_size, 1);
    if ((src === "image" || src === "blank") && size === undefined)
      throw badRequest(`Images with destination_type 'volume' need to have a non-zero size specified`);
    const dot = b.delete_on_termination;
    const del =
      dot === undefined || dot === null
        ? false
        : typeof dot === "boolean"
          ? dot
          : bool("delete_on_termination", dot);
    if (b.tag !== undefined && (typeof b.tag !== "string" || b.tag.length > 60 || /[,/]/.test(b.tag)))
      throw invalid("block_device_mapping_v2.tag", b.tag, "is not a valid tag");
    if (b.device_name !== undefined && b.device_name !== null && typeof b.device_name !== "string")
      throw invalid("block_device_mapping_v2.device_name", b.device_name, "is not of type 'string'");
    out.volumes.push({
      sourceType: src as RequestedBdm["sourceType"],
      ...(typeof uuid === "string" ? { uuid } : {}),
      bootIndex: boot !== null && boot < 0 ? null : boot,
      ...(size !== undefined ? { volumeSize: size } : {}),
      deleteOnTermination: del,
      ...(typeof b.device_name === "string" ? { deviceName: b.device_name } : {}),
      ...(typeof b.tag === "string" ? { tag: b.tag } : {}),
    });
  }
  const roots = out.volumes.filter((x) => x.bootIndex === 0).length + (out.image ? 1 : 0);
  if (roots > 1)
    throw badRequest(
      "Boot sequence for the instance and image/block device mapping combination is not valid.",
    );
  return out;
}

/** Parse and validate `{"server": {...}}` plus scheduler hints. */
export function parseCreate(ctx: Ctx, body: Record<string, unknown>): CreateInput {
  for (const k of Object.keys(body))
    if (!["server", "os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"].includes(k))
      throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  const s = body.server;
  if (!s || typeof s !== "object" || Array.isArray(s))
    throw badRequest("Invalid input for field/attribute server. 'server' is a required property");
  const srv = s as Record<string, unknown>;
  const allowed = allowedKeys(ctx);
  for (const k of Object.keys(srv))
    if (!allowed.has(k)) throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  if (srv.name === undefined)
    throw badRequest("Invalid input for field/attribute name. 'name' is a required property");
  const name = str("name", srv.name, 1, 255);
  if (name.trim() !== name || name.trim() === "")
    throw invalid("name", name, "has leading or trailing whitespace");
  if (srv.flavorRef === undefined)
    throw badRequest("Invalid input for field/attribute flavorRef. 'flavorRef' is a required property");
  const flavorRef =
    typeof srv.flavorRef === "number" ? String(srv.flavorRef) : str("flavorRef", srv.flavorRef, 1);
  const parsedBdms = parseBdms(ctx, srv.block_device_mapping_v2);
  const fromBdm = parsedBdms.image;
  if (srv.block_device_mapping !== undefined)
    throw badRequest("Legacy block_device_mapping is not supported; use block_device_mapping_v2.");
  let imageRef = srv.imageRef === undefined || srv.imageRef === null ? "" : str("imageRef", srv.imageRef);
  // A volume root disk (boot_index 0): the server has no image of its own (Nova shows image "").
  const volumeRoot = parsedBdms.volumes.some((b) => b.bootIndex === 0);
  if (volumeRoot) imageRef = "";
  else {
    if (!imageRef && fromBdm) imageRef = fromBdm;
    if (!imageRef) throw badRequest("Missing imageRef attribute");
    imageRef = refId(imageRef);
    if (!UUID.test(imageRef)) throw badRequest("Invalid imageRef provided.");
  }
  const metadata = srv.metadata ?? {};
  if (!metadata || typeof metadata !== "object" || Array.isArray(metadata))
    throw invalid("metadata", metadata, "is not of type 'object'");
  for (const [k, v] of Object.entries(metadata)) {
    str("metadata", k, 1, 255);
    if (typeof v !== "string" || v.length > 255)
      throw invalid(`metadata.${k}`, v, "must be a string of at most 255 characters");
  }
  const sgs = srv.security_groups ?? [{ name: "default" }];
  if (!Array.isArray(sgs)) throw invalid("security_groups", sgs, "is not of type 'array'");
  const securityGroups = sgs.map((g) => {
    if (!g || typeof g !== "object" || typeof (g as { name?: unknown }).name !== "string")
      throw invalid("security_groups", sgs, 'each group must be {"name": ...}');
    // A name or an id, resolved against the network service by the API (networking/security-groups.ts).
    return str("security_groups.name", (g as { name: string }).name, 1, 255);
  });
  let userData: string | undefined;
  if (srv.user_data !== undefined && srv.user_data !== null) {
    userData = str("user_data", srv.user_data, 0, 65535);
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(userData))
      throw badRequest("User data needs to be valid base 64.");
  }
  const minCount = srv.min_count === undefined ? 1 : count("min_count", srv.min_count);
  const maxCount = srv.max_count === undefined ? minCount : count("max_count", srv.max_count);
  if (minCount > maxCount) throw badRequest("min_count must be <= max_count");
  const tags = srv.tags === undefined ? [] : (srv.tags as unknown);
  if (
    !Array.isArray(tags) ||
    tags.some((t) => typeof t !== "string" || t.length < 1 || t.length > 60 || /[/,]/.test(t))
  )
    throw invalid("tags", tags, "must be a list of tags (1-60 characters, no '/' or ',')");
  if (tags.length > 50) throw badRequest("The number of tags exceeded the per-server limit 50");
  const personality = parsePersonality(srv.personality);
  const hints = (body["os:scheduler_hints"] ?? body["OS-SCH-HNT:scheduler_hints"] ?? {}) as unknown;
  if (!hints || typeof hints !== "object" || Array.isArray(hints))
    throw invalid("os:scheduler_hints", hints, "is not of type 'object'");
  const opt = (k: string) => (srv[k] === undefined || srv[k] === null ? undefined : str(k, srv[k]));
  const description =
    srv.description === undefined
      ? undefined
      : srv.description === null
        ? null
        : str("description", srv.description, 0, 255);
  const diskConfig = opt("OS-DCF:diskConfig");
  if (diskConfig !== undefined && !["AUTO", "MANUAL"].includes(diskConfig))
    throw invalid("OS-DCF:diskConfig", diskConfig, "is not one of ['AUTO', 'MANUAL']");
  return {
    name,
    imageRef,
    volumes: parsedBdms.volumes,
    flavorRef: refId(flavorRef),
    networks: parseNetworks(ctx, srv.networks),
    keyName: opt("key_name"),
    securityGroups,
    userData,
    configDrive:
      srv.config_drive === undefined || srv.config_drive === ""
        ? false
        : bool("config_drive", srv.config_drive),
    metadata: metadata as Record<string, string>,
    availabilityZone: opt("availability_zone"),
    minCount,
    maxCount,
    returnReservationId:
      srv.return_reservation_id === undefined
        ? false
        : bool("return_reservation_id", srv.return_reservation_id),
    accessIPv4:
      srv.accessIPv4 === undefined || srv.accessIPv4 === null
        ? undefined
        : accessIPv4("accessIPv4", srv.accessIPv4),
    accessIPv6:
      srv.accessIPv6 === undefined || srv.accessIPv6 === null
        ? undefined
        : accessIPv6("accessIPv6", srv.accessIPv6),
    adminPass: opt("adminPass"),
    description,
    tags: tags as string[],
    host: opt("host"),
    hypervisorHostname: opt("hypervisor_hostname"),
    hostname: opt("hostname"),
    diskConfig,
    hints: hints as Record<string, unknown>,
    personality,
  };
}

/** personality: [{path, contents (base64)}], or 400. */
function parsePersonality(v: unknown): CreateInput["personality"] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid("personality", v, `${JSON.stringify(v)} is not of type 'array'`);
  return v.map((f) => {
    const file = f as { path?: unknown; contents?: unknown };
    if (
      !file ||
      typeof file !== "object" ||
      typeof file.path !== "string" ||
      typeof file.contents !== "string"
    )
      throw invalid("personality", f, 'each file must be {"path": ..., "contents": ...}');
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(file.contents))
      throw badRequest(`Personality content for ${file.path} cannot be decoded`);
    return { path: file.path, contents: file.contents };
  });
}
