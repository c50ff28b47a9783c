// /v3/{project}/volumes: create (empty, from a snapshot, a volume or an image), show, list and detail with
// filters, sorting and pagination, update, delete (cascade), and the volume's metadata.
import { ApiError } from "../../shared/http/errors.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import { refuseEncryptedType } from "../encryption.js";
import type { Target } from "../../shared/policy/index.js";
import type { VolumeCore } from "../core.js";
import { metadataRoutes } from "./metadata-routes.js";
import { invalidInput, invalidVolume, notFound, typeNotFound, volumeNotFound } from "../errors.js";
import { checkQuota, underQuota } from "../quotas.js";
import { agentOf } from "../scheduler.js";
import { scheduleVolume } from "../scheduling.js";
import { attachmentsOf } from "../store/attachments.js";
import { mapText, parseMap, type VolumeRow } from "../store/rows.js";
import { snapshotsOf, transitionSnapshot, visibleSnapshot } from "../store/snapshots.js";
import { defaultTypeId } from "../default-types.js";
import { findType } from "../store/types.js";
import { groupForNewVolume, groupHost } from "./group-members.js";
import {
  insertVolume,
  listVolumes,
  newVolumeRow,
  removeVolume,
  transitionVolume,
  updateVolume,
  visibleVolume,
} from "../store/volumes.js";
import {
  allTenants,
  boolOf,
  callerOf,
  field,
  metadataOf,
  nextLinks,
  optString,
  ownerOf,
  listRoutes,
  ownTarget,
  page,
  sizeOf,
  sortRows,
  sortSpec,
  wrapped,
  type Ctx,
} from "./common.js";
import { TypeCache, volumeSummary, volumeView } from "./views.js";

const V = "/v3/:project_id/volumes";
const ONE = `${V}/:volume_id`;

/** Statuses a volume may be deleted from. */
export const DELETABLE = ["available", "error", "error_restoring", "error_extending", "error_managing"];

/** The visible volume of the URL (404 otherwise). */
export async function volumeOf(core: VolumeCore, ctx: Ctx): Promise<VolumeRow> {
  const v = await visibleVolume(core, callerOf(ctx), ctx.params.volume_id);
  if (!v) throw volumeNotFound(ctx.params.volume_id);
  return v;
}

/** The policy target of the URL's volume (its project), 404 when the caller cannot see it. */
export const volumeTarget =
  (core: VolumeCore) =>
  async (ctx: Ctx): Promise<Target> => {
    const v = await volumeOf(core, ctx);
    return { project_id: v.project_id, user_id: v.user_id };
  };

/** Whether a type's extra specs allow multiattach ("<is> True"). */
export const multiattachSpec = (specs: Map<string, string>): boolean =>
  /^<is>\s*true$/i.test(specs.get("multiattach") ?? "");

const SORT_KEYS = [
  "id",
  "name",
  "status",
  "size",
  "created_at",
  "updated_at",
  "availability_zone",
  "bootable",
];
const FILTERS = ["name", "status", "bootable", "availability_zone", "metadata", "project_id", "group_id"];

function sortValue(v: VolumeRow, k: string): unknown {
  if (k === "bootable") return v.bootable;
  return (v as unknown as Record<string, unknown>)[k];
}

/** The rows a list returns after its filters. */
async function filtered(core: VolumeCore, ctx: Ctx): Promise<VolumeRow[]> {
  const caller = callerOf(ctx);
  const all = allTenants(ctx, caller);
  const q = ctx.query;
  const project = all ? (q.project_id ?? null) : ownerOf(ctx);
  let rows = await listVolumes(core, project);
  for (const k of Object.keys(q)) {
    if (
      ["limit", "marker", "sort", "sort_key", "sort_dir", "all_tenants", "with_count", "offset"].includes(k)
    )
      continue;
    if (!FILTERS.includes(k) && !k.startsWith("name~")) throw invalidInput(`Invalid filter keys: ${k}`);
  }
  if (q.name !== undefined) rows = rows.filter((v) => v.name === q.name);
  if (q.status !== undefined) rows = rows.filter((v) => v.status === q.status);
  if (q.group_id !== undefined && ctx.microversion.gte("3.10"))
    rows = rows.filter((v) => v.group_id === q.group_id);
  if (q.availability_zone !== undefined)
    rows = rows.filter((v) => v.availability_zone === q.availability_zone);
  if (q.bootable !== undefined) {
    const b = boolOf("bootable", q.bootable);
    rows = rows.filter((v) => Boolean(v.bootable) === b);
  }
  if (q.metadata !== undefined) {
    let want: Map<string, string>;
    try {
      want = metadataOf(JSON.parse(q.metadata.replace(/'/g, '"')));
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw invalidInput("metadata must be a dictionary.");
    }
    rows = rows.filter((v) => {
      const m = parseMap(v.metadata);
      return [...want].every(([k, x]) => m.get(k) === x);
    });
  }
  return sortRows(rows, sortSpec(ctx, SORT_KEYS), sortValue);
}

/** The list body (summary or detail) with the next link and, from 3.45, the count. */
async function listBody(core: VolumeCore, ctx: Ctx, detail: boolean) {
  const rows = await filtered(core, ctx);
  const p = page(ctx, rows);
  const types = new TypeCache(core);
  const isAdmin = callerOf(ctx).isAdmin;
  const volumes = [];
  for (const v of p.rows)
    volumes.push(detail ? await volumeView(ctx, core, v, types, isAdmin) : volumeSummary(ctx, v));
  const body: Record<string, unknown> = { volumes };
  if (p.more && p.rows.length > 0) body.volumes_links = nextLinks(ctx, p.rows[p.rows.length - 1].id, p.limit);
  if (
    ctx.microversion.gte("3.45") &&
    ctx.query.with_count !== undefined &&
    boolOf("with_count", ctx.query.with_count)
  )
    body.count = rows.length;
  return body;
}

/** Create a volume: check the request, record it under the quota lock, then schedule it. */
async function createVolume(core: VolumeCore, ctx: Ctx) {
  const b = wrapped(ctx, "volume");
  const caller = callerOf(ctx);
  const project = ownerOf(ctx);
  const name = optString(b, "name") ?? optString(b, "display_name") ?? null;
  const description = optString(b, "description") ?? optString(b, "display_description") ?? null;
  const metadata =
    field(b, "metadata") === undefined || field(b, "metadata") === null
      ? new Map<string, string>()
      : metadataOf(field(b, "metadata"));
  const zone = optString(b, "availability_zone") ?? core.cfg.volume.availabilityZone;
  if (zone !== core.cfg.volume.availabilityZone)
    throw invalidInput(`Availability zone '${zone}' is invalid.`);
  const snapshotId = optString(b, "snapshot_id", 36) ?? null;
  const sourceId = optString(b, "source_volid", 36) ?? null;
  const imageRef = optString(b, "imageRef", 36) ?? optString(b, "image_id", 36) ?? null;
  if (field(b, "backup_id") !== undefined && field(b, "backup_id") !== null)
    throw invalidInput("Creating a volume from a backup is not supported.");
  if ([snapshotId, sourceId, imageRef].filter(Boolean).length > 1)
    throw invalidInput("Only one of snapshot_id, source_volid and imageRef may be given.");
  const rawSize = field(b, "size");
  let size = rawSize === undefined || rawSize === null ? null : sizeOf(rawSize);
  let typeId: string | null = null;
  let sourceHost: string | null = null;
  let bootable = false;
  let imageMeta = new Map<string, string>();
  if (snapshotId) {
    const s = await visibleSnapshot(core, caller, snapshotId);
    if (!s) throw notFound(`Snapshot ${snapshotId} could not be found.`);
    if (s.status !== "available")
      throw invalidInput(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
    const src = await visibleVolume(core, { ...caller, readsAll: true }, s.volume_id);
    size ??= s.size;
    if (size < s.size)
      throw invalidInput(
        `Volume size '${size}'GB cannot be smaller than the snapshot size ${s.size}GB. They must be >= original snapshot size.`,
      );
    typeId = src?.volume_type_id ?? null;
    sourceHost = src?.host ?? null;
    bootable = Boolean(src?.bootable);
    imageMeta = parseMap(src?.image_metadata);
  } else if (sourceId) {
    const src = await visibleVolume(core, caller, sourceId);
    if (!src) throw notFound(`Volume ${sourceId} could not be found.`);
    if (!["available", "in-use"].includes(src.status))
      throw invalidVolume(
        `Unable to create a volume from an originating source volume when its status is ${src.status}.`,
      );
    size ??= src.size;
    if (size < src.size)
      throw invalidInput(
        `Volume size '${size}'GB cannot be smaller than original volume size ${src.size}GB. They must be >= original volume size.`,
      );
    typeId = src.volume_type_id;
    sourceHost = src.host;
    bootable = Boolean(src.bootable);
    imageMeta = parseMap(src.image_metadata);
  } else if (imageRef) {
    const info = core.images ? await core.images.describe(imageRef) : null;
    if (!info) throw notFound(`Image ${imageRef} could not be found.`);
    if (info.status !== "active") throw invalidInput(`Image ${imageRef} is not active.`);
    const need = Math.max(Math.ceil((info.sizeBytes ?? 0) / 1024 ** 3), info.minDisk, 1);
    size ??= need;
    if (size < need)
      throw invalidInput(`Size of specified image ${need}GB is larger than volume size ${size}GB.`);
    bootable = true;
    for (const [k, v] of Object.entries(info.properties))
      if (typeof v === "string" || typeof v === "number") imageMeta.set(k, String(v));
    imageMeta.set("image_id", info.id);
  }
  if (size === null) throw invalidInput("size must be an integer and greater than 0.");
  const typeName = optString(b, "volume_type") ?? null;
  if (typeName !== null && !(snapshotId || sourceId)) {
    const t = await findType(core, caller, typeName);
    if (!t) throw typeNotFound(typeName);
    typeId = t.id;
  }
  if (typeId === null) typeId = await defaultTypeId(core, project);
  await refuseEncryptedType(core, typeId);
  const group = await groupForNewVolume(core, ctx, b, typeId);
  if (group) sourceHost ??= await groupHost(core, group.id);
  const t = typeId ? await new TypeCache(core).get(typeId) : null;
  const multiattach = multiattachSpec(parseMap(t?.extra_specs)) || field(b, "multiattach") === true;
  const row = newVolumeRow(core, {
    project_id: project,
    user_id: caller.userId,
    name,
    description,
    size,
    availability_zone: zone,
    volume_type_id: typeId,
    snapshot_id: snapshotId,
    source_volid: sourceId,
    image_id: imageRef,
    bootable: bootable ? 1 : 0,
    multiattach: multiattach ? 1 : 0,
    metadata: mapText(metadata),
    image_metadata: mapText(imageMeta),
    group_id: group?.id ?? null,
  });
  const finalSize = size;
  await underQuota(core, project, async (c) => {
    await checkQuota(c, project, { volumes: 1, gigabytes: finalSize, perVolume: finalSize, typeId });
    await insertVolume(c, row);
  });
  await scheduleVolume(core, row, ctx.requestId, sourceHost);
  const v = (await visibleVolume(core, { ...caller, readsAll: true }, row.id)) ?? row;
  return reply(202, {
    volume: await volumeView(ctx, core, v, new TypeCache(core), caller.isAdmin, false),
  });
}

/** Delete a volume (cascade: with its snapshots). */
async function deleteVolume(core: VolumeCore, ctx: Ctx) {
  const v = await volumeOf(core, ctx);
  const cascade = ctx.query.cascade !== undefined && boolOf("cascade", ctx.query.cascade);
  const force = ctx.query.force !== undefined && boolOf("force", ctx.query.force);
  if (force)
    ctx.authorize("volume_extension:volume_admin_actions:force_delete", { project_id: v.project_id });
  const attached = (await attachmentsOf(core, v.id)).length > 0;
  if (!force && (!DELETABLE.includes(v.status) || attached))
    throw invalidVolume(
      "Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.",
    );
  const snaps = await snapshotsOf(core, v.id);
  if (snaps.length > 0 && !cascade) throw invalidVolume(`Volume ${v.id} still has dependent snapshots.`);
  for (const s of snaps)
    if (!["available", "error", "error_deleting", "deleting"].includes(s.status))
      throw invalidVolume(`Snapshot ${s.id} of volume ${v.id} is not in a deletable status.`);
  const from = force ? [v.status] : DELETABLE;
  if (!(await transitionVolume(core, v.id, from, { status: "deleting" })))
    throw invalidVolume(`Volume ${v.id} status changed; try again.`);
  for (const s of snaps) await transitionSnapshot(core, s.id, [s.status], "deleting");
  if (v.host)
    await core.agents.cast(agentOf(v.host), "delete_volume", { volumeId: v.id, requestId: ctx.requestId });
  else {
    await core.db.deleteFrom("volume_snapshot").where("volume_id", "=", v.id).execute();
    await removeVolume(core, v.id);
  }
  return reply(202, undefined);
}

/** Routes of /volumes and their metadata. */
export function volumeRoutes(core: VolumeCore): Route[] {
  const target = volumeTarget(core);
  const meta = async (ctx: Ctx) => parseMap((await volumeOf(core, ctx)).metadata);
  const setMeta = async (ctx: Ctx, m: Map<string, string>) => {
    await updateVolume(core, ctx.params.volume_id, { metadata: mapText(m) });
  };
  return [
    ...listRoutes(V, "volume:get_all", (ctx, detail) => listBody(core, ctx, detail)),
    route({
      method: "POST",
      path: V,
      policy: "volume:create",
      target: ownTarget,
      handler: (ctx) => createVolume(core, ctx),
    }),
    route({
      method: "GET",
      path: ONE,
      policy: "volume:get",
      target,
      handler: async (ctx) => ({
        volume: await volumeView(
          ctx,
          core,
          await volumeOf(core, ctx),
          new TypeCache(core),
          callerOf(ctx).isAdmin,
        ),
      }),
    }),
    route({
      method: "PUT",
      path: ONE,
      policy: "volume:update",
      target,
      handler: async (ctx) => {
        const b = wrapped(ctx, "volume");
        const set: Partial<VolumeRow> = {};
        const name = optString(b, "name") ?? optString(b, "display_name");
        const description = optString(b, "description") ?? optString(b, "display_description");
        if (name !== undefined) set.name = name;
        if (description !== undefined) set.description = description;
        if (field(b, "metadata") !== undefined) set.metadata = mapText(metadataOf(field(b, "metadata")));
        if (Object.keys(b).length === 0)
          throw invalidInput("Missing required element 'volume' in request body.");
        await updateVolume(core, ctx.params.volume_id, set);
        const v = await volumeOf(core, ctx);
        return {
          volume: await volumeView(ctx, core, v, new TypeCache(core), callerOf(ctx).isAdmin, false),
        };
      },
    }),
    route({
      method: "DELETE",
      path: ONE,
      policy: "volume:delete",
      target,
      handler: (ctx) => deleteVolume(core, ctx),
    }),
    ...metadataRoutes(
      ONE,
      {
        get: "volume:get_volume_metadata",
        create: "volume:create_volume_metadata",
        update: "volume:update_volume_metadata",
        delete: "volume:delete_volume_metadata",
      },
      target,
      meta,
      setMeta,
    ),
  ];
}
