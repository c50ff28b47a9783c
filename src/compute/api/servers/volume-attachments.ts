// os-volume_attachments (Nova's volume_attachments API): list a server's volumes, attach one, update one (2.85:
// delete_on_termination; swapping volumes is not supported) and detach one. Attach reserves the volume in the block
// storage service (an attachment), records the mapping, connects the server's host and has its agent plug the disk,
// then completes the attachment; any failure undoes it all. Detach unplugs, deletes the attachment and the mapping.
import { ApiError } from "../../../shared/http/errors.js";
import { reply } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { startAction, withEvent } from "../../instances/actions.js";
import { VmState } from "../../instances/states.js";
import type { Instance } from "../../instances/store.js";
import { VolumeRefused, type CinderVolume } from "../../volume-client.js";
import { createBdm, listBdms, nextDeviceName, updateBdm, type Bdm } from "../../volumes/bdm-store.js";
import { connectVolume, disconnectVolume, forgetVolume, GuestDetachFailed } from "../../volumes/flow.js";
import { ADMIN, ADMIN_OR_PROJECT, PROJECT_MEMBER, isUuidLike, policyRule } from "../admin/util.js";
import { limited, objectBody, type Ctx } from "../common.js";
import { authorizedServer, checkLock, checkState, needHostUp } from "../server-actions/common.js";
import { requestContext } from "./create.js";
import { checkAttachable } from "./volume-checks.js";

const R = "os_compute_api:os-volumes-attachments";
const PATH = "/servers/{server_id}/os-volume_attachments";

/** Policy defaults of os-volume_attachments (Nova's names; swapping is the admin's). */
export const volumeAttachmentPolicies: RuleDefault[] = [
  policyRule(`${R}:index`, ADMIN_OR_PROJECT, "List volume attachments for an instance.", "GET", PATH),
  policyRule(
    `${R}:show`,
    ADMIN_OR_PROJECT,
    "Show details of a volume attachment.",
    "GET",
    `${PATH}/{volume_id}`,
  ),
  policyRule(`${R}:create`, PROJECT_MEMBER, "Attach a volume to an instance.", "POST", PATH),
  policyRule(`${R}:update`, PROJECT_MEMBER, "Update a volume attachment.", "PUT", `${PATH}/{volume_id}`),
  policyRule(
    `${R}:swap`,
    ADMIN,
    "Update a volume attachment with a different volumeId.",
    "PUT",
    `${PATH}/{volume_id}`,
  ),
  policyRule(
    `${R}:delete`,
    PROJECT_MEMBER,
    "Detach a volume from an instance.",
    "DELETE",
    `${PATH}/{volume_id}`,
  ),
];

/** Nova's states for attach_volume / detach_volume before 2.20 (the server has a host). */
const ATTACHABLE = { vm: [VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED] } as const;
/** From 2.20 also a shelved-offloaded server (Nova's): the volume is reserved now and connected at unshelve. */
const ATTACHABLE_220 = { vm: [...ATTACHABLE.vm, VmState.SHELVED_OFFLOADED] } as const;

/** The attach/detach state rule for the request's microversion. */
const attachableAt = (ctx: Ctx) => (ctx.microversion.gte("2.20") ? ATTACHABLE_220 : ATTACHABLE);
/** Whether the server is shelved-offloaded: it has no host and no guest to plug a disk into. */
const offloaded = (inst: Instance) => inst.vm_state === VmState.SHELVED_OFFLOADED;

const DEVICE_RE = /^(\/dev\/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$/;
const TAG_MAX = 60;

/** One attachment as Nova shows it; `detail` is GET's view (2.89 swaps id for attachment_id and bdm_uuid). */
function attachmentView(ctx: Ctx, inst: Instance, b: Bdm, detail: boolean): Record<string, unknown> {
  const mv = ctx.microversion;
  const out: Record<string, unknown> = { device: b.deviceName, serverId: inst.uuid, volumeId: b.volumeId };
  if (!detail || !mv.gte("2.89")) out.id = b.volumeId;
  if (mv.gte("2.70")) out.tag = b.tag;
  if (mv.gte("2.79")) out.delete_on_termination = b.deleteOnTermination;
  if (detail && mv.gte("2.89")) {
    out.attachment_id = b.attachmentId;
    out.bdm_uuid = b.uuid;
  }
  return out;
}

/** The mapping of `volumeId` on the server, or Nova's 404. */
async function attachedBdm(core: ComputeCore, inst: Instance, volumeId: string): Promise<Bdm> {
  const b = (await listBdms(core.db, inst.uuid)).find((x) => x.volumeId === volumeId);
  if (!b) throw notFound(`Instance ${inst.uuid} is not attached to volume ${volumeId}.`);
  return b;
}

/** A field of the attachment body that must be a string (or absent; or null when `nullable`). */
function optString(a: Record<string, unknown>, k: string): string | undefined;
function optString(a: Record<string, unknown>, k: string, nullable: true): string | null | undefined;
function optString(a: Record<string, unknown>, k: string, nullable = false): string | null | undefined {
  const v = a[k];
  if (v === undefined || (nullable && v === null)) return v as undefined | null;
  if (typeof v !== "string") throw badRequest(`Invalid input for field/attribute ${k}. Value: ${String(v)}.`);
  return v;
}

/** The volumeAttachment object of a request, with only the keys this microversion knows. */
function attachmentBody(ctx: Ctx, allowed: string[]): Record<string, unknown> {
  const a = objectBody(ctx).volumeAttachment;
  if (!a || typeof a !== "object" || Array.isArray(a))
    throw badRequest("Invalid input for field/attribute volumeAttachment.");
  for (const k of Object.keys(a as object))
    if (!allowed.includes(k))
      throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  return a as Record<string, unknown>;
}

/** Read a volume as the block storage service shows it (404 as Nova says it). */
async function showVolume(core: ComputeCore, inst: Instance, volumeId: string): Promise<CinderVolume> {
  const client = core.volume;
  if (!client) throw new ApiError(503, "Block Storage service is unavailable.");
  try {
    return await client.showVolume(inst.project_id, volumeId);
  } catch (e) {
    if (e instanceof VolumeRefused && e.status === 404)
      throw notFound(`Volume ${volumeId} could not be found.`);
    throw e;
  }
}

/** POST: validate, reserve, record, connect; undo everything on failure. */
async function attach(core: ComputeCore, ctx: Ctx, inst: Instance): Promise<Record<string, unknown>> {
  const mv = ctx.microversion;
  const a = attachmentBody(ctx, [
    "volumeId",
    "device",
    ...(mv.gte("2.49") ? ["tag"] : []),
    ...(mv.gte("2.79") ? ["delete_on_termination"] : []),
  ]);
  const volumeId = optString(a, "volumeId");
  if (volumeId === undefined)
    throw badRequest("Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property");
  if (!isUuidLike(volumeId))
    throw badRequest(
      `Invalid input for field/attribute volumeId. Value: ${volumeId}. '${volumeId}' is not a 'uuid'`,
    );
  const device = optString(a, "device", true);
  if (device && !DEVICE_RE.test(device))
    throw badRequest(
      `Invalid input for field/attribute device. Value: ${device}. '${device}' does not match '${DEVICE_RE.source}'`,
    );
  const tag = optString(a, "tag");
  if (tag !== undefined && (tag.length < 1 || tag.length > TAG_MAX || /[,/]/.test(tag)))
    throw badRequest(`Invalid input for field/attribute tag. Value: ${tag}.`);
  const dot = a.delete_on_termination;
  if (dot !== undefined && typeof dot !== "boolean")
    throw badRequest(`Invalid input for field/attribute delete_on_termination. Value: ${String(dot)}.`);
  checkLock(ctx, inst);
  checkState(inst, "attach_volume", attachableAt(ctx));
  const host = offloaded(inst) ? null : await needHostUp(core, inst);
  const bdms = await listBdms(core.db, inst.uuid);
  if (bdms.some((b) => b.volumeId === volumeId))
    throw badRequest(`Invalid volume: volume ${volumeId} already attached`);
  const vol = await showVolume(core, inst, volumeId);
  checkAttachable(ctx, vol);
  const client = core.volume!;
  await startAction(core.db, requestContext(ctx), inst.uuid, "attach_volume");
  let attachmentId: string;
  try {
    attachmentId = (await client.createAttachment(inst.project_id, volumeId, inst.uuid)).id;
  } catch (e) {
    if (e instanceof VolumeRefused && e.status < 500) throw badRequest(`Invalid volume: ${e.message}`);
    throw e;
  }
  const rootIsVolume = bdms.some((b) => b.bootIndex === 0);
  const bdm = await createBdm(core.db, {
    instanceUuid: inst.uuid,
    volumeId,
    attachmentId,
    deviceName:
      device ||
      nextDeviceName(
        bdms.map((b) => b.deviceName),
        rootIsVolume,
      ),
    bootIndex: null,
    sourceType: "volume",
    destinationType: "volume",
    deleteOnTermination: dot === true,
    tag: tag ?? null,
    volumeSize: vol.size,
    imageId: null,
  });
  try {
    // Offloaded: completed without a connector so the volume is in-use (as Nova); unshelve connects it.
    if (host === null) await client.completeAttachment(inst.project_id, attachmentId);
    else await connectVolume(core, inst, host, bdm, vol.multiattach === true);
  } catch (e) {
    await forgetVolume(core, inst, bdm);
    ctx.log.warn({ uuid: inst.uuid, volume: volumeId, err: (e as Error).message }, "volume attach failed");
    throw new ApiError(
      500,
      `Failed to attach volume ${volumeId} to instance ${inst.uuid}: ${(e as Error).message}`,
    );
  }
  return { volumeAttachment: attachmentView(ctx, inst, bdm, false) };
}

/** Nova's refusals of a swap (400) that come before the swap itself, which this cloud does not do (409). */
function checkSwappable(old: CinderVolume, fresh: CinderVolume): void {
  const invalid = (why: string) => badRequest(`Invalid volume: ${why}`);
  if ((fresh.attachments ?? []).length > 0) throw invalid("New volume must be detached in order to swap.");
  if (fresh.size < old.size) throw invalid("New volume must be the same size or larger.");
  const readOnly = old.metadata?.readonly === "True";
  if (old.multiattach && !readOnly && (old.attachments ?? []).length > 1)
    throw badRequest(
      "Swapping multi-attach volumes with more than one read/write attachment is not supported.",
    );
}

/** PUT: before 2.85 only a swap (not supported here); from 2.85 delete_on_termination may change. */
async function update(core: ComputeCore, ctx: Ctx, inst: Instance, volumeId: string): Promise<void> {
  const mv = ctx.microversion;
  const newer = mv.gte("2.85");
  const a = attachmentBody(
    ctx,
    newer ? ["volumeId", "device", "tag", "delete_on_termination", "serverId", "id"] : ["volumeId"],
  );
  const newId = optString(a, "volumeId");
  if (newId === undefined)
    throw badRequest("Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property");
  const bdm = await attachedBdm(core, inst, volumeId);
  if (newId !== volumeId) {
    ctx.authorize(`${R}:swap`, { project_id: inst.project_id });
    // As Nova: an unknown new volume (named in the body, not the URL) is 400 before anything else.
    const fresh = await showVolume(core, inst, newId).catch((e: unknown) => {
      throw e instanceof ApiError && e.status === 404 ? badRequest(e.message) : e;
    });
    checkSwappable(await showVolume(core, inst, volumeId), fresh);
    throw new ApiError(409, "Swapping volumes is not supported by this compute service.");
  }
  if (!newer) throw badRequest("The volume was attached to the instance already; nothing to swap.");
  const same = (k: string, v: unknown) => {
    if (a[k] !== undefined && a[k] !== v)
      throw badRequest(`Changing '${k}' of a volume attachment is not supported.`);
  };
  same("device", bdm.deviceName);
  same("tag", bdm.tag);
  same("serverId", inst.uuid);
  same("id", volumeId);
  const dot = a.delete_on_termination;
  if (dot !== undefined && typeof dot !== "boolean")
    throw badRequest(`Invalid input for field/attribute delete_on_termination. Value: ${String(dot)}.`);
  checkLock(ctx, inst);
  if (dot !== undefined) await updateBdm(core.db, bdm.uuid, { deleteOnTermination: dot });
}

/** DELETE: the root volume stays; anything else is unplugged and released. */
async function detach(core: ComputeCore, ctx: Ctx, inst: Instance, volumeId: string): Promise<void> {
  checkLock(ctx, inst);
  const bdm = await attachedBdm(core, inst, volumeId);
  if (bdm.bootIndex === 0) throw badRequest("Cannot detach a root device volume");
  checkState(inst, "detach_volume", attachableAt(ctx));
  // An offloaded server has no guest: the attachment and mapping are just dropped (disconnectVolume needs no host).
  if (!offloaded(inst)) await needHostUp(core, inst);
  const rc = requestContext(ctx);
  await startAction(core.db, rc, inst.uuid, "detach_volume");
  try {
    await withEvent(core.db, rc, inst.uuid, "compute_detach_volume", inst.host, () =>
      disconnectVolume(core, inst, bdm),
    );
  } catch (e) {
    const why = `Failed to detach volume ${volumeId} from instance ${inst.uuid}: ${(e as Error).message}`;
    // The guest kept the device: nothing changed, so this is the server's state refusing the request, not a fault.
    if (e instanceof GuestDetachFailed)
      throw new ApiError(
        409,
        `${why}. The volume stays attached: the guest must release the device (an operating system that ` +
          "handles PCI hot-unplug), or stop the server and detach the volume then.",
      );
    throw new ApiError(500, why);
  }
}

/** Routes of /servers/{id}/os-volume_attachments. */
export function volumeAttachmentRoutes(core: ComputeCore): Route[] {
  const base = "/v2.1/servers/:id/os-volume_attachments";
  return [
    route({
      method: "GET",
      path: base,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:index`);
        const bdms = (await listBdms(core.db, inst.uuid)).filter((b) => b.volumeId !== null);
        return { volumeAttachments: limited(ctx, bdms).map((b) => attachmentView(ctx, inst, b, true)) };
      },
    }),
    route({
      method: "GET",
      path: `${base}/:volume_id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:show`);
        const b = await attachedBdm(core, inst, ctx.params.volume_id);
        return { volumeAttachment: attachmentView(ctx, inst, b, true) };
      },
    }),
    route({
      method: "POST",
      path: base,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:create`);
        return attach(core, ctx, inst);
      },
    }),
    route({
      method: "PUT",
      path: `${base}/:volume_id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:update`);
        await update(core, ctx, inst, ctx.params.volume_id);
        return reply(202, undefined);
      },
    }),
    route({
      method: "DELETE",
      path: `${base}/:volume_id`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, `${R}:delete`);
        await detach(core, ctx, inst, ctx.params.volume_id);
        return reply(202, undefined);
      },
    }),
  ];
}
