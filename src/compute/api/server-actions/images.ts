// createImage (image_id in the body from 2.45, a Location header before), shelve, shelveOffload and unshelve
// (availability_zone from 2.77, host from 2.91). The API creates the queued image in the image service with the
// caller's token; the agent uploads the snapshot into it.
import { publicBaseUrl } from "../../../shared/config.js";
import { reply } from "../../../shared/http/reply.js";
import { ApiError } from "../../../shared/http/errors.js";
import { aggregateZonesByHost, hostZone } from "../../zones.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, conflict, forbidden } from "../../errors.js";
import { TaskState as T, VmState as V } from "../../instances/states.js";
import type { Instance } from "../../instances/store.js";
import { conductorContract } from "../../rpc.js";
import { listServices, serviceIsUp } from "../../servicegroup.js";
import type { Ctx } from "../common.js";
import { projectLimits } from "../quotas.js";
import {
  agentTarget,
  authorizedServer,
  begin,
  checkLock,
  checkState,
  closedObject,
  fqdnField,
  metadataField,
  nameField,
  needHost,
  stringField,
  type ActionTable,
} from "./common.js";
import { isVolumeBacked, snapshotVolumeBacked } from "./volume-snapshot.js";

/** The states a server may be snapshotted in (Nova's snapshot and snapshot_volume_backed). */
export const SNAPSHOT_STATES = [V.ACTIVE, V.STOPPED, V.PAUSED, V.SUSPENDED];
/** Image properties a snapshot does not inherit (Nova's non-inheritable properties and namespaces). */
const NOT_INHERITED = new Set([
  "cinder_encryption_key_id",
  "cinder_encryption_key_deletion_policy",
  "img_signature",
  "img_signature_hash_method",
  "img_signature_key_type",
  "img_signature_certificate_uuid",
  "cache_in_nova",
  "bittorrent",
]);

/** The image API base URL agents upload to (the public URL when configured, else the one the caller used). */
export function imageBaseUrl(core: ComputeCore, ctx: Ctx): string {
  return `${core.cfg.publicUrl ? publicBaseUrl(core.cfg) : ctx.origin}/image`;
}

/** Create the queued image a snapshot of `inst` goes into (Nova's compute_utils.create_image). */
export async function createSnapshotImage(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  name: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const base = inst.request_spec.image;
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(base.properties ?? {}))
    if (!NOT_INHERITED.has(k) && !k.startsWith("os_glance")) props[k] = String(v);
  const own = ctx.auth?.projectId === inst.project_id;
  Object.assign(props, {
    instance_uuid: inst.uuid,
    user_id: ctx.auth?.userId ?? "",
    image_type: "snapshot",
    base_image_ref: String(inst.system_metadata.image_base_image_ref ?? inst.image_ref),
    ...(own ? {} : { instance_owner: inst.project_id }),
    ...extra,
  });
  const res = await core.image.request("POST", "/v2/images", {
    token: ctx.auth?.token,
    body: {
      ...props,
      name,
      visibility: own ? "private" : "shared",
      min_ram: base.min_ram ?? 0,
      min_disk: Math.max(inst.flavor.root_gb, base.min_disk ?? 0),
    },
  });
  if (res.status === 413) throw forbidden(`Quota exceeded for images: ${messageOf(res.body)}`);
  if (res.status === 400 || res.status === 403) throw new ApiError(res.status, messageOf(res.body));
  if (res.status !== 201)
    throw new ApiError(500, `The image service refused the snapshot image (${res.status}).`);
  const id = String(res.body.id);
  if (!own)
    await core.image.request("POST", `/v2/images/${id}/members`, {
      token: ctx.auth?.token,
      body: { member: inst.project_id },
    });
  return id;
}

function messageOf(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 500);
  const b = body as { message?: string; error?: { message?: string } } | null;
  return b?.message ?? b?.error?.message ?? JSON.stringify(body);
}

async function deleteImage(core: ComputeCore, ctx: Ctx, id: string): Promise<void> {
  await core.image.request("DELETE", `/v2/images/${id}`, { token: ctx.auth?.token }).catch(() => undefined);
}

/** Below 2.39, image metadata beyond the project's metadata_items quota is refused (403). */
export async function checkImageMetadataQuota(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  metadata: Record<string, string>,
): Promise<void> {
  if (ctx.microversion.gte("2.39")) return;
  const limit = (await projectLimits(core.db, inst.project_id)).metadata_items;
  if (limit >= 0 && Object.keys(metadata).length > limit) throw forbidden("Image metadata limit exceeded");
}

/** What a snapshot-like action (createImage, createBackup) names its image and records. */
export interface SnapshotRequest {
  /** The action name, for state conflicts and the instance action record. */
  action: string;
  /** The image name. */
  name: string;
  /** Extra image properties (they override the inherited and Nova's own). */
  properties: Record<string, string>;
}

/**
 * Check the state, create the queued image, move the server to image_snapshot and cast the upload to its agent
 * (the image is deleted again when the server cannot start the task). Returns the image id and the image API
 * base URL the agent uploads to.
 */
export async function startSnapshot(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  req: SnapshotRequest,
): Promise<{ imageId: string; imageUrl: string }> {
  // Nova does not check the lock for snapshots: locks guard against changes, not copies.
  const rule = { vm: SNAPSHOT_STATES };
  checkState(inst, req.action, rule);
  const host = needHost(inst);
  const imageId = await createSnapshotImage(core, ctx, inst, req.name, req.properties);
  let rc;
  try {
    rc = await begin(core, ctx, inst, {
      action: req.action,
      record: req.action,
      rule,
      patch: { task_state: T.IMAGE_SNAPSHOT },
    });
  } catch (e) {
    await deleteImage(core, ctx, imageId);
    throw e;
  }
  const imageUrl = imageBaseUrl(core, ctx);
  await core.bus.cast(agentTarget(host), "snapshot_instance", {
    ctx: rc,
    uuid: inst.uuid,
    imageId,
    imageUrl,
  });
  return { imageId, imageUrl };
}

/** Availability zones with an enabled, live compute service. */
async function availableZones(core: ComputeCore): Promise<Set<string>> {
  const out = new Set<string>();
  const zones = await aggregateZonesByHost(core.db);
  for (const s of await listServices(core.db, "nova-compute"))
    if (!s.disabled && serviceIsUp(s, core.cfg))
      out.add(zones.get(s.host)?.[0] ?? core.cfg.compute.defaultAvailabilityZone);
  return out;
}

/** Parse unshelve's body for the microversion: whether an AZ was given (null unpins) and the target host. */
function parseUnshelve(ctx: Ctx, value: unknown): { az?: string | null; host?: string } {
  const mv = ctx.microversion;
  if (mv.lt("2.77")) return {};
  if (mv.lt("2.91")) {
    const body = closedObject("unshelve", value, ["availability_zone"], {
      nullable: true,
      required: ["availability_zone"],
    });
    return body ? { az: nameField("unshelve/availability_zone", body.availability_zone) } : {};
  }
  const body = closedObject("unshelve", value, ["availability_zone", "host"], { nullable: true });
  if (!body) return {};
  const out: { az?: string | null; host?: string } = {};
  if ("availability_zone" in body)
    out.az =
      body.availability_zone === null
        ? null
        : stringField("unshelve/availability_zone", body.availability_zone);
  if (body.host !== undefined) out.host = fqdnField("unshelve/host", body.host);
  return out;
}

/** createImage, shelve, shelveOffload, unshelve. */
export const imageActions: ActionTable = {
  createImage: {
    async run(core, ctx, id, value) {
      const body = closedObject("createImage", value, ["name", "metadata"], { required: ["name"] })!;
      const name = nameField("createImage/name", body.name);
      const metadata =
        body.metadata === undefined ? {} : metadataField("createImage/metadata", body.metadata);
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:servers:create_image");
      await checkImageMetadataQuota(core, ctx, inst, metadata);
      let imageId: string;
      if (await isVolumeBacked(core, inst)) {
        ctx.authorize("os_compute_api:servers:create_image:allow_volume_backed", {
          user_id: inst.user_id,
          project_id: inst.project_id,
        });
        checkState(inst, "createImage", { vm: SNAPSHOT_STATES });
        imageId = await snapshotVolumeBacked(core, ctx, inst, name, (props) =>
          createSnapshotImage(core, ctx, inst, name, { ...metadata, ...props }),
        );
      } else
        imageId = (
          await startSnapshot(core, ctx, inst, { action: "createImage", name, properties: metadata })
        ).imageId;
      if (ctx.microversion.gte("2.45")) return reply(202, { image_id: imageId });
      return reply(202, undefined, { location: `${imageBaseUrl(core, ctx)}/images/${imageId}` });
    },
  },

  shelve: {
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:os-shelve:shelve");
      checkLock(ctx, inst);
      const rule = { vm: SNAPSHOT_STATES };
      checkState(inst, "shelve", rule);
      const host = needHost(inst);
      const imageId = await createSnapshotImage(core, ctx, inst, `${inst.display_name}-shelved`);
      let rc;
      try {
        rc = await begin(core, ctx, inst, {
          action: "shelve",
          record: "shelve",
          rule,
          patch: {
            task_state: T.SHELVING,
            sysmeta: { set: { image_base_image_ref: inst.image_ref } },
          },
        });
      } catch (e) {
        await deleteImage(core, ctx, imageId);
        throw e;
      }
      // Nova's default shelved_offload_time is 0: a shelved server leaves its host at once.
      await core.bus.cast(agentTarget(host), "shelve_instance", {
        ctx: rc,
        uuid: inst.uuid,
        imageId,
        imageUrl: imageBaseUrl(core, ctx),
        offload: true,
      });
    },
  },

  shelveOffload: {
    async run(core, ctx, id) {
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:os-shelve:shelve_offload");
      checkLock(ctx, inst);
      const rule = { vm: [V.SHELVED] };
      checkState(inst, "shelveOffload", rule);
      const host = needHost(inst);
      const rc = await begin(core, ctx, inst, {
        action: "shelveOffload",
        record: "shelveOffload",
        rule,
        patch: { task_state: T.SHELVING_OFFLOADING },
      });
      await core.bus.cast(agentTarget(host), "shelve_offload_instance", { ctx: rc, uuid: inst.uuid });
    },
  },

  unshelve: {
    async run(core, ctx, id, value) {
      const { az, host } = parseUnshelve(ctx, value);
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:os-shelve:unshelve");
      checkLock(ctx, inst);
      const rule = { vm: [V.SHELVED, V.SHELVED_OFFLOADED] };
      checkState(inst, "unshelve", rule);
      const azPassed = az !== undefined;
      if ((azPassed || host) && inst.vm_state !== V.SHELVED_OFFLOADED)
        throw conflict(
          `Specifying an availability zone or a host when unshelving server "${inst.uuid}" with status ` +
            `"${inst.vm_state}" is not supported. The server status must be SHELVED_OFFLOADED.`,
        );
      if (az && !(await availableZones(core)).has(az))
        throw badRequest("The requested availability zone is not available");
      const zone = azPassed ? az : (inst.request_spec.availabilityZone ?? null);
      if (host) {
        ctx.authorize("os_compute_api:os-shelve:unshelve_to_host", {
          user_id: inst.user_id,
          project_id: inst.project_id,
        });
        const node = await core.db
          .selectFrom("compute_node")
          .select("uuid")
          .where("host", "=", host)
          .executeTakeFirst();
        if (!node) throw badRequest(`Compute host ${host} could not be found.`);
        if (zone && (await hostZone(core, host)) !== zone)
          throw conflict(`Host "${host}" is not in the availability zone "${zone}".`);
      }
      const spec = { ...inst.request_spec };
      if (azPassed) {
        if (az) spec.availabilityZone = az;
        else delete spec.availabilityZone;
      }
      const rc = await begin(core, ctx, inst, {
        action: "unshelve",
        record: "unshelve",
        rule,
        patch: { task_state: T.UNSHELVING, request_spec: spec },
      });
      await core.bus.cast(conductorContract, "unshelve", {
        ctx: rc,
        uuid: inst.uuid,
        ...(azPassed ? { availabilityZone: az } : {}),
        ...(host ? { host } : {}),
      });
    },
  },
};
