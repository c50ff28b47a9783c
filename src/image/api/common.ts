import { ApiError, forbidden } from "../../shared/http/errors.js";
import type { RequestCtx } from "../../shared/http/route.js";
import type { Target } from "../../shared/policy/index.js";
import type { ImageCore } from "../core.js";
import { getVisibleImage, type Caller, type Image } from "../store/images.js";
import { setKey } from "../store/tables.js";

type Ctx = RequestCtx<any, any, any>;

/** The caller as Glance's request context sees it: project ("owner") and admin-ness (rule context_is_admin). */
export function callerOf(ctx: Ctx): Caller {
  return {
    projectId: ctx.auth?.projectId ?? null,
    userId: ctx.auth?.userId ?? null,
    isAdmin: ctx.allowed("context_is_admin", {}),
  };
}

/**
 * Glance's ImageTarget: the image's attributes and custom properties, with `project_id` = the owner and
 * `member_id` = the caller's project when the caller sees a shared image it does not own.
 */
export function imageTarget(img: Image, caller: Caller): Target {
  const t: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(img.properties)) setKey(t, k, v);
  Object.assign(t, {
    id: img.id,
    image_id: img.id,
    name: img.name,
    status: img.status,
    visibility: img.visibility,
    protected: img.protected,
    os_hidden: img.os_hidden,
    owner: img.owner,
    project_id: img.owner,
    member_id: img.visibility === "shared" && caller.projectId !== img.owner ? caller.projectId : null,
    member: img.visibility === "shared" && caller.projectId !== img.owner ? caller.projectId : null,
    disk_format: img.disk_format,
    container_format: img.container_format,
    min_disk: img.min_disk,
    min_ram: img.min_ram,
    size: img.size,
    virtual_size: img.virtual_size,
    checksum: img.checksum,
    tags: img.tags,
  });
  return t;
}

/** The 403 Glance's policy layer answers. */
export const policyForbidden = (rule: string): ApiError =>
  forbidden(`You are not authorized to complete ${rule} action.`);

/**
 * Enforce an image rule as Glance's ImageAPIPolicy does: a caller who may not even see the image gets 404
 * (its existence is not revealed), one who may see it but not do this gets 403.
 */
export function enforceImage(ctx: Ctx, caller: Caller, img: Image, rule: string): void {
  const target = imageTarget(img, caller);
  if (ctx.allowed(rule, target)) return;
  if (!ctx.auth) throw new ApiError(401, "The request you have made requires authentication.");
  if (rule === "get_image" || !ctx.allowed("get_image", target))
    throw new ApiError(404, `No image found with ID ${img.id}`);
  throw policyForbidden(rule);
}

/** Whether a rule passes for an image, without throwing. */
export function imageAllowed(ctx: Ctx, caller: Caller, img: Image, rule: string): boolean {
  const target = imageTarget(img, caller);
  return ctx.allowed(rule, target) && (rule === "get_image" || ctx.allowed("get_image", target));
}

/** Load an image the caller may see and pass get_image for; 404 otherwise. */
export async function loadImage(
  ctx: Ctx,
  core: ImageCore,
  id: string,
  caller = callerOf(ctx),
): Promise<Image> {
  const img = await getVisibleImage(core, id, caller);
  enforceImage(ctx, caller, img, "get_image");
  return img;
}

/** The media type of a request, lower-cased, without parameters; undefined when absent. */
export function mediaType(ctx: Ctx): string | undefined {
  const raw = ctx.headers["content-type"];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined) return undefined;
  return v.split(";")[0].trim().toLowerCase();
}

/** Glance's ISO time: 2026-11-24T17:00:00Z (seconds, UTC). */
export function isoTime(stored: string): string {
  const ms = Date.parse(stored);
  if (Number.isNaN(ms)) return stored;
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The query string of a request as ordered pairs (repeated keys kept). */
export function queryPairs(ctx: Ctx): Array<[string, string]> {
  const i = ctx.url.indexOf("?");
  if (i < 0) return [];
  return [...new URLSearchParams(ctx.url.slice(i + 1)).entries()];
}
