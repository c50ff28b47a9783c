// POST /servers: check everything the request names (flavor, image, key pair, group, zone, quota), create the
// server rows in BUILD/scheduling and hand them to the conductor. Quota check and insert are one transaction under the
// project's lock row (withQuotaLock), so they are atomic across every API process sharing the database.
import { randomBytes, randomUUID } from "node:crypto";
import { nowIso, withQuotaLock } from "../../../shared/db/index.js";
import { reply, type Reply } from "../../../shared/http/reply.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, forbidden } from "../../errors.js";
import { startAction, type RequestContext } from "../../instances/actions.js";
import {
  insertInstance,
  type Instance,
  type InstanceFlavor,
  type RequestSpec,
} from "../../instances/store.js";
import { TaskState, VmState } from "../../instances/states.js";
import { conductorContract } from "../../rpc.js";
import { imageSpec } from "../../instances/image.js";
import { isAdmin, type Ctx } from "../common.js";
import { extraSpecs, visibleFlavor } from "../flavors.js";
import { checkImageFits } from "../image-fit.js";
import { callerKeyPair } from "../keypairs.js";
import { projectLimits, projectUsage } from "../quotas.js";
import { parseCreate, type CreateInput, type RequestedBdm } from "./create-input.js";
import { VolumeRefused } from "../../volume-client.js";
import { createBdm, nextDeviceName } from "../../volumes/bdm-store.js";
import { serverLinks } from "./view.js";
import { checkAttachable } from "./volume-checks.js";
import { imageMappings, mergeMappings } from "./image-mappings.js";
import { resolveNics } from "../../networking/requested.js";
import { resolveSecurityGroups } from "../../networking/security-groups.js";

/** The request context carried to the conductor and agents. */
export function requestContext(ctx: Ctx): RequestContext {
  return {
    requestId: ctx.requestId,
    userId: ctx.auth?.userId ?? "",
    projectId: ctx.auth?.projectId ?? "",
    token: ctx.auth?.token,
    roles: ctx.auth?.roles,
  };
}

/** A hostname from a display name, as Nova sanitises it (RFC 952-ish, at most 63 characters). */
export function sanitizeHostname(name: string, fallback: string): string {
  const h = name
    .toLowerCase()
    .replace(/[ _.]/g, "-")
    .replace(/[^a-z0-9-]/g, "")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return h || fallback;
}

/** The image spec of a volume root: its volume's image metadata (flavor disk sizes do not apply). */
function volumeImage(meta: Record<string, string>): RequestSpec["image"] {
  return imageSpec(meta.image_id ?? "", {
    status: "active",
    properties: {},
    ...meta,
    min_ram: 0,
    min_disk: 0,
  } as never);
}

/** A volume of the request as the block storage service shows it (400 when missing, as Nova). */
async function requestedVolume(core: ComputeCore, ctx: Ctx, id: string) {
  return core.volume!.showVolume(ctx.auth?.projectId ?? "", id).catch((e: unknown) => {
    if (e instanceof VolumeRefused && e.status === 404) throw badRequest(`Volume ${id} could not be found.`);
    throw e;
  });
}

/**
 * Check the volume mappings: existing volumes attachable, snapshots there (a snapshot mapping without a size takes
 * the snapshot's). Returns them with the image a volume root carries (its volume's image metadata, through the
 * snapshot's volume for a snapshot root).
 */
async function checkVolumes(
  core: ComputeCore,
  ctx: Ctx,
  volumes: RequestedBdm[],
  maxCount: number,
): Promise<{ volumes: RequestedBdm[]; rootImage?: RequestSpec["image"] }> {
  if (volumes.length > 0 && !core.volume)
    throw badRequest(
      "Block device mappings with volumes need a block storage service, and the cloud has none.",
    );
  if (volumes.length > 0 && maxCount > 1 && volumes.some((b) => b.sourceType === "volume"))
    throw badRequest("Cannot attach one or more volumes to multiple instances");
  const project = ctx.auth?.projectId ?? "";
  const out: RequestedBdm[] = [];
  let rootImage: RequestSpec["image"] | undefined;
  for (const b of volumes) {
    let checked = b;
    let meta: Record<string, string> | undefined;
    if (b.sourceType === "volume") {
      const vol = await requestedVolume(core, ctx, b.uuid!);
      // Nova reads the root volume's image metadata first and refuses one Cinder marks not bootable.
      if (b.bootIndex === 0 && String(vol.bootable ?? "true").toLowerCase() === "false")
        throw badRequest(`Block Device ${b.uuid} is not bootable.`);
      checkAttachable(ctx, vol);
      meta = vol.volume_image_metadata ?? {};
    } else if (b.sourceType === "snapshot") {
      const snap = await core.volume!.showSnapshot(project, b.uuid!).catch((e: unknown) => {
        if (e instanceof VolumeRefused && e.status === 404)
          throw badRequest(`Block Device Mapping is Invalid: failed to get snapshot ${b.uuid}.`);
        throw e;
      });
      checked = { ...b, volumeSize: b.volumeSize ?? snap.size };
      if (b.bootIndex === 0)
        meta = (await core.volume!.showVolume(project, snap.volume_id).catch(() => undefined))
          ?.volume_image_metadata;
      meta ??= {};
    }
    if (b.bootIndex === 0 && meta) rootImage = volumeImage(meta);
    out.push(checked);
  }
  return { volumes: out, ...(rootImage ? { rootImage } : {}) };
}

/**
 * The image a server is built from and its volume mappings: imageRef's (checked against the flavor unless the
 * image's own mappings give a volume root, as a volume-backed server's snapshot does), or for a volume-backed
 * request the root mapping's source image, or the image metadata of its root volume or snapshot.
 */
async function serverImage(
  core: ComputeCore,
  ctx: Ctx,
  input: CreateInput,
  flavor: InstanceFlavor,
): Promise<{ image: RequestSpec["image"]; volumes: RequestedBdm[] }> {
  let image: RequestSpec["image"] | undefined;
  let requested = input.volumes;
  if (input.imageRef) {
    image = await checkImage(core, ctx, input.imageRef, flavor, false);
    requested = mergeMappings(imageMappings(image.properties ?? {}), requested);
  }
  const { volumes, rootImage } = await checkVolumes(core, ctx, requested, input.maxCount);
  const root = volumes.find((b) => b.bootIndex === 0);
  if (image) {
    if (!root) checkImageFits(ctx, image, flavor, ctx.auth?.projectId ?? "");
    return { image, volumes };
  }
  if (root?.sourceType === "image") {
    const img = await checkImage(core, ctx, root.uuid!, flavor, false);
    if (img.min_disk > (root.volumeSize ?? 0))
      throw badRequest(
        `Volume is smaller than the minimum size specified in image metadata. Volume size is ${(root.volumeSize ?? 0) * 1024 ** 3} bytes, minimum size is ${img.min_disk * 1024 ** 3} bytes.`,
      );
    return { image: img, volumes };
  }
  if (root && rootImage) return { image: rootImage, volumes };
  throw badRequest("Boot sequence for the instance and image/block device mapping combination is not valid.");
}

/** Device names of requested volumes: the root volume is vda; others keep theirs or take the next free one. */
function bdmDeviceNames(all: RequestedBdm[]): string[] {
  const rootIsVolume = all.some((x) => x.bootIndex === 0);
  const names: string[] = [];
  for (const b of all)
    names.push(b.deviceName ?? (b.bootIndex === 0 ? "/dev/vda" : nextDeviceName(names, rootIsVolume)));
  return names;
}

/** The mapping row of one requested volume (no volume or attachment yet for the ones the conductor makes). */
function requestedBdmRow(uuid: string, b: RequestedBdm, deviceName: string) {
  return {
    instanceUuid: uuid,
    volumeId: b.sourceType === "volume" ? b.uuid! : null,
    attachmentId: null,
    deviceName,
    bootIndex: b.bootIndex,
    sourceType: b.sourceType,
    destinationType: "volume" as const,
    deleteOnTermination: b.deleteOnTermination,
    tag: b.tag ?? null,
    volumeSize: b.volumeSize ?? null,
    imageId: b.sourceType === "image" ? b.uuid! : null,
    snapshotId: b.sourceType === "snapshot" ? b.uuid! : null,
  };
}

/** The image as the caller sees it (400 if missing, not active, or too big for the flavor). */
async function checkImage(core: ComputeCore, ctx: Ctx, imageRef: string, flavor: InstanceFlavor, fit = true) {
  const res = await core.image.request("GET", `/v2/images/${imageRef}`, { token: ctx.auth?.token });
  if (res.status === 404 || res.status === 403) throw badRequest(`Image ${imageRef} could not be found.`);
  if (res.status !== 200)
    throw badRequest(`Image ${imageRef} could not be checked (image service said ${res.status}).`);
  const img = res.body as Record<string, unknown>;
  if (img.status !== "active") throw badRequest(`Image ${imageRef} is not active.`);
  const spec = imageSpec(imageRef, img);
  if (fit) checkImageFits(ctx, spec, flavor, ctx.auth?.projectId ?? "");
  return spec;
}

/** The zone and forced host from availability_zone ("az", "az:host", "az:host:node") and 2.74 host fields. */
function placementTarget(ctx: Ctx, input: CreateInput): { az?: string; host?: string; node?: string } {
  let az: string | undefined;
  let host: string | undefined;
  let node: string | undefined;
  if (input.availabilityZone) {
    const parts = input.availabilityZone.split(":");
    az = parts[0] || undefined;
    host = parts[1] || undefined;
    node = parts[2] || undefined;
    if (
      (host || node) &&
      !ctx.allowed("os_compute_api:servers:create:forced_host", { project_id: ctx.auth?.projectId ?? "" })
    )
      throw forbidden(`Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.`);
  }
  if (input.host || input.hypervisorHostname) {
    ctx.authorize("compute:servers:create:requested_destination", { project_id: ctx.auth?.projectId ?? "" });
    host = input.host ?? host;
    node = input.hypervisorHostname ?? node;
  }
  return { az, host: host ?? node, node };
}

async function checkZone(core: ComputeCore, az: string | undefined): Promise<void> {
  if (!az || az === core.cfg.compute.defaultAvailabilityZone) return;
  const row = await core.db
    .selectFrom("compute_aggregate_metadata")
    .select("value")
    .where("meta_key", "=", "availability_zone")
    .where("value", "=", az)
    .executeTakeFirst();
  if (!row) throw badRequest(`The requested availability zone is not available`);
}

async function checkKey(core: ComputeCore, ctx: Ctx, name: string | undefined) {
  return name === undefined ? { key_name: null, key_data: null } : callerKeyPair(core, ctx, name);
}

async function checkGroup(core: ComputeCore, ctx: Ctx, hints: Record<string, unknown>) {
  const g = hints.group;
  if (g === undefined) return undefined;
  if (typeof g !== "string")
    throw badRequest(`Invalid input for field/attribute group. Value: ${JSON.stringify(g)}.`);
  const row = (await core.db
    .selectFrom("compute_server_group")
    .select(["uuid", "project_id"])
    .where("uuid", "=", g)
    .executeTakeFirst()) as { uuid: string; project_id: string } | undefined;
  if (!row || (row.project_id !== ctx.auth?.projectId && !isAdmin(ctx)))
    throw badRequest(`Invalid server group ${g}: group not found.`);
  return row.uuid;
}

/** The handler of POST /servers. */
export async function createServers(
  core: ComputeCore,
  ctx: Ctx,
  body: Record<string, unknown>,
): Promise<Reply> {
  const project = ctx.auth?.projectId ?? "";
  const user = ctx.auth?.userId ?? "";
  ctx.authorize("os_compute_api:servers:create", { project_id: project, user_id: user });
  const input = parseCreate(ctx, body);
  const target = placementTarget(ctx, input);
  await checkZone(core, target.az);
  const fl = await visibleFlavor(core, ctx, input.flavorRef).catch(() => {
    throw badRequest(`Flavor ${input.flavorRef} could not be found.`);
  });
  if (Number(fl.disabled) === 1) throw badRequest(`Flavor ${input.flavorRef} is disabled.`);
  const flavor: InstanceFlavor = {
    flavorid: fl.flavorid,
    name: fl.name,
    memory_mb: Number(fl.memory_mb),
    vcpus: Number(fl.vcpus),
    root_gb: Number(fl.root_gb),
    ephemeral_gb: Number(fl.ephemeral_gb),
    swap: Number(fl.swap),
    rxtx_factor: Number(fl.rxtx_factor),
    is_public: Number(fl.is_public) === 1,
    description: fl.description,
    extra_specs: await extraSpecs(core.db, fl.id),
  };
  const { image, volumes } = await serverImage(core, ctx, input, flavor);
  const key = await checkKey(core, ctx, input.keyName);
  const groupUuid = await checkGroup(core, ctx, input.hints);
  const nics = await resolveNics(
    core,
    input.networks,
    { projectId: project, token: ctx.auth?.token, admin: isAdmin(ctx) },
    {
      implicit: ctx.microversion.lt("2.37") || (Array.isArray(input.networks) && input.networks.length === 0),
      maxCount: input.maxCount,
    },
  );
  const groups = await resolveSecurityGroups(core.neutron, input.securityGroups, {
    projectId: project,
    token: ctx.auth?.token,
    admin: isAdmin(ctx),
  });
  const spec: RequestSpec = {
    image,
    availabilityZone: target.az,
    forcedHost: target.host,
    forcedNode: target.node,
    hints: input.hints,
    groupUuid,
    networks: input.networks,
    nics,
    ...(volumes.some((b) => b.bootIndex === 0) ? { volumeBacked: true } : {}),
  };
  const reservation = `r-${randomBytes(4).toString("hex")}`;
  const ctxReq = requestContext(ctx);
  const uuids = await withQuotaLock(core.db, "compute_quota_lock", "instances", project, async (db) => {
    const limits = await projectLimits(db, project);
    const usage = await projectUsage(db, project, user);
    const metaLimit = limits.metadata_items;
    if (metaLimit >= 0 && Object.keys(input.metadata).length > metaLimit)
      throw forbidden(
        `Quota exceeded for metadata_items: Requested ${Object.keys(input.metadata).length}, but already used 0 of ${metaLimit} metadata_items`,
      );
    const files = limits.injected_files;
    if (files >= 0 && input.personality.length > files) throw forbidden("Personality file limit exceeded");
    const per: Record<string, number> = { instances: 1, cores: flavor.vcpus, ram: flavor.memory_mb };
    let fits = input.maxCount;
    for (const [res, each] of Object.entries(per)) {
      const limit = limits[res];
      if (limit < 0 || each === 0) continue;
      fits = Math.min(fits, Math.floor((limit - usage[res]) / each));
    }
    if (fits < input.minCount) {
      const overs = Object.entries(per).filter(
        ([res, each]) => limits[res] >= 0 && usage[res] + each * input.minCount > limits[res],
      );
      const [res, each] = overs[0];
      throw forbidden(
        `Quota exceeded for ${res}: Requested ${each * input.minCount}, but already used ${usage[res]} of ${limits[res]} ${res}`,
      );
    }
    if (groupUuid) {
      const members = (await db
        .selectFrom("compute_server_group_member")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("group_uuid", "=", groupUuid)
        .executeTakeFirst()) as { n: unknown };
      const max = limits.server_group_members;
      if (max >= 0 && Number(members.n) + fits > max)
        throw forbidden("Quota exceeded, too many servers in group");
    }
    const now = nowIso();
    const out: string[] = [];
    for (let i = 0; i < fits; i++) {
      const uuid = randomUUID();
      const name = fits > 1 ? `${input.name}-${i + 1}` : input.name;
      const inst: Omit<Instance, "id"> = {
        uuid,
        display_name: name,
        hostname: input.hostname ?? sanitizeHostname(name, `server-${uuid}`),
        description: input.description ?? null,
        project_id: project,
        user_id: user,
        image_ref: input.imageRef,
        flavor,
        vcpus: flavor.vcpus,
        memory_mb: flavor.memory_mb,
        ...key,
        user_data: input.userData ?? null,
        config_drive: input.configDrive ? "True" : "",
        host: null,
        node: null,
        availability_zone: target.az ?? null,
        vm_state: VmState.BUILDING,
        task_state: TaskState.SCHEDULING,
        power_state: 0,
        locked: false,
        locked_by: null,
        locked_reason: null,
        reservation_id: reservation,
        launch_index: i,
        access_ip_v4: input.accessIPv4 ?? null,
        access_ip_v6: input.accessIPv6 ?? null,
        progress: 0,
        security_groups: groups,
        addresses: {},
        request_spec: spec,
        system_metadata: { disk_config: input.diskConfig ?? "MANUAL", image_name: image.name ?? "" },
        launched_at: null,
        terminated_at: null,
        deleted: 0,
        deleted_at: null,
        created_at: now,
        updated_at: now,
      };
      await insertInstance(db, inst);
      for (const [k, v] of Object.entries(input.metadata))
        await db
          .insertInto("compute_instance_metadata")
          .values({ instance_uuid: uuid, meta_key: k, value: v })
          .execute();
      for (const t of new Set(input.tags))
        await db.insertInto("compute_instance_tag").values({ instance_uuid: uuid, tag: t }).execute();
      if (groupUuid)
        await db
          .insertInto("compute_server_group_member")
          .values({ group_uuid: groupUuid, instance_uuid: uuid })
          .execute();
      const names = bdmDeviceNames(volumes);
      for (const [k, b] of volumes.entries()) await createBdm(db, requestedBdmRow(uuid, b, names[k]));
      await startAction(db, ctxReq, uuid, "create");
      out.push(uuid);
    }
    return out;
  });
  await core.bus.cast(conductorContract, "build_instances", { ctx: ctxReq, uuids });
  if (input.returnReservationId) return reply(202, { reservation_id: reservation });
  const first = uuids[0];
  const server: Record<string, unknown> = {
    id: first,
    links: serverLinks(ctx, first),
    "OS-DCF:diskConfig": input.diskConfig ?? "MANUAL",
    security_groups: groups.map((g) => ({ name: g.name })),
    adminPass: input.adminPass ?? randomBytes(9).toString("base64url"),
  };
  return reply(202, { server }, { location: `${ctx.serviceUrl}/v2.1/servers/${first}` });
}
