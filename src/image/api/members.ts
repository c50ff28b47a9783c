import { ApiError, badRequest, forbidden } from "../../shared/http/errors.js";
import { noContent } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { ImageCore } from "../core.js";
import { enforcePerImage } from "../quotas.js";
import { getVisibleImage, type Caller, type Image } from "../store/images.js";
import {
  MEMBER_STATUSES,
  addMember,
  countMembers,
  findMember,
  listMembers,
  removeMember,
  setMemberStatus,
  type Member,
  type MemberStatus,
} from "../store/members.js";
import { callerOf, enforceImage, imageTarget } from "./common.js";
import { renderMember } from "./view.js";

type Ctx = RequestCtx<any, any, any>;

/** Look an image up for the member API: 404 "Image X not found." when it does not exist or is not visible. */
async function lookupImage(core: ImageCore, id: string, caller: Caller): Promise<Image> {
  try {
    return await getVisibleImage(core, id, caller);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw new ApiError(404, `Image ${id} not found.`);
    throw e;
  }
}

/** Glance's MemberAPIPolicy: get_image first (404), then the member rule (403). */
function enforceMember(ctx: Ctx, caller: Caller, img: Image, rule: string, message: string): void {
  enforceImage(ctx, caller, img, "get_image");
  if (!ctx.allowed(rule, imageTarget(img, caller))) throw forbidden(message);
}

function requireShared(img: Image, message: string): void {
  if (img.visibility !== "shared") throw forbidden(message);
}

async function create(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const body = ctx.body;
  if (body === undefined) throw badRequest("Body expected in request.");
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw badRequest('Expected a member in the form: {"member": "image_id"}');
  if (!("member" in body)) throw badRequest("Member to be added not specified");
  const memberId = (body as Record<string, unknown>).member;
  if (!memberId) throw badRequest("Member can't be empty");
  if (typeof memberId !== "string" || memberId.length > 255) throw badRequest("Member must be a project id.");
  const caller = callerOf(ctx);
  const img = await lookupImage(core, ctx.params.image_id, caller);
  const denied = `Not allowed to create members for image ${img.id}.`;
  requireShared(img, denied);
  if (!caller.isAdmin && (img.owner === null || img.owner !== caller.projectId)) throw forbidden(denied);
  enforceMember(ctx, caller, img, "add_member", denied);
  const n = await countMembers(core, img.id);
  try {
    enforcePerImage(core, "imageMemberQuota", n, n + 1);
  } catch (e) {
    throw new ApiError(413, `Image member limit exceeded for image ${img.id}: ${(e as Error).message}:`);
  }
  const m = await addMember(core, img.id, memberId);
  if (!m) throw new ApiError(409, `Member ${memberId} is duplicated for image ${img.id}`);
  return renderMember(m);
}

async function lookupMember(
  ctx: Ctx,
  core: ImageCore,
  img: Image,
  caller: Caller,
  memberId: string,
): Promise<Member> {
  enforceMember(
    ctx,
    caller,
    img,
    "get_member",
    `You are not authorized to lookup the members of the image ${img.id}.`,
  );
  const m = await findMember(core, img.id, memberId, img.owner, caller);
  if (!m) throw new ApiError(404, `${memberId} not found in the member list of the image ${img.id}.`);
  return m;
}

async function update(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const body = ctx.body;
  if (body === undefined) throw badRequest("Body expected in request.");
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw badRequest('Expected a status in the form: {"status": "status"}');
  if (!("status" in body)) throw badRequest("Status not specified");
  const status = (body as Record<string, unknown>).status;
  const caller = callerOf(ctx);
  const img = await lookupImage(core, ctx.params.image_id, caller);
  const denied = `Not allowed to update members for image ${img.id}.`;
  requireShared(img, denied);
  // The owner shares; only the member (or an admin) answers.
  if (!caller.isAdmin && caller.projectId === img.owner) throw forbidden(denied);
  const m = await lookupMember(ctx, core, img, caller, ctx.params.member_id);
  enforceMember(ctx, caller, img, "modify_member", denied);
  if (typeof status !== "string" || !(MEMBER_STATUSES as readonly string[]).includes(status))
    throw badRequest('Incorrect request: Status must be "pending", "accepted" or "rejected".');
  return renderMember(await setMemberStatus(core, m, status as MemberStatus));
}

async function index(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const caller = callerOf(ctx);
  const img = await lookupImage(core, ctx.params.image_id, caller);
  const denied = (why: string) => `Not allowed to list members for image ${img.id}: ${why}`;
  requireShared(img, denied("Only shared images have members."));
  enforceMember(
    ctx,
    caller,
    img,
    "get_members",
    denied(`You are not authorized to complete get_members action.`),
  );
  const target = imageTarget(img, caller);
  const members = ctx.allowed("get_member", target) ? await listMembers(core, img.id, img.owner, caller) : [];
  return { members: members.map(renderMember), schema: "/v2/schemas/members" };
}

async function show(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const caller = callerOf(ctx);
  const img = await lookupImage(core, ctx.params.image_id, caller);
  try {
    requireShared(img, "Only shared images have members.");
    return renderMember(await lookupMember(ctx, core, img, caller, ctx.params.member_id));
  } catch (e) {
    // Glance answers 404 rather than revealing anything about the membership.
    if (e instanceof ApiError && e.status === 403) throw new ApiError(404, e.message);
    throw e;
  }
}

async function remove(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const caller = callerOf(ctx);
  const img = await lookupImage(core, ctx.params.image_id, caller);
  const denied = `Not allowed to delete members for image ${img.id}.`;
  requireShared(img, denied);
  if (!caller.isAdmin && caller.projectId !== img.owner) throw forbidden(denied);
  const m = await lookupMember(ctx, core, img, caller, ctx.params.member_id);
  enforceMember(ctx, caller, img, "delete_member", denied);
  await removeMember(core, m);
  return noContent();
}

/** /v2/images/{id}/members. */
export function memberRoutes(core: ImageCore): Route[] {
  const base = "/v2/images/:image_id/members";
  return [
    route({
      method: "POST",
      path: base,
      policy: null,
      auth: "required",
      handler: (ctx) => create(ctx, core),
    }),
    route({ method: "GET", path: base, policy: null, auth: "required", handler: (ctx) => index(ctx, core) }),
    route({
      method: "GET",
      path: `${base}/:member_id`,
      policy: null,
      auth: "required",
      handler: (ctx) => show(ctx, core),
    }),
    route({
      method: "PUT",
      path: `${base}/:member_id`,
      policy: null,
      auth: "required",
      handler: (ctx) => update(ctx, core),
    }),
    route({
      method: "DELETE",
      path: `${base}/:member_id`,
      policy: null,
      auth: "required",
      handler: (ctx) => remove(ctx, core),
    }),
  ];
}
