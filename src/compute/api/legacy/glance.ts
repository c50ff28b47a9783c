// The compute API's view of the image service (Nova's image proxy over Glance v2): images fetched with the
// caller's token, split into core attributes and properties as Nova does (a property is any attribute the image
// schema does not declare as a base one), and Glance's answers turned into Nova's errors.
import { ApiError } from "../../../shared/http/errors.js";
import type { ComputeCore } from "../../core.js";
import { forbidden, notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import { CORE_IMAGE_KEYS } from "../../instances/image.js";

const baseCache = new WeakMap<ComputeCore, Promise<Set<string>>>();

/** The base attributes of Glance's image schema (read once per control plane). */
function baseAttributes(core: ComputeCore, ctx: Ctx): Promise<Set<string>> {
  let p = baseCache.get(core);
  if (!p) {
    p = core.image
      .request("GET", "/v2/schemas/image", { token: ctx.auth?.token })
      .then((res) => {
        const props = (res.body as { properties?: Record<string, { is_base?: boolean }> })?.properties;
        if (res.status !== 200 || !props) throw new Error(`image schema: ${res.status}`);
        return new Set(Object.entries(props).flatMap(([k, v]) => (v?.is_base === false ? [] : [k])));
      })
      .catch(() => {
        baseCache.delete(core);
        return CORE_IMAGE_KEYS; // when the schema cannot be read
      });
    baseCache.set(core, p);
  }
  return p;
}

/** An image as Nova's proxy sees it: core attributes and the properties (metadata) beside them. */
export interface ProxyImage {
  id: string;
  name: string | null;
  status: string;
  size: number;
  min_ram: number;
  min_disk: number;
  created_at: string | null;
  updated_at: string | null;
  properties: Record<string, unknown>;
}

/** Split a Glance v2 image into Nova's image dict. */
export async function fromGlance(
  core: ComputeCore,
  ctx: Ctx,
  img: Record<string, unknown>,
): Promise<ProxyImage> {
  const base = await baseAttributes(core, ctx);
  const properties = Object.fromEntries(Object.entries(img).filter(([k]) => !base.has(k)));
  return {
    id: String(img.id),
    name: typeof img.name === "string" ? img.name : null,
    status: String(img.status),
    size: typeof img.size === "number" ? img.size : 0,
    min_ram: Number(img.min_ram ?? 0) || 0,
    min_disk: Number(img.min_disk ?? 0) || 0,
    created_at: typeof img.created_at === "string" ? img.created_at : null,
    updated_at: typeof img.updated_at === "string" ? img.updated_at : null,
    properties,
  };
}

/** Glance's error message, if it sent one. */
export function glanceMessage(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 500);
  const b = body as { message?: string; error?: { message?: string } } | null;
  return b?.message ?? b?.error?.message ?? "";
}

/** Map a failed Glance answer to Nova's: 404 "Image not found.", 403 (also for quota), 400 and 409 as given. */
export function glanceError(status: number, body: unknown, forbiddenMessage?: string): ApiError {
  if (status === 404) return notFound("Image not found.");
  if (status === 401 || status === 403)
    return forbidden(forbiddenMessage ?? (glanceMessage(body) || "Forbidden"));
  if (status === 413) return forbidden(`Quota exceeded for images: ${glanceMessage(body)}`);
  if (status === 400 || status === 409) return new ApiError(status, glanceMessage(body) || "Bad request");
  return new ApiError(500, `The image service answered ${status}.`);
}

/** GET one image (Nova's image_api.get), 404 "Image not found." when Glance has none visible. */
export async function getImage(core: ComputeCore, ctx: Ctx, id: string): Promise<ProxyImage> {
  const res = await core.image.request("GET", `/v2/images/${encodeURIComponent(id)}`, {
    token: ctx.auth?.token,
  });
  if (res.status !== 200) throw glanceError(res.status, res.body);
  return fromGlance(core, ctx, res.body as Record<string, unknown>);
}

/** Page through GET /v2/images with `query` until `limit` images (Nova's get_all with glanceclient paging). */
export async function listImages(
  core: ComputeCore,
  ctx: Ctx,
  query: URLSearchParams,
  limit: number,
): Promise<ProxyImage[]> {
  const out: ProxyImage[] = [];
  const first = new URLSearchParams(query);
  first.set("limit", String(Math.min(Math.max(limit, 1), 1000)));
  let path: string | null = `/v2/images?${first.toString()}`;
  while (path && out.length < limit) {
    const res = await core.image.request("GET", path, { token: ctx.auth?.token });
    if (res.status !== 200) throw glanceError(res.status, res.body);
    const body = res.body as { images: Array<Record<string, unknown>>; next?: string };
    for (const img of body.images) if (out.length < limit) out.push(await fromGlance(core, ctx, img));
    path = body.images.length && typeof body.next === "string" ? body.next : null;
  }
  return out;
}

/** JSON pointer of a property name. */
const pointer = (k: string) => `/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`;

/** Replace an image's properties with `props` (Nova's update with purge_props), as one JSON patch. */
export async function replaceProperties(
  core: ComputeCore,
  ctx: Ctx,
  img: ProxyImage,
  props: Record<string, string>,
): Promise<ProxyImage> {
  const ops: Array<Record<string, unknown>> = [];
  for (const k of Object.keys(img.properties))
    if (!Object.hasOwn(props, k)) ops.push({ op: "remove", path: pointer(k) });
  for (const [k, v] of Object.entries(props))
    if (!Object.hasOwn(img.properties, k) || img.properties[k] !== v)
      ops.push({ op: Object.hasOwn(img.properties, k) ? "replace" : "add", path: pointer(k), value: v });
  if (ops.length === 0) return img;
  const res = await core.image.request("PATCH", `/v2/images/${encodeURIComponent(img.id)}`, {
    token: ctx.auth?.token,
    headers: { "content-type": "application/openstack-images-v2.1-json-patch" },
    body: ops,
  });
  if (res.status !== 200) throw glanceError(res.status, res.body);
  return fromGlance(core, ctx, res.body as Record<string, unknown>);
}

/** DELETE an image (Nova's image_api.delete): 404 and 403 in Nova's words. */
export async function deleteImage(core: ComputeCore, ctx: Ctx, id: string): Promise<void> {
  const res = await core.image.request("DELETE", `/v2/images/${encodeURIComponent(id)}`, {
    token: ctx.auth?.token,
  });
  if (res.status !== 204 && res.status !== 200)
    throw glanceError(res.status, res.body, "You are not allowed to delete the image.");
}
