// Response bodies in Cinder's shapes (checked against Tempest's volume response schemas).
import type { VolumeCore } from "../core.js";
import { attachmentsOf } from "../store/attachments.js";
import {
  mapObject,
  parseJson,
  parseMap,
  READONLY_FALSE,
  READONLY_TRUE,
  type AttachmentRow,
  type SnapshotRow,
  type TypeRow,
  type VolumeRow,
} from "../store/rows.js";
import { getType } from "../store/types.js";
import { isoTime, links, type Ctx } from "./common.js";

/** Resolves type ids to rows once per request. */
export class TypeCache {
  private readonly seen = new Map<string, TypeRow | null>();
  constructor(private readonly core: VolumeCore) {}
  /** The type, or null. */
  async get(id: string | null): Promise<TypeRow | null> {
    if (!id) return null;
    if (!this.seen.has(id)) this.seen.set(id, await getType(this.core, id));
    return this.seen.get(id) ?? null;
  }
}

/** A volume's metadata as its body shows it: with `readonly` once the flag was set (Cinder's visible admin metadata). */
function volumeMetadata(v: VolumeRow): Map<string, string> {
  const m = parseMap(v.metadata);
  if (v.readonly === READONLY_TRUE || v.readonly === READONLY_FALSE)
    m.set("readonly", v.readonly === READONLY_TRUE ? "True" : "False");
  return m;
}

/** The volume's attachments as its body lists them (attached ones). */
export function volumeAttachmentsView(v: VolumeRow, rows: AttachmentRow[]) {
  return rows
    .filter((a) => a.attach_status === "attached")
    .map((a) => ({
      server_id: a.instance_uuid,
      attachment_id: a.id,
      attached_at: isoTime(a.attach_time),
      host_name: a.attached_host,
      volume_id: v.id,
      device: a.mountpoint,
      id: v.id,
    }));
}

/**
 * The full volume body. Show and detail (`extended`) add what Cinder's extensions add there: the tenant, host and
 * migration attributes and the image metadata; create and update answer without them, as Cinder.
 */
export async function volumeView(
  ctx: Ctx,
  core: VolumeCore,
  v: VolumeRow,
  types: TypeCache,
  isAdmin: boolean,
  extended = true,
) {
  const mv = ctx.microversion;
  const t = await types.get(v.volume_type_id);
  const imageMeta = parseMap(v.image_metadata);
  const body: Record<string, unknown> = {
    id: v.id,
    name: v.name,
    description: v.description,
    size: v.size,
    status: v.status,
    availability_zone: v.availability_zone,
    created_at: isoTime(v.created_at),
    updated_at: isoTime(v.updated_at),
    volume_type: t?.name ?? null,
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volid,
    metadata: mapObject(volumeMetadata(v)),
    links: links(ctx, v.project_id, "volumes", v.id),
    user_id: v.user_id,
    bootable: v.bootable ? "true" : "false",
    encrypted: false,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: Boolean(v.multiattach),
    attachments: volumeAttachmentsView(v, await attachmentsOf(core, v.id)),
  };
  if (extended) body["os-vol-tenant-attr:tenant_id"] = v.project_id;
  if (extended && imageMeta.size > 0) body.volume_image_metadata = mapObject(imageMeta);
  if (isAdmin) body.migration_status = v.migration_status ?? null;
  if (extended && isAdmin) {
    body["os-vol-host-attr:host"] = v.host;
    body["os-vol-mig-status-attr:migstat"] = v.migration_status ?? null;
    body["os-vol-mig-status-attr:name_id"] = null;
  }
  if (mv.gte("3.13")) body.group_id = v.group_id;
  if (mv.gte("3.21") && isAdmin) body.provider_id = null;
  if (mv.gte("3.48")) {
    body.service_uuid = null;
    body.shared_targets = false;
  }
  if (mv.gte("3.61") && isAdmin) body.cluster_name = null;
  if (mv.gte("3.63")) body.volume_type_id = v.volume_type_id;
  if (mv.gte("3.64")) body.encryption_key_id = null;
  if (mv.gte("3.65")) body.consumes_quota = true;
  return body;
}

/** The short volume body of a list (id, name, links). */
export const volumeSummary = (ctx: Ctx, v: VolumeRow) => ({
  id: v.id,
  name: v.name,
  links: links(ctx, v.project_id, "volumes", v.id),
});

/**
 * A snapshot body. Show and detail (`extended`) add the extended snapshot attributes (project, progress); create,
 * update and the summary list answer without them, as Cinder.
 */
export function snapshotView(ctx: Ctx, s: SnapshotRow, isAdmin: boolean, extended = true) {
  const mv = ctx.microversion;
  const body: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    description: s.description,
    volume_id: s.volume_id,
    size: s.size,
    status: s.status,
    created_at: isoTime(s.created_at),
    updated_at: isoTime(s.updated_at),
    metadata: mapObject(parseMap(s.metadata)),
  };
  if (extended) {
    body["os-extended-snapshot-attributes:project_id"] = s.project_id;
    body["os-extended-snapshot-attributes:progress"] = s.progress;
  }
  if (mv.gte("3.14")) body.group_snapshot_id = s.group_snapshot_id;
  if (mv.gte("3.21") && isAdmin) body.provider_id = null;
  if (mv.gte("3.41")) body.user_id = s.user_id;
  if (mv.gte("3.65")) body.consumes_quota = true;
  return body;
}

/** An attachment body (attachments API). */
export function attachmentView(a: AttachmentRow) {
  return {
    id: a.id,
    status: a.attach_status,
    instance: a.instance_uuid,
    volume_id: a.volume_id,
    attached_at: isoTime(a.attach_time),
    detached_at: isoTime(a.detach_time),
    attach_mode: a.attach_mode,
    connection_info: parseJson(a.connection_info) ?? {},
  };
}

/** The short attachment body of a list. */
export const attachmentSummary = (a: AttachmentRow) => ({
  id: a.id,
  status: a.attach_status,
  instance: a.instance_uuid,
  volume_id: a.volume_id,
});

/** The extra specs users may see (all for admins; Cinder's user-visible ones for others). */
export function visibleSpecs(specs: Map<string, string>, isAdmin: boolean): Map<string, string> {
  if (isAdmin) return specs;
  const shown = ["multiattach", "RESKEY:availability_zones", "replication_enabled"];
  return new Map([...specs].filter(([k]) => shown.includes(k)));
}

/**
 * A volume type body. As Cinder: show and list add `qos_specs_id` (admins) and the type-access extension's
 * `os-volume-type-access:is_public`; a create answers with the latter only, an update with neither.
 */
export function typeView(t: TypeRow, isAdmin: boolean, kind: "show" | "create" | "update" = "show") {
  const body: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: Boolean(t.is_public),
    extra_specs: mapObject(visibleSpecs(parseMap(t.extra_specs), isAdmin)),
  };
  if (kind !== "update") body["os-volume-type-access:is_public"] = Boolean(t.is_public);
  if (kind === "show" && isAdmin) body.qos_specs_id = t.qos_specs_id;
  return body;
}
